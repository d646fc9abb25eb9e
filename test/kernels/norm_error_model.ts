/**
 * The error model of the float32 BatchNorm/LayerNorm kernels against the float64 reference, and the helpers the
 * normalisation kernel tests share (float32 copies, NHWC transposes, ulp).
 *
 * Both sides see the same float32 inputs. Write u32 = 2⁻²⁴, u64 = 2⁻⁵³, γ_k = k·u64/(1 - k·u64), M the number
 * of values per group (channel or row), σ = sqrt(var + eps) = 1/rstd.
 *
 * Statistics. The reference sums x plainly: its mean errs by δm_ref ≤ γ_M·mean|x|, which at an offset of 1e6
 * is far larger than the kernel's (the kernel sums x - K, K the group's first value). Its variance is a sum of
 * squares about that mean: δv_ref ≤ γ_{M+2}·v + δm². The kernel's: δm_k ≤ 2u64·|mean| + γ_M·mean|x - K|, and
 * δv_k ≤ 2⁻³⁰·v (the one-pass check) or γ_{M+2}·v (two-pass). Together, relative to the normalised scale,
 *   ρ = rstd·δm + δrstd/rstd,    rstd·δm ≤ rstd·2γ_{M+2}·mean|x|,
 *   δrstd/rstd ≤ ½·(2⁻³⁰ + 3γ_{M+2}) + ½(rstd·δm)² + 2u64
 * and a normalised value moves by |δx̂_i| ≤ ρ·(1 + |x̂_i|).
 *
 * Forward, y = w·x̂ + b: the kernel rounds a float64 value once to float32 (at most ½ ulp32(y), and the ulp of a
 * neighbouring binade is at most twice as large, hence 1 ulp32(ref)); both sides carry the statistics error
 * |w|·ρ·(1 + |x̂|) and a few float64 roundings of the terms, 4u64·(|w x̂| + |b|) — the absolute part, which
 * matters only where w·x̂ and b cancel and y is near 0 (conditioning |w x̂| + |b| over |y|):
 *   |y_k - y_ref| ≤ ulp32(y_ref) + |w|·ρ·(1 + |x̂|) + 4u64·(|w x̂| + |b|)
 *
 * Backward, dx_i = w·rstd·(dy_i - mean(dy) - x̂_i·mean(dy·x̂)): the three terms cancel (Σ dx = 0), so the bound
 * is in their magnitudes, not in |dx|. The sums err by γ_M times the sums of magnitudes, the x̂ by ρ(1 + |x̂|),
 * so with A = mean|dy|, B = mean|dy·x̂|, X = max|x̂|,
 *   |dx_k - dx_ref| ≤ u32·|dx_ref| + 4·(γ_{M+4} + ρ)·|w|·rstd·(|dy_i| + (1 + |x̂_i|)·(B + A·(1 + X))) + 2⁻¹⁴⁹
 * dweight = Σ dy·x̂, dbias = Σ dy: u32·|ref| + 4·(γ_{M+2} + ρ)·Σ|dy|·(1 + |x̂|) + 2⁻¹⁴⁹.
 * The factor 4 over the first-order terms covers the second-order products of the same small quantities.
 */

export { compareWithBound, type Mismatch } from './gemm_error_model.js';

export const U32 = 2 ** -24;
export const U64 = 2 ** -53;

export function gamma(k: number): number {
  return (k * U64) / (1 - k * U64);
}

/** The spacing of float32 numbers at |v|: 2^(e - 23) for 2^e ≤ |v| < 2^(e+1), 2⁻¹⁴⁹ in the subnormal range. */
export function ulp32(v: number): number {
  const a = Math.abs(v);
  if (a < 2 ** -126) return 2 ** -149;
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e -= 1; // log2 rounding near powers of two
  if (2 ** (e + 1) <= a) e += 1;
  return 2 ** (e - 23);
}

/** Error in ulps of float32 at the reference value. */
export function ulpError(got: number, want: number): number {
  return Math.abs(got - want) / ulp32(want);
}

/** Per-group statistics terms of the model: ρ from the group's M, rstd and mean|x|. */
export function statisticsRho(M: number, rstd: number, meanAbsX: number): number {
  const rdm = rstd * 2 * gamma(M + 2) * meanAbsX;
  return rdm + 0.5 * (2 ** -30 + 3 * gamma(M + 2)) + 0.5 * rdm * rdm + 2 * U64;
}

export function forwardBound(ref: number, w: number, xhat: number, b: number, rho: number): number {
  return ulp32(ref) + Math.abs(w) * rho * (1 + Math.abs(xhat)) + 4 * U64 * (Math.abs(w * xhat) + Math.abs(b));
}

/** Group-wide magnitudes the backward bound needs. */
export interface BackwardTerms {
  M: number;
  rho: number;
  /** |w|·rstd */
  wr: number;
  /** mean|dy| */
  A: number;
  /** mean|dy·x̂| */
  B: number;
  /** max|x̂| */
  X: number;
}

export function dxBound(ref: number, dy: number, xhat: number, t: BackwardTerms): number {
  const terms = Math.abs(dy) + (1 + Math.abs(xhat)) * (t.B + t.A * (1 + t.X));
  return U32 * Math.abs(ref) + 4 * (gamma(t.M + 4) + t.rho) * t.wr * terms + 2 ** -149;
}

/** For Σ dy·x̂ and Σ dy over a group: `absSum` = Σ|dy|·(1 + |x̂|). */
export function sumBound(ref: number, M: number, rho: number, absSum: number): number {
  return U32 * Math.abs(ref) + 4 * (gamma(M + 2) + rho) * absSum + 2 ** -149;
}

// ---------------------------------------------------------------------------------------------------------
// Layout helpers

/** NCHW (N, C, S) → NHWC (N, S, C). */
export function toNhwc(a: ArrayLike<number>, N: number, C: number, S: number): Float32Array {
  const out = new Float32Array(N * C * S);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let s = 0; s < S; s++) out[(n * S + s) * C + c] = a[(n * C + c) * S + s]!;
  return out;
}

/** NHWC (N, S, C) → NCHW (N, C, S). */
export function toNchw(a: ArrayLike<number>, N: number, C: number, S: number): Float32Array {
  const out = new Float32Array(N * C * S);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let s = 0; s < S; s++) out[(n * C + c) * S + s] = a[(n * S + s) * C + c]!;
  return out;
}

export function f32(a: ArrayLike<number> | null): Float32Array | null {
  return a === null ? null : Float32Array.from(a);
}
