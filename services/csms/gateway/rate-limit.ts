export type RateLimit = {
  /** Sustained CALLs per second a station may send. */
  callsPerSecond: number;
  /** How many CALLs may arrive at once after a quiet period (a boot storm is bursty). */
  burst: number;
};

export const DEFAULT_RATE_LIMIT: RateLimit = { callsPerSecond: 20, burst: 40 };

/**
 * A token bucket per station. Lazy refill (computed on take) keeps it at two numbers per
 * station and no timers, which matters with tens of thousands of sockets.
 */
export const createTokenBucket = ({ callsPerSecond, burst }: RateLimit, now: () => number = Date.now) => {
  let tokens = burst;
  let last = now();
  return {
    take: () => {
      const t = now();
      tokens = Math.min(burst, tokens + ((t - last) / 1000) * callsPerSecond);
      last = t;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
  };
};
export type TokenBucket = ReturnType<typeof createTokenBucket>;
