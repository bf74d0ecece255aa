import type { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migratedPGlite, mpptRecords } from "../testkit";
import { insertSamples } from "./landing-zone";
import { createRollups, pickGranularity, toPoints } from "./rollups";

let db: PGlite;
beforeAll(async () => {
  db = await migratedPGlite();
});
afterAll(async () => db.close());

const T = Date.UTC(2026, 10, 30, 10, 0, 0);
const records = (n: number, from = 0, device = "M1") => mpptRecords(T, n, from, device);

const counts = async (table: string) => {
  const { rows } = await db.query<{ n: number }>(`SELECT coalesce(sum(count), 0)::int AS n FROM "monitoring"."${table}" WHERE metric = 'pv.1.amps' AND device = 'M0'`);
  return rows[0].n;
};

describe("rollups", () => {
  it("refold the landing zone above each watermark after a crash: nothing missed, nothing doubled", async () => {
    const first = createRollups({ db });
    first.fold(await insertSamples(db, records(30, 0, "M0")));
    await first.flush();
    // Stored and folded but never flushed: the process dies with these deltas in memory.
    first.fold(await insertSamples(db, records(20, 30, "M0")));
    const after = createRollups({ db });
    const refolded = await after.recover();
    expect(refolded).toBe(20);
    expect(await counts("rollup_1m")).toBe(50);
    expect(await counts("rollup_1h")).toBe(50);
    expect(await counts("rollup_1d")).toBe(50);
    // Recovering again finds nothing new.
    expect(await createRollups({ db }).recover()).toBe(0);
    expect(await counts("rollup_1m")).toBe(50);
  });

  it("merge late samples into closed buckets with first/last by time", async () => {
    const r = createRollups({ db });
    r.fold(await insertSamples(db, records(6, 1)));
    await r.flush();
    r.fold(await insertSamples(db, records(1, 0)));
    await r.flush();
    const points = toPoints((await r.read({ g: "1m", device: "M1", metrics: ["pv.1.amps"], from: T, to: T + 60_000 })).get("pv.1.amps")!, 60_000);
    expect(points).toEqual([{ t: T, count: 6, avg: 2.5, min: 0, max: 5, first: 0, last: 5 }]);
  });

  it("pick the finest table that fits the width", () => {
    expect(pickGranularity(0, 3_600_000, 800)).toEqual({ g: "1m", stepMs: 60_000 });
    expect(pickGranularity(0, 86_400_000, 800)).toEqual({ g: "1m", stepMs: 120_000 });
    expect(pickGranularity(0, 30 * 86_400_000, 800)).toEqual({ g: "1h", stepMs: 3_600_000 });
    expect(pickGranularity(0, 3650 * 86_400_000, 800)).toEqual({ g: "1d", stepMs: 5 * 86_400_000 });
  });
});
