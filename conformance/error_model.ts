/**
 * The error model: how far a CORRECT implementation in a given precision may be from the exact result.
 * Every differential check takes its tolerance from here, and nowhere else.
 *
 * Sizes: M values per normalisation group (N·S for a BatchNorm channel, D for a LayerNorm row).
 * Precision: unit roundoff u (2^-11 float16, 2^-24 float32, 2^-53 float64), γ_k = k·u / (1 - k·u), the
 * classical bound on the relative error of a k-term sum or product (Higham, Accuracy and Stability, §3.1).
 *
 * ## What is exact and what is not
 * The suite rounds every input to the adapter's precision BEFORE the reference sees it, so inputs carry no
 * error: the reference (float64) and the adapter compute the same function of the same numbers. What
 * separates them is only the rounding inside the adapter's algorithm (and, far smaller, inside the
 * reference's; the tolerance of a comparison is the bound at the adapter's u PLUS the bound at float64's u).
 *
 * ## The conditioning that matters is the algorithm's, not the problem's
 * Per group write A = max|x| (size of the inputs, offset included), m the mean, v the biased variance,
 * σ = sqrt(v + eps), r = 1/σ (rstd), R = max|x - m| (spread), κ = A/σ (offset relative to spread).
 * x̂ = (x - m)/σ is perfectly conditioned in x - m, but any algorithm must form a mean of numbers of size A,
 * and that mean carries an error proportional to A, not to σ:
 *
 *   mean       |m̂ - m| ≤ ε_m = γ_{M+1}·A                         M-1 additions and one division
 *   deviation  |d̂ - d| ≤ ε_d = ε_m + u·(R + ε_m)                  d = x - m
 *   variance   |v̂ - v| ≤ ε_v = 2R·ε_d + ε_d² + γ_{M+2}·(R + ε_d)²  squares of perturbed deviations, summed
 *   rstd       relative error ρ ≤ max(1 - σ/sqrt(σ² + ε₂), σ/sqrt(max(σ² - ε₂, eps)) - 1) + 3u,
 *              ε₂ = ε_v + (rounding of eps to the precision: u·eps, or absolute when eps is subnormal there)
 *              (not linearised: when ε_v is comparable to σ² the bound stays honest; v̂ ≥ 0 in any
 *               correct algorithm, so v̂ + eps ≥ eps)
 *   x̂          |x̂̂ - x̂| ≤ E = ε_d·r·(1 + ρ) + |x̂|·ρ + u·(|x̂| + …)
 *   y          |ŷ - y| ≤ |w|·E + 2u·(|w x̂| + |w|·E + |b|)
 *
 * So the relative error of x̂ is about γ_M·(1 + κ): LINEAR in κ. This is exactly what a two-pass algorithm
 * reaches: its mean is off by ~u·A, so x - m̂ is off by ~u·A = u·κ·σ. At κ = 1e6 in float32 (u = 6e-8)
 * that is 0.06 of σ: an honest two-pass float32 BatchNorm is legitimately inaccurate there, and it passes,
 * because the bound says so. Welford's update, the shifted-data algorithm (subtract one sample first) and
 * float64 accumulation all have errors of the same order or smaller (Chan, Golub & LeVeque 1983), so they
 * pass too. The one-pass formula v = E[x²] - E[x]² does not: it subtracts two numbers of size A², so its
 * variance error is ~u·A² = u·κ²·σ², QUADRATIC in κ — beyond the bound by a factor ~κ/M^1.5 once κ passes
 * ~1e2–1e3, and catastrophically (negative variance, NaN) at κ = 1e4 in float32.
 *
 * ## Where the bound stops saying much
 * When γ_M·κ approaches 1 (float32: M = 16 values at κ ≈ 1e6; float16: already at κ ≈ 1e2) an honest
 * algorithm may have lost every digit of x - mean, and the bound says so: the rstd bound saturates (any value
 * between 0 and 1/sqrt(eps) is possible) and the y bound is of the order of |y| itself. The offset checks then
 * still catch NaN, infinities and answers off by orders of magnitude, but no longer grade accuracy; an
 * emulated float32 Welford implementation reaches exactly half of the saturated rstd bound at κ = 1e6.
 *
 * ## Why the worst-case γ_k, not √k
 * Rounding errors of a sum usually grow like √M·u, but nothing guarantees it (pairwise, blocked and naive
 * summation all differ). The checks must be fair to ANY correct implementation, so the bound is the
 * deterministic worst case; the differences we hunt (missing Bessel correction: a factor M/(M-1); eps
 * outside the square root; one-pass variance) are orders of magnitude beyond it at the sizes we test.
 *
 * ## SAFETY = 2
 * The counts above follow one natural operation order. Correct implementations reorder: fused
 * y = x·(w·r) + (b - m·w·r), rstd via rsqrt, reciprocal-of-M multiply, blocked sums. Each reordering adds at
 * most a few roundings per term, of the same order as the terms counted; a factor 2 covers them. It is not a
 * fudge fitted to data: the conformance tests run emulated float32 two-pass, Welford, shifted-data and
 * float64-accumulating implementations and an emulated float16 one against these bounds.
 *
 * Running statistics, one step with factor f (momentum, or 1/(n+1) for the cumulative average):
 *   running_mean' = (1-f)·old + f·m̂            error ≤ f·ε_m + 3u·(|(1-f)·old| + |f·m|)
 *   running_var'  = (1-f)·old + f·β·v̂           error ≤ f·β·ε_v + 4u·(|(1-f)·old| + |f·β·v|),  β = M/(M-1) or 1
 * Several steps: the adapter's previous output is fed back, so earlier errors are carried with a factor
 * (1-f) ≤ 1; the bound after K steps is the sum of the per-step bounds.
 *
 * Backward (training), g = w·dy, exact dx = r·(g - mean(g) - x̂·mean(g·x̂)):
 *   mean(g)     error ε_g  ≤ γ_{M+2}·max|g|
 *   mean(g·x̂)   error ε_gx ≤ max(|g|·E) + γ_{M+3}·max(|g|·(|x̂| + E))
 *   dx          error ≤ r(1+ρ)·(u|g| + ε_g + E·|mean(g x̂)| + (|x̂| + E)·ε_gx + 3u(|g| + |mean g| + |x̂·mean(g x̂)|)) + (ρ+u)·|dx|
 *   dweight     error ≤ Σ|dy|·E + γ_{M+1}·Σ|dy|·(|x̂| + E)          (summed over every element sharing the weight)
 *   dbias       error ≤ γ_M·Σ|dy|
 * Eval mode: r comes from the running variance (relative error 3u), x̂ = (x - running_mean)·r, dx = g·r.
 *
 * Every bound is computed per element from the data of the case itself (A, R, σ of each group).
 */
