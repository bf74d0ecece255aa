import type { SqlRunner } from "../../../lib/db/migrate";
import { GRANULARITIES, type Granularity, type SeriesPoint } from "../../../contracts/monitoring";
import { metricsFor, type StoredRecord } from "../transform/derive-records";
import { samplesAfter } from "./landing-zone";

/**
 * Rollups 1 min / 1 h / 1 day (count, sum, min, max, first, last). New records are folded
 * into in-memory deltas; each table's deltas are merged into the database by one upsert per
 * flush that also advances that table's watermark (the highest landing-zone `seq` folded in),
 * in the same statement. After a crash, `recover` refolds the landing-zone rows above each
 * watermark, so the rollups never miss or double-count a stored record. Queries read the
 * table and add the deltas not yet flushed, so the still-open bucket is always current.
 */
export type Delta = { site: string; count: number; sum: number; min: number; max: number; first: number; firstAt: number; last: number; lastAt: number };

export const GRANULARITY_NAMES = Object.keys(GRANULARITIES) as Granularity[];
const TABLE: Record<Granularity, string> = { "1m": `"monitoring"."rollup_1m"`, "1h": `"monitoring"."rollup_1h"`, "1d": `"monitoring"."rollup_1d"` };

const mergeInto = (into: Delta, d: Delta) => {
  into.count += d.count;
  into.sum += d.sum;
  if (d.min < into.min) into.min = d.min;
  if (d.max > into.max) into.max = d.max;
  if (d.firstAt < into.firstAt) {
    into.first = d.first;
    into.firstAt = d.firstAt;
  }
  if (d.lastAt >= into.lastAt) {
    into.last = d.last;
    into.lastAt = d.lastAt;
  }
};

/** Pending deltas of one table: device → metric → bucket, so the hot path builds no strings. */
class PendingTable {
  devices = new Map<string, Map<string, Map<number, Delta>>>();
  maxSeq = 0;
  size = 0;

  /** One reading; updates in place, allocating only for a new bucket. */
  addValue(device: string, metric: string, bucket: number, site: string, v: number, t: number) {
    let byMetric = this.devices.get(device);
    if (!byMetric) this.devices.set(device, (byMetric = new Map()));
    let byBucket = byMetric.get(metric);
    if (!byBucket) byMetric.set(metric, (byBucket = new Map()));
    const d = byBucket.get(bucket);
    if (!d) {
      byBucket.set(bucket, { site, count: 1, sum: v, min: v, max: v, first: v, firstAt: t, last: v, lastAt: t });
      this.size += 1;
      return;
    }
    d.count += 1;
    d.sum += v;
    if (v < d.min) d.min = v;
    if (v > d.max) d.max = v;
    if (t < d.firstAt) {
      d.first = v;
      d.firstAt = t;
    }
    if (t >= d.lastAt) {
      d.last = v;
      d.lastAt = t;
    }
  }

  add(device: string, metric: string, bucket: number, delta: Delta) {
    let byMetric = this.devices.get(device);
    if (!byMetric) this.devices.set(device, (byMetric = new Map()));
    let byBucket = byMetric.get(metric);
    if (!byBucket) byMetric.set(metric, (byBucket = new Map()));
    const existing = byBucket.get(bucket);
    if (existing) mergeInto(existing, delta);
    else {
      byBucket.set(bucket, { ...delta });
      this.size += 1;
    }
  }

  *entries(): Generator<[string, string, number, Delta]> {
    for (const [device, byMetric] of this.devices) for (const [metric, byBucket] of byMetric) for (const [bucket, d] of byBucket) yield [device, metric, bucket, d];
  }

  absorb(other: PendingTable) {
    for (const [device, metric, bucket, d] of other.entries()) this.add(device, metric, bucket, d);
    this.maxSeq = Math.max(this.maxSeq, other.maxSeq);
  }
}

export type RollupOptions = {
  db: SqlRunner;
  /** How often each table's deltas are merged into the database. */
  flushMs?: Partial<Record<Granularity, number>>;
  /** Once no new record has been folded for this long, the 1-minute deltas go out early (0: never). */
  idleFlushMs?: number;
  onError?: (error: Error, granularity: Granularity) => void;
};

