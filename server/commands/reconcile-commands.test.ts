import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb } from "../../lib/testing/db";
import type { RecoveredCommand } from "../connectors/kit/registry";
import { createTestUser } from "../testing/context";
import type { SessionUser } from "../trpc/init";
import type { CommandView } from "./command-feed";
import { reconcileCommands, type RecoverFor } from "./reconcile-commands";
import { closeCommand, submitCommand } from "./submit-command";

/**
 * Commands a dead console left open, settled per domain: a domain whose upstream keeps
 * command records is asked (what the upstream says is passed in here, as its connector
 * would answer); every other domain keeps the orphan rule.
 */
let t: TestDb;
let user: SessionUser;
beforeAll(async () => {
  t = await createTestDb();
  user = await createTestUser(t.db, "support");
});
afterAll(async () => t.close());

const MINUTE = 60_000;
let n = 0;
const openCommand = (domain: string, ageMs: number, status: "pending" | "sent" = "sent") => {
  const at = new Date(Date.now() - ageMs);
  return t.db.command.create({
    data: { idempotencyKey: `open-${++n}`, actorId: user.id, actorEmail: user.email, domain, target: `CS-${n}`, action: "reset", payload: {}, traceId: `trace-${n}`, status, createdAt: at, sentAt: status === "sent" ? at : null },
  });
};
const row = (id: string) => t.db.command.findUniqueOrThrow({ where: { id } });
const outcomes = (id: string) => t.db.auditEntry.count({ where: { input: { path: ["commandId"], equals: id } } });

/** The upstream's answers by command id; anything else throws, as an unreachable upstream would. */
const upstream = (answers: Map<string, RecoveredCommand>): RecoverFor => (domain) =>
  domain === "charging"
    ? async (c: CommandView) => {
        const answer = answers.get(c.id);
        if (!answer) throw new Error("ECONNREFUSED");
        return answer;
      }
    : undefined;

describe("reconciling commands left open by a console restart", () => {
  it("closes each with what its upstream says, once; leaves pending, young and unanswerable ones; keeps the orphan rule elsewhere", async () => {
    const accepted = await openCommand("charging", 30_000);
    const rejected = await openCommand("charging", 30_000);
    const pending = await openCommand("charging", 30_000);
    const neverReceived = await openCommand("charging", 2 * MINUTE);
    const maybeOnItsWay = await openCommand("charging", 5_000);
    const unreachable = await openCommand("charging", 30_000);
    const genericOld = await openCommand("system", 11 * MINUTE);
    const genericYoung = await openCommand("system", MINUTE);
    const answers = new Map<string, RecoveredCommand>([
      [accepted.id, { status: "accepted", result: { response: { status: "Accepted" } } }],
      [rejected.id, { status: "rejected", error: "The station rejected Reset (Rejected)." }],
      [pending.id, { status: "pending" }],
      [neverReceived.id, { status: "not_received", error: "the CSMS never received it; nothing was sent" }],
      [maybeOnItsWay.id, { status: "not_received", error: "the CSMS never received it; nothing was sent" }],
    ]);

    const result = await reconcileCommands(t.db, { recoverFor: upstream(answers) });
    expect(result).toEqual({ recovered: 2, notReceived: 1, stillPending: 2, orphaned: 1, unreachable: 1 });
    expect(await row(accepted.id)).toMatchObject({ status: "accepted", error: null, result: { response: { status: "Accepted" } } });
    expect(await row(rejected.id)).toMatchObject({ status: "rejected", error: "The station rejected Reset (Rejected)." });
    expect(await row(neverReceived.id)).toMatchObject({ status: "failed", error: "the CSMS never received it; nothing was sent" });
    expect(await row(genericOld.id)).toMatchObject({ status: "timed_out", error: expect.stringMatching(/restarted/) });
    for (const c of [pending, maybeOnItsWay, unreachable, genericYoung]) expect((await row(c.id)).status).toBe("sent");

    // Asked again, nothing closes twice and nothing is audited twice.
    await reconcileCommands(t.db, { recoverFor: upstream(answers) });
    for (const c of [accepted, rejected, neverReceived, genericOld]) expect(await outcomes(c.id)).toBe(1);
    expect(await t.db.auditEntry.findFirst({ where: { input: { path: ["commandId"], equals: accepted.id } } })).toMatchObject({
      action: "command.charging.reset.outcome",
      outcome: "ok",
      actorId: user.id,
      traceId: accepted.traceId,
    });
  });

  it("never touches a command this process is still waiting for", async () => {
    let answer!: () => void;
    const { command } = await submitCommand({
      db: t.db,
      actor: user,
      traceId: "in-flight",
      idempotencyKey: "in-flight-1",
      domain: "charging",
      target: "CS-LIVE",
      action: "reset",
      payload: {},
      send: () => new Promise((resolve) => (answer = () => resolve({ status: "accepted" }))),
    });
    const asked: string[] = [];
    const result = await reconcileCommands(t.db, {
      now: Date.now() + 11 * MINUTE,
      recoverFor: () => async (c) => {
        asked.push(c.id);
        return { status: "not_received", error: "never received" };
      },
    });
    expect(asked).not.toContain(command.id);
    expect(result.orphaned + result.notReceived).toBe(asked.length);
    expect((await row(command.id)).status).toBe("sent");
    answer();
    // The live answer closes it; the audit has exactly one outcome.
    for (let i = 0; i < 200 && (await row(command.id)).status === "sent"; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await row(command.id)).status).toBe("accepted");
    // The outcome's audit entry is written just after the row: wait for it, then count.
    for (let i = 0; i < 200 && (await outcomes(command.id)) === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(await outcomes(command.id)).toBe(1);
  });

  it("lets only one of a live answer and a recovery close a command", async () => {
    const c = await openCommand("charging", 1000);
    const view = { id: c.id, domain: c.domain, action: c.action, target: c.target };
    const [first, second] = await Promise.all([
      closeCommand(t.db, { command: view, reply: { status: "accepted" }, actor: user, traceId: "a" }),
      closeCommand(t.db, { command: view, reply: { status: "failed", error: "never received" }, actor: user, traceId: "b" }),
    ]);
    expect([first, second].filter(Boolean)).toHaveLength(1);
    expect(await outcomes(c.id)).toBe(1);
  });
});