import type { Precision } from './adapter.js';
import { PRECISIONS } from './precision.js';

export const SAFETY = 2;

/**
 * Underflow floor: below the smallest normal number rounding is absolute, |error| ≤ u·minNormal per
 * operation, not relative. The generators keep data away from subnormals; this floor (k operations' worth)
 * keeps a bound from being exactly 0 when a result is tiny.
 */
export function underflow(k: number, u: number): number {
  const minNormal = u === 2 ** -11 ? 2 ** -14 : u === 2 ** -24 ? 2 ** -126 : 2 ** -1022;
  return k * u * minNormal;
}

/**
 * eps arrives as a float64 argument; an implementation stores it in its precision first. That rounding is
 * relative (u·eps) for a normal eps and absolute below the smallest normal: float16 holds eps = 1e-5 only
 * as a subnormal, to within 3e-8.
 */
export function epsRounding(u: number, eps: number): number {
  return u * eps + underflow(1, u);
}

export function gamma(k: number, u: number): number {
  const ku = k * u;
  return ku >= 1 ? Infinity : ku / (1 - ku);
}

/**
 * The constant bounding the relative error of a sum of n terms at unit roundoff u: the worst case `gamma`
 * (default) or the strict tier's probabilistic one (accuracy/probabilistic.ts `strictGamma`). Every bound
 * below that sums n terms takes it as its last argument. `kappa` = max|t| / std(t) of the terms summed (∞ when
 * they are all equal): the worst case ignores it; the probabilistic bound holds only while the terms vary over
 * many ulps of the partial sums (n·u·κ small), and falls back to γ_n beyond (probabilistic.ts).
 */
