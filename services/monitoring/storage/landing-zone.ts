import type { SqlRunner } from "../../../lib/db/migrate";
import { recordKey, type RecordDataset, type StoredRecord } from "../transform/derive-records";

/**
 * The landing zone: raw records, one row each, kept ~6 weeks. Inserts are one multi-row
 * statement per batch (unnest arrays, so the statement has nine parameters whatever the
 * batch size); duplicates of the idempotency key are skipped by the database and reported
 * back, so only new records reach rollups, latest values and alarms.
 */

const iso = (ms: number) => new Date(ms).toISOString();

/** Inserts the batch; returns the new records with their ingest sequence numbers. */
export const insertSamples = async (db: SqlRunner, records: StoredRecord[]): Promise<{ record: StoredRecord; seq: number }[]> => {
  if (records.length === 0) return [];
  // The same key twice in one statement would be a duplicate of itself; keep the first.
  const unique = new Map<string, StoredRecord>();
  for (const r of records) if (!unique.has(recordKey(r))) unique.set(recordKey(r), r);
  const rows = [...unique.values()];
  const { rows: inserted } = await db.query<{ seq: string; dataset: string; device: string; part: string; t: number }>(
    `INSERT INTO "monitoring"."sample" (dataset, device, part, time_event, site, sender, time_zone, time_processing, record)
     SELECT u.dataset, u.device, u.part, u.time_event::timestamptz, u.site, u.sender, u.time_zone, u.time_processing::timestamptz, u.record::json
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
       AS u(dataset, device, part, time_event, site, sender, time_zone, time_processing, record)
     ON CONFLICT DO NOTHING
     RETURNING seq, dataset, device, part, (extract(epoch from time_event) * 1000)::float8 AS t`,
    [
      rows.map((r) => r.dataset),
      rows.map((r) => r.device),
      rows.map((r) => r.part),
      rows.map((r) => iso(r.timeEvent)),
      rows.map((r) => r.site),
      rows.map((r) => r.sender),
      rows.map((r) => r.timeZone),
      rows.map((r) => iso(r.timeProcessing)),
      rows.map((r) => JSON.stringify(r.record)),
    ],
  );
  // Usually nothing was a duplicate: every input row is new, whatever order RETURNING used.
  if (inserted.length === rows.length) {
    const seqs = inserted.map((row) => Number(row.seq)).sort((a, b) => a - b);
    return rows.map((record, i) => ({ record, seq: seqs[i] }));
  }
  return inserted
    .map((row) => ({ record: unique.get(recordKey({ dataset: row.dataset, device: row.device, part: row.part, timeEvent: Math.round(row.t) }))!, seq: Number(row.seq) }))
    .filter((x) => x.record !== undefined);
};

type SampleRow = { seq: string; dataset: string; device: string; part: string; t: number; site: string; sender: string; time_zone: string; tp: number; record: unknown };

const toStored = (row: SampleRow): { record: StoredRecord; seq: number } => ({
  seq: Number(row.seq),
  record: {
    dataset: row.dataset as RecordDataset,
    device: row.device,
    part: row.part,
    timeEvent: Math.round(row.t),
    site: row.site,
    sender: row.sender,
    timeZone: row.time_zone,
    timeProcessing: Math.round(row.tp),
    // pg returns json parsed; PGlite too. Text only if a driver ever hands it back raw.
    record: (typeof row.record === "string" ? JSON.parse(row.record) : row.record) as StoredRecord["record"],
  },
});

const COLUMNS = `seq, dataset, device, part, (extract(epoch from time_event) * 1000)::float8 AS t, site, sender, time_zone, (extract(epoch from time_processing) * 1000)::float8 AS tp, record`;

/** Rows after `afterSeq` in ingest order (rollup recovery). */
export const samplesAfter = async (db: SqlRunner, afterSeq: number, limit: number) => {
  const { rows } = await db.query<SampleRow>(`SELECT ${COLUMNS} FROM "monitoring"."sample" WHERE seq > $1 ORDER BY seq LIMIT $2`, [afterSeq, limit]);
  return rows.map(toStored);
};

/** One device's records in [from, to), oldest first, keyset-paged by (time_event, part). */
export const readDeviceSamples = async (
  db: SqlRunner,
  { dataset, device, from, to, limit, after }: { dataset: string; device: string; from: number; to: number; limit: number; after?: { t: number; part: string } },
) => {
  const params: unknown[] = [dataset, device, iso(from), iso(to), limit + 1];
  let cursor = "";
  if (after) {
    params.push(iso(after.t), after.part);
    cursor = `AND (time_event, part) > ($6::timestamptz, $7)`;
  }
  const { rows } = await db.query<SampleRow>(
    `SELECT ${COLUMNS} FROM "monitoring"."sample"
     WHERE dataset = $1 AND device = $2 AND time_event >= $3::timestamptz AND time_event < $4::timestamptz ${cursor}
     ORDER BY time_event, part LIMIT $5`,
    params,
  );
  const more = rows.length > limit;
  const page = rows.slice(0, limit).map((r) => toStored(r).record);
  const last = page.at(-1);
  return { items: page, next: more && last ? { t: last.timeEvent, part: last.part } : undefined };
};

/** Drops landing-zone rows older than the retention, a chunk at a time so no lock is held long. */
export const pruneSamples = async (db: SqlRunner, olderThan: number, chunk = 10_000) => {
  let total = 0;
  for (;;) {
    const { rows } = await db.query<{ n: string }>(
      `WITH gone AS (DELETE FROM "monitoring"."sample" WHERE ctid IN (SELECT ctid FROM "monitoring"."sample" WHERE time_event < $1::timestamptz LIMIT $2) RETURNING 1) SELECT count(*) AS n FROM gone`,
      [iso(olderThan), chunk],
    );
    const n = Number(rows[0]?.n ?? 0);
    total += n;
    if (n < chunk) return total;
  }
};
