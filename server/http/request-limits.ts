import "server-only";
import type { Env } from "../env";
import type { GuardOptions } from "./guard-request";

/**
 * How /api/trpc and /api/auth guard their requests. tRPC mutations (its only POSTs) must
 * come from PUBLIC_URL's origin; better-auth checks origins itself (trustedOrigins), and
 * its OIDC callbacks arrive from the identity provider's redirect.
 */
export const trpcGuard = (e: Pick<Env, "MAX_REQUEST_BODY_BYTES" | "publicUrl">): Omit<GuardOptions, "db"> => ({
  maxBodyBytes: e.MAX_REQUEST_BODY_BYTES,
  requireOrigin: e.publicUrl,
});

export const authGuard = (e: Pick<Env, "MAX_REQUEST_BODY_BYTES">): Omit<GuardOptions, "db"> => ({
  maxBodyBytes: e.MAX_REQUEST_BODY_BYTES,
  requireOrigin: null,
});
