import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb } from "../../lib/testing/db";
import { submitCommand } from "../commands/submit-command";
import { createTestUser, makeContext } from "../testing/context";
import { createCallerFactory } from "../trpc/init";
import { appRouter } from "../trpc/routers/_app";

describe("overview summary", () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb();
  });
  afterAll(async () => t.close());

  it("counts a trader's own commands only, as the Commands page its tiles link to shows them; everyone else sees all", async () => {
    const trader = await createTestUser(t.db, "trader");
    const support = await createTestUser(t.db, "support");
    const admin = await createTestUser(t.db, "admin");
    const send = (actor: typeof trader, key: string, status: "accepted" | "rejected") =>
      submitCommand({ db: t.db, actor, traceId: "trace", domain: "test", target: "t-1", action: "noop", payload: {}, idempotencyKey: key, waitForOutcome: true, send: async () => ({ status }) });
    await send(trader, "ov-trader-1", "rejected");
    await send(support, "ov-support-1", "accepted");
    await send(support, "ov-support-2", "rejected");

    const createCaller = createCallerFactory(appRouter);
    const own = await createCaller(makeContext(t.db, trader)).overview.summary();
    expect(own).toMatchObject({ commands24h: 1, failed24h: 1 });
    const all = await createCaller(makeContext(t.db, admin)).overview.summary();
    expect(all).toMatchObject({ commands24h: 3, failed24h: 2 });
  });

  it("the failed tile's link lists exactly what it counts: commands.list with problems", async () => {
    const support = await createTestUser(t.db, "support");
    const admin = await createTestUser(t.db, "admin");
    const outcomes = ["accepted", "rejected", "failed", "timed_out", "offline"] as const;
    for (const [i, status] of outcomes.entries())
      await submitCommand({ db: t.db, actor: support, traceId: "trace", domain: "problems-test", target: `t-${i}`, action: "noop", payload: {}, idempotencyKey: `ov-problem-${i}`, waitForOutcome: true, send: async () => ({ status }) });
    const caller = createCallerFactory(appRouter)(makeContext(t.db, admin));
    const problems = await caller.commands.list({ domain: "problems-test", problems: true });
    expect(problems.items.map((c) => c.status).sort()).toEqual(["failed", "offline", "rejected", "timed_out"]);
    const narrowed = await caller.commands.list({ domain: "problems-test", problems: true, status: "accepted" });
    expect(narrowed.items).toEqual([]);
  });
});
