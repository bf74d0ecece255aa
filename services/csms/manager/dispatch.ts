import { randomBytes } from "node:crypto";
import { GATEWAY_ERROR, type ErrorEnvelope, type OcppVersion, type ResultEnvelope } from "../../../contracts/csms/mqtt";
import type { Broadcast } from "./broadcast";
import { createCommandRecords, type CommandBody } from "./command-records";
import { mapCommand, outcomeOf, rejectionReason } from "./commands";
import type { ManagerContext } from "./context";
import type { StationCache } from "./station-cache";
import type { Store } from "./store";

export type CommandResult = {
  status: "accepted" | "rejected" | "failed" | "timed_out" | "offline";
  ocppAction: string;
  request: Record<string, unknown>;
  response?: Record<string, unknown>;
  errorCode?: string;
  errorDescription?: string;
  /** The station's reason for a rejection (statusInfo.reasonCode, or the status it answered). */
  reason?: string;
  reasonDetail?: string;
  /** Whether a CALL was published at all. */
  sent: boolean;
};

const OFFLINE_DESCRIPTION = "the station is not connected; nothing was sent";

/**
 * Manager CALLs to stations: published with an id this manager owns, answered through the
 * reply topic (or any manager's station subscription), one in flight per station; the
 * outcome of an API command is kept under its commandId (command-records.ts).
 */