export type SumConstant = (n: number, u: number, kappa: number) => number;

/** max|t| / std(t) from n, Σt, Σt², max|t| (∞ when the terms are all equal, 1 when there are none). */
export function termsKappa(n: number, sum: number, sumSq: number, maxAbs: number): number {
  if (n === 0 || maxAbs === 0) return 1;
  const mean = sum / n;
  const variance = Math.max(0, sumSq / n - mean * mean);
  return variance > 0 ? maxAbs / Math.sqrt(variance) : Infinity;
}

/** The unit roundoffs a comparison adds up: the adapter's, and the float64 reference's own. */
export function roundoffs(precision: Precision): number[] {
  return precision === 'float64' ? [PRECISIONS.float64.u, PRECISIONS.float64.u] : [PRECISIONS[precision].u, PRECISIONS.float64.u];
}

/**
 * A grouping of a flat array into normalisation groups: BatchNorm channels or LayerNorm rows.
 * `param[i]` is the index of the weight/bias element i uses (the channel for BN, the position in the row for LN).
 */
export interface Grouping {
  groups: Int32Array[];
  param: Int32Array;
  numParams: number;
}

/** BatchNorm on (N, C, S): group c holds (n·C + c)·S + s for every n, s; weight index c. */
export function bnGrouping(N: number, C: number, S: number): Grouping {
  const groups: Int32Array[] = [];
  const param = new Int32Array(N * C * S);
  for (let c = 0; c < C; c++) {
    const idx = new Int32Array(N * S);
    let k = 0;
    for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) idx[k++] = (n * C + c) * S + s;
    groups.push(idx);
    for (const i of idx) param[i] = c;
  }
  return { groups, param, numParams: C };
}

/**
 * GroupNorm on (N, C, S) with G groups of C/G consecutive channels: group n·G + g (n-major, as PyTorch's
 * saved mean and rstd) holds (n·C + c)·S + s for the channels c of the group and every s; weight index c.
 */
export function gnGrouping(N: number, C: number, S: number, G: number): Grouping {
  const groups: Int32Array[] = [];
  const param = new Int32Array(N * C * S);
  const K = C / G;
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < G; g++) {
      const idx = new Int32Array(K * S);
      let k = 0;
      for (let c = g * K; c < (g + 1) * K; c++) for (let s = 0; s < S; s++) idx[k++] = (n * C + c) * S + s;
      groups.push(idx);
      for (const i of idx) param[i] = Math.floor((i / S) % C);
    }
  }
  return { groups, param, numParams: C };
}

/** InstanceNorm on (N, C, S): instance n·C + c holds (n·C + c)·S + s for every s; weight index c (GroupNorm with G = C). */
export function inGrouping(N: number, C: number, S: number): Grouping {
  return gnGrouping(N, C, S, C);
}

/** LayerNorm on (R, D): row r holds r·D .. r·D + D - 1; weight index is the position in the row. */
export function lnGrouping(R: number, D: number): Grouping {
  const groups: Int32Array[] = [];
  const param = new Int32Array(R * D);
  for (let r = 0; r < R; r++) {
    const idx = new Int32Array(D);
    for (let i = 0; i < D; i++) {
      idx[i] = r * D + i;
      param[r * D + i] = i;
    }
    groups.push(idx);
  }
  return { groups, param, numParams: D };
}

