import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb } from "../../lib/testing/db";
import { createTestUser, makeContext } from "../testing/context";
import { createCallerFactory } from "../trpc/init";
import { appRouter } from "../trpc/routers/_app";
import { commandFeed, type CommandView } from "./command-feed";
import { submitCommand } from "./submit-command";

describe("commands", () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb();
  });
  afterAll(async () => t.close());

  const base = async (role: "support" | "admin" = "support") => {
    const user = await createTestUser(t.db, role);
    return { db: t.db, actor: user, traceId: "trace", domain: "test", target: "station-1", action: "reset", payload: { type: "Soft" } };
  };

  it("persists pending → sent → accepted, streams each step and audits the outcome", async () => {
    const seen: string[] = [];
    const off = commandFeed().listen((c) => c.data && seen.push((c.data as CommandView).status));
    const { command } = await submitCommand({
      ...(await base()),
      idempotencyKey: "key-accept-1",
      waitForOutcome: true,
      send: async (cmd) => ({ status: "accepted", result: { echoed: cmd.id } }),
    });
    off();
    expect(seen).toEqual(["pending", "sent", "accepted"]);
    expect(command).toMatchObject({ status: "accepted", result: { echoed: command.id }, error: null });
    const row = await t.db.command.findUniqueOrThrow({ where: { id: command.id } });
    expect(row.sentAt).not.toBeNull();
    expect(row.completedAt).not.toBeNull();
    const audit = await t.db.auditEntry.findFirstOrThrow({ where: { action: "command.test.reset.outcome", target: "station-1" } });
    expect(audit.outcome).toBe("ok");
  });

  it("records rejections, failures and timeouts with their reason", async () => {
    const opts = await base();
    const rejected = await submitCommand({ ...opts, idempotencyKey: "k-rej", waitForOutcome: true, send: async () => ({ status: "rejected", error: "station busy" }) });
    expect(rejected.command).toMatchObject({ status: "rejected", error: "station busy" });
    const failed = await submitCommand({ ...opts, idempotencyKey: "k-fail", waitForOutcome: true, send: async () => { throw new Error("station offline"); } });
    expect(failed.command).toMatchObject({ status: "failed", error: "station offline" });
    let aborted = false;
    const timedOut = await submitCommand({
      ...opts,
      idempotencyKey: "k-time",
      waitForOutcome: true,
      timeoutMs: 50,
      send: (_, signal) => new Promise((resolve) => signal.addEventListener("abort", () => { aborted = true; resolve({ status: "accepted" }); })),
    });
    expect(timedOut.command).toMatchObject({ status: "timed_out", error: expect.stringMatching(/no answer/) });
    expect(aborted).toBe(true);
  });

  it("is idempotent per actor: the same key returns the first command and never resends", async () => {
    const opts = await base();
    let sends = 0;
    const send = async () => {
      sends++;
      return { status: "accepted" as const };
    };
    const [a, b] = await Promise.all([
      submitCommand({ ...opts, idempotencyKey: "same-key-123", waitForOutcome: true, send }),
      submitCommand({ ...opts, idempotencyKey: "same-key-123", waitForOutcome: true, send }),
    ]);
    const c = await submitCommand({ ...opts, idempotencyKey: "same-key-123", send });
    expect(new Set([a.command.id, b.command.id, c.command.id]).size).toBe(1);
    expect([a.duplicate, b.duplicate].sort()).toEqual([false, true]);
    expect(c.duplicate).toBe(true);
    expect(sends).toBe(1);
    const other = await base();
    const d = await submitCommand({ ...other, idempotencyKey: "same-key-123", waitForOutcome: true, send });
    expect(d.command.id).not.toBe(a.command.id);
  });

  it("lists newest first with paging, and traders only ever see their own", async () => {
    const createCaller = createCallerFactory(appRouter);
    const trader = await createTestUser(t.db, "trader");
    await submitCommand({ ...(await base()), actor: trader, domain: "flex", idempotencyKey: "trader-own-1", waitForOutcome: true, send: async () => ({ status: "accepted" }) });
    const traderList = await createCaller(makeContext(t.db, trader)).commands.list({});
    expect(traderList.items.map((c) => c.actorId)).toEqual([trader.id]);
    const admin = await createTestUser(t.db, "admin");
    const page1 = await createCaller(makeContext(t.db, admin)).commands.list({ limit: 3 });
    const page2 = await createCaller(makeContext(t.db, admin)).commands.list({ limit: 3, cursor: page1.nextCursor });
    const all = await createCaller(makeContext(t.db, admin)).commands.list({ limit: 100 });
    expect([...page1.items, ...page2.items].map((c) => c.id)).toEqual(all.items.slice(0, 6).map((c) => c.id));
    const someone = all.items.find((c) => c.actorId !== trader.id)!;
    await expect(createCaller(makeContext(t.db, trader)).commands.get({ id: someone.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    // Unknown and malformed ids alike: NOT_FOUND, which the browser does not retry.
    for (const id of ["3f1e4c9a-0000-4000-8000-000000000000", "not-a-uuid", ""]) {
      await expect(createCaller(makeContext(t.db, admin)).commands.get({ id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    }
  });
});

describe("commands orphaned by a restart", () => {
  it("are closed as timed out with the reason, audited, and finished ones are left alone", async () => {
    const t = await createTestDb();
    try {
      const user = await createTestUser(t.db, "support");
      const base = { actorId: user.id, actorEmail: user.email, domain: "charging", target: "CS1", action: "reset", payload: {}, traceId: "t" };
      const sent = await t.db.command.create({ data: { ...base, idempotencyKey: "orphan-1", status: "sent" } });
      const done = await t.db.command.create({ data: { ...base, idempotencyKey: "done-1", status: "accepted" } });
      const { reconcileCommands } = await import("./reconcile-commands");
      // Young enough to still be in flight on another replica: left alone.
      expect((await reconcileCommands(t.db)).orphaned).toBe(0);
      expect((await reconcileCommands(t.db, { now: Date.now() + 11 * 60_000 })).orphaned).toBe(1);
      expect(await t.db.command.findUniqueOrThrow({ where: { id: sent.id } })).toMatchObject({ status: "timed_out", error: expect.stringMatching(/restarted/) });
      expect((await t.db.command.findUniqueOrThrow({ where: { id: done.id } })).status).toBe("accepted");
      expect(await t.db.auditEntry.count({ where: { action: "command.charging.reset.outcome", outcome: "error" } })).toBe(1);
    } finally {
      await t.close();
    }
  });
});
