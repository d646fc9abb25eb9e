/**
 * Inconclusive cases: a case whose bound cannot tell the right answer from a trivially wrong one.
 *
 * A bound says "any answer within ±b of the reference is acceptable". Where b is as large as the answer's
 * own variation, an implementation that does not compute the quantity at all passes. The bound is honest
 * there (error_model.ts: at γ_M·κ ≈ 1 an honest float32 algorithm may have lost every digit of x - mean), but
 * a pass there says nothing about accuracy. So each case is judged against the trivial answer too:
 *   conclusive    the trivial answer would FAIL the same comparison (same bound, same mask)
 *   inconclusive  it would pass: the case cannot tell a right answer from it
 * A case is
 *   fail          when any comparison is out of bound (NaN, infinities, wrong shapes fail as ever);
 *   inconclusive  when every comparison is within bound but one of its outputs is inconclusive;
 *   pass          otherwise: a graded pass.
 * A check whose cases are ALL inconclusive has shown robustness (no NaN, no blow-up), not accuracy: it reads
 * `robust`, not `pass`.
 *
 * ## The trivial answer, per output
 * The trivial answer is what an implementation that skips the quantity's computation returns — the one that
 * throws the input away (issue: `y = bias` passed the offset 1e6 check on 3 of 3 seeds):
 *   y                 b_p, i.e. x̂ ≡ 0 (w = 1, b = 0 without affine: 0)    the normalisation skipped
 *   running buffers   the old value                                       the update skipped
 *   dx, dweight       0                                                   the gradient of y = b (x̂ ≡ 0)
 *   dbias             0                                                   the reduction Σ dy skipped
 * The saved statistics (mean, rstd) are intermediate results whose errors reach y; they are compared, but do
 * not make a case inconclusive: with variances far below eps every sample is within the mean's bound of the
 * mean (any sample "passes" as the mean) while y, which subtracts it, is conclusive and would show a wrong
 * mean. A constant group is inconclusive by construction: its right answer IS y = b.
 */
import type { Precision } from '../adapter.js';
import { compare } from '../compare.js';
import type { Grouping } from '../error_model.js';

export type CaseOutcome = 'pass' | 'inconclusive' | 'fail';

/** y = b_p for every element (0 without a bias): x̂ ≡ 0. */
export function trivialOutput(grouping: Pick<Grouping, 'param'>, bias: ArrayLike<number> | null, length: number): Float64Array {
  const t = new Float64Array(length);
  if (bias) for (let i = 0; i < length; i++) t[i] = bias[grouping.param[i]!]!;
  return t;
}

/**
 * Whether the comparison of `expected` under `bound` tells a right answer from `trivial`: true when the trivial
 * answer is out of bound somewhere (the mask as in the comparison itself).
 */
export function isConclusive(
  trivial: ArrayLike<number>, expected: ArrayLike<number>, bound: ArrayLike<number> | number, precision: Precision,
  mask?: (i: number) => boolean,
): boolean {
  return !compare('trivial', trivial, expected, bound, precision, mask).ok;
}

/** What a case's comparisons say: each within bound or not, and (where a trivial answer exists) conclusive or not. */
export function caseOutcome(comparisons: readonly { ok: boolean; conclusive?: boolean }[]): CaseOutcome {
  if (comparisons.some((c) => !c.ok)) return 'fail';
  return comparisons.some((c) => c.conclusive === false) ? 'inconclusive' : 'pass';
}

export interface CaseCounts {
  pass: number;
  inconclusive: number;
  fail: number;
}

/** A check's verdict from its cases: fail if any failed, robust if every case was inconclusive, else pass. */
export function checkVerdict(n: CaseCounts): 'pass' | 'robust' | 'fail' {
  if (n.fail > 0) return 'fail';
  return n.inconclusive > 0 && n.pass === 0 ? 'robust' : 'pass';
}