/**
 * NaN entries of a bound made unbounded. γ_k is ∞ once k·u ≥ 1 (float16: groups of 2048 values and more), and
 * ∞ times a factor that is exactly 0 (|x̂| of an element at the mean, the spread of a constant group) is NaN:
 * the bound there says "anything", which is ∞, not a failure.
 */
export function unbounded<T extends Float64Array>(...bounds: T[]): void {
  for (const b of bounds) for (let i = 0; i < b.length; i++) if (Number.isNaN(b[i]!)) b[i] = Infinity;
}

/** Exact-enough statistics of one group, computed in float64 by two passes. */
export interface GroupStats {
  M: number;
  A: number; // max |x|
  mean: number;
  var: number; // biased
  sigma: number; // sqrt(var + eps)
  rstd: number;
  R: number; // max |x - mean|
  /** max|x| / std(x): κ of the mean's terms (SumConstant) */
  kappaMean: number;
  /** max (x - mean)² / std((x - mean)²): κ of the variance's terms */
  kappaVar: number;
}

export function groupStats(x: ArrayLike<number>, idx: Int32Array, eps: number): GroupStats {
  const M = idx.length;
  let A = 0;
  let sum = 0;
  for (const i of idx) {
    sum += x[i]!;
    A = Math.max(A, Math.abs(x[i]!));
  }
  const mean = sum / M;
  let sq = 0;
  let sq2 = 0;
  let R = 0;
  for (const i of idx) {
    const d = x[i]! - mean;
    sq += d * d;
    sq2 += d * d * d * d;
    R = Math.max(R, Math.abs(d));
  }
  const v = sq / M;
  const sigma = Math.sqrt(v + eps);
  return {
    M, A, mean, var: v, sigma, rstd: 1 / sigma, R,
    kappaMean: v > 0 ? A / Math.sqrt(v) : A > 0 ? Infinity : 1, kappaVar: termsKappa(M, sq, sq2, R * R),
  };
}

/** The forward error terms of one group at unit roundoff u (see the header). */
export interface ForwardErrors {
  eMean: number;
  eDev: number;
  eVar: number;
  rho: number; // relative error of rstd
}

export function forwardErrors(u: number, s: GroupStats, eps: number, sum: SumConstant = gamma): ForwardErrors {
  const eMean = sum(s.M + 1, u, s.kappaMean) * s.A;
  const eDev = eMean + u * (s.R + eMean);
  const eVar = 2 * s.R * eDev + eDev * eDev + sum(s.M + 2, u, s.kappaVar) * (s.R + eDev) ** 2;
  const s2 = s.sigma * s.sigma;
  // var + eps is off by the variance error plus the rounding of eps itself to the precision
  const e2 = eVar + epsRounding(u, eps);
  const lower = Math.max(s2 - e2, eps * (1 - u) - underflow(1, u));
  const rho = Math.max(1 - s.sigma / Math.sqrt(s2 + e2), lower > 0 ? s.sigma / Math.sqrt(lower) - 1 : Infinity) + 3 * u;
  return { eMean, eDev, eVar, rho };
}

/** Error of x̂_i given the group's forward errors: ε_d·r·(1+ρ) + |x̂|·ρ + u·|x̂|. */
function xhatError(f: ForwardErrors, s: GroupStats, xhat: number, u: number): number {
  return f.eDev * s.rstd * (1 + f.rho) + Math.abs(xhat) * (f.rho + u);
}

export interface NormForwardBounds {
  y: Float64Array;
  mean: Float64Array; // per group
  rstd: Float64Array; // per group
  /** absolute error bound of the biased variance, per group (for the running variance) */
  var: Float64Array;
  stats: GroupStats[];
}

/**
 * Bounds for a training-mode (batch-statistics) normalisation forward — BatchNorm training or LayerNorm —
 * summed over the given unit roundoffs (adapter + reference).
 */
