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

/**
 * Element (n, c, s) sits at (n·C + c)·S + s in NCHW and at (n·S + s)·C + c in NHWC; `intoNhwc` copies it from the
 * first place to the second, otherwise from the second to the first.
 */
function relayout(a: Float32Array, N: number, C: number, S: number, intoNhwc: boolean): Float32Array {
  const out = new Float32Array(a.length);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let s = 0; s < S; s++) {
        const nchw = (n * C + c) * S + s;
        const nhwc = (n * S + s) * C + c;
        if (intoNhwc) out[nhwc] = a[nchw]!;
        else out[nchw] = a[nhwc]!;
      }
    }
  }
  return out;
}

/** NCHW (N, C, S) → NHWC (N, S, C). */
export function toNhwc(a: Float32Array, N: number, C: number, S: number): Float32Array {
  return relayout(a, N, C, S, true);
}

/** NHWC (N, S, C) → NCHW (N, C, S). */
export function toNchw(a: Float32Array, N: number, C: number, S: number): Float32Array {
  return relayout(a, N, C, S, false);
}
