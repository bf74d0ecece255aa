import type { SqlRunner } from "../../../lib/db/migrate";
import type { StoredRecord } from "../transform/derive-records";
import { insertSamplesAt, nextSampleSeq, uniqueRecords } from "./landing-zone";

/**
 * The landing-zone writer of one region: several batches in flight on a small pool of
 * connections, completed in order. Each batch is numbered when it is handed in (sequence
 * numbers `seq` are given out here, in ingest order, not by the database), so a batch that
 * commits early never holds numbers below one still in flight. `afterCommit` — rollup fold,
 * latest values, alarms — runs for the batches in the order they were handed in, once every
 * earlier batch has committed or failed: the rollup watermark (highest `seq` folded) only
 * ever covers a contiguous prefix of committed batches, so it never passes unstored data.
 * A failed batch leaves a gap in the numbers and is retried by its broker under new ones.
 * One process writes a store (the region store's advisory lock), so nobody else numbers rows.
 */
export type Inserted = { record: StoredRecord; seq: number }[];

export type SampleWriter = {
  /** Resolves with the new (non-duplicate) records once this batch and every earlier one is done and `afterCommit` ran. */
  write: (records: StoredRecord[], afterCommit: (inserted: Inserted, unique: StoredRecord[]) => void) => Promise<Inserted>;
  inFlight: () => number;
  /** The next sequence number to be given out. */
  nextSeq: () => number;
};

type Insert = (db: SqlRunner, rows: StoredRecord[], firstSeq: number) => Promise<Inserted>;

export const createSampleWriter = ({ connections, firstSeq, insert = insertSamplesAt }: { connections: SqlRunner[]; firstSeq: number; insert?: Insert }): SampleWriter => {
  if (connections.length === 0) throw new Error("the sample writer needs a connection");
  let next = firstSeq;
  let active = 0;
  const idle = [...connections];
  const waiting: ((db: SqlRunner) => void)[] = [];
  let tail: Promise<unknown> = Promise.resolve();

  const acquire = () => new Promise<SqlRunner>((resolve) => (idle.length ? resolve(idle.shift()!) : waiting.push(resolve)));
  const release = (db: SqlRunner) => {
    const w = waiting.shift();
    if (w) w(db);
    else idle.push(db);
  };

  const write: SampleWriter["write"] = (records, afterCommit) => {
    const rows = [...uniqueRecords(records).values()];
    const first = next;
    next += rows.length;
    active += 1;
    const committed = (async () => {
      if (rows.length === 0) return [];
      const db = await acquire();
      try {
        return await insert(db, rows, first);
      } finally {
        release(db);
      }
    })();
    const done = tail.then(() => committed).then((inserted) => {
      afterCommit(inserted, rows);
      return inserted;
    });
    const settled = done.then(
      () => (active -= 1),
      () => (active -= 1),
    );
    tail = settled;
    return done;
  };

  return { write, inFlight: () => active, nextSeq: () => next };
};

/** The writer of a region store, numbering on from what is stored. */
export const openSampleWriter = async (store: { write: SqlRunner; inserts: SqlRunner[] }) => createSampleWriter({ connections: store.inserts, firstSeq: await nextSampleSeq(store.write) });