export function normForwardBounds(
  us: number[], x: ArrayLike<number>, grouping: Grouping, weight: ArrayLike<number> | null, bias: ArrayLike<number> | null, eps: number,
  sum: SumConstant = gamma,
): NormForwardBounds {
  const G = grouping.groups.length;
  const y = new Float64Array(x.length);
  const mean = new Float64Array(G);
  const rstd = new Float64Array(G);
  const variance = new Float64Array(G);
  const stats: GroupStats[] = [];
  grouping.groups.forEach((idx, g) => {
    const s = groupStats(x, idx, eps);
    stats.push(s);
    for (const u of us) {
      const f = forwardErrors(u, s, eps, sum);
      mean[g]! += SAFETY * f.eMean + underflow(s.M + 2, u);
      rstd[g]! += SAFETY * f.rho * s.rstd + underflow(4, u);
      variance[g]! += SAFETY * f.eVar + underflow(s.M + 2, u);
      for (const i of idx) {
        const p = grouping.param[i]!;
        const w = weight ? Math.abs(weight[p]!) : 1;
        const b = bias ? Math.abs(bias[p]!) : 0;
        const xhat = (x[i]! - s.mean) * s.rstd;
        const E = xhatError(f, s, xhat, u);
        y[i]! += SAFETY * (w * E + 2 * u * (w * Math.abs(xhat) + w * E + b)) + underflow(s.M + 8, u);
      }
    }
  });
  unbounded(y, mean, rstd, variance);
  return { y, mean, rstd, var: variance, stats };
}

/** Bound of one running-statistics step, per channel (see the header). */
export function runningStepBounds(
  us: number[], fwd: NormForwardBounds, oldMean: ArrayLike<number>, oldVar: ArrayLike<number>, f: number, unbiased: boolean,
): { runningMean: Float64Array; runningVar: Float64Array } {
  const C = fwd.stats.length;
  const runningMean = new Float64Array(C);
  const runningVar = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const s = fwd.stats[c]!;
    const beta = unbiased ? s.M / (s.M - 1) : 1;
    // fwd.mean / fwd.var already include SAFETY and both roundoffs.
    runningMean[c] = f * fwd.mean[c]!;
    runningVar[c] = f * beta * fwd.var[c]!;
    for (const u of us) {
      runningMean[c]! += SAFETY * 3 * u * (Math.abs((1 - f) * oldMean[c]!) + Math.abs(f * s.mean));
      runningVar[c]! += SAFETY * 4 * u * (Math.abs((1 - f) * oldVar[c]!) + Math.abs(f * beta * s.var));
    }
  }
  unbounded(runningMean, runningVar);
  return { runningMean, runningVar };
}

/**
 * One running-statistics step when several statistics groups share a channel: InstanceNorm's N instances of
 * channel c. ATen's instance_norm runs batch_norm over the (1, N·C, S) view with the old buffer repeated N
 * times, so each instance takes the step above from the same old value, and the new buffer is the average of
 * the N results: the bound is the mean of the per-instance step bounds plus the rounding of that average,
 * γ_{N+1}·mean(|(1-f)·old| + |f·stat|).
 */
export function averagedRunningStepBounds(
  us: number[], fwd: NormForwardBounds, grouping: Grouping, oldMean: ArrayLike<number>, oldVar: ArrayLike<number>, f: number, unbiased: boolean,
): { runningMean: Float64Array; runningVar: Float64Array } {
  const C = grouping.numParams;
  const runningMean = new Float64Array(C);
  const runningVar = new Float64Array(C);
  const count = new Float64Array(C);
  grouping.groups.forEach((idx, g) => {
    const c = grouping.param[idx[0]!]!;
    const s = fwd.stats[g]!;
    const beta = unbiased ? s.M / (s.M - 1) : 1;
    count[c]! += 1;
    runningMean[c]! += f * fwd.mean[g]!;
    runningVar[c]! += f * beta * fwd.var[g]!;
    for (const u of us) {
      const magMean = Math.abs((1 - f) * oldMean[c]!) + Math.abs(f * s.mean);
      const magVar = Math.abs((1 - f) * oldVar[c]!) + Math.abs(f * beta * s.var);
      runningMean[c]! += SAFETY * 3 * u * magMean;
      runningVar[c]! += SAFETY * 4 * u * magVar;
      // the average's own rounding, accumulated per instance and divided by N below
      runningMean[c]! += SAFETY * gamma(grouping.groups.length / C + 1, u) * magMean;
      runningVar[c]! += SAFETY * gamma(grouping.groups.length / C + 1, u) * magVar;
    }
  });
  for (let c = 0; c < C; c++) {
    runningMean[c]! /= count[c]!;
    runningVar[c]! /= count[c]!;
  }
  unbounded(runningMean, runningVar);
  return { runningMean, runningVar };
}

