import "server-only";
/**
 * tRPC for Switchyard: context, initialisation and procedure builders in one place.
 *
 * Every procedure is built with `procedure(permission)`, which records the permission in
 * the procedure's meta (a test walks the router and fails on any procedure without one)
 * and enforces it: no session → UNAUTHORIZED, a role without it → FORBIDDEN. Handlers of
 * every procedure but `public` ones get a non-null `ctx.user`. Every mutation, allowed or
 * not, leaves an audit entry. Live subscriptions are built with `liveProcedure`
 * (./live-procedure.ts), on top of this.
 */
import { initTRPC, TRPCError } from "@trpc/server";
import { randomUUID } from "node:crypto";
import superjson from "superjson";
import { ZodError } from "zod";
import { writeAudit } from "../audit/write-audit";
import { AppError } from "../errors";
import type { Auth } from "../auth/auth";
import { can, isRole, type ProcedurePermission, type Role } from "../../contracts/console/permissions";
import type { Db } from "../db";
import { clientAddress } from "../http/client-address";
import { logger } from "../../lib/log";
import { trpcCalls } from "../metrics";

export type SessionUser = {
  id: string;
  email: string;
  name: string;
  role: Role;
  participantId: string | null;
  regions: string[];
};

export type Context = {
  db: Db;
  user: SessionUser | null;
  /** The better-auth session the request came with, so a sign-out ends only that session's streams. */
  sessionId: string | null;
  /** One per HTTP request (a batch shares it); the trace id may span services. */
  requestId: string;
  traceId: string;
  ip: string | null;
  headers: Headers;
};

export type Meta = {
  permission: ProcedurePermission;
  /** How the audit names what a mutation acted on. */
  auditTarget?: (input: unknown) => string | null | undefined;
};

/** Reads the session (if any) from the request's cookies. */
export const createContext = async ({ db, auth, headers }: { db: Db; auth: Auth; headers: Headers }): Promise<Context> => {
  const traceId = headers.get("x-trace-id") ?? traceIdFrom(headers.get("traceparent")) ?? randomUUID();
  const ip = clientAddress(headers);
  const session = await auth.api.getSession({ headers }).catch(() => null);
  let user: SessionUser | null = null;
  let sessionId: string | null = null;
  if (session?.user) {
    // Read the row itself: role changes and disabling take effect on the next request.
    const row = await db.user.findUnique({ where: { id: session.user.id } });
    if (row && !row.disabled && isRole(row.role)) {
      user = { id: row.id, email: row.email, name: row.name, role: row.role, participantId: row.participantId, regions: row.regions };
      sessionId = session.session.id;
    }
  }
  return { db, user, sessionId, requestId: randomUUID(), traceId, ip, headers };
};

const traceIdFrom = (traceparent: string | null) => traceparent?.split("-")[1] ?? null;

const t = initTRPC
  .context<Context>()
  .meta<Meta>()
  .create({
    transformer: superjson,
    sse: {
      // A comment every 10 s keeps proxies from closing a quiet stream; the browser treats
      // 25 s without even that as a dead connection and reconnects (resuming by event id).
      ping: { enabled: true, intervalMs: 10_000 },
      client: { reconnectAfterInactivityMs: 25_000 },
    },
    errorFormatter: ({ shape, error }) => ({
      ...shape,
      data: {
        ...shape.data,
        appCode: error instanceof AppError ? error.appCode : null,
        // A typed list of invalid fields, so forms can show each message where it belongs.
        fields:
          error.cause instanceof ZodError
            ? error.cause.issues.map((issue) => ({ path: issue.path.map(String).join("."), message: issue.message }))
            : error instanceof AppError && error.field
              ? [{ path: error.field, message: error.message }]
              : null,
      },
    }),
  });

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

const enforce = t.middleware(async ({ ctx, meta, path, type, next, getRawInput }) => {
  const started = performance.now();
  const permission = meta?.permission;
  const audit = async (outcome: "ok" | "error" | "denied", error?: string) => {
    if (type !== "mutation") return;
    const input = await getRawInput().catch(() => undefined);
    await writeAudit(ctx.db, {
      actor: ctx.user ? { id: ctx.user.id, email: ctx.user.email, role: ctx.user.role } : null,
      action: path,
      target: meta?.auditTarget?.(input) ?? null,
      input,
      outcome,
      error,
      traceId: ctx.traceId,
      ip: ctx.ip,
    });
  };

  if (!permission) {
    // Fail closed: a procedure that forgot to declare a permission serves nobody.
    throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: `procedure ${path} declares no permission` });
  }
  if (permission !== "public" && !ctx.user) {
    await audit("denied", "not signed in");
    throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in to continue." });
  }
  if (!can(ctx.user?.role, permission)) {
    await audit("denied", `role ${ctx.user?.role} lacks ${permission}`);
    throw new TRPCError({ code: "FORBIDDEN", message: `Your role (${ctx.user?.role}) may not do this (${permission}).` });
  }

  const result = await next({ ctx });
  const seconds = (performance.now() - started) / 1000;
  trpcCalls.observe({ path, type, ok: String(result.ok) }, seconds);
  const log = logger().child({ requestId: ctx.requestId, traceId: ctx.traceId, userId: ctx.user?.id, path, type });
  if (result.ok) log.debug({ ms: Math.round(seconds * 1000) }, "procedure ok");
  else log.warn({ ms: Math.round(seconds * 1000), code: result.error.code, msg: result.error.message }, "procedure failed");
  await audit(result.ok ? "ok" : "error", result.ok ? undefined : result.error.message);
  return result;
});

type Extra = Omit<Meta, "permission">;
/** Every permission but `public`: the caller is signed in. */
export type SignedInPermission = Exclude<ProcedurePermission, "public">;

// Only ever reached after `enforce`; it narrows the context's type for the handlers.
const signedIn = t.middleware(({ ctx, next }) => {
  if (!ctx.user) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in to continue." });
  return next({ ctx: { user: ctx.user } });
});

const publicProcedure = (extra: Extra) => t.procedure.meta({ permission: "public", ...extra }).use(enforce);
const signedInProcedure = (permission: SignedInPermission, extra: Extra) => t.procedure.meta({ permission, ...extra }).use(enforce).use(signedIn);

/** The context a signed-in procedure's handler gets. */
export type SignedInContext = Context & { user: SessionUser };

/** A procedure that requires `permission` (or `public` / `session`); all but `public` get a non-null `ctx.user`. */
export function procedure(permission: "public", extra?: Extra): ReturnType<typeof publicProcedure>;
export function procedure(permission: SignedInPermission, extra?: Extra): ReturnType<typeof signedInProcedure>;
export function procedure(permission: ProcedurePermission, extra: Extra = {}) {
  return permission === "public" ? publicProcedure(extra) : signedInProcedure(permission, extra);
}
