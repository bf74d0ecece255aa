/**
 * A small seeded PRNG (mulberry32) so a fleet started with the same seed behaves the same:
 * reproducible demos and bug reports. Not for anything security-related.
 */
export const createRng = (seed: number) => {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    /** Uniform in [min, max). */
    between: (min: number, max: number) => min + next() * (max - min),
    /** Integer in [min, max]. */
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)],
    /**
     * True with the probability that an event with mean interval `meanS` happens within
     * `dtS` (a Poisson process), so behaviour does not depend on the tick length.
     */
    happens: (dtS: number, meanS: number) => next() < 1 - Math.exp(-dtS / meanS),
  };
};
export type Rng = ReturnType<typeof createRng>;

/** Derives a well-spread seed for the i-th member of a seeded group. */
export const deriveSeed = (seed: number, i: number) => (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(i + 1, 0xc2b2ae35)) >>> 0;
