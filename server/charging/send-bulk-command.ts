import "server-only";
import { randomUUID } from "node:crypto";
import type { CommandSpec } from "../../contracts/csms/commands";
import { matchesStationFilter, type StationFilter } from "../../contracts/csms/station-filter";
import type { CommandActor } from "../commands/submit-command";
import type { ChargingConnector } from "../connectors/csms";
import { requireConnector } from "../connectors/kit/registry";
import type { Db } from "../db";
import { env } from "../env";
import { AppError } from "../errors";
import { createLimiter, requireConfirmation, sendChargingCommand } from "./send-command";

export const MAX_BULK_STATIONS = 5000;

export type SendBulkCommandOptions = {
  db: Db;
  actor: CommandActor;
  traceId: string;
  /** The stations: a list, or everything in the live view matching a filter. */
  stationIds?: string[];
  filter?: StationFilter;
  spec: CommandSpec;
  idempotencyKey: string;
  confirm?: boolean;
  /** Per-command wait for the manager's answer (default CSMS_COMMAND_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Commands in flight to the manager at once. */
  concurrency?: number;
};

/** The stations a filter picks from the live view, sorted, within the bulk limit. */
const pickStations = (charging: ChargingConnector, filter: StationFilter) => {
  const ids = [...charging.store.stations.values()].filter((s) => matchesStationFilter(s, filter)).map((s) => s.id).sort();
  if (ids.length === 0) throw new AppError("BAD_REQUEST", "No station matches this filter.", "filter");
  if (ids.length > MAX_BULK_STATIONS) throw new AppError("BAD_REQUEST", `${ids.length} stations match; narrow the filter to at most ${MAX_BULK_STATIONS}.`, "filter");
  return ids;
};

/**
 * One command per station (idempotency key `<key>:<stationId>`), all persisted before this
 * returns, then delivered with bounded concurrency in the background. The browser follows
 * each command's outcome on the command feed; `bulkId` ties them together in the payload.
 */
export const sendBulkCommand = async ({ db, actor, traceId, stationIds, filter = {}, spec, idempotencyKey, confirm, timeoutMs = env().CSMS_COMMAND_TIMEOUT_MS, concurrency = 20 }: SendBulkCommandOptions) => {
  requireConfirmation(spec, confirm);
  const charging = requireConnector("charging");
  const unique = [...new Set(stationIds ?? pickStations(charging, filter))];
  const limiter = createLimiter(concurrency);
  // A command's clock starts when it is stored, not when its turn comes; allow for the queue.
  const budget = timeoutMs * (Math.ceil(unique.length / concurrency) + 1);
  let bulkId: string = randomUUID();
  const commandIds: string[] = [];
  const CREATE_AT_ONCE = 10;
  for (let i = 0; i < unique.length; i += CREATE_AT_ONCE) {
    const chunk = unique.slice(i, i + CREATE_AT_ONCE);
    const results = await Promise.all(
      chunk.map((stationId) =>
        sendChargingCommand({ db, actor, traceId, charging, stationId, spec, idempotencyKey: `${idempotencyKey}:${stationId}`, timeoutMs: budget, bulkId, limiter }),
      ),
    );
    for (const { command, duplicate } of results) {
      commandIds.push(command.id);
      // A repeated request answers with the first request's bulk.
      const first = (command.payload as { bulkId?: unknown } | null)?.bulkId;
      if (duplicate && i === 0 && typeof first === "string") bulkId = first;
    }
  }
  return { bulkId, commandIds };
};
