/**
 * A token bucket per sender (lazy refill: two numbers, no timers), taking any number of
 * tokens at once — a request costs one, a batch costs its records.
 */
export const createBucket = ({ perSecond, burst }: { perSecond: number; burst: number }, now: () => number = Date.now) => {
  let tokens = burst;
  let last = now();
  return {
    /** A cost above the burst needs a full bucket (and empties it), so a big batch is slow, never impossible. */
    take: (cost = 1) => {
      const n = Math.min(cost, burst);
      const t = now();
      tokens = Math.min(burst, tokens + ((t - last) / 1000) * perSecond);
      last = t;
      if (tokens < n) return false;
      tokens -= n;
      return true;
    },
    /** Seconds until `n` tokens are there (for Retry-After). */
    waitFor: (cost = 1) => Math.max(1, Math.ceil((Math.min(cost, burst) - tokens) / perSecond)),
  };
};
export type Bucket = ReturnType<typeof createBucket>;
