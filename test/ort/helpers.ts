/**
 * Seeded float32 inputs for the ONNX Runtime tests. Bounds come from conformance/error_model.ts; only the
 * few exact-value tests use u directly.
 */

/** float32 unit roundoff. */
export const U = 2 ** -24;

/** mulberry32: a small seeded PRNG, so every input is reproducible from the seed in the test's case table. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n float32 values offset + std·N(0,1) (Box-Muller), rounded to float32 so both sides see the same input. */
export function normalF32(n: number, seed: number, offset = 0, std = 1): Float32Array {
  const rand = prng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const g = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    out[i] = offset + std * g;
  }
  return out;
}

/** n float32 values uniform in [lo, hi). */
export function uniformF32(n: number, seed: number, lo: number, hi: number): Float32Array {
  const rand = prng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * rand());
}
