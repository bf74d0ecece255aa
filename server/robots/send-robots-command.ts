import "server-only";
import { submitCommand, type CommandActor, type CommandReply } from "../commands/submit-command";
import { UpstreamContractError, UpstreamHttpError, UpstreamUnreachableError } from "../connectors/kit/upstream-errors";
import type { Db } from "../db";
import { env } from "../env";

export type RobotsCommandOptions = {
  db: Db;
  actor: CommandActor;
  traceId: string;
  idempotencyKey: string;
  /** What the command acts on: a task id, a door, a lift, an alert, or the fleet a task goes to. */
  target: string;
  action: string;
  payload: Record<string, unknown>;
  /** Calls RMF main and says what came of it. */
  send: (signal: AbortSignal) => Promise<CommandReply>;
  waitForOutcome?: boolean;
};

/** What RMF's refusal or silence means for a command, in words the console shows as its outcome. */
export const toRobotsReply = (error: unknown): CommandReply => {
  if (error instanceof UpstreamHttpError) {
    if (error.status === 400 || error.status === 409 || error.status === 422) return { status: "rejected", error: error.message };
    if (error.status === 404) return { status: "rejected", error: "RMF does not know it (404)" };
    if (error.status === 500 && /timed out/i.test(error.message)) return { status: "timed_out", error: `RMF did not answer: ${error.message}` };
    if (error.status === 401 || error.status === 403) return { status: "failed", error: `RMF main refused the console's token (HTTP ${error.status}; check RMF_JWT_SECRET / RMF_JWT_ISSUER)` };
    return { status: "failed", error: `RMF main error (HTTP ${error.status}): ${error.message}` };
  }
  if (error instanceof UpstreamUnreachableError) return { status: "failed", error: `RMF main unreachable (${error.reason}); nothing was sent` };
  if (error instanceof UpstreamContractError) return { status: "failed", error: `RMF main's answer broke its contract (${error.issues[0] ?? "unreadable"}); check before retrying` };
  throw error;
};

/**
 * One robots action on the command path: a Command row (pending → sent → outcome), the call
 * to RMF main under the acting user's token, the outcome streamed on the command feed and
 * audited. RMF's own refusals (400 `{success: false, errors}`, a 200 with `success: false`)
 * are `rejected` with RMF's words.
 */
export const sendRobotsCommand = ({ db, actor, traceId, idempotencyKey, target, action, payload, send, waitForOutcome }: RobotsCommandOptions) =>
  submitCommand({
    db,
    actor,
    traceId,
    idempotencyKey,
    domain: "robots",
    target,
    action,
    payload,
    timeoutMs: env().RMF_COMMAND_TIMEOUT_MS,
    waitForOutcome,
    send: async (_command, signal) => {
      try {
        return await send(signal);
      } catch (error) {
        return toRobotsReply(error);
      }
    },
  });

/** RMF's `{success, errors}` answer to a task command as a command reply. */
export const fromRmfResponse = (answer: { success: boolean; errors?: { category: string | null; detail: string | null }[] }, result: Record<string, unknown> = {}): CommandReply =>
  answer.success
    ? { status: "accepted", result }
    : { status: "rejected", result, error: (answer.errors ?? []).map((e) => [e.category, e.detail].filter(Boolean).join(": ")).join("; ") || "refused by RMF" };
