/**
 * Seeded random numbers: the one PRNG behind gradcheck's directions, the test generators' values, the
 * benchmark inputs and the probes' data, so a seed means the same stream everywhere.
 *
 *   mulberry32   uniform on [0, 1) in steps of 2⁻³², 32 bits of state. Small and fast; not cryptographic,
 *                and not torch.manual_seed's stream.
 *   normal       Box-Muller (cosine branch) on two successive uniforms u1, u2:
 *                  z = sqrt(-2·ln(1 - u1))·cos(2π·u2)
 *                1 - u1 is in (0, 1], so the log is finite. u1 is drawn first: the order is part of every
 *                seeded sequence (tests and committed baselines depend on it).
 *
 * kernels/network/init.ts keeps its own mulberry32 on purpose: kernels/ never imports reference/.
 */

/** mulberry32: a 32-bit-state uniform generator on [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One standard normal from the uniform stream `next` (Box-Muller; takes two uniforms, u1 first). */
export function boxMuller(next: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
}

/** A seeded random source: uniform, uniform in a range, standard normal (Box-Muller), integers. */
export interface Rng {
  uniform(): number;
  /** Uniform in [lo, hi). */
  between(lo: number, hi: number): number;
  normal(): number;
  /** Integer in [0, n). */
  int(n: number): number;
}

export function seededRng(seed: number): Rng {
  const next = mulberry32(seed);
  return {
    uniform: next,
    between: (lo, hi) => lo + (hi - lo) * next(),
    normal: () => boxMuller(next),
    int: (n) => Math.floor(next() * n),
  };
}
