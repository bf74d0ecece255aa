import "server-only";
import { sessionEvents, type SessionChange } from "../auth/session-events";
import type { Db } from "../db";
import { logger } from "../../lib/log";
import type { SessionUser } from "./init";

type EndReason = SessionChange["reason"] | "expired";

const SAID: Record<EndReason, string> = {
  signed_out: "you signed out",
  disabled: "your account was disabled",
  deleted: "your account was removed",
  role_changed: "your role or access changed",
  password_reset: "your password was reset",
  expired: "your session expired",
};

export const sessionEndedMessage = (reason: EndReason) => `Sign in again: ${SAID[reason]}.`;

/** Why the user and session a stream started with no longer hold, or null while they do. */
export const checkSession = async (db: Db, user: SessionUser, sessionId: string | null, now = Date.now()): Promise<EndReason | null> => {
  const row = await db.user.findUnique({ where: { id: user.id }, select: { disabled: true, role: true, participantId: true, regions: true } });
  if (!row) return "deleted";
  if (row.disabled) return "disabled";
  if (row.role !== user.role || row.participantId !== user.participantId || row.regions.join("\n") !== user.regions.join("\n")) return "role_changed";
  if (!sessionId) return null;
  const session = await db.session.findUnique({ where: { id: sessionId }, select: { expiresAt: true } });
  if (!session) return "signed_out";
  return session.expiresAt.getTime() <= now ? "expired" : null;
};

export type SessionWatch = {
  /** Aborts when the outer signal does, or when the session ends. */
  signal: AbortSignal;
  /** Why the session ended, once it has. */
  ended: () => EndReason | null;
  stop: () => void;
};

/**
 * Watches one stream's session: ends it at once when session-events announces a change for
 * its user (every session of the user, or this one), and re-checks the database every
 * `recheckMs` for what this replica was not told (another replica's change, expiry).
 */
export const watchSession = ({ db, user, sessionId, signal, recheckMs }: { db: Db; user: SessionUser; sessionId: string | null; signal?: AbortSignal; recheckMs: number }): SessionWatch => {
  const controller = new AbortController();
  let reason: EndReason | null = null;
  const end = (why: EndReason) => {
    if (reason) return;
    reason = why;
    controller.abort();
  };
  const onAbort = () => controller.abort();
  if (signal?.aborted) controller.abort();
  signal?.addEventListener("abort", onAbort, { once: true });

  const onChange = (change: SessionChange) => {
    if (change.userId !== user.id) return;
    if (change.sessionId && change.sessionId !== sessionId) return;
    end(change.reason);
  };
  sessionEvents().on("change", onChange);

  let checking = false;
  const timer = setInterval(() => {
    if (checking || reason) return;
    checking = true;
    checkSession(db, user, sessionId)
      .then((why) => why && end(why))
      // A database hiccup is not a reason to cut someone off; the next round decides.
      .catch((error: unknown) => logger().warn({ err: (error as Error).message, userId: user.id }, "session re-check failed"))
      .finally(() => (checking = false));
  }, recheckMs);
  timer.unref();

  return {
    signal: controller.signal,
    ended: () => reason,
    stop: () => {
      clearInterval(timer);
      sessionEvents().off("change", onChange);
      signal?.removeEventListener("abort", onAbort);
    },
  };
};
