import "server-only";
import { EventEmitter } from "node:events";

/**
 * Announces that a user's sessions changed: signed out (one session), disabled, deleted,
 * role or permissions changed, password reset. Live streams listen and end at once with
 * UNAUTHORIZED instead of streaming to someone who may no longer see the data; the
 * periodic re-check catches changes made on another console replica.
 */
export type SessionChange = {
  userId: string;
  reason: "signed_out" | "disabled" | "deleted" | "role_changed" | "password_reset";
  /** Only this session ended (a sign-out); absent means every session of the user. */
  sessionId?: string;
};

const g = globalThis as unknown as { __switchyardSessionEvents?: EventEmitter<{ change: [SessionChange] }> };
export const sessionEvents = () => (g.__switchyardSessionEvents ??= new EventEmitter<{ change: [SessionChange] }>().setMaxListeners(0));

export const announceSessionChange = (change: SessionChange) => {
  sessionEvents().emit("change", change);
};
