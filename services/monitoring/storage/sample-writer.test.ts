import type { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SqlRunner } from "../../../lib/db/migrate";
import type { StoredRecord } from "../transform/derive-records";
import { eventually, migratedPGlite, mpptRecords } from "../testkit";
import { insertSamplesAt, nextSampleSeq } from "./landing-zone";
import { createRollups } from "./rollups";
import { createSampleWriter, type Inserted } from "./sample-writer";

let db: PGlite;
beforeAll(async () => {
  db = await migratedPGlite();
});
afterAll(async () => db.close());

const T = Date.UTC(2026, 10, 30, 10, 0, 0);
const records = (n: number, from: number, device: string) => mpptRecords(T, n, from, device);

const stored = async (device: string) => {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "monitoring"."sample" WHERE device = $1`, [device]);
  return rows[0].n;
};

/** An insert the test releases by hand, so batches can commit out of order. */
const gatedInsert = () => {
  const gates: { release: () => void; fail: (e: Error) => void; firstSeq: number }[] = [];
  const insert = (conn: SqlRunner, rows: StoredRecord[], firstSeq: number) =>
    new Promise<Inserted>((resolve, reject) => {
      gates.push({ firstSeq, release: () => void insertSamplesAt(conn, rows, firstSeq).then(resolve, reject), fail: reject });
    });
  return { gates, insert };
};

describe("sample writer", () => {
  it("numbers batches in the order handed in and applies them in that order, whatever order they commit in", async () => {
    const { gates, insert } = gatedInsert();
    const writer = createSampleWriter({ connections: [db, db, db], firstSeq: await nextSampleSeq(db), insert });
    const rollups = createRollups({ db });
    const applied: string[] = [];
    const watermarks: number[] = [];
    const write = (name: string, rs: StoredRecord[]) =>
      writer.write(rs, (inserted) => {
        applied.push(name);
        rollups.fold(inserted);
        watermarks.push(Math.max(...inserted.map((i) => i.seq)));
      });
    const a = write("a", records(3, 0, "W1"));
    const b = write("b", records(3, 3, "W1"));
    const c = write("c", records(3, 6, "W1"));
    await new Promise((r) => setTimeout(r, 0));
    expect(gates.map((g) => g.firstSeq)).toEqual([gates[0].firstSeq, gates[0].firstSeq + 3, gates[0].firstSeq + 6]);
    // c and b commit first: nothing of them is applied (folded) before a is done.
    gates[2].release();
    gates[1].release();
    await eventually(async () => expect(await stored("W1")).toBe(6));
    expect(applied).toEqual([]);
    gates[0].release();
    await Promise.all([a, b, c]);
    expect(applied).toEqual(["a", "b", "c"]);
    // The folded watermark only ever grew over a contiguous prefix of committed batches.
    expect(watermarks).toEqual([...watermarks].sort((x, y) => x - y));
    await rollups.flush();
    const { rows } = await db.query<{ n: number }>(`SELECT sum(count)::int AS n FROM "monitoring"."rollup_1m" WHERE device = 'W1' AND metric = 'pv.1.amps'`);
    expect(rows[0].n).toBe(9);
    expect(writer.inFlight()).toBe(0);
  });

  it("lets a failed batch leave a gap: later batches still apply, nothing of the failed one is stored", async () => {
    const { gates, insert } = gatedInsert();
    const writer = createSampleWriter({ connections: [db, db], firstSeq: await nextSampleSeq(db), insert });
    const applied: number[] = [];
    const a = writer.write(records(2, 0, "W2"), (inserted) => applied.push(inserted.length));
    const b = writer.write(records(2, 2, "W2"), (inserted) => applied.push(inserted.length));
    await new Promise((r) => setTimeout(r, 0));
    gates[1].release();
    gates[0].fail(new Error("connection lost"));
    await expect(a).rejects.toThrow("connection lost");
    await b;
    expect(applied).toEqual([2]);
    expect(await stored("W2")).toBe(2);
    // The broker redelivers the failed batch; it is numbered anew, above everything before it.
    const again = writer.write(records(2, 0, "W2"), () => {});
    await new Promise((r) => setTimeout(r, 0));
    expect(gates[2].firstSeq).toBe(gates[1].firstSeq + 2);
    gates[2].release();
    expect((await again).length).toBe(2);
    expect(await stored("W2")).toBe(4);
  });

  it("stores duplicates once, within a batch and across batches, and reports only the new records", async () => {
    const writer = createSampleWriter({ connections: [db], firstSeq: await nextSampleSeq(db) });
    const batch = records(4, 0, "W3");
    const first = await writer.write([...batch, ...batch.slice(0, 2)], () => {});
    expect(first.map((i) => i.record.timeEvent)).toEqual(batch.map((r) => r.timeEvent));
    const second = await writer.write([...records(2, 3, "W3")], () => {});
    expect(second.map((i) => i.record.timeEvent)).toEqual([T + 4 * 10_000]);
    expect(await stored("W3")).toBe(5);
    const { rows } = await db.query<{ seq: string }>(`SELECT seq FROM "monitoring"."sample" WHERE device = 'W3' ORDER BY seq`);
    expect(rows.map((r) => Number(r.seq))).toEqual([...first, ...second].map((i) => i.seq));
  });

  it("numbers on above every stored row after a restart", async () => {
    const writer = createSampleWriter({ connections: [db], firstSeq: await nextSampleSeq(db) });
    await writer.write(records(3, 0, "W4"), () => {});
    const { rows } = await db.query<{ max: string }>(`SELECT max(seq) AS max FROM "monitoring"."sample"`);
    expect(await nextSampleSeq(db)).toBe(Number(rows[0].max) + 1);
    expect(writer.nextSeq()).toBe(Number(rows[0].max) + 1);
  });
});
