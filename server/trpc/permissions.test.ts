import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { can, ROLES, type ProcedurePermission } from "../../contracts/console/permissions";
import { createTestDb, type TestDb } from "../../lib/testing/db";
import { writeAudit } from "../audit/write-audit";
import { createTestUser, makeContext } from "../testing/context";
import { createCallerFactory, type Meta } from "./init";
import { appRouter } from "./routers/_app";

type AnyProcedure = { _def: { meta?: Meta; type: "query" | "mutation" | "subscription" } };
const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, AnyProcedure>);

/** Calls a procedure by its dotted path through a caller, as the browser would. */
const callPath = async (caller: unknown, path: string) => {
  const fn = path.split(".").reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], caller) as (input?: unknown) => Promise<unknown>;
  const result = await fn(undefined);
  // A subscription resolves to an iterable; pull once so middleware errors surface.
  if (result && typeof (result as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") {
    const it = (result as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    await it.next();
    await it.return?.();
  }
  return result;
};

const errorCode = async (promise: Promise<unknown>) => {
  try {
    await promise;
    return "OK";
  } catch (error) {
    return error instanceof TRPCError ? error.code : `not a TRPCError: ${String(error)}`;
  }
};

describe("every tRPC procedure declares and enforces a permission", () => {
  let t: TestDb;
  const createCaller = createCallerFactory(appRouter);
  beforeAll(async () => {
    t = await createTestDb();
  });
  afterAll(async () => t.close());

  it("walks the whole router: no procedure without a permission", () => {
    expect(procedures.length).toBeGreaterThan(10);
    const missing = procedures.filter(([, p]) => !p._def.meta?.permission).map(([path]) => path);
    expect(missing).toEqual([]);
  });

  it.each(procedures.filter(([, p]) => p._def.meta?.permission !== "public"))("%s refuses callers without a session (UNAUTHORIZED)", async (path) => {
    const caller = createCaller(makeContext(t.db, null));
    expect(await errorCode(callPath(caller, path))).toBe("UNAUTHORIZED");
  });

  it("refuses every role that lacks the permission (FORBIDDEN)", async () => {
    const failures: string[] = [];
    let checked = 0;
    for (const role of ROLES) {
      const user = await createTestUser(t.db, role);
      const caller = createCaller(makeContext(t.db, user));
      for (const [path, p] of procedures) {
        const permission = p._def.meta!.permission as ProcedurePermission;
        if (can(role, permission)) continue;
        checked++;
        const code = await errorCode(callPath(caller, path));
        if (code !== "FORBIDDEN") failures.push(`${role} → ${path}: ${code}`);
      }
    }
    expect(checked).toBeGreaterThan(20);
    expect(failures).toEqual([]);
  });

  it("answers every query in the shape its output schema declares (no output validation failure)", async () => {
    const admin = await createTestUser(t.db, "admin");
    await writeAudit(t.db, { actor: admin, action: "test.entry", input: { nested: { ok: true } }, outcome: "ok", traceId: "t" });
    const caller = createCaller(makeContext(t.db, admin));
    const failures: string[] = [];
    for (const [path] of procedures.filter(([, p]) => p._def.type === "query")) {
      // `{}` fills every defaulted input; queries that need more answer BAD_REQUEST, and
      // charging ones PRECONDITION_FAILED without a connector — never a 500.
      const fn = path.split(".").reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], caller) as (input?: unknown) => Promise<unknown>;
      let code = await errorCode(fn({}));
      if (code === "BAD_REQUEST") code = await errorCode(fn(undefined));
      if (code === "INTERNAL_SERVER_ERROR" || code.startsWith("not a TRPCError")) failures.push(`${path}: ${code}`);
    }
    expect(failures).toEqual([]);
  });

  it("audits a refused mutation as denied", async () => {
    const viewer = await createTestUser(t.db, "viewer");
    const caller = createCaller(makeContext(t.db, viewer));
    await expect(caller.admin.users.setDisabled({ id: viewer.id, disabled: true })).rejects.toMatchObject({ code: "FORBIDDEN" });
    const entry = await t.db.auditEntry.findFirst({ where: { action: "admin.users.setDisabled", actorId: viewer.id } });
    expect(entry).toMatchObject({ outcome: "denied", actorRole: "viewer" });
  });

  it("answers malformed input with a typed list of the invalid fields", async () => {
    const admin = await createTestUser(t.db, "admin");
    const caller = createCaller(makeContext(t.db, admin));
    const error = await caller.admin.users
      .create({ name: "", email: "not-an-email", role: "admin", regions: [] } as never)
      .catch((e: TRPCError) => e);
    expect(error).toBeInstanceOf(TRPCError);
    expect((error as TRPCError).code).toBe("BAD_REQUEST");
    const shape = appRouter._def._config.errorFormatter({
      error: error as TRPCError,
      type: "mutation",
      path: "admin.users.create",
      input: undefined,
      ctx: undefined,
      shape: { message: "", code: -32600, data: { code: "BAD_REQUEST", httpStatus: 400 } },
    }) as { data: { fields: { path: string; message: string }[] } };
    expect(shape.data.fields.map((f) => f.path).sort()).toEqual(["email", "name"]);
    expect(await t.db.user.count({ where: { email: "not-an-email" } })).toBe(0);
  });
});
