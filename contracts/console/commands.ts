/**
 * The console's command model as the browser sees it (server/commands writes it, pages
 * read it): every control action from request to outcome.
 */
/**
 * `offline`: the target was not connected, so nothing was sent (unlike `rejected`, where it
 * answered no, `failed`, where it answered with an error, and `timed_out`, where it was sent
 * but never answered).
 */
export const COMMAND_STATUSES = ["pending", "sent", "accepted", "rejected", "failed", "timed_out", "offline"] as const;
export type CommandStatus = (typeof COMMAND_STATUSES)[number];

/** The outcomes that did not go through: what the Overview counts as failed and Commands filters as "problems". */
export const PROBLEM_STATUSES = ["rejected", "failed", "timed_out", "offline"] as const satisfies readonly CommandStatus[];

/** Whether a command has its outcome. */
export const isFinal = (s: CommandStatus) => s !== "pending" && s !== "sent";

export type CommandView = {
  id: string;
  idempotencyKey: string;
  actorId: string;
  actorEmail: string;
  domain: string;
  target: string;
  action: string;
  payload: unknown;
  status: CommandStatus;
  result: unknown;
  error: string | null;
  traceId: string;
  createdAt: Date;
  sentAt: Date | null;
  completedAt: Date | null;
};