/** Eval-mode BatchNorm forward: a fixed affine map per channel from the running statistics. */
export function bnEvalBounds(
  us: number[], x: ArrayLike<number>, grouping: Grouping, weight: ArrayLike<number> | null, bias: ArrayLike<number> | null,
  runningMean: ArrayLike<number>, runningVar: ArrayLike<number>, eps: number,
): Float64Array {
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const c = grouping.param[i]!;
    const r = 1 / Math.sqrt(runningVar[c]! + eps);
    const w = weight ? Math.abs(weight[c]!) : 1;
    const b = bias ? Math.abs(bias[c]!) : 0;
    const xhat = (x[i]! - runningMean[c]!) * r;
    for (const u of us) {
      // relative error of r from the rounding of eps (3u for add, sqrt, divide are in the 4u below)
      y[i]! += SAFETY * w * Math.abs(xhat) * epsRounding(u, eps) / (2 * (runningVar[c]! + eps));
      // x - rm (or x·s and rm·s in the fused form) and 3u in r, then scale and shift.
      y[i]! += SAFETY * (w * r * (2 * u * (Math.abs(x[i]!) + Math.abs(runningMean[c]!)) + 4 * u * Math.abs(x[i]! - runningMean[c]!)) + 2 * u * (w * Math.abs(xhat) + b)) + underflow(8, u);
    }
  }
  return y;
}

export interface BackwardBounds {
  dx: Float64Array;
  dweight: Float64Array;
  dbias: Float64Array;
}

/**
 * Bounds for the backward of a normalisation with batch statistics (training BN, LN), or, with
 * `evalStats`, of eval-mode BatchNorm (x̂ from the running statistics, no dependence of the statistics on x).
 */
