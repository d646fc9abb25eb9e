/**
 * The error models of the float32 GroupNorm, InstanceNorm and RMSNorm kernels against the float64 reference, on
 * top of norm_error_model.ts (whose derivation they reuse), and the groupings the tests apply them with.
 *
 * A grouping says, for element i of an NCHW (or (R, D)) array, which statistics group it belongs to and which
 * parameter (weight/bias index) it takes:
 *   GroupNorm    group (n, g) = floor(i / D), D = (C/G)·S;   parameter c = floor(i / S) mod C
 *   InstanceNorm group (n, c) = floor(i / S);                 parameter c
 *   RMSNorm      group row r = floor(i / D);                  parameter i mod D
 *
 * GroupNorm and InstanceNorm with the input's statistics are BatchNorm's model with M = values per group and a
 * per-element weight (norm_error_model.ts):
 *   y:   ulp32(ref) + |w|·ρ·(1 + |x̂|) + 4u64·(|w x̂| + |b|),   ρ = statisticsRho(M, rstd, mean|x| of the group)
 *   dx:  dxBound with g = dy·w in place of w·dy (wr = rstd, A = mean|g|, B = mean|g·x̂|, X = max|x̂| per group)
 *   dweight, dbias: sums over the n·s elements of a channel, u32·|ref| + 4·(γ_{count+2} + max ρ)·Σ|dy|·(1 + |x̂|)
 * InstanceNorm with given statistics (eval): mean and rstd = 1/sqrt(running_var + eps) are the same float64
 * numbers on both sides up to 2u64 in rstd, and y = w·x̂ + b takes a few roundings of its terms on each side:
 *   y:   ulp32(ref) + 8u64·(|w x̂| + |b|)           dx = w·rstd·dy:  u32·|ref| + 8u64·|w·rstd·dy| + 2⁻¹⁴⁹
 *
 * RMSNorm (the derivation is in kernels/rmsnorm/forward_impl.ts). Nothing cancels in the forward: each side's y
 * before rounding errs by at most ε(D)·|y| relative, ε(D) = ½·γ_{D+1} + 4u64, and the kernel rounds once to
 * float32, |y_k - ŷ_k| ≤ ½·ulp32(y_k) (round to nearest: ulp32 of the rounded value is never smaller). So
 *   |y_k - y_ref| ≤ ½·ulp32(y_k) + 2·ε(D)·|y_ref|·(1 + 2⁻²⁰)      (the factor covers second-order products)
 * which is "correctly rounded but for results within 2ε of a rounding boundary" and implies ≤ 1 ulp. rstd:
 * 2·ε(D)·rstd. The backward's two terms rstd·g and x·k1 cancel where g ∝ x̂, so its bound is in their
 * magnitudes: dxBound with A = 0 (there is no mean(g) term) and ρ = 3·ε(D) (rstd enters k1 cubed).
 */
import { dxBound, forwardBound, gamma, statisticsRho, U32, U64, ulp32, type BackwardTerms } from './norm_error_model.js';

export interface Grouping {
  /** number of statistics groups */
  groups: number;
  /** values per group */
  M: number;
  group(i: number): number;
  param(i: number): number;
}

export function groupNormGrouping(N: number, C: number, G: number, S: number): Grouping {
  const D = (C / G) * S;
  return { groups: N * G, M: D, group: (i) => Math.floor(i / D), param: (i) => Math.floor(i / S) % C };
}

export function instanceNormGrouping(N: number, C: number, S: number): Grouping {
  return { groups: N * C, M: S, group: (i) => Math.floor(i / S), param: (i) => Math.floor(i / S) % C };
}

export function rowGrouping(R: number, D: number): Grouping {
  return { groups: R, M: D, group: (i) => Math.floor(i / D), param: (i) => i % D };
}

/** ρ per group and x̂ per element, from the reference's statistics. */
export function forwardTerms(x: ArrayLike<number>, k: Grouping, mean: ArrayLike<number>, rstd: ArrayLike<number>): { rho: Float64Array; xhat: Float64Array } {
  const meanAbs = new Float64Array(k.groups);
  const xhat = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const g = k.group(i);
    meanAbs[g] = meanAbs[g]! + Math.abs(x[i]!) / k.M;
    xhat[i] = (x[i]! - mean[g]!) * rstd[g]!;
  }
  const rho = new Float64Array(k.groups);
  for (let g = 0; g < k.groups; g++) rho[g] = statisticsRho(k.M, rstd[g]!, meanAbs[g]!);
  return { rho, xhat };
}

