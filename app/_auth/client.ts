"use client";

import { createAuthClient } from "better-auth/react";

type AuthClient = ReturnType<typeof createAuthClient>;

let client: AuthClient | undefined;

/**
 * better-auth's browser client, against the origin the page was served from. Created on
 * first use (always in an event handler), so rendering on the server never needs a URL.
 * Generic OIDC needs no client plugin: better-auth 1.7 registers generic providers as
 * social providers, so `signIn.social({ provider: "oidc" })` starts the flow.
 */
export const authClient = (): AuthClient => (client ??= createAuthClient({ baseURL: window.location.origin, basePath: "/api/auth" }));

/** Only same-site paths: "/x" but never "//host" or "/\host" (browsers read both as a host). */
export const safeNext = (value: string | null | undefined): string => {
  if (!value || !value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\")) return "/";
  if (value === "/login" || value.startsWith("/login?") || value.startsWith("/login/")) return "/";
  return value;
};
