import "server-only";
import { betterAuth } from "better-auth";
import { prismaAdapter } from "better-auth/adapters/prisma";
import { APIError, createAuthMiddleware, getSessionFromCtx } from "better-auth/api";
import { genericOAuth } from "better-auth/plugins";
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { writeAudit } from "../audit/write-audit";
import type { Db } from "../db";
import type { Env } from "../env";
import { clientAddress, parseTrustedProxies } from "../http/client-address";
import { CLIENT_ADDRESS_HEADER } from "../http/socket-peer";
import { traceIdOf } from "../http/trace-id";
import { announceSessionChange } from "./session-events";
import { clearSignInAttempts, reserveSignInAttempt, throttleMessage } from "./sign-in-throttle";

type AuthEnv = Pick<
  Env,
  | "authSecret"
  | "publicUrl"
  | "SESSION_TTL_HOURS"
  | "LOGIN_MAX_FAILURES"
  | "LOGIN_MAX_FAILURES_PER_ADDRESS"
  | "LOGIN_FAILURE_WINDOW_MINUTES"
  | "LOGIN_FIRST_DELAY_SECONDS"
  | "LOGIN_MAX_DELAY_SECONDS"
  | "TRUSTED_PROXIES"
  | "OIDC_ISSUER"
  | "OIDC_CLIENT_ID"
  | "OIDC_CLIENT_SECRET"
  | "OIDC_DEFAULT_ROLE"
  | "NODE_ENV"
>;

type Options = {
  db: Db;
  env: AuthEnv;
  /** Replaces better-auth's password check (tests count how often it runs). */
  verifyPassword?: (data: { hash: string; password: string }) => Promise<boolean>;
};

const emailOf = (body: unknown) => {
  const parsed = z.email().safeParse(String((body as { email?: unknown } | undefined)?.email ?? "").trim().toLowerCase());
  return parsed.success ? parsed.data : null;
};

export const oidcEnabled = (e: Pick<Env, "OIDC_ISSUER" | "OIDC_CLIENT_ID" | "OIDC_CLIENT_SECRET">) =>
  Boolean(e.OIDC_ISSUER && e.OIDC_CLIENT_ID && e.OIDC_CLIENT_SECRET);

/**
 * better-auth over Prisma: email + password (accounts are created by admins, so public
 * sign-up is off), per-address rate limits, throttling per account and address with
 * growing delays (sign-in-throttle.ts), an audit entry for every sign-in and sign-out,
 * and optional generic OIDC. The client's address is always `clientAddress`: the socket
 * peer, or what trusted proxies forwarded (TRUSTED_PROXIES), never a header a client chose.
 */
