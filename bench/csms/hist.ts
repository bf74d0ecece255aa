/**
 * A small HDR-style latency histogram: log-spaced buckets with ~1 % relative precision
 * from 10 µs to ~20 min, plus exact count, sum and max. Buckets merge by addition, so
 * each load process ships its counts to the parent and the parent adds them up.
 */

const MIN_MS = 0.01;
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
const BUCKETS = Math.ceil(Math.log(1_200_000 / MIN_MS) / LOG_GROWTH) + 2;

export type HistogramData = { counts: Record<number, number>; count: number; sum: number; max: number; min: number };

export class Histogram {
  private counts = new Float64Array(BUCKETS);
  count = 0;
  sum = 0;
  max = 0;
  min = Number.POSITIVE_INFINITY;

  record(ms: number) {
    if (!Number.isFinite(ms)) return;
    const v = Math.max(ms, 0);
    const i = v <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.floor(Math.log(v / MIN_MS) / LOG_GROWTH) + 1);
    this.counts[i] += 1;
    this.count += 1;
    this.sum += v;
    if (v > this.max) this.max = v;
    if (v < this.min) this.min = v;
  }

  /** The value at quantile q (0..1): the upper edge of the bucket that holds it, capped at max. */
  quantile(q: number) {
    if (!this.count) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, i === 0 ? MIN_MS : MIN_MS * GROWTH ** i));
    }
    return this.max;
  }

  mean() {
    return this.count ? this.sum / this.count : Number.NaN;
  }

  toJSON(): HistogramData {
    const counts: Record<number, number> = {};
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i]) counts[i] = this.counts[i];
    return { counts, count: this.count, sum: this.sum, max: this.max, min: this.count ? this.min : 0 };
  }

  add(data: HistogramData) {
    for (const [k, n] of Object.entries(data.counts)) this.counts[Number(k)] += n;
    this.count += data.count;
    this.sum += data.sum;
    if (data.max > this.max) this.max = data.max;
    if (data.count && data.min < this.min) this.min = data.min;
  }
}
