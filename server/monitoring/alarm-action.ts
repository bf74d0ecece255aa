import "server-only";
import type { AlarmAction } from "../../contracts/monitoring";
import { submitCommand, type CommandReply } from "../commands/submit-command";
import { requireConnector } from "../connectors/kit/registry";
import { UpstreamContractError, UpstreamHttpError, UpstreamUnreachableError } from "../connectors/kit/upstream-errors";
import type { Db } from "../db";
import { AppError, viaUpstream } from "../errors";
import type { SessionUser } from "../trpc/init";
import { requireRegion, scopeOf } from "./regions";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** How an upstream failure becomes the command's outcome, in words. */
export const toReply = (error: unknown, what: string): CommandReply => {
  if (error instanceof UpstreamHttpError && (error.status === 409 || error.status === 404)) return { status: "rejected", error: `The monitoring service refused: ${error.message}` };
  if (error instanceof UpstreamHttpError) return { status: "failed", error: `The monitoring service failed (HTTP ${error.status}): ${error.message}` };
  if (error instanceof UpstreamUnreachableError) return { status: "failed", error: `Monitoring service unreachable (${error.reason}); ${what} was not changed.` };
  if (error instanceof UpstreamContractError) return { status: "failed", error: `The monitoring service's answer broke its contract (${error.issues[0] ?? "unreadable"}); reload before retrying.` };
  return { status: "failed", error: (error as Error).message };
};

/**
 * One monitoring control action on the command path (Command row, outcome, audit): the
 * service answers at once, so the mutation waits for the outcome and answers with it.
 */
export const submitMonitoringCommand = <T>({ db, user, traceId, idempotencyKey, target, action, payload, what, call }: {
  db: Db;
  user: SessionUser;
  traceId: string;
  idempotencyKey: string;
  target: string;
  action: string;
  payload: Record<string, unknown>;
  /** What is left unchanged when the call fails ("the alarm"). */
  what: string;
  call: (signal: AbortSignal) => Promise<T>;
}) =>
  submitCommand({
    db,
    actor: user,
    traceId,
    idempotencyKey,
    domain: "monitoring",
    target,
    action,
    payload,
    waitForOutcome: true,
    send: async (_command, signal) => {
      try {
        return { status: "accepted", result: await call(signal) };
      } catch (error) {
        return toReply(error, what);
      }
    },
  });

export type AlarmActionOptions = {
  db: Db;
  user: SessionUser;
  traceId: string;
  region: string;
  alarmId: string;
  action: AlarmAction;
  comment?: string;
  idempotencyKey: string;
};

/**
 * Acknowledges or clears one alarm on the command path: the alarm must exist in a region
 * the user may see (NOT_FOUND otherwise, nothing stored) and not be acknowledged / cleared
 * already (CONFLICT); then a Command row, the service's answer as its outcome, and the
 * audit entry. The service records the user as the actor, with the comment.
 */
export const actOnAlarm = async ({ db, user, traceId, region, alarmId, action, comment, idempotencyKey }: AlarmActionOptions) => {
  const what = `Alarm ${alarmId.slice(0, 60)}`;
  requireRegion(user, region, what);
  if (!UUID.test(alarmId)) throw new AppError("NOT_FOUND", `${what} does not exist.`);
  const { client } = requireConnector("monitoring");
  const scope = scopeOf(user);
  const alarm = await viaUpstream(client.alarm(scope, region, alarmId), what);
  if (action === "acknowledge" && alarm.acknowledged) throw new AppError("CONFLICT", `This alarm was already acknowledged by ${alarm.acknowledgedBy ?? "someone"}.`);
  if (action === "clear" && !alarm.active) throw new AppError("CONFLICT", `This alarm is already cleared${alarm.clearedBy ? ` (by ${alarm.clearedBy})` : ""}.`);
  return submitMonitoringCommand({
    db,
    user,
    traceId,
    idempotencyKey,
    target: alarmId,
    action: `alarm.${action}`,
    payload: { region, site: alarm.site, device: alarm.device, type: alarm.type, ...(comment ? { comment } : {}) },
    what: "the alarm",
    call: (signal) => client.alarmAction(scope, region, alarmId, action, comment, signal),
  });
};
