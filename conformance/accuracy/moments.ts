/**
 * Honest statistics of one normalisation group: the mean and biased variance (or, for RMSNorm, the mean of
 * squares) as plain arithmetic in a working precision computes them, every result rounded with `R`
 * (Math.fround emulates float32, as stdlib-js's float32 functions do; the identity is float64).
 *
 * "Honest": each algorithm is one a careful implementer writes, and each is backward stable for the variance
 * in the sense of Chan, Golub & LeVeque (1983), with forward errors of order u·(1 + κ) relative to the
 * spread (κ = max|x| / sqrt(var + eps)), which error_model.ts bounds:
 *   twoPass       Σx/M, then Σ(x - mean)²/M, recursive sums              error ∝ M·u worst case, √M·u typical
 *   pairwise      the same two passes, each sum split in halves down to blocks of 8 (numpy's summation)
 *                                                                         error ∝ log2(M)·u worst case
 *   welford       mean_k = mean_{k-1} + δ/k, M2_k = M2_{k-1} + δ·(x - mean_k), δ = x - mean_{k-1}
 *   shifted       one pass over d = x - K, K the group's first value: mean = K + Σd/M,
 *                 var = Σd²/M - (Σd/M)² (clamped at 0): the cancellation is relative to |mean - K| ~ spread
 *   float64       the two passes with float64 accumulators, only the results rounded to the precision
 * The one-pass E[x²] - E[x]² is NOT here: its error grows like u·κ², it is the gallery's classic bug.
 *
 * A group is the list of its flat indices (error_model.ts `Grouping`), so one function serves every norm.
 * The two-pass one is lowp_moments.ts's (the second reference's and the gallery's); the mutant gallery's
 * correct variants take the others from here.
 */

import { twoPassMoments, type Moments, type Round } from '../lowp_moments.js';

export { twoPassMoments, type Moments, type Round };

export type MomentsAlgorithm = (x: ArrayLike<number>, idx: Int32Array, R: Round) => Moments;

/** Σ term(idx[k]) for k in [lo, hi): halves down to blocks of 8, each block summed left to right. */
function pairwiseSum(idx: Int32Array, lo: number, hi: number, term: (i: number) => number, R: Round): number {
  if (hi - lo <= 8) {
    let s = 0;
    for (let k = lo; k < hi; k++) s = R(s + term(idx[k]!));
    return s;
  }
  const mid = lo + ((hi - lo) >> 1);
  return R(pairwiseSum(idx, lo, mid, term, R) + pairwiseSum(idx, mid, hi, term, R));
}

export function pairwiseMoments(x: ArrayLike<number>, idx: Int32Array, R: Round): Moments {
  const M = idx.length;
  const mean = R(pairwiseSum(idx, 0, M, (i) => x[i]!, R) / M);
  const sq = pairwiseSum(idx, 0, M, (i) => {
    const d = R(x[i]! - mean);
    return R(d * d);
  }, R);
  return { mean, var: R(sq / M) };
}

export function welfordMoments(x: ArrayLike<number>, idx: Int32Array, R: Round): Moments {
  let mean = 0;
  let m2 = 0;
  let k = 0;
  for (const i of idx) {
    k++;
    const delta = R(x[i]! - mean);
    mean = R(mean + R(delta / k));
    m2 = R(m2 + R(delta * R(x[i]! - mean)));
  }
  return { mean, var: R(m2 / k) };
}

export function shiftedMoments(x: ArrayLike<number>, idx: Int32Array, R: Round): Moments {
  const M = idx.length;
  const K = x[idx[0]!]!;
  let s1 = 0;
  let s2 = 0;
  for (const i of idx) {
    const d = R(x[i]! - K);
    s1 = R(s1 + d);
    s2 = R(s2 + R(d * d));
  }
  const m1 = R(s1 / M);
  return { mean: R(K + m1), var: Math.max(0, R(R(s2 / M) - R(m1 * m1))) };
}

export function float64Moments(x: ArrayLike<number>, idx: Int32Array, R: Round): Moments {
  let sum = 0;
  for (const i of idx) sum += x[i]!;
  const mean = sum / idx.length;
  let sq = 0;
  for (const i of idx) sq += (x[i]! - mean) ** 2;
  return { mean: R(mean), var: R(sq / idx.length) };
}

/** Mean of squares Σx²/M (RMSNorm: no mean is subtracted), the same summation orders. */
export type MeanSquareAlgorithm = (x: ArrayLike<number>, idx: Int32Array, R: Round) => number;

export const recursiveMeanSquare: MeanSquareAlgorithm = (x, idx, R) => {
  let sq = 0;
  for (const i of idx) sq = R(sq + R(x[i]! * x[i]!));
  return R(sq / idx.length);
};

export const pairwiseMeanSquare: MeanSquareAlgorithm = (x, idx, R) => R(pairwiseSum(idx, 0, idx.length, (i) => R(x[i]! * x[i]!), R) / idx.length);

export const float64MeanSquare: MeanSquareAlgorithm = (x, idx, R) => {
  let sq = 0;
  for (const i of idx) sq += x[i]! * x[i]!;
  return R(sq / idx.length);
};
