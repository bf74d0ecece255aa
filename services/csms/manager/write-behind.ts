import type { PrismaClient } from "@prisma/client";
import { inChunks, WRITE_CHUNK_ROWS, yieldToLoop } from "./chunks";

/**
 * The manager answers station CALLs from its in-memory view and writes the state changes
 * behind it (services/csms/README.md § Storage): station rows (boot info, protocol),
 * connector statuses and transactions are merged per key — only the newest state of each
 * is written — and flushed together every `intervalMs` as one multi-row statement per
 * table (at most `chunkRows` rows per statement, chunks.ts), in dependency order (stations →
 * connectors → transactions). At most `maxPending`
 * keys wait; beyond that `room()` makes the caller wait for a flush (backpressure instead of
 * unbounded memory). `flush()` runs on SIGTERM (close), before reads that must be exact, and
 * before a station is reloaded. What a kill -9 loses: the changes of the last interval that
 * were answered but not yet flushed (the station's own retry and the next status sync
 * restore connector state; a transaction started in that window is recreated by its next
 * message).
 */

export type StationWrite = {
  id: string;
  protocol: string;
  /** Present for a BootNotification: the boot info replaces what is stored. */
  boot?: { vendor: string | null; model: string | null; firmwareVersion: string | null; serialNumber: string | null; bootedAt: Date; heartbeatIntervalSec: number };
  /** For a row created by the first message of a never-registered station. */
  heartbeatIntervalSec: number;
  lastSeenAt: Date;
};
export type ConnectorWrite = { stationId: string; evseId: number; connectorId: number; status: string; errorCode: string | null; updatedAt: Date };
export type TxWrite = {
  id: string;
  /** 1.6: the number the CSMS assigned; null → the sequence picks one (2.0.1). */
  seq: number | null;
  stationId: string;
  transactionId: string;
  evseId: number;
  connectorId: number;
  idTag: string | null;
  startedAt: Date;
  stoppedAt: Date | null;
  meterStartWh: number | null;
  meterStopWh: number | null;
  energyWh: number;
  powerW: number | null;
  socPct: number | null;
  stopReason: string | null;
  active: boolean;
};

/** PostgreSQL 23503 (foreign key), in the message (pg) or the driver adapter's cause (PGlite). */
const isFkViolation = (error: Error) => /\b23503\b/.test(`${error.message} ${JSON.stringify((error as { meta?: unknown }).meta ?? null)}`);