export const createRollups = ({ db, flushMs = {}, idleFlushMs = 1000, onError = () => {} }: RollupOptions) => {
  // Longer intervals write each bucket fewer times (a 1-minute bucket of a 10 s device is
  // touched 6 times); queries add the pending deltas, so nothing is stale to a reader.
  const intervals: Record<Granularity, number> = { "1m": flushMs["1m"] ?? 10_000, "1h": flushMs["1h"] ?? 60_000, "1d": flushMs["1d"] ?? 300_000 };
  const pending: Record<Granularity, PendingTable> = { "1m": new PendingTable(), "1h": new PendingTable(), "1d": new PendingTable() };
  const watermark: Record<Granularity, number> = { "1m": 0, "1h": 0, "1d": 0 };
  const flushing: Partial<Record<Granularity, Promise<void>>> = {};
  // While a flush is in flight its deltas are neither pending nor (yet) in the table.
  const inFlight: Partial<Record<Granularity, PendingTable>> = {};
  const timers: NodeJS.Timeout[] = [];
  // When ingest pauses (a burst of reports is done), the 1-minute table catches up at once
  // instead of up to its interval later: no extra writes (it is one flush either way), and the
  // watermark, the rollups' durability, follows the landing zone within about a second.
  let idleTimer: NodeJS.Timeout | undefined;
  const touched = () => {
    if (idleFlushMs <= 0 || timers.length === 0) return;
    if (idleTimer) idleTimer.refresh();
    else {
      idleTimer = setTimeout(() => void flushTable("1m"), idleFlushMs);
      idleTimer.unref();
    }
  };

  const foldInto = (granularities: Granularity[], record: StoredRecord, seq: number) => {
    const metrics = metricsFor(record);
    const t = record.timeEvent;
    for (const g of granularities) {
      const size = GRANULARITIES[g];
      const bucket = Math.floor(t / size) * size;
      const table = pending[g];
      for (const metric in metrics) table.addValue(record.device, metric, bucket, record.site, metrics[metric], t);
      if (seq > table.maxSeq) table.maxSeq = seq;
    }
  };

  /** Folds newly stored records (each exactly once: the landing zone told us they are new). */
  const fold = (stored: { record: StoredRecord; seq: number }[]) => {
    for (const { record, seq } of stored) foldInto(GRANULARITY_NAMES, record, seq);
    if (stored.length) touched();
  };

  const flushTable = (g: Granularity): Promise<void> =>
    (flushing[g] ??= (async () => {
      const batch = pending[g];
      if (batch.size === 0 && batch.maxSeq <= watermark[g]) return;
      pending[g] = new PendingTable();
      inFlight[g] = batch;
      // One JSON document (json_to_recordset): a single parameter, no per-element array escaping.
      const doc: unknown[] = [];
      for (const [device, metric, bucket, d] of batch.entries()) doc.push({ v: device, m: metric, b: bucket, s: d.site, c: d.count, su: d.sum, mi: d.min, ma: d.max, f: d.first, fa: d.firstAt, l: d.last, la: d.lastAt });
      const seq = Math.max(batch.maxSeq, watermark[g]);
      try {
        // One statement: the merge and the watermark commit together or not at all.
        await db.query(
          `WITH merged AS (
             INSERT INTO ${TABLE[g]} AS r (device, metric, bucket, site, count, sum, min, max, first, first_at, last, last_at)
             SELECT u.v, u.m, to_timestamp(u.b / 1000.0), u.s, u.c, u.su, u.mi, u.ma, u.f, to_timestamp(u.fa / 1000.0), u.l, to_timestamp(u.la / 1000.0)
             FROM json_to_recordset($1::json) AS u(v text, m text, b float8, s text, c int, su float8, mi float8, ma float8, f float8, fa float8, l float8, la float8)
             ON CONFLICT (device, metric, bucket) DO UPDATE SET
               count = r.count + EXCLUDED.count,
               sum = r.sum + EXCLUDED.sum,
               min = LEAST(r.min, EXCLUDED.min),
               max = GREATEST(r.max, EXCLUDED.max),
               first = CASE WHEN EXCLUDED.first_at < r.first_at THEN EXCLUDED.first ELSE r.first END,
               first_at = LEAST(r.first_at, EXCLUDED.first_at),
               last = CASE WHEN EXCLUDED.last_at >= r.last_at THEN EXCLUDED.last ELSE r.last END,
               last_at = GREATEST(r.last_at, EXCLUDED.last_at)
             RETURNING 1)
           UPDATE "monitoring"."rollup_watermark" SET seq = GREATEST(seq, $2) WHERE granularity = $3`,
          [JSON.stringify(doc), seq, g],
        );
        watermark[g] = seq;
      } catch (error) {
        // Keep the deltas: they go out with the next flush (nothing is lost or doubled).
        batch.absorb(pending[g]);
        pending[g] = batch;
        onError(error as Error, g);
      }
    })().finally(() => {
      inFlight[g] = undefined;
      flushing[g] = undefined;
    }));

  const flush = async () => {
    for (const g of GRANULARITY_NAMES) await flushTable(g);
  };

  /** Refolds landing-zone rows above the stored watermarks (after a crash), then flushes. */
  const recover = async (chunk = 5000) => {
    const { rows } = await db.query<{ granularity: Granularity; seq: string }>(`SELECT granularity, seq FROM "monitoring"."rollup_watermark"`);
    for (const row of rows) watermark[row.granularity] = Number(row.seq);
    let after = Math.min(...GRANULARITY_NAMES.map((g) => watermark[g]));
    let refolded = 0;
    for (;;) {
      const batch = await samplesAfter(db, after, chunk);
      if (batch.length === 0) break;
      for (const { record, seq } of batch) {
        foldInto(GRANULARITY_NAMES.filter((g) => seq > watermark[g]), record, seq);
        after = seq;
      }
      refolded += batch.length;
      await flush();
    }
    return refolded;
  };

  const start = () => {
    for (const g of GRANULARITY_NAMES) {
      const timer = setInterval(() => void flushTable(g), intervals[g]);
      timer.unref();
      timers.push(timer);
    }
  };

  /** Points of one device's metrics from table `g` in [from, to), unflushed deltas included. */
  const read = async ({ g, device, metrics, from, to }: { g: Granularity; device: string; metrics: string[]; from: number; to: number }) => {
    const { rows } = await db.query<{ metric: string; t: number; count: number; sum: number; min: number; max: number; first: number; fa: number; last: number; la: number }>(
      `SELECT metric, (extract(epoch from bucket) * 1000)::float8 AS t, count, sum, min, max, first, (extract(epoch from first_at) * 1000)::float8 AS fa, last, (extract(epoch from last_at) * 1000)::float8 AS la
       FROM ${TABLE[g]} WHERE device = $1 AND metric = ANY($2::text[]) AND bucket >= to_timestamp($3 / 1000.0) AND bucket < to_timestamp($4 / 1000.0)`,
      [device, metrics, from, to],
    );
    const out = new Map<string, Map<number, Delta>>(metrics.map((m) => [m, new Map()]));
    for (const r of rows) out.get(r.metric)!.set(Math.round(r.t), { site: "", count: r.count, sum: r.sum, min: r.min, max: r.max, first: r.first, firstAt: r.fa, last: r.last, lastAt: r.la });
    for (const table of [pending[g], inFlight[g]]) {
      const byMetric = table?.devices.get(device);
      if (!byMetric) continue;
      for (const metric of metrics) {
        const points = out.get(metric)!;
        for (const [bucket, d] of byMetric.get(metric) ?? []) {
          if (bucket < from || bucket >= to) continue;
          const existing = points.get(bucket);
          if (existing) mergeInto(existing, d);
          else points.set(bucket, { ...d });
        }
      }
    }
    return out;
  };

  return {
    fold,
    flush,
    recover,
    start,
    read,
    pendingSize: () => GRANULARITY_NAMES.reduce((n, g) => n + pending[g].size, 0),
    watermarks: () => ({ ...watermark }),
    close: async () => {
      for (const t of timers) clearInterval(t);
      timers.length = 0;
      clearTimeout(idleTimer);
      await flush();
    },
  };
};
export type Rollups = ReturnType<typeof createRollups>;

/**
 * Picks the rollup for a chart: the finest table whose buckets in [from, to) are at most
 * 4 × width rows to read, then merges `k` buckets per point so there are at most `width`.
 */
export const pickGranularity = (from: number, to: number, width: number) => {
  const span = Math.max(1, to - from);
  const g = GRANULARITY_NAMES.find((name) => span / GRANULARITIES[name] <= width * 4) ?? "1d";
  const k = Math.max(1, Math.ceil(span / GRANULARITIES[g] / width));
  return { g, stepMs: GRANULARITIES[g] * k };
};

/** Merges buckets into points of `stepMs` (aligned to the epoch) and computes their averages. */
export const toPoints = (buckets: Map<number, Delta>, stepMs: number): SeriesPoint[] => {
  const merged = new Map<number, Delta>();
  for (const [t, d] of buckets) {
    const at = Math.floor(t / stepMs) * stepMs;
    const existing = merged.get(at);
    if (existing) mergeInto(existing, d);
    else merged.set(at, { ...d });
  }
  return [...merged.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([t, d]) => ({ t, count: d.count, avg: d.sum / d.count, min: d.min, max: d.max, first: d.first, last: d.last }));
};
