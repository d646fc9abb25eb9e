/**
 * Seeded benchmark data: every implementation of a case sees the same float32 values.
 * mulberry32 (uniform) and Box-Muller (normal) from reference/random.ts; seeds are fixed per case so runs
 * are comparable.
 */
import { seededRng } from '../../reference/index.js';

/** n values offset + spread·z, z ~ N(0, 1), rounded to float32. */
export function normalF32(seed: number, n: number, offset = 0, spread = 1): Float32Array {
  const rng = seededRng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = offset + spread * rng.normal();
  return out;
}

/** n values uniform in [lo, hi), rounded to float32. */
export function uniformF32(seed: number, n: number, lo: number, hi: number): Float32Array {
  const rng = seededRng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.between(lo, hi);
  return out;
}

/** NCHW (N, C, S) → NHWC (N, S, C). */
export function toNhwc(a: Float32Array, N: number, C: number, S: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const src = (n * C + c) * S;
      for (let s = 0; s < S; s++) out[(n * S + s) * C + c] = a[src + s]!;
    }
  }
  return out;
}

/** NHWC (N, S, C) → NCHW (N, C, S). */
export function toNchw(a: Float32Array, N: number, C: number, S: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const dst = (n * C + c) * S;
      for (let s = 0; s < S; s++) out[dst + s] = a[(n * S + s) * C + c]!;
    }
  }
  return out;
}
