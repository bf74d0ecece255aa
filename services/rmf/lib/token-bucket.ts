/**
 * A token bucket: `ratePerSec` sustained, `burst` at once. Checked before any parsing, so
 * a flooding peer costs a comparison per message, not a JSON parse and a validation.
 */
export const createTokenBucket = ({ ratePerSec, burst, now = () => performance.now() }: { ratePerSec: number; burst: number; now?: () => number }) => {
  let tokens = burst;
  let last = now();
  return {
    take: (n = 1) => {
      const t = now();
      tokens = Math.min(burst, tokens + ((t - last) / 1000) * ratePerSec);
      last = t;
      if (tokens < n) return false;
      tokens -= n;
      return true;
    },
  };
};
export type TokenBucket = ReturnType<typeof createTokenBucket>;
