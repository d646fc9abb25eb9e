/**
 * Inputs and bounds for the ONNX Runtime tests.
 *
 * Error model (until the suite's shared one lands): u = 2^-24, the unit roundoff of float32. A float32
 * two-pass normalisation over n values, compared with the float64 reference on the same float32 inputs:
 *   mean        |Δmean| ≤ γ_n · max|x|,                  γ_n = n·u / (1 - n·u)   (summation, Higham 4.3)
 *   variance    |Δvar| ≤ γ_{n+3}·var + Δmean² (the mean's error enters only squared: Σ(x - mean) = 0;
 *               the square matters only at large offsets, where Δmean²/var = (κ·γ_n)²)
 *   rstd        relative error ≤ γ_{n+3}/2 + 2u (+ Δmean²/(2·var)): square root halves it, then one division
 *   y           |Δy| ≤ |w| · (|Δmean|·rstd + |x̂|·(γ_{n+3}/2 + 3u)) + |b|·u + 4u·(|w·x̂| + |b|)
 * The last term covers ONNX Runtime's fused form y = x·(w·rstd) + (b - mean·w·rstd): each product and the
 * sum round once, on operands of size up to max|x|·|w|·rstd. So the bound, per element, is
 *   |w|·rstd·max|x|·(γ_n + 4u) + |w·x̂|·(γ_{n+3} + 4u) + |b|·5u
 * where rstd·max|x| is the conditioning κ: it is large exactly when the values sit far from zero relative to
 * their spread (a large offset), the case float32 cannot represent to more than κ·u.
 */

export const U = 2 ** -24;
export const gamma = (n: number): number => (n * U) / (1 - n * U);

/** mulberry32: a small seeded PRNG, so every input is reproducible from the seed in the test name. */
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

export interface Mismatch {
  count: number;
  worst: { index: number; got: number; want: number; err: number; bound: number } | null;
}

/**
 * Elementwise |got - want| ≤ bound(i). Skips nothing: NaN matches only NaN and ±Infinity only itself, and a
 * length difference is a mismatch. Returns the count and the worst element relative to its bound.
 */
export function mismatches(got: ArrayLike<number>, want: ArrayLike<number>, bound: (i: number) => number): Mismatch {
  if (got.length !== want.length) {
    return { count: Math.max(got.length, want.length), worst: { index: -1, got: got.length, want: want.length, err: Infinity, bound: 0 } };
  }
  let count = 0;
  let worst: Mismatch['worst'] = null;
  let worstRatio = -1;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    const b = bound(i);
    let ratio: number;
    if (!Number.isFinite(w) || !Number.isFinite(g)) ratio = Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w)) ? 0 : Infinity;
    else ratio = b > 0 ? Math.abs(g - w) / b : g === w ? 0 : Infinity;
    if (ratio > 1) count++;
    if (ratio > worstRatio) {
      worstRatio = ratio;
      worst = { index: i, got: g, want: w, err: Math.abs(g - w), bound: b };
    }
  }
  return { count, worst };
}

export function describeMismatch(what: string, m: Mismatch): string {
  const w = m.worst;
  return w ? `${what}: ${m.count} outside the bound; worst at [${w.index}] got ${w.got} want ${w.want} |err| ${w.err.toExponential(3)} bound ${w.bound.toExponential(3)}` : `${what}: empty`;
}
