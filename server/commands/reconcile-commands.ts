import "server-only";
import { writeAudit } from "../audit/write-audit";
import type { Db } from "../db";
import { logger } from "../../lib/log";

/** Far beyond any command timeout, bulk queueing included: nothing live is this old. */
export const ORPHAN_AFTER_MS = 10 * 60_000;

/**
 * A command still pending or sent long after any timeout was left by a console process
 * that died before its outcome arrived (any replica: they share the database). Its answer
 * can no longer reach anyone, so it is closed as timed out, with the reason, instead of
 * staying "sent" forever. Runs at start and then every minute.
 */
export const reconcileOrphanedCommands = async (db: Db, { now = Date.now(), olderThanMs = ORPHAN_AFTER_MS }: { now?: number; olderThanMs?: number } = {}) => {
  const orphans = await db.command.findMany({ where: { status: { in: ["pending", "sent"] }, createdAt: { lt: new Date(now - olderThanMs) } } });
  for (const c of orphans) {
    const error = "no outcome arrived (the console that sent it probably restarted); check the target before retrying";
    const done = await db.command.updateMany({ where: { id: c.id, status: { in: ["pending", "sent"] } }, data: { status: "timed_out", error, completedAt: new Date() } });
    if (done.count === 0) continue;
    await writeAudit(db, {
      actor: { id: c.actorId, email: c.actorEmail },
      action: `command.${c.domain}.${c.action}.outcome`,
      target: c.target,
      input: { commandId: c.id, status: "timed_out" },
      outcome: "error",
      error,
      traceId: c.traceId,
    });
  }
  if (orphans.length) logger().warn({ count: orphans.length }, "closed commands orphaned by a restart");
  return orphans.length;
};
