/**
 * Seeded pseudo-random numbers (mulberry32): a simulator run with the same seed and the same inputs draws the
 * same losses, jitters and corruptions, so a failing test or a benchmark figure can be reproduced.
 */

export type Random = () => number;

/** Returns a generator of floats in [0, 1) determined by `seed` (any integer). */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform integer in [0, n). */
export function randomInt(random: Random, n: number): number {
  return Math.floor(random() * n);
}

/** Uniform float in [lo, hi). */
export function randomBetween(random: Random, lo: number, hi: number): number {
  return lo + (hi - lo) * random();
}
