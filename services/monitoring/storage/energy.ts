import type { SqlRunner } from "../../../lib/db/migrate";
import { GRANULARITIES, type Granularity, type Period } from "../../../contracts/monitoring";
import { ENERGY_METRICS } from "../transform/derive-records";

/**
 * Energy totals per period for one site (Sundaya `energy` reads, eng_period `_mj` columns):
 * for every rollup bucket of every device of the site, energy = average power × bucket
 * length; summed per requested period, in MJ. Periods up to an hour read 1-minute buckets,
 * up to a week hourly ones, longer periods daily ones.
 */
export const ENERGY_SELECTORS: Record<string, (keyof typeof ENERGY_METRICS)[]> = {
  hsy: ["harvest", "store.in", "store.out", "yield", "sell", "buy"],
  harvest: ["harvest"],
  store: ["store.in", "store.out"],
  yield: ["yield"],
  buy: ["sell", "buy"],
};

const tableFor = (period: Period): Granularity => (["instant", "second", "minute", "qtrhour", "hour"].includes(period) ? "1m" : ["timeofday", "day", "week"].includes(period) ? "1h" : "1d");

export const energyTotals = async (db: SqlRunner, { site, energy, period, starts, to }: { site: string; energy: string; period: Period; starts: number[]; to: number }) => {
  const flows = ENERGY_SELECTORS[energy];
  const g = tableFor(period);
  const metrics = flows.map((f) => ENERGY_METRICS[f]);
  const { rows } = await db.query<{ metric: string; t: number; sum: number; count: number }>(
    `SELECT metric, (extract(epoch from bucket) * 1000)::float8 AS t, sum, count FROM "monitoring"."rollup_${g}"
     WHERE site = $1 AND metric = ANY($2::text[]) AND bucket >= to_timestamp($3 / 1000.0) AND bucket < to_timestamp($4 / 1000.0)`,
    [site, metrics, starts[0] ?? to, to],
  );
  const seconds = GRANULARITIES[g] / 1000;
  const totals = starts.map(() => Object.fromEntries(flows.map((f) => [f, 0])) as Record<string, number>);
  const flowOf = new Map(flows.map((f) => [ENERGY_METRICS[f] as string, f]));
  for (const r of rows) {
    // The period a bucket falls in: the last start at or before it.
    let i = starts.length - 1;
    while (i > 0 && starts[i] > r.t) i -= 1;
    totals[i][flowOf.get(r.metric)!] += ((r.sum / r.count) * seconds) / 1e6;
  }
  return totals.map((t) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Math.round(v * 1000) / 1000])));
};
