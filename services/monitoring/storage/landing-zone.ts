import type { SqlRunner } from "../../../lib/db/migrate";
import { recordKey, type RecordDataset, type StoredRecord } from "../transform/derive-records";

/**
 * The landing zone: raw records, one row each, kept ~6 weeks. Inserts are one multi-row
 * statement per batch (one JSON document, so the statement has one parameter whatever the
 * batch size); duplicates of the idempotency key are skipped by the database and reported
 * back, so only new records reach rollups, latest values and alarms.
 */

const iso = (ms: number) => new Date(ms).toISOString();

/** The same key twice in one statement would be a duplicate of itself; keeps the first. */
export const uniqueRecords = (records: StoredRecord[]) => {
  const unique = new Map<string, StoredRecord>();
  for (const r of records) {
    const key = recordKey(r);
    if (!unique.has(key)) unique.set(key, r);
  }
  return unique;
};

/** Inserts the batch numbered on from what is stored (one-off writers and tests; the service uses sample-writer.ts). */
export const insertSamples = async (db: SqlRunner, records: StoredRecord[]) => insertSamplesAt(db, [...uniqueRecords(records).values()], await nextSampleSeq(db));

/**
 * Inserts distinct records with the sequence numbers `firstSeq`, `firstSeq + 1`, … in input
 * order (handed out by the one writer, so batches in flight on several connections still
 * number in ingest order); duplicates are skipped and leave a gap. Returns the new ones.
 * The batch travels as one JSON document (`json_to_recordset`): one parameter, serialised by
 * JSON.stringify alone instead of nine text arrays escaped element by element.
 */
export const insertSamplesAt = async (db: SqlRunner, rows: StoredRecord[], firstSeq: number): Promise<{ record: StoredRecord; seq: number }[]> => {
  if (rows.length === 0) return [];
  const doc = rows.map((r, i) => ({
    q: firstSeq + i,
    d: r.dataset,
    v: r.device,
    p: r.part,
    t: iso(r.timeEvent),
    s: r.site,
    n: r.sender,
    z: r.timeZone,
    tp: iso(r.timeProcessing),
    r: r.record,
  }));
  const { rows: inserted } = await db.query<{ seq: string }>(
    `INSERT INTO "monitoring"."sample" (seq, dataset, device, part, time_event, site, sender, time_zone, time_processing, record)
     SELECT u.q, u.d, u.v, u.p, u.t, u.s, u.n, u.z, u.tp, u.r
     FROM json_to_recordset($1::json) AS u(q bigint, d text, v text, p text, t timestamptz, s text, n text, z text, tp timestamptz, r json)
     ON CONFLICT DO NOTHING
     RETURNING seq`,
    [JSON.stringify(doc)],
  );
  if (inserted.length === rows.length) return rows.map((record, i) => ({ record, seq: firstSeq + i }));
  return inserted
    .map((row) => Number(row.seq))
    .sort((a, b) => a - b)
    .map((seq) => ({ record: rows[seq - firstSeq], seq }));
};

/**
 * The next free landing-zone sequence number: above the sequence's last value and above every
 * stored row (rows numbered by a writer are above the highest rollup watermark or at most at it).
 */
export const nextSampleSeq = async (db: SqlRunner) => {
  const { rows } = await db.query<{ seq: string }>(
    `SELECT GREATEST(
       COALESCE(pg_sequence_last_value(pg_get_serial_sequence('"monitoring"."sample"', 'seq')::regclass), 0),
       (SELECT COALESCE(max(seq), 0) FROM "monitoring"."rollup_watermark"),
       (SELECT COALESCE(max(seq), 0) FROM "monitoring"."sample" WHERE seq > (SELECT COALESCE(max(seq), 0) FROM "monitoring"."rollup_watermark"))
     ) + 1 AS seq`,
  );
  return Number(rows[0]?.seq ?? 1);
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
