import "server-only";
import { CommandTimeoutError, submitCommand, type CommandActor, type CommandReply } from "../commands/submit-command";
import { CsmsApiError, CsmsUnreachableError, type CsmsClient, type CsmsLiveView } from "../connectors/csms";
import type { Db } from "../db";
import { AppError } from "../errors";
import type { CommandSpec } from "../../contracts/csms/commands";
import { isDestructive } from "../../contracts/csms/commands";
import { toAppError } from "./csms-access";

export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;
const unlimited: Limiter = (task) => task();

/** At most `n` tasks at once; the rest wait in order. */
export const createLimiter = (n: number): Limiter => {
  let active = 0;
  const queue: (() => void)[] = [];
  return async (task) => {
    if (active >= n) await new Promise<void>((resolve) => queue.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
};

/** Refuses a destructive action without an explicit confirmation, before anything is stored. */
export const requireConfirmation = (spec: CommandSpec, confirm: boolean | undefined) => {
  if (isDestructive(spec) && confirm !== true) {
    throw new AppError("BAD_REQUEST", "A hard reset interrupts every session at the station; confirm it explicitly.", "confirm");
  }
};

/** Unknown stations are refused up front (NOT_FOUND), so no command row points at nothing. */
export const ensureStation = async (link: CsmsLiveView, stationId: string) => {
  if (link.store.stations.has(stationId) && link.status().connected) return;
  try {
    await link.client.getStation(stationId);
  } catch (error) {
    throw toAppError(error, `Station ${stationId}`);
  }
};

/**
 * Delivers one command through the manager and turns its answer into the command's
 * outcome: accepted/rejected as the station said; offline is a clear refusal (nothing was
 * sent); a CALLERROR fails it with the station's code; the manager's timeout is a timeout.
 */
export const deliverCommand = async (client: CsmsClient, stationId: string, spec: CommandSpec, signal: AbortSignal): Promise<CommandReply> => {
  let answer;
  try {
    answer = await client.sendCommand(stationId, { action: spec.action, params: spec.params }, signal);
  } catch (error) {
    if (error instanceof CsmsUnreachableError) throw new Error(`CSMS manager unreachable (${error.reason}); nothing was sent.`);
    if (error instanceof CsmsApiError && error.status === 404) throw new Error(`Station ${stationId} is not known to the CSMS.`);
    if (error instanceof CsmsApiError) throw new Error(`The CSMS refused the command (HTTP ${error.status}): ${error.message}`);
    throw error;
  }
  const ocppAction = answer.ocppAction ?? spec.action;
  const result = { ocppAction, request: answer.request ?? null, response: answer.response ?? null };
  switch (answer.status) {
    case "accepted":
      return { status: "accepted", result };
    case "rejected": {
      const said = (answer.response as { status?: unknown } | undefined)?.status;
      return { status: "rejected", result, error: `The station rejected ${ocppAction}${typeof said === "string" ? ` (${said})` : ""}.` };
    }
    case "offline":
      return { status: "rejected", result: { ...result, offline: true }, error: `Station ${stationId} is offline; nothing was sent.` };
    case "failed":
      throw new Error(`${answer.errorCode ?? "CallError"}: ${answer.errorDescription || `the station could not process ${ocppAction}`}`);
    case "timed_out": {
      const timeout = new CommandTimeoutError(0);
      timeout.message = `Station ${stationId} did not answer ${ocppAction} in time.`;
      throw timeout;
    }
    default:
      throw new Error(`Unexpected answer from the CSMS manager: ${JSON.stringify(answer).slice(0, 200)}`);
  }
};

export type SendChargingCommandOptions = {
  db: Db;
  actor: CommandActor;
  traceId: string;
  link: CsmsLiveView;
  stationId: string;
  spec: CommandSpec;
  idempotencyKey: string;
  timeoutMs: number;
  bulkId?: string;
  limiter?: Limiter;
  waitForOutcome?: boolean;
};

/** One charging command on the foundation's command path (persisted, streamed, audited). */
export const sendChargingCommand = ({ db, actor, traceId, link, stationId, spec, idempotencyKey, timeoutMs, bulkId, limiter = unlimited, waitForOutcome }: SendChargingCommandOptions) =>
  submitCommand({
    db,
    actor,
    traceId,
    idempotencyKey,
    domain: "charging",
    target: stationId,
    action: spec.action,
    payload: { params: spec.params as Record<string, unknown>, ...(bulkId ? { bulkId } : {}) },
    timeoutMs,
    waitForOutcome,
    send: (_command, signal) => limiter(() => (signal.aborted ? Promise.reject(new Error("gave up before sending")) : deliverCommand(link.client, stationId, spec, signal))),
  });
