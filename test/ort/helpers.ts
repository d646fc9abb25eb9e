/**
 * Seeded float32 inputs for the ONNX Runtime tests. Bounds come from conformance/error_model.ts; only the
 * few exact-value tests use u directly.
 */
import { seededRng } from '../../reference/index.js';

/** float32 unit roundoff. */
export const U = 2 ** -24;

// Every input is reproducible from the seed in the test's case table (reference/random.ts: mulberry32 + Box-Muller).

/** n float32 values offset + std·N(0,1), rounded to float32 so both sides see the same input. */
export function normalF32(n: number, seed: number, offset = 0, std = 1): Float32Array {
  const rng = seededRng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = offset + std * rng.normal();
  return out;
}

/** n float32 values uniform in [lo, hi). */
export function uniformF32(n: number, seed: number, lo: number, hi: number): Float32Array {
  const rng = seededRng(seed);
  return Float32Array.from({ length: n }, () => rng.between(lo, hi));
}
