import type { Prisma } from "@prisma/client";
import type { Envelope } from "../../../contracts/csms/mqtt";
import { createBatcher } from "./batch";
import { inChunks, WRITE_CHUNK_ROWS } from "./chunks";
import type { ManagerContext, TxState } from "./context";
import { jsonSafe } from "./input";
import { createWriteBehind } from "./write-behind";

/**
 * Everything the manager writes behind its in-memory view: the message log and meter
 * samples (batch.ts), station / connector / transaction state (write-behind.ts), and the
 * running values (last seen, transaction energy and power) written together once a second.
 */
export const createStore = ({ db, log, metrics, shouldLog, opts }: ManagerContext) => {
  type LogRow = Prisma.CsmsMessageLogCreateManyInput & { at: Date; payload: Prisma.InputJsonValue };
  type SampleRow = Prisma.CsmsMeterSampleCreateManyInput & { at: Date };
  // Multi-row inserts as one unnest statement per chunk: on PGlite about 5× less time on the
  // manager's thread than Prisma's createMany of the same rows (bench/RESULTS.md).
  const messageLog = createBatcher<LogRow>({
    maxRows: WRITE_CHUNK_ROWS,
    write: async (rows) => {
      await db.$executeRawUnsafe(
        `INSERT INTO "csms"."message_log" ("at", "stationId", "direction", "type", "action", "messageId", "payload", "errorCode")
         SELECT * FROM unnest($1::timestamp(3)[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::jsonb[], $8::text[])`,
        rows.map((r) => r.at.toISOString()),
        rows.map((r) => r.stationId),
        rows.map((r) => r.direction),
        rows.map((r) => r.type),
        rows.map((r) => r.action ?? null),
        rows.map((r) => r.messageId),
        rows.map((r) => JSON.stringify(r.payload)),
        rows.map((r) => r.errorCode ?? null),
      );
      metrics.batchRows.inc({ table: "message_log" }, rows.length);
    },
    writeOne: (row) => db.csmsMessageLog.create({ data: row }),
    onError: (error, n) => (metrics.batchErrors.inc({ table: "message_log" }), log.warn({ err: error.message, rows: n }, "message log batch failed")),
  });
  const samples = createBatcher<SampleRow>({
    maxRows: WRITE_CHUNK_ROWS,
    write: async (rows) => {
      await db.$executeRawUnsafe(
        `INSERT INTO "csms"."meter_sample" ("stationId", "transactionId", "evseId", "connectorId", "at", "powerW", "energyWh", "socPct")
         SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::timestamp(3)[], $6::float8[], $7::float8[], $8::float8[])`,
        rows.map((r) => r.stationId),
        rows.map((r) => r.transactionId ?? null),
        rows.map((r) => r.evseId),
        rows.map((r) => r.connectorId),
        rows.map((r) => r.at.toISOString()),
        rows.map((r) => r.powerW ?? null),
        rows.map((r) => r.energyWh ?? null),
        rows.map((r) => r.socPct ?? null),
      );
      metrics.batchRows.inc({ table: "meter_sample" }, rows.length);
    },
    onError: (error, n) => (metrics.batchErrors.inc({ table: "meter_sample" }), log.warn({ err: error.message, rows: n }, "meter sample batch failed")),
  });
  /** Station, connector and transaction state, answered from memory and written behind (write-behind.ts). */
  const writes = createWriteBehind({
    db,
    onRows: (table, n) => metrics.batchRows.inc({ table }, n),
    onError: (table, error, n) => {
      metrics.batchErrors.inc({ table });
      if (shouldLog(`write-behind:${table}`)) log.warn({ table, rows: n, err: error.message }, "write-behind batch failed");
    },
  });
  const txWrite = (t: TxState) => writes.tx({ ...t, seq: t.seq ?? null });
  /** Last-seen times and running transaction values, written together once a second. */
  const dirtySeen = new Map<string, Date>();
  const dirtyTx = new Map<string, TxState>();
  const flushState = async () => {
    // Rows the running values update must exist first.
    await writes.flush();
    if (dirtySeen.size) {
      const entries = [...dirtySeen.entries()];
      dirtySeen.clear();
      await inChunks(entries, (chunk) =>
        db
          .$executeRawUnsafe(
            `UPDATE "csms"."station" AS s SET "lastSeenAt" = v.at
             FROM (SELECT unnest($1::text[]) AS id, unnest($2::text[])::timestamp(3) AS at) AS v
             WHERE s.id = v.id AND (s."lastSeenAt" IS NULL OR s."lastSeenAt" < v.at)`,
            chunk.map(([id]) => id),
            chunk.map(([, at]) => at.toISOString()),
          )
          .catch((error: Error) => log.warn({ err: error.message }, "last-seen update failed")),
      );
    }
    if (dirtyTx.size) {
      const txs = [...dirtyTx.values()];
      dirtyTx.clear();
      await inChunks(txs, (chunk) =>
        db
          .$executeRawUnsafe(
            `UPDATE "csms"."transaction" AS t SET "energyWh" = v.energy, "powerW" = v.power, "socPct" = v.soc, "meterStartWh" = COALESCE(t."meterStartWh", v.start), "updatedAt" = now()
             FROM (SELECT unnest($1::text[]) AS id, unnest($2::float8[]) AS energy, unnest($3::float8[]) AS power, unnest($4::float8[]) AS soc, unnest($5::float8[]) AS start) AS v
             WHERE t.id = v.id AND t.active`,
            chunk.map((t) => t.id),
            chunk.map((t) => t.energyWh),
            chunk.map((t) => t.powerW),
            chunk.map((t) => t.socPct),
            chunk.map((t) => t.meterStartWh),
          )
          .catch((error: Error) => log.warn({ err: error.message }, "transaction update failed")),
      );
    }
  };
  let stateFlush: Promise<void> = Promise.resolve();
  const flushStateSerial = () => (stateFlush = stateFlush.then(flushState));
  const stateTimer = setInterval(() => void flushStateSerial(), 1000);
  stateTimer.unref();

  const logFrame = (stationId: string, direction: "in" | "out", envelope: Envelope) =>
    messageLog.push({
      at: new Date(),
      stationId,
      direction,
      type: envelope.type,
      action: envelope.action ?? null,
      messageId: envelope.id,
      payload: jsonSafe(envelope),
      errorCode: envelope.type === 4 ? envelope.error_code : null,
    });

  const messageLogDays = opts.messageLogDays ?? 7;
  const retention = async () => {
    const cutoff = new Date(Date.now() - messageLogDays * 86_400_000);
    const { count } = await db.csmsMessageLog.deleteMany({ where: { at: { lt: cutoff } } });
    if (count) log.info({ count, cutoff: cutoff.toISOString() }, "message log retention");
    return count;
  };
  const runRetention = () => void retention().catch((error: Error) => log.warn({ err: error.message }, "retention failed"));
  const retentionTimer = setInterval(runRetention, 3_600_000);
  retentionTimer.unref();

  return {
    writes,
    samples,
    txWrite,
    dirtySeen,
    dirtyTx,
    flushStateSerial,
    logFrame,
    runRetention,
    /** The message log, samples and running values (after `writes.flush()`; manager.ts adds command records). */
    flushBatches: () => Promise.all([messageLog.flush(), samples.flush(), flushStateSerial()]),
    stopTimers: () => {
      clearInterval(stateTimer);
      clearInterval(retentionTimer);
    },
    /** The last writes at close (timers stopped first): promises to settle together with the command records'. */
    closeBatches: () => [messageLog.close(), samples.close(), flushStateSerial()],
  };
};
export type Store = ReturnType<typeof createStore>;
