import type { SqlRunner } from "../../../lib/db/migrate";
import { metricsFor, statusOf, type RecordDataset, type StoredRecord } from "../transform/derive-records";

/**
 * The latest values of every device of a region, answered from memory (the summary API's
 * hot path) and written behind to `monitoring.device` so a restart starts warm. A late
 * record (older than what a device — or a pms pack — last reported) lands in storage and
 * rollups but never overwrites a newer latest value.
 */
export type DeviceState = {
  id: string;
  site: string;
  dataset: RecordDataset;
  firstSeen: number;
  /** When the service last received a record from it (processing time: silence is ours to see). */
  lastSeen: number;
  /** The newest time_event per part ('' for single-part devices, the pack id for pms). */
  lastEvent: Record<string, number>;
  status: Record<string, unknown> | null;
  values: Record<string, number>;
};

export const createLatestValues = ({ db, flushMs = 5000, onError = () => {} }: { db: SqlRunner; flushMs?: number; onError?: (e: Error) => void }) => {
  const devices = new Map<string, DeviceState>();
  let dirty = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> | undefined;

  /** Applies new records; returns the devices whose latest values changed and the records that were current. */
  const apply = (records: StoredRecord[]) => {
    const changed = new Set<string>();
    const current: StoredRecord[] = [];
    for (const r of records) {
      let d = devices.get(r.device);
      if (!d) {
        d = { id: r.device, site: r.site, dataset: r.dataset, firstSeen: r.timeProcessing, lastSeen: r.timeProcessing, lastEvent: {}, status: null, values: {} };
        devices.set(r.device, d);
      }
      d.lastSeen = Math.max(d.lastSeen, r.timeProcessing);
      changed.add(r.device);
      const previous = d.lastEvent[r.part] ?? -Infinity;
      if (r.timeEvent < previous) continue;
      d.lastEvent[r.part] = r.timeEvent;
      Object.assign(d.values, metricsFor(r));
      const status = statusOf(r.record);
      if (status) d.status = status;
      current.push(r);
    }
    for (const id of changed) dirty.add(id);
    return { changed, current };
  };

  const flush = () =>
    (flushing ??= (async () => {
      if (dirty.size === 0) return;
      const ids = [...dirty];
      dirty = new Set();
      const rows = ids.map((id) => devices.get(id)!).filter(Boolean);
      try {
        await db.query(
          `INSERT INTO "monitoring"."device" (id, site, dataset, first_seen, last_seen, last_event, status, "values")
           SELECT u.id, u.site, u.dataset, to_timestamp(u.first_seen / 1000.0), to_timestamp(u.last_seen / 1000.0), to_timestamp(u.last_event / 1000.0), u.status::json, u.vals::json
           FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::float8[], $6::float8[], $7::text[], $8::text[]) AS u(id, site, dataset, first_seen, last_seen, last_event, status, vals)
           ON CONFLICT (id) DO UPDATE SET site = EXCLUDED.site, last_seen = EXCLUDED.last_seen, last_event = EXCLUDED.last_event, status = EXCLUDED.status, "values" = EXCLUDED."values"`,
          [
            rows.map((d) => d.id),
            rows.map((d) => d.site),
            rows.map((d) => d.dataset),
            rows.map((d) => d.firstSeen),
            rows.map((d) => d.lastSeen),
            rows.map((d) => Math.max(...Object.values(d.lastEvent), 0)),
            rows.map((d) => (d.status ? JSON.stringify({ status: d.status, lastEvent: d.lastEvent }) : JSON.stringify({ status: null, lastEvent: d.lastEvent }))),
            rows.map((d) => JSON.stringify(d.values)),
          ],
        );
      } catch (error) {
        for (const id of ids) dirty.add(id);
        onError(error as Error);
      }
    })().finally(() => {
      flushing = undefined;
    }));

  /** Loads what the last run wrote (written behind, so at most `flushMs` old). */
  const restore = async () => {
    const { rows } = await db.query<{ id: string; site: string; dataset: string; fs: number; ls: number; status: unknown; values: unknown }>(
      `SELECT id, site, dataset, (extract(epoch from first_seen) * 1000)::float8 AS fs, (extract(epoch from last_seen) * 1000)::float8 AS ls, status, "values" FROM "monitoring"."device"`,
    );
    const parse = <T>(v: unknown) => (typeof v === "string" ? JSON.parse(v) : v) as T;
    for (const r of rows) {
      const s = parse<{ status: Record<string, unknown> | null; lastEvent: Record<string, number> }>(r.status) ?? { status: null, lastEvent: {} };
      devices.set(r.id, { id: r.id, site: r.site, dataset: r.dataset as RecordDataset, firstSeen: r.fs, lastSeen: r.ls, lastEvent: s.lastEvent ?? {}, status: s.status, values: parse(r.values) ?? {} });
    }
    return rows.length;
  };

  return {
    apply,
    restore,
    flush,
    get: (id: string) => devices.get(id),
    all: () => devices.values(),
    start: () => {
      timer = setInterval(() => void flush(), flushMs);
      timer.unref();
    },
    close: async () => {
      clearInterval(timer);
      await flush();
    },
  };
};
export type LatestValues = ReturnType<typeof createLatestValues>;