export function normBackwardBounds(
  us: number[], x: ArrayLike<number>, dy: ArrayLike<number>, grouping: Grouping, weight: ArrayLike<number> | null, eps: number,
  evalStats: { runningMean: ArrayLike<number>; runningVar: ArrayLike<number> } | null = null, sum: SumConstant = gamma,
): BackwardBounds {
  const dx = new Float64Array(x.length);
  const dweight = new Float64Array(grouping.numParams);
  const dbias = new Float64Array(grouping.numParams);
  const count = new Float64Array(grouping.numParams);
  for (const i of grouping.param) count[i]! += 1;
  // per group: the statistics and the (mean, rstd) that normalise it; per parameter: κ of dweight's and dbias's
  // terms dy·x̂ and dy (SumConstant)
  const groups = grouping.groups.map((idx) => {
    const s = groupStats(x, idx, eps);
    const g0 = grouping.param[idx[0]!]!;
    return { idx, s, mean: evalStats ? evalStats.runningMean[g0]! : s.mean, r: evalStats ? 1 / Math.sqrt(evalStats.runningVar[g0]! + eps) : s.rstd };
  });
  const terms = { w: new Float64Array(grouping.numParams * 3), b: new Float64Array(grouping.numParams * 3) };
  for (const { idx, mean, r } of groups) {
    for (const i of idx) {
      const p = grouping.param[i]!;
      const t = dy[i]! * (x[i]! - mean) * r;
      terms.w[3 * p]! += t;
      terms.w[3 * p + 1]! += t * t;
      terms.w[3 * p + 2] = Math.max(terms.w[3 * p + 2]!, Math.abs(t));
      terms.b[3 * p]! += dy[i]!;
      terms.b[3 * p + 1]! += dy[i]! * dy[i]!;
      terms.b[3 * p + 2] = Math.max(terms.b[3 * p + 2]!, Math.abs(dy[i]!));
    }
  }
  const kappaOf = (a: Float64Array, p: number) => termsKappa(count[p]!, a[3 * p]!, a[3 * p + 1]!, a[3 * p + 2]!);
  const kappaW = Float64Array.from({ length: grouping.numParams }, (_, p) => kappaOf(terms.w, p));
  const kappaB = Float64Array.from({ length: grouping.numParams }, (_, p) => kappaOf(terms.b, p));
  for (const { idx, s, mean, r } of groups) {
    const M = idx.length;
    // exact (float64) intermediate quantities
    let sumG = 0;
    let sumGX = 0;
    let sumG2 = 0;
    let sumGX2 = 0;
    let maxG = 0;
    let maxGX = 0;
    for (const i of idx) {
      const g = dy[i]! * (weight ? weight[grouping.param[i]!]! : 1);
      const xhat = (x[i]! - mean) * r;
      sumG += g;
      sumGX += g * xhat;
      sumG2 += g * g;
      sumGX2 += (g * xhat) ** 2;
      maxG = Math.max(maxG, Math.abs(g));
      maxGX = Math.max(maxGX, Math.abs(g * xhat));
    }
    const meanG = sumG / M;
    const meanGX = sumGX / M;
    const kappaG = termsKappa(M, sumG, sumG2, maxG);
    const kappaGX = termsKappa(M, sumGX, sumGX2, maxGX);
    for (const u of us) {
      const f = evalStats ? null : forwardErrors(u, s, eps, sum);
      const rho = f ? f.rho : 3 * u + epsRounding(u, eps) * r * r / 2;
      const E = (i: number, xhat: number): number =>
        f ? xhatError(f, s, xhat, u) : r * 2 * u * (Math.abs(x[i]!) + Math.abs(mean)) + 2 * u * Math.abs(xhat);
      let maxGE = 0;
      let maxGXE = 0;
      for (const i of idx) {
        const g = Math.abs(dy[i]! * (weight ? weight[grouping.param[i]!]! : 1));
        const xhat = (x[i]! - mean) * r;
        const e = E(i, xhat);
        maxGE = Math.max(maxGE, g * e);
        maxGXE = Math.max(maxGXE, g * (Math.abs(xhat) + e));
      }
      const eG = sum(M + 2, u, kappaG) * maxG;
      const eGX = maxGE + sum(M + 3, u, kappaGX) * maxGXE;
      for (const i of idx) {
        const p = grouping.param[i]!;
        const w = weight ? weight[p]! : 1;
        const g = dy[i]! * w;
        const xhat = (x[i]! - mean) * r;
        const e = E(i, xhat);
        const exact = evalStats ? r * g : r * (g - meanG - xhat * meanGX);
        const inner = evalStats
          ? u * Math.abs(g)
          : u * Math.abs(g) + eG + e * Math.abs(meanGX) + (Math.abs(xhat) + e) * eGX
            + 3 * u * (Math.abs(g) + Math.abs(meanG) + Math.abs(xhat * meanGX));
        dx[i]! += SAFETY * (r * (1 + rho) * inner + (rho + u) * Math.abs(exact)) + underflow(M + 8, u);
        // parameter gradients, summed over every element sharing the parameter
        dweight[p]! += SAFETY * (Math.abs(dy[i]!) * e + sum(count[p]! + 1, u, kappaW[p]!) * Math.abs(dy[i]!) * (Math.abs(xhat) + e)) + underflow(4, u);
        dbias[p]! += SAFETY * sum(count[p]!, u, kappaB[p]!) * Math.abs(dy[i]!) + underflow(2, u);
      }
    }
  }
  unbounded(dx, dweight, dbias);
  return { dx, dweight, dbias };
}