export const createAuth = ({ db, env, verifyPassword }: Options) => {
  const secure = env.publicUrl.startsWith("https://");
  const proxies = parseTrustedProxies(env.TRUSTED_PROXIES);
  const requestMeta = (ctx: { request?: Request; headers?: Headers }) => {
    const headers = ctx.request?.headers ?? ctx.headers ?? new Headers();
    return { traceId: traceIdOf(headers), ip: clientAddress(headers, proxies) };
  };
  return betterAuth({
    appName: "Switchyard",
    secret: env.authSecret,
    baseURL: env.publicUrl,
    basePath: "/api/auth",
    trustedOrigins: [env.publicUrl],
    database: prismaAdapter(db, { provider: "postgresql" }),
    emailAndPassword: {
      enabled: true,
      disableSignUp: true,
      minPasswordLength: 10,
      maxPasswordLength: 128,
      ...(verifyPassword ? { password: { verify: verifyPassword } } : {}),
    },
    session: {
      expiresIn: Math.round(env.SESSION_TTL_HOURS * 3600),
      updateAge: Math.min(3600, Math.round(env.SESSION_TTL_HOURS * 900)),
      cookieCache: { enabled: false },
    },
    user: {
      additionalFields: {
        role: { type: "string", required: false, defaultValue: env.OIDC_DEFAULT_ROLE, input: false },
        participantId: { type: "string", required: false, input: false },
        regions: { type: "string[]", required: false, input: false },
        disabled: { type: "boolean", required: false, defaultValue: false, input: false },
      },
    },
    advanced: {
      // better-auth skips its origin check under NODE_ENV=test; tests prove the real thing.
      disableOriginCheck: false,
      useSecureCookies: secure,
      cookiePrefix: "switchyard",
      defaultCookieAttributes: { httpOnly: true, sameSite: "lax", secure },
      database: { generateId: () => randomUUID() },
      // guardRequest (server/http) writes the resolved client address here for the rate limit
      // and the session's ipAddress; the socket-peer hook strips any copy a client sends.
      ipAddress: { ipAddressHeaders: [CLIENT_ADDRESS_HEADER] },
    },
    // A coarse flood guard per client address, in memory per replica; failed passwords are
    // throttled precisely (per account + address, in the database) by the hooks below. It
    // counts successful sign-ins too, so it stays loose enough for a control room behind one NAT.
    rateLimit: {
      enabled: env.NODE_ENV !== "test",
      window: 60,
      max: 300,
      customRules: { "/sign-in/email": { window: 60, max: 60 } },
    },
    databaseHooks: {
      session: {
        create: {
          // Disabled accounts never get a session, whichever way they sign in.
          before: async (session) => {
            const user = await db.user.findUnique({ where: { id: session.userId }, select: { disabled: true } });
            if (!user || user.disabled) throw new APIError("FORBIDDEN", { message: "This account is disabled." });
            return { data: session };
          },
        },
        delete: {
          // A sign-out (or any session better-auth ends): that session's live streams end now.
          after: async (session) => {
            announceSessionChange({ userId: session.userId, reason: "signed_out", sessionId: session.id });
          },
        },
      },
    },
    hooks: {
      before: createAuthMiddleware(async (ctx) => {
        if (ctx.path === "/sign-out") {
          // Read who is leaving before the session is gone.
          const session = await getSessionFromCtx(ctx).catch(() => null);
          const user = session?.user as { id: string; email: string; role?: string } | undefined;
          const { traceId, ip } = requestMeta(ctx);
          if (user) await writeAudit(db, { actor: { id: user.id, email: user.email, role: user.role }, action: "auth.sign_out", outcome: "ok", traceId, ip });
          return;
        }
        if (ctx.path !== "/sign-in/email") return;
        // An invalid email is refused by better-auth before any password is checked.
        const email = emailOf(ctx.body);
        if (!email) return;
        const { traceId, ip } = requestMeta(ctx);
        const verdict = await reserveSignInAttempt(db, { email, ip, limits: env });
        if (!verdict.allowed) {
          const message = throttleMessage(verdict);
          await writeAudit(db, {
            actor: { email },
            action: "auth.sign_in",
            outcome: "denied",
            error: `throttled (${verdict.scope}, retry in ${verdict.retryAfterSeconds} s)`,
            traceId,
            ip,
          });
          throw new APIError("TOO_MANY_REQUESTS", { message, code: "SIGN_IN_THROTTLED", retryAfterSeconds: verdict.retryAfterSeconds }, {
            "Retry-After": String(verdict.retryAfterSeconds),
          });
        }
        const user = await db.user.findUnique({ where: { email }, select: { disabled: true } });
        if (user?.disabled) throw new APIError("FORBIDDEN", { message: "This account is disabled." });
      }),
      after: createAuthMiddleware(async (ctx) => {
        const { traceId, ip } = requestMeta(ctx);
        if (ctx.path === "/sign-in/email") {
          const email = emailOf(ctx.body) ?? String((ctx.body as { email?: unknown } | undefined)?.email ?? "").slice(0, 200).toLowerCase();
          const returned = ctx.context.returned;
          const failed = returned instanceof APIError;
          if (failed && (returned.status === "TOO_MANY_REQUESTS" || returned.statusCode === 429)) return;
          const user = ctx.context.newSession?.user as { id: string; email: string; role?: string } | undefined;
          if (user) await clearSignInAttempts(db, { email, ip });
          await writeAudit(db, {
            actor: user ? { id: user.id, email: user.email, role: user.role } : { email },
            action: "auth.sign_in",
            outcome: failed ? "error" : "ok",
            error: failed ? returned.message : null,
            traceId,
            ip,
          });
        } else if ((ctx.path.startsWith("/oauth2/callback") || ctx.path.startsWith("/callback/")) && ctx.context.newSession) {
          const user = ctx.context.newSession.user as { id: string; email: string; role?: string };
          await writeAudit(db, { actor: { id: user.id, email: user.email, role: user.role }, action: "auth.sign_in.oidc", outcome: "ok", traceId, ip });
        }
      }),
    },
    plugins: oidcEnabled(env)
      ? [
          genericOAuth({
            config: [
              {
                providerId: "oidc",
                discoveryUrl: `${env.OIDC_ISSUER!.replace(/\/$/, "")}/.well-known/openid-configuration`,
                clientId: env.OIDC_CLIENT_ID!,
                clientSecret: env.OIDC_CLIENT_SECRET!,
                scopes: ["openid", "email", "profile"],
                pkce: true,
              },
            ],
          }),
        ]
      : [],
  });
};

export type Auth = ReturnType<typeof createAuth>;
