/**
 * The error model of RMSNorm, y = w·x·r with r = 1/sqrt(ms + eps), ms = mean(x²) over a row of D values:
 * how far a CORRECT implementation in unit roundoff u may be from the exact result. Notation and the shared
 * pieces (γ_k, SAFETY, the underflow floor, the rounding of eps) are error_model.ts's.
 *
 * ## Why it is not the mean-subtracted model
 * The mean-subtracted norms must form x - mean from numbers of size A = max|x|, so their error grows with
 * the offset of the data relative to its spread (κ = A/σ, error_model.ts). RMSNorm subtracts nothing: ms is a
 * sum of non-negative terms, and a sum of non-negative terms is perfectly conditioned — its rounding error is
 * relative to the sum itself. So the relative error of every output is a few γ_D, whatever the data's offset,
 * and the bound below has no conditioning factor at all. (Bounding RMSNorm with the mean-subtracted model
 * would allow an error ∝ κ that no correct RMSNorm makes: a bug such as a lost term in the sum of squares
 * would pass at large offsets.)
 *
 * ## Forward, per row (x² rounded, D - 1 additions, one division)
 *   ms        |ms^ - ms| ≤ ε_ms = γ_{D+1}·ms                               all terms ≥ 0: relative
 *   ms + eps  ε₂ = ε_ms + u·(ms + eps) + (rounding of eps to the precision)
 *   rstd      ρ ≤ max(1 - σ/sqrt(σ² + ε₂), σ/sqrt(max(σ² - ε₂, eps)) - 1) + 3u,   σ = sqrt(ms + eps)
 *   x̂         |x̂^ - x̂| ≤ |x̂|·(ρ + u)                                      x̂ = x·r
 *   y         |ŷ - y| ≤ |w|·|x̂|·(ρ + 2u)
 * Every term is relative to the output itself: an honest implementation is within ~γ_D/2 of every y_i.
 *
 * ## Where it does not apply: overflow of x²
 * When x² overflows the arithmetic's range (|x| > 1.8e19 in float32) an implementation that squares naively
 * gets ms = ∞ and y = 0 for a perfectly finite row whose exact output is of order 1. A correct one scales the
 * row first (by max|x|, as BLAS's nrm2 does) or accumulates in a wider type; the bound does not excuse the
 * overflow (the `rms.forward.huge_values` edge case poses it). Underflow of x² only matters when
 * ms ≪ eps, where eps dominates the sum anyway; a floor of D roundings at the smallest normal number covers it.
 *
 * ## Backward, per row (g = w·dy, exact dx = r·(g - x̂·mean(g·x̂)), no mean(g) term)
 *   mean(g·x̂)   ε_gx ≤ max(|g|·E) + γ_{D+3}·max(|g|·(|x̂| + E)),   E = |x̂|·(ρ + u)
 *   dx          error ≤ r(1+ρ)·(u|g| + E·|mean(g x̂)| + (|x̂| + E)·ε_gx + 2u·(|g| + |x̂·mean(g x̂)|)) + (ρ+u)·|dx|
 *   dweight     error ≤ Σ|dy|·E + γ_{R+1}·Σ|dy|·(|x̂| + E)          (summed over the R rows sharing the weight)
 * There is no bias, so no dbias.
 */
import {
  epsRounding, gamma, SAFETY, termsKappa, unbounded, underflow, type BackwardBounds, type SumConstant, type GroupStats, type Grouping, type NormForwardBounds,
} from './error_model.js';

/**
 * Exact-enough statistics of one RMSNorm row in float64, in the shape of a mean-subtracted group's: the centre
 * is 0 (nothing is subtracted), `var` is the mean of squares ms, R = A = max|x|.
 */
export function rmsGroupStats(x: ArrayLike<number>, idx: Int32Array, eps: number): GroupStats {
  const M = idx.length;
  let A = 0;
  let sq = 0;
  let sq2 = 0;
  for (const i of idx) {
    sq += x[i]! * x[i]!;
    sq2 += x[i]! ** 4;
    A = Math.max(A, Math.abs(x[i]!));
  }
  const ms = sq / M;
  const sigma = Math.sqrt(ms + eps);
  // no mean is summed (κ 1); the mean of squares sums the x²
  return { M, A, mean: 0, var: ms, sigma, rstd: 1 / sigma, R: A, kappaMean: 1, kappaVar: termsKappa(M, sq, sq2, A * A) };
}

/** Relative error of rstd for one row at unit roundoff u (see the header). */
export function rmsRho(u: number, s: GroupStats, eps: number, sum: SumConstant = gamma): { eMs: number; rho: number } {
  const eMs = sum(s.M + 1, u, s.kappaVar) * s.var + underflow(s.M + 2, u);
  const s2 = s.sigma * s.sigma;
  const e2 = eMs + u * s2 + epsRounding(u, eps);
  const lower = Math.max(s2 - e2, eps * (1 - u) - underflow(1, u));
  const rho = Math.max(1 - s.sigma / Math.sqrt(s2 + e2), lower > 0 ? s.sigma / Math.sqrt(lower) - 1 : Infinity) + 3 * u;
  return { eMs, rho };
}

