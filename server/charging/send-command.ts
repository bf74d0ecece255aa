import "server-only";
import { isDestructive, type CommandSpec } from "../../contracts/csms/commands";
import { submitCommand, type CommandActor, type CommandReply } from "../commands/submit-command";
import { toCommandReply, type ChargingConnector, type CsmsClient } from "../connectors/csms";
import { UpstreamContractError, UpstreamHttpError, UpstreamUnreachableError } from "../connectors/kit/upstream-errors";
import { requireConnector } from "../connectors/kit/registry";
import type { Db } from "../db";
import { env } from "../env";
import { AppError, viaUpstream } from "../errors";

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
export const ensureStation = async (charging: ChargingConnector, stationId: string) => {
  if (charging.store.stations.has(stationId) && charging.view.status().connected) return;
  await viaUpstream(charging.client.getStation(stationId), `Station ${stationId}`);
};

/**
 * Delivers one command through the manager (under the console's Command id, so its outcome
 * can be asked for after a console restart) and turns the answer into the command's outcome.
 */
export const deliverCommand = async ({ client, commandId, stationId, spec, signal }: { client: CsmsClient; commandId: string; stationId: string; spec: CommandSpec; signal: AbortSignal }): Promise<CommandReply> => {
  try {
    const answer = await client.sendCommand(stationId, { action: spec.action, params: spec.params, commandId }, signal);
    return toCommandReply(answer, { stationId, action: spec.action });
  } catch (error) {
    if (error instanceof UpstreamHttpError && error.status === 404) throw new Error(`Station ${stationId} is not known to the CSMS.`);
    if (error instanceof UpstreamHttpError) throw new Error(`The CSMS refused the command (HTTP ${error.status}): ${error.message}`);
    if (error instanceof UpstreamUnreachableError) throw new Error(`CSMS manager unreachable (${error.reason}); nothing was sent.`);
    if (error instanceof UpstreamContractError) throw new Error(`The CSMS manager's answer broke its contract (${error.issues[0] ?? "unreadable"}); check the station before retrying.`);
    throw error;
  }
};

export type SendChargingCommandOptions = {
  db: Db;
  actor: CommandActor;
  traceId: string;
  charging: ChargingConnector;
  stationId: string;
  spec: CommandSpec;
  idempotencyKey: string;
  timeoutMs: number;
  bulkId?: string;
  limiter?: Limiter;
  waitForOutcome?: boolean;
};

/** One charging command on the foundation's command path (persisted, streamed, audited). */
export const sendChargingCommand = ({ db, actor, traceId, charging, stationId, spec, idempotencyKey, timeoutMs, bulkId, limiter = unlimited, waitForOutcome }: SendChargingCommandOptions) =>
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
    send: (command, signal) =>
      limiter(async () => {
        if (signal.aborted) throw new Error("gave up before sending");
        // A queued command may have been closed meanwhile (by recovery on another replica);
        // sending it now would act on a command the console already called finished.
        const row = await db.command.findUnique({ where: { id: command.id }, select: { status: true } });
        if (row?.status !== "sent") throw new Error("closed before it was sent; nothing was sent");
        return deliverCommand({ client: charging.client, commandId: command.id, stationId, spec, signal });
      }),
  });

export type SendCommandOptions = { db: Db; actor: CommandActor; traceId: string; stationId: string; spec: CommandSpec; idempotencyKey: string; confirm?: boolean };

/**
 * One command to one station, as the browser asks for it: a hard reset needs `confirm`, an
 * unknown station is NOT_FOUND (nothing stored); answers once the command is sent, and the
 * outcome arrives on the command feed.
 */
export const sendCommand = async ({ db, actor, traceId, stationId, spec, idempotencyKey, confirm }: SendCommandOptions) => {
  requireConfirmation(spec, confirm);
  const charging = requireConnector("charging");
  await ensureStation(charging, stationId);
  return sendChargingCommand({ db, actor, traceId, charging, stationId, spec, idempotencyKey, timeoutMs: env().CSMS_COMMAND_TIMEOUT_MS });
};
