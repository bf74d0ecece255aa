import "server-only";
import { betterAuth } from "better-auth";
import { prismaAdapter } from "better-auth/adapters/prisma";
import { APIError, createAuthMiddleware, getSessionFromCtx } from "better-auth/api";
import { genericOAuth } from "better-auth/plugins";
import { randomUUID } from "node:crypto";
import { writeAudit } from "../audit/write-audit";
import type { Db } from "../db";
import type { Env } from "../env";

type AuthEnv = Pick<
  Env,
  | "authSecret"
  | "publicUrl"
  | "SESSION_TTL_HOURS"
  | "LOGIN_MAX_FAILURES"
  | "LOGIN_FAILURE_WINDOW_MINUTES"
  | "OIDC_ISSUER"
  | "OIDC_CLIENT_ID"
  | "OIDC_CLIENT_SECRET"
  | "OIDC_DEFAULT_ROLE"
  | "NODE_ENV"
>;

const requestMeta = (request: Request | undefined) => ({
  traceId: request?.headers.get("x-trace-id") ?? randomUUID(),
  ip: request?.headers.get("x-forwarded-for")?.split(",")[0]?.trim() ?? null,
});

/**
 * Failed sign-ins for one email inside the window, read from the audit log itself.
 * A password reset by an admin starts the count afresh.
 */
const recentFailures = async (db: Db, email: string, windowMinutes: number) => {
  const account = await db.account.findFirst({ where: { providerId: "credential", user: { email } }, select: { updatedAt: true } });
  const windowStart = Date.now() - windowMinutes * 60_000;
  const since = new Date(Math.max(windowStart, account?.updatedAt.getTime() ?? 0));
  return db.auditEntry.count({ where: { action: "auth.sign_in", actorEmail: email, outcome: "error", at: { gte: since } } });
};

export const oidcEnabled = (e: Pick<Env, "OIDC_ISSUER" | "OIDC_CLIENT_ID" | "OIDC_CLIENT_SECRET">) =>
  Boolean(e.OIDC_ISSUER && e.OIDC_CLIENT_ID && e.OIDC_CLIENT_SECRET);

/**
 * better-auth over Prisma: email + password (accounts are created by admins, so public
 * sign-up is off), per-IP rate limits, a per-account lockout after repeated failures,
 * an audit entry for every sign-in and sign-out, and optional generic OIDC.
 */
export const createAuth = ({ db, env }: { db: Db; env: AuthEnv }) => {
  const secure = env.publicUrl.startsWith("https://");
  return betterAuth({
    appName: "Switchyard",
    secret: env.authSecret,
    baseURL: env.publicUrl,
    basePath: "/api/auth",
    trustedOrigins: [env.publicUrl],
    database: prismaAdapter(db, { provider: "postgresql" }),
    emailAndPassword: { enabled: true, disableSignUp: true, minPasswordLength: 10, maxPasswordLength: 128 },
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
      useSecureCookies: secure,
      cookiePrefix: "switchyard",
      defaultCookieAttributes: { httpOnly: true, sameSite: "lax", secure },
      database: { generateId: () => randomUUID() },
    },
    rateLimit: {
      enabled: env.NODE_ENV !== "test",
      window: 60,
      max: 300,
      customRules: { "/sign-in/email": { window: 60, max: 20 } },
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
      },
    },
    hooks: {
      before: createAuthMiddleware(async (ctx) => {
        if (ctx.path === "/sign-out") {
          // Read who is leaving before the session is gone.
          const session = await getSessionFromCtx(ctx).catch(() => null);
          const user = session?.user as { id: string; email: string; role?: string } | undefined;
          const { traceId, ip } = requestMeta(ctx.request);
          if (user) await writeAudit(db, { actor: { id: user.id, email: user.email, role: user.role }, action: "auth.sign_out", outcome: "ok", traceId, ip });
          return;
        }
        if (ctx.path !== "/sign-in/email") return;
        const email = String((ctx.body as { email?: unknown } | undefined)?.email ?? "").toLowerCase();
        if (!email) return;
        const failures = await recentFailures(db, email, env.LOGIN_FAILURE_WINDOW_MINUTES);
        if (failures >= env.LOGIN_MAX_FAILURES) {
          const { traceId, ip } = requestMeta(ctx.request);
          await writeAudit(db, {
            actor: { email },
            action: "auth.sign_in",
            outcome: "denied",
            error: "locked out after repeated failures",
            traceId,
            ip,
          });
          throw new APIError("TOO_MANY_REQUESTS", {
            message: `Too many failed sign-ins. Try again in ${env.LOGIN_FAILURE_WINDOW_MINUTES} minutes or ask an admin to reset your password.`,
          });
        }
        const user = await db.user.findUnique({ where: { email }, select: { disabled: true } });
        if (user?.disabled) throw new APIError("FORBIDDEN", { message: "This account is disabled." });
      }),
      after: createAuthMiddleware(async (ctx) => {
        const { traceId, ip } = requestMeta(ctx.request);
        if (ctx.path === "/sign-in/email") {
          const email = String((ctx.body as { email?: unknown } | undefined)?.email ?? "").toLowerCase();
          const returned = ctx.context.returned;
          const failed = returned instanceof APIError;
          if (failed && (returned.status === "TOO_MANY_REQUESTS" || returned.statusCode === 429)) return;
          const user = ctx.context.newSession?.user as { id: string; email: string; role?: string } | undefined;
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