/** The forward bound of element i (input statistics). */
export function yBound(i: number, ref: number, k: Grouping, t: { rho: Float64Array; xhat: Float64Array }, weight: ArrayLike<number> | null, bias: ArrayLike<number> | null): number {
  const p = k.param(i);
  return forwardBound(ref, weight ? weight[p]! : 1, t.xhat[i]!, bias ? bias[p]! : 0, t.rho[k.group(i)]!);
}

/** The eval forward bound (given statistics). */
export function evalYBound(ref: number, w: number, xhat: number, b: number): number {
  return ulp32(ref) + 8 * U64 * (Math.abs(w * xhat) + Math.abs(b));
}

/** Per-group terms of the dx bound: g = dy·w_param. */
export function backwardTerms(
  dy: ArrayLike<number>, k: Grouping, weight: ArrayLike<number> | null, xhat: ArrayLike<number>, rho: ArrayLike<number>, rstd: ArrayLike<number>,
  { withMeanTerm = true }: { withMeanTerm?: boolean } = {},
): BackwardTerms[] {
  const terms: BackwardTerms[] = Array.from({ length: k.groups }, (_, g) => ({ M: k.M, rho: rho[g]!, wr: rstd[g]!, A: 0, B: 0, X: 0 }));
  for (let i = 0; i < dy.length; i++) {
    const t = terms[k.group(i)]!;
    const g = Math.abs(dy[i]! * (weight ? weight[k.param(i)]! : 1));
    if (withMeanTerm) t.A += g / k.M;
    t.B += (g * Math.abs(xhat[i]!)) / k.M;
    t.X = Math.max(t.X, Math.abs(xhat[i]!));
  }
  return terms;
}

/** The dx bound of element i. */
export function dxBoundAt(i: number, ref: number, dy: ArrayLike<number>, k: Grouping, weight: ArrayLike<number> | null, xhat: ArrayLike<number>, terms: BackwardTerms[]): number {
  return dxBound(ref, dy[i]! * (weight ? weight[k.param(i)]! : 1), xhat[i]!, terms[k.group(i)]!);
}

/** Bounds of the parameter gradients Σ dy·x̂ and Σ dy, per parameter: u32·|ref| + 4·(γ_{count+2} + max ρ)·Σ|dy|·(1 + |x̂|). */
export function parameterBounds(dy: ArrayLike<number>, k: Grouping, params: number, xhat: ArrayLike<number>, rho: ArrayLike<number>): (ref: number, p: number) => number {
  const absSum = new Float64Array(params);
  const count = new Float64Array(params);
  for (let i = 0; i < dy.length; i++) {
    const p = k.param(i);
    absSum[p] = absSum[p]! + Math.abs(dy[i]!) * (1 + Math.abs(xhat[i]!));
    count[p] = count[p]! + 1;
  }
  let maxRho = 0;
  for (let g = 0; g < rho.length; g++) maxRho = Math.max(maxRho, rho[g]!);
  return (ref, p) => U32 * Math.abs(ref) + 4 * (gamma(count[p]! + 2) + maxRho) * absSum[p]! + 2 ** -149;
}

/** dx with constant statistics: dx = w·rstd·dy. */
export function evalDxBound(ref: number, w: number, rstd: number, dy: number): number {
  return U32 * Math.abs(ref) + 8 * U64 * Math.abs(w * rstd * dy) + 2 ** -149;
}

// ---------------------------------------------------------------------------------------------------------
// RMSNorm

/** ε(D) = ½·γ_{D+1} + 4u64: one side's relative error in y and rstd before rounding (see the header). */
export function rmsEpsilon(D: number): number {
  return 0.5 * gamma(D + 1) + 4 * U64;
}

/** |y_k - y_ref| ≤ ½·ulp32(y_k) + 2ε(D)·|y_ref|·(1 + 2⁻²⁰). */
export function rmsYBound(got: number, ref: number, D: number): number {
  return 0.5 * ulp32(got) + 2 * rmsEpsilon(D) * Math.abs(ref) * (1 + 2 ** -20);
}
