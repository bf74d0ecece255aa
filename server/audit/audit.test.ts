import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb } from "../../lib/testing/db";
import { createTestUser, makeContext } from "../testing/context";
import { createCallerFactory } from "../trpc/init";
import { appRouter } from "../trpc/routers/_app";
import { exportAuditCsv } from "./list-audit";
import { summarizeInput, writeAudit } from "./write-audit";

describe("audit log", () => {
  let t: TestDb;
  const createCaller = createCallerFactory(appRouter);
  beforeAll(async () => {
    t = await createTestDb();
  });
  afterAll(async () => t.close());

  it("is append-only: the database refuses updates, deletes and truncation", async () => {
    await writeAudit(t.db, { action: "test.write", outcome: "ok", traceId: "trace-1" });
    await expect(t.db.auditEntry.updateMany({ data: { outcome: "error" } })).rejects.toThrow(/append-only/);
    await expect(t.db.auditEntry.deleteMany({})).rejects.toThrow(/append-only/);
    await expect(t.db.$executeRawUnsafe(`TRUNCATE "console"."audit_entry"`)).rejects.toThrow();
    expect(await t.db.auditEntry.count({ where: { action: "test.write", outcome: "ok" } })).toBe(1);
  });

  it("masks secrets and bounds what it keeps of an input", () => {
    expect(summarizeInput({ email: "a@b", password: "hunter2hunter2", nested: { apiKey: "k" }, list: Array.from({ length: 25 }, (_, i) => i) })).toEqual({
      email: "a@b",
      password: "[redacted]",
      nested: { apiKey: "[redacted]" },
      list: [...Array.from({ length: 20 }, (_, i) => i), "… 5 more"],
    });
  });

  it("records every mutation with actor, target, input, outcome and trace id", async () => {
    const admin = await createTestUser(t.db, "admin");
    const ctx = makeContext(t.db, admin);
    await createCaller(ctx).admin.users.create({ name: "New", email: "new.user@example.test", role: "viewer", regions: ["eu-north"], password: "long-enough-password" });
    const entry = await t.db.auditEntry.findFirstOrThrow({ where: { action: "admin.users.create" }, orderBy: { id: "desc" } });
    expect(entry).toMatchObject({ actorId: admin.id, actorEmail: admin.email, actorRole: "admin", target: "new.user@example.test", outcome: "ok", traceId: ctx.traceId });
    expect(entry.input).toMatchObject({ email: "new.user@example.test", password: "[redacted]" });

    await expect(createCaller(ctx).admin.users.create({ name: "Dup", email: "new.user@example.test", role: "viewer", regions: [] })).rejects.toMatchObject({ code: "CONFLICT" });
    const failed = await t.db.auditEntry.findFirstOrThrow({ where: { action: "admin.users.create" }, orderBy: { id: "desc" } });
    expect(failed).toMatchObject({ outcome: "error", error: expect.stringMatching(/already exists/) });
  });

  it("filters and pages newest first, and only admins and operators may read it", async () => {
    for (let i = 0; i < 7; i++) await writeAudit(t.db, { actor: { email: "pager@example.test" }, action: "test.page", outcome: "ok", traceId: `p${i}` });
    const operator = await createTestUser(t.db, "operator");
    const caller = createCaller(makeContext(t.db, operator));
    const first = await caller.audit.list({ filter: { actor: "PAGER@", action: "test." }, limit: 5 });
    expect(first.total).toBe(7);
    expect(first.items.map((i) => i.traceId)).toEqual(["p6", "p5", "p4", "p3", "p2"]);
    const second = await caller.audit.list({ filter: { actor: "pager@" }, limit: 5, cursor: first.nextCursor });
    expect(second.items.map((i) => i.traceId)).toEqual(["p1", "p0"]);
    expect(second.nextCursor).toBeNull();
    const range = await caller.audit.list({ filter: { actor: "pager@", from: new Date(Date.now() + 60_000) }, limit: 5 });
    expect(range.total).toBe(0);
    await expect(caller.audit.list({ filter: { from: new Date(2), to: new Date(1) }, limit: 5 })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    for (const role of ["trader", "support", "viewer"] as const) {
      const u = await createTestUser(t.db, role);
      await expect(createCaller(makeContext(t.db, u)).audit.list({ limit: 5 })).rejects.toMatchObject({ code: "FORBIDDEN" });
    }
  });

  it("exports CSV with quoting and formula-injection protection, and audits the export", async () => {
    await writeAudit(t.db, { actor: { email: "csv@example.test" }, action: "test.csv", target: '=HYPERLINK("x")', input: { note: 'say "hi", ok' }, outcome: "ok", traceId: "csv-1" });
    const { csv, rows } = await exportAuditCsv(t.db, { action: "test.csv" });
    expect(rows).toBe(1);
    const [header, line] = csv.trim().split("\r\n");
    expect(header).toBe("id,at,actorEmail,actorRole,action,target,outcome,error,traceId,ip,input");
    expect(line).toContain(`"'=HYPERLINK(""x"")"`);
    expect(line).toContain(`"{""note"":""say \\""hi\\"", ok""}"`);
    const admin = await createTestUser(t.db, "admin");
    const out = await createCaller(makeContext(t.db, admin)).audit.exportCsv({ filter: { action: "test.csv" } });
    expect(out.filename).toMatch(/^switchyard-audit-.*\.csv$/);
    expect(await t.db.auditEntry.count({ where: { action: "audit.exportCsv", actorId: admin.id } })).toBe(1);
  });
});
