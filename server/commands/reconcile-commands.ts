import "server-only";
import type { Db } from "../db";
import { logger } from "../../lib/log";
import { findConnector, type RecoveredCommand } from "../connectors/kit/registry";
import { toCommandView, type CommandView } from "./command-feed";
import { closeCommand, isInFlight, type CommandReply } from "./submit-command";

/** Far beyond any command timeout, bulk queueing included: nothing live is this old. */
export const ORPHAN_AFTER_MS = 10 * 60_000;
/** A command the upstream has no record of may still be on its way (queued, or on another replica) this long. */
export const NOT_RECEIVED_AFTER_MS = 60_000;
/** Upstreams that keep command records keep them at least this long; older ones fall to the orphan rule. */
export const RECORDS_KEPT_MS = 24 * 3600_000;

const ORPHANED = "no outcome arrived (the console that sent it probably restarted); check the target before retrying";

export type RecoverFor = (domain: string) => ((command: CommandView) => Promise<RecoveredCommand>) | undefined;

export type ReconcileOptions = {
  now?: number;
  olderThanMs?: number;
  notReceivedAfterMs?: number;
  /** Which domains can say what became of a command (default: the registered connectors that can). */
  recoverFor?: RecoverFor;
};

export type ReconcileResult = { recovered: number; notReceived: number; stillPending: number; orphaned: number; unreachable: number };

/**
 * Closes commands a console process left behind when it died before their outcome arrived
 * (any replica: they share the database). Runs at start and then every minute.
 *
 * A command still `sent` in a domain whose connector can recover it is asked about
 * upstream: a final answer closes it with that outcome (the same mapping as a live answer,
 * audited once); `pending` leaves it; "never received" fails it once it is old enough not
 * to be on its way. Every other command still pending or sent after ORPHAN_AFTER_MS is
 * closed as timed out, with the reason. Commands this process is still waiting for are
 * never touched.
 */
export const reconcileCommands = async (
  db: Db,
  { now = Date.now(), olderThanMs = ORPHAN_AFTER_MS, notReceivedAfterMs = NOT_RECEIVED_AFTER_MS, recoverFor = (domain) => findConnector(domain)?.recoverCommand }: ReconcileOptions = {},
): Promise<ReconcileResult> => {
  const result: ReconcileResult = { recovered: 0, notReceived: 0, stillPending: 0, orphaned: 0, unreachable: 0 };
  const open = (await db.command.findMany({ where: { status: { in: ["pending", "sent"] } }, orderBy: { createdAt: "asc" } })).map(toCommandView).filter((c) => !isInFlight(c.id));
  const close = (c: CommandView, reply: CommandReply) => closeCommand(db, { command: c, reply, actor: { id: c.actorId, email: c.actorEmail }, traceId: c.traceId });

  for (const c of open) {
    const age = now - c.createdAt.getTime();
    const recover = c.status === "sent" ? recoverFor(c.domain) : undefined;
    if (recover && age < RECORDS_KEPT_MS) {
      let answer: RecoveredCommand;
      try {
        answer = await recover(c);
      } catch (error) {
        // The upstream cannot say right now; the next round asks again.
        result.unreachable++;
        logger().warn({ err: (error as Error).message, commandId: c.id, domain: c.domain }, "command outcome not recoverable yet");
        continue;
      }
      if (answer.status === "pending") {
        result.stillPending++;
      } else if (answer.status === "not_received") {
        if (now - (c.sentAt ?? c.createdAt).getTime() < notReceivedAfterMs) result.stillPending++;
        else if (await close(c, { status: "failed", error: answer.error })) result.notReceived++;
      } else if (await close(c, answer)) {
        result.recovered++;
      }
      continue;
    }
    if (age >= olderThanMs && (await close(c, { status: "timed_out", error: ORPHANED }))) result.orphaned++;
  }
  if (result.recovered + result.notReceived + result.orphaned > 0) logger().warn(result, "closed commands left by a console restart");
  return result;
};