/**
 * Bounds for the RMSNorm forward, summed over the given unit roundoffs (adapter + reference). `mean` is all
 * zeros (RMSNorm has none), `var` bounds the mean of squares; `bias` must be null.
 */
export function rmsForwardBounds(
  us: number[], x: ArrayLike<number>, grouping: Grouping, weight: ArrayLike<number> | null, _bias: ArrayLike<number> | null, eps: number,
  sum: SumConstant = gamma,
): NormForwardBounds {
  const G = grouping.groups.length;
  const y = new Float64Array(x.length);
  const mean = new Float64Array(G);
  const rstd = new Float64Array(G);
  const variance = new Float64Array(G);
  const stats: GroupStats[] = [];
  grouping.groups.forEach((idx, g) => {
    const s = rmsGroupStats(x, idx, eps);
    stats.push(s);
    for (const u of us) {
      const { eMs, rho } = rmsRho(u, s, eps, sum);
      rstd[g]! += SAFETY * rho * s.rstd + underflow(4, u);
      variance[g]! += SAFETY * eMs;
      for (const i of idx) {
        const w = weight ? Math.abs(weight[grouping.param[i]!]!) : 1;
        const xhat = Math.abs(x[i]! * s.rstd);
        y[i]! += SAFETY * w * xhat * (rho + 2 * u) + underflow(8, u);
      }
    }
  });
  unbounded(y, rstd, variance);
  return { y, mean, rstd, var: variance, stats };
}

/** Bounds for the RMSNorm backward (see the header); `dbias` is all zeros. RMSNorm has no eval mode: no running statistics. */
export function rmsBackwardBounds(
  us: number[], x: ArrayLike<number>, dy: ArrayLike<number>, grouping: Grouping, weight: ArrayLike<number> | null, eps: number,
  _evalStats: { runningMean: ArrayLike<number>; runningVar: ArrayLike<number> } | null = null, sum: SumConstant = gamma,
): BackwardBounds {
  const dx = new Float64Array(x.length);
  const dweight = new Float64Array(grouping.numParams);
  const dbias = new Float64Array(grouping.numParams);
  const count = new Float64Array(grouping.numParams);
  for (const i of grouping.param) count[i]! += 1;
  const stats = grouping.groups.map((idx) => rmsGroupStats(x, idx, eps));
  // κ of dweight's terms dy·x̂ per parameter (SumConstant)
  const terms = new Float64Array(3 * grouping.numParams);
  grouping.groups.forEach((idx, k) => {
    for (const i of idx) {
      const p = grouping.param[i]!;
      const t = dy[i]! * x[i]! * stats[k]!.rstd;
      terms[3 * p]! += t;
      terms[3 * p + 1]! += t * t;
      terms[3 * p + 2] = Math.max(terms[3 * p + 2]!, Math.abs(t));
    }
  });
  const kappaW = Float64Array.from({ length: grouping.numParams }, (_, p) => termsKappa(count[p]!, terms[3 * p]!, terms[3 * p + 1]!, terms[3 * p + 2]!));
  for (const [k, idx] of grouping.groups.entries()) {
    const s = stats[k]!;
    const r = s.rstd;
    const M = idx.length;
    let sumGX = 0;
    let sumGX2 = 0;
    let maxGX = 0;
    for (const i of idx) {
      const t = dy[i]! * (weight ? weight[grouping.param[i]!]! : 1) * x[i]! * r;
      sumGX += t;
      sumGX2 += t * t;
      maxGX = Math.max(maxGX, Math.abs(t));
    }
    const meanGX = sumGX / M;
    const kappaGX = termsKappa(M, sumGX, sumGX2, maxGX);
    for (const u of us) {
      const { rho } = rmsRho(u, s, eps, sum);
      let maxGE = 0;
      let maxGXE = 0;
      for (const i of idx) {
        const g = Math.abs(dy[i]! * (weight ? weight[grouping.param[i]!]! : 1));
        const xhat = Math.abs(x[i]! * r);
        const e = xhat * (rho + u);
        maxGE = Math.max(maxGE, g * e);
        maxGXE = Math.max(maxGXE, g * (xhat + e));
      }
      const eGX = maxGE + sum(M + 3, u, kappaGX) * maxGXE;
      for (const i of idx) {
        const p = grouping.param[i]!;
        const g = dy[i]! * (weight ? weight[p]! : 1);
        const xhat = x[i]! * r;
        const e = Math.abs(xhat) * (rho + u);
        const exact = r * (g - xhat * meanGX);
        const inner = u * Math.abs(g) + e * Math.abs(meanGX) + (Math.abs(xhat) + e) * eGX + 2 * u * (Math.abs(g) + Math.abs(xhat * meanGX));
        dx[i]! += SAFETY * (r * (1 + rho) * inner + (rho + u) * Math.abs(exact)) + underflow(M + 8, u);
        dweight[p]! += SAFETY * (Math.abs(dy[i]!) * e + sum(count[p]! + 1, u, kappaW[p]!) * Math.abs(dy[i]!) * (Math.abs(xhat) + e)) + underflow(4, u);
      }
    }
  }
  unbounded(dx, dweight);
  return { dx, dweight, dbias };
}