export const createWriteBehind = ({
  db,
  intervalMs = 50,
  maxPending = 20_000,
  maxFkRetries = 100,
  chunkRows = WRITE_CHUNK_ROWS,
  onRows,
  onError,
}: {
  db: PrismaClient;
  intervalMs?: number;
  maxPending?: number;
  /** Flushes a row that breaks a foreign key is retried at before it is dropped (another manager's station row may be on its way). */
  maxFkRetries?: number;
  /** Rows per statement (the event loop runs between statements). */
  chunkRows?: number;
  onRows?: (table: string, rows: number) => void;
  onError?: (table: string, error: Error, rows: number) => void;
}) => {
  let stations = new Map<string, StationWrite>();
  let connectors = new Map<string, ConnectorWrite>();
  let txs = new Map<string, TxWrite>();
  let running: Promise<void> = Promise.resolve();
  const pending = () => stations.size + connectors.size + txs.size;

  const writeStations = async (rows: StationWrite[]) => {
    if (!rows.length) return;
    const col = <T>(f: (r: StationWrite) => T) => rows.map(f);
    await db.$executeRawUnsafe(
      `INSERT INTO "csms"."station" ("id", "protocol", "vendor", "model", "firmwareVersion", "serialNumber", "bootedAt", "lastSeenAt", "heartbeatIntervalSec")
       SELECT id, protocol, vendor, model, fw, serial, booted, seen, hb
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamp(3)[], $8::timestamp(3)[], $9::int[])
         AS x(id, protocol, vendor, model, fw, serial, booted, seen, hb)
       ON CONFLICT ("id") DO UPDATE SET
         "protocol" = EXCLUDED."protocol",
         "vendor" = CASE WHEN EXCLUDED."bootedAt" IS NOT NULL THEN EXCLUDED."vendor" ELSE "station"."vendor" END,
         "model" = CASE WHEN EXCLUDED."bootedAt" IS NOT NULL THEN EXCLUDED."model" ELSE "station"."model" END,
         "firmwareVersion" = CASE WHEN EXCLUDED."bootedAt" IS NOT NULL THEN EXCLUDED."firmwareVersion" ELSE "station"."firmwareVersion" END,
         "serialNumber" = CASE WHEN EXCLUDED."bootedAt" IS NOT NULL THEN EXCLUDED."serialNumber" ELSE "station"."serialNumber" END,
         "heartbeatIntervalSec" = CASE WHEN EXCLUDED."bootedAt" IS NOT NULL THEN EXCLUDED."heartbeatIntervalSec" ELSE "station"."heartbeatIntervalSec" END,
         "bootedAt" = COALESCE(EXCLUDED."bootedAt", "station"."bootedAt"),
         "lastSeenAt" = GREATEST(EXCLUDED."lastSeenAt", "station"."lastSeenAt")`,
      col((r) => r.id),
      col((r) => r.protocol),
      col((r) => r.boot?.vendor ?? null),
      col((r) => r.boot?.model ?? null),
      col((r) => r.boot?.firmwareVersion ?? null),
      col((r) => r.boot?.serialNumber ?? null),
      col((r) => r.boot?.bootedAt.toISOString() ?? null),
      col((r) => r.lastSeenAt.toISOString()),
      col((r) => r.boot?.heartbeatIntervalSec ?? r.heartbeatIntervalSec),
    );
  };
  const writeConnectors = async (rows: ConnectorWrite[]) => {
    if (!rows.length) return;
    await db.$executeRawUnsafe(
      `INSERT INTO "csms"."connector" ("stationId", "evseId", "connectorId", "status", "errorCode", "updatedAt")
       SELECT * FROM unnest($1::text[], $2::int[], $3::int[], $4::text[], $5::text[], $6::timestamp(3)[])
       ON CONFLICT ("stationId", "evseId", "connectorId") DO UPDATE SET "status" = EXCLUDED."status", "errorCode" = EXCLUDED."errorCode", "updatedAt" = EXCLUDED."updatedAt"`,
      rows.map((r) => r.stationId),
      rows.map((r) => r.evseId),
      rows.map((r) => r.connectorId),
      rows.map((r) => r.status),
      rows.map((r) => r.errorCode),
      rows.map((r) => r.updatedAt.toISOString()),
    );
  };
  const writeTxs = async (rows: TxWrite[]) => {
    if (!rows.length) return;
    const col = <T>(f: (r: TxWrite) => T) => rows.map(f);
    await db.$executeRawUnsafe(
      `INSERT INTO "csms"."transaction" ("id", "seq", "stationId", "transactionId", "evseId", "connectorId", "idTag", "startedAt", "stoppedAt", "meterStartWh", "meterStopWh", "energyWh", "powerW", "socPct", "stopReason", "active", "updatedAt")
       SELECT id, COALESCE(seq, nextval(pg_get_serial_sequence('"csms"."transaction"', 'seq'))::int), station, wire, evse, conn, tag, started, stopped, mstart, mstop, energy, power, soc, reason, active, now()
       FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::int[], $6::int[], $7::text[], $8::timestamp(3)[], $9::timestamp(3)[], $10::float8[], $11::float8[], $12::float8[], $13::float8[], $14::float8[], $15::text[], $16::boolean[])
         AS x(id, seq, station, wire, evse, conn, tag, started, stopped, mstart, mstop, energy, power, soc, reason, active)
       ON CONFLICT ("id") DO UPDATE SET
         "evseId" = EXCLUDED."evseId", "connectorId" = EXCLUDED."connectorId", "idTag" = EXCLUDED."idTag", "stoppedAt" = EXCLUDED."stoppedAt",
         "meterStartWh" = EXCLUDED."meterStartWh", "meterStopWh" = EXCLUDED."meterStopWh", "energyWh" = EXCLUDED."energyWh", "powerW" = EXCLUDED."powerW",
         "socPct" = EXCLUDED."socPct", "stopReason" = EXCLUDED."stopReason", "active" = EXCLUDED."active", "updatedAt" = now()`,
      col((r) => r.id),
      col((r) => r.seq),
      col((r) => r.stationId),
      col((r) => r.transactionId),
      col((r) => r.evseId),
      col((r) => r.connectorId),
      col((r) => r.idTag),
      col((r) => r.startedAt.toISOString()),
      col((r) => r.stoppedAt?.toISOString() ?? null),
      col((r) => r.meterStartWh),
      col((r) => r.meterStopWh),
      col((r) => r.energyWh),
      col((r) => r.powerW),
      col((r) => r.socPct),
      col((r) => r.stopReason),
      col((r) => r.active),
    );
  };

  // With several managers, a station's row may still sit in the write-behind of the manager
  // that handled its boot while this one writes its connectors: on a foreign-key violation the
  // rows of stations not in the table yet are retried at the next flushes (unless a newer state
  // of that key replaced them) before they are dropped, and the others are written at once.
  const fkRetries = new WeakMap<object, number>();
  let closing = false;
  const requeue = <T extends object>(map: Map<string, T>, key: string, row: T) => {
    const tries = fkRetries.get(row) ?? 0;
    if (closing || tries >= maxFkRetries) return false;
    fkRetries.set(row, tries + 1);
    if (!map.has(key)) map.set(key, row);
    return true;
  };
  const missingStations = async (ids: string[]) => {
    const found = await db.$queryRawUnsafe<{ id: string }[]>(`SELECT "id" FROM "csms"."station" WHERE "id" = ANY($1::text[])`, [...new Set(ids)]);
    const have = new Set(found.map((r) => r.id));
    return new Set(ids.filter((id) => !have.has(id)));
  };

  /** One statement's rows; on failure row by row, so one bad row never takes the others with it. */
  const writeChunk = async <T>(table: string, rows: T[], fn: (rows: T[]) => Promise<void>, fk?: { stationOf: (row: T) => string; requeue: (row: T) => boolean }) => {
    if (!rows.length) return;
    try {
      await fn(rows);
      onRows?.(table, rows.length);
      return;
    } catch (error) {
      onError?.(table, error as Error, rows.length);
      if (fk && isFkViolation(error as Error)) {
        const missing = await missingStations(rows.map(fk.stationOf)).catch(() => undefined);
        if (missing) {
          const rest = rows.filter((r) => !missing.has(fk.stationOf(r)) || !fk.requeue(r));
          if (rest.length === rows.length) return writeRowByRow(table, rows, fn);
          return writeChunk(table, rest, fn);
        }
      }
      await writeRowByRow(table, rows, fn);
    }
  };
  const writeRowByRow = async <T>(table: string, rows: T[], fn: (rows: T[]) => Promise<void>) => {
    for (const row of rows) await fn([row]).catch((e: Error) => onError?.(table, e, 1));
  };

  /**
   * One table's batch in statements of at most `chunkRows` rows, the event loop free between
   * them (chunks.ts).
   */
  const write = <T>(table: string, rows: T[], fn: (rows: T[]) => Promise<void>, fk?: { stationOf: (row: T) => string; requeue: (row: T) => boolean }) =>
    inChunks(rows, (chunk) => writeChunk(table, chunk, fn, fk), chunkRows);

  const drain = async () => {
    if (!pending()) return;
    const s = stations;
    const c = connectors;
    const t = txs;
    stations = new Map();
    connectors = new Map();
    txs = new Map();
    await write("station", [...s.values()], writeStations);
    if (c.size) await yieldToLoop();
    await write("connector", [...c.values()], writeConnectors, { stationOf: (r) => r.stationId, requeue: (r) => requeue(connectors, `${r.stationId}/${r.evseId}/${r.connectorId}`, r) });
    if (t.size) await yieldToLoop();
    await write("transaction", [...t.values()], writeTxs, { stationOf: (r) => r.stationId, requeue: (r) => requeue(txs, r.id, r) });
  };
  const flush = () => (running = running.then(drain));
  const timer = setInterval(() => void flush(), intervalMs);
  timer.unref();

  return {
    station: (w: StationWrite) => {
      const prev = stations.get(w.id);
      // A boot in the same window wins over a mere "this station exists".
      stations.set(w.id, prev?.boot && !w.boot ? { ...prev, protocol: w.protocol, lastSeenAt: w.lastSeenAt } : w);
    },
    connector: (w: ConnectorWrite) => connectors.set(`${w.stationId}/${w.evseId}/${w.connectorId}`, w),
    tx: (w: TxWrite) => {
      const prev = txs.get(w.id);
      // Keep the CSMS-assigned number of a 1.6 transaction when a later state replaces it.
      txs.set(w.id, prev && prev.seq !== null && w.seq === null ? { ...w, seq: prev.seq } : w);
    },
    pending,
    /** Resolves at once unless `maxPending` keys wait; then after the next flush. */
    room: () => (pending() >= maxPending ? flush() : Promise.resolve()),
    flush,
    close: async () => {
      clearInterval(timer);
      closing = true;
      await flush();
    },
  };
};
export type WriteBehind = ReturnType<typeof createWriteBehind>;
