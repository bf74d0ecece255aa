import "server-only";
import { randomUUID } from "node:crypto";
import type { CommandActor } from "../commands/submit-command";
import type { CsmsLiveView } from "../connectors/csms";
import type { Db } from "../db";
import type { CommandSpec } from "../../contracts/csms/commands";
import { createLimiter, sendChargingCommand } from "./send-command";

export type SendBulkCommandOptions = {
  db: Db;
  actor: CommandActor;
  traceId: string;
  link: CsmsLiveView;
  stationIds: string[];
  spec: CommandSpec;
  idempotencyKey: string;
  /** Per-command wait for the manager's answer. */
  timeoutMs: number;
  /** Commands in flight to the manager at once. */
  concurrency?: number;
};

/**
 * One command per station (idempotency key `<key>:<stationId>`), all persisted before this
 * returns, then delivered with bounded concurrency in the background. The browser follows
 * each command's outcome on the command feed; `bulkId` ties them together in the payload.
 */
export const sendBulkCommand = async ({ db, actor, traceId, link, stationIds, spec, idempotencyKey, timeoutMs, concurrency = 20 }: SendBulkCommandOptions) => {
  const unique = [...new Set(stationIds)];
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
        sendChargingCommand({ db, actor, traceId, link, stationId, spec, idempotencyKey: `${idempotencyKey}:${stationId}`, timeoutMs: budget, bulkId, limiter }),
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