export const createDispatch = (ctx: ManagerContext, { store, view, broadcast }: { store: Store; view: StationCache; broadcast: Broadcast }) => {
  const { db, log, state, metrics, managerId, topics, commandTimeoutMs, opts } = ctx;

  type Pending = { resolve: (env: ResultEnvelope | ErrorEnvelope) => void };
  const pending = new Map<string, Pending>();
  const commandQueues = new Map<string, Promise<unknown>>();

  const resolvePending = (env: ResultEnvelope | ErrorEnvelope) => {
    const p = pending.get(env.id);
    if (!p) return false;
    pending.delete(env.id);
    p.resolve(env);
    return true;
  };

  const stationOnline = async (id: string) => {
    const st = await view.getStation(id);
    if (view.isOnline(id, st.lastSeenAt, st.heartbeatIntervalSec)) return true;
    // Another manager may have seen it more recently than this one.
    await store.flushStateSerial();
    const row = await db.csmsStation.findUnique({ where: { id }, select: { lastSeenAt: true } });
    if (row?.lastSeenAt && (!st.lastSeenAt || row.lastSeenAt > st.lastSeenAt)) st.lastSeenAt = row.lastSeenAt;
    return view.isOnline(id, st.lastSeenAt, st.heartbeatIntervalSec);
  };

  /** Publishes a manager CALL and waits for its answer (undefined: none within `timeoutMs`). */
  const callStation = async (version: OcppVersion, stationId: string, action: string, request: Record<string, unknown>, timeoutMs: number) => {
    const id = `${managerId}:${randomBytes(12).toString("hex")}`;
    const answer = new Promise<ResultEnvelope | ErrorEnvelope | undefined>((resolve) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        resolve(undefined);
      }, timeoutMs);
      pending.set(id, {
        resolve: (env) => {
          clearTimeout(timer);
          resolve(env);
        },
      });
    });
    const call = { type: 2 as const, action, id, request };
    store.logFrame(stationId, "out", call);
    await broadcast.publishRaw(topics.out(version, stationId), JSON.stringify(call));
    return answer;
  };

  /** undefined → unknown station (404). Throws CommandInputError on bad params (400). */
  const runCommand = async (stationId: string, body: CommandBody, accepted: () => void): Promise<CommandResult | undefined> => {
    const st = await view.getStation(stationId);
    if (!st.exists) {
      // The cache may predate a registration made through another manager.
      const st2 = await view.loadStation(stationId);
      if (!st2.exists) return undefined;
    }
    const station = state.cache.get(stationId) ?? st;
    const version = station.protocol ?? state.presence.get(stationId)?.protocol;
    const txIds = new Map([...station.txs.values()].map((t) => [t.id, t.transactionId]));
    let mapped: ReturnType<typeof mapCommand>;
    if (!version) {
      // Never booted and not connected: validate against 2.0.1's richer catalogue, then report offline.
      mapped = mapCommand("ocpp2.0.1", body.action, body.params);
      accepted();
      metrics.commands.inc({ action: body.action, status: "offline" });
      return { status: "offline", ocppAction: mapped.action, request: mapped.request, sent: false, errorDescription: OFFLINE_DESCRIPTION };
    }
    const lookupWire = async (apiId: string) => {
      if (txIds.has(apiId)) return;
      const row = await db.csmsTransaction.findUnique({ where: { id: apiId } });
      if (row && row.stationId === stationId) txIds.set(apiId, row.transactionId);
    };
    const p = body.params as Record<string, unknown> | undefined;
    if (p && (typeof p.transactionId === "string" || typeof p.transactionId === "number")) await lookupWire(String(p.transactionId));
    // A 2.0.1 API id is `<stationId>:<the station's id>`; the station knows only its own.
    mapped = mapCommand(version, body.action, body.params, (apiId) => txIds.get(apiId) ?? (apiId.startsWith(`${stationId}:`) ? apiId.slice(stationId.length + 1) : apiId));
    accepted();
    const base = { ocppAction: mapped.action, request: mapped.request };
    const finish = (result: CommandResult) => {
      metrics.commands.inc({ action: body.action, status: result.status });
      return result;
    };
    const offline = { status: "offline" as const, ...base, sent: false, errorDescription: OFFLINE_DESCRIPTION };
    if (!(await stationOnline(stationId))) return finish(offline);

    const run = async (): Promise<CommandResult> => {
      if (!state.mqtt?.connected) return { status: "failed", ...base, sent: false, errorCode: "ManagerUnavailable", errorDescription: "the manager is not connected to the MQTT broker" };
      if (!(await stationOnline(stationId))) return offline;
      const timeoutMs = body.timeoutMs ?? commandTimeoutMs;
      const env = await callStation(version, stationId, mapped.action, mapped.request, timeoutMs);
      if (!env) return { status: "timed_out", ...base, sent: true, errorDescription: `the station did not answer within ${timeoutMs} ms` };
      if (env.type === 4) {
        const error = { errorCode: env.error_code, errorDescription: env.error_description };
        // The gateway held no socket for it: nothing reached the station.
        if (env.error_code === GATEWAY_ERROR.stationOffline) return { status: "offline", ...base, sent: false, ...error };
        // The gateway sent it and the station stayed silent.
        if (env.error_code === GATEWAY_ERROR.timeout) return { status: "timed_out", ...base, sent: true, ...error };
        return { status: "failed", ...base, sent: true, ...error };
      }
      return { status: outcomeOf(mapped.action, env.response), ...base, sent: true, response: env.response, ...rejectionReason(mapped.action, env.response) };
    };
    // One manager call in flight per station from this manager.
    const previous = commandQueues.get(stationId) ?? Promise.resolve();
    const mine = previous.then(run, run);
    commandQueues.set(stationId, mine);
    void mine.finally(() => {
      if (commandQueues.get(stationId) === mine) commandQueues.delete(stationId);
    });
    return finish(await mine);
  };

  const commandRecords = createCommandRecords({
    db,
    log,
    retentionHours: opts.commandResultHours ?? 24,
    onBatchError: () => metrics.batchErrors.inc({ table: "command_result" }),
  });
  /** undefined → unknown station (404). Throws CommandInputError (400) or CommandConflictError (409). */
  const sendCommand = (stationId: string, body: CommandBody) =>
    commandRecords.submit(stationId, body, (accepted) => runCommand(stationId, body, accepted), { timeoutMs: body.timeoutMs ?? commandTimeoutMs });

  /** Answers every CALL still waiting with ManagerShutdown. */
  const abandonPending = () => {
    for (const [id, p] of pending) {
      pending.delete(id);
      p.resolve({ type: 4, id, error_code: "ManagerShutdown", error_description: "the manager is shutting down" });
    }
  };

  return { callStation, resolvePending, sendCommand, getCommand: commandRecords.get, commandRecords, abandonPending };
};
export type CallStation = ReturnType<typeof createDispatch>["callStation"];
