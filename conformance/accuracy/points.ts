/**
 * Per-case points for the accuracy picture (report/html.ts): for one compared output of one case, the
 * adapter's error at its worst element (largest error/bound) with that element's bound, its worst error in
 * ulps (ulp.ts), the case's conditioning κ, and the same numbers for every honest algorithm on the same case
 * (oracles.ts) under the same bound — so a reader sees where an implementation departs from what its
 * precision allows.
 */
import type { Precision } from '../adapter.js';
import { compare, type Comparison } from '../compare.js';
import type { OutputGrade } from './grade.js';
import type { CaseOutcome } from './inconclusive.js';

export interface HonestPoint {
  name: string;
  error: number;
  bound: number;
  ulps: number;
}

export interface CasePoint {
  label: string;
  /** fast-check replay path of the case (null for fixed cases) */
  path: string | null;
  outcome: CaseOutcome;
  quantity: string;
  /** max over the case's groups of max|x| / sqrt(var + eps) */
  kappa: number;
  /** values in the largest group */
  M: number;
  error: number;
  bound: number;
  ulps: number;
  honest: HonestPoint[];
}

/** κ and the largest group size of a case, in float64 (two passes per group). */
export function conditioning(x: ArrayLike<number>, groups: readonly Int32Array[], eps: number, mask?: (g: number) => boolean): { kappa: number; M: number } {
  let kappa = 0;
  let M = 0;
  groups.forEach((idx, g) => {
    if (mask && !mask(g)) return;
    let sum = 0;
    let A = 0;
    for (const i of idx) {
      sum += x[i]!;
      A = Math.max(A, Math.abs(x[i]!));
    }
    const m = sum / idx.length;
    let sq = 0;
    for (const i of idx) sq += (x[i]! - m) ** 2;
    if (Number.isFinite(sum)) kappa = Math.max(kappa, A / Math.sqrt(sq / idx.length + eps));
    M = Math.max(M, idx.length);
  });
  return { kappa, M };
}

/** The point of one compared output: the adapter's comparison, and each honest algorithm's values under the same bound. */
export function casePoint(
  precision: Precision, c: Comparison, grade: OutputGrade, honest: readonly { name: string; values: ArrayLike<number> }[],
  expected: ArrayLike<number>, bound: ArrayLike<number> | number, where: { label: string; path: string | null; outcome: CaseOutcome; kappa: number; M: number },
  mask?: (i: number) => boolean,
): CasePoint {
  return {
    ...where,
    quantity: c.quantity,
    error: c.worstError,
    bound: c.worstBound,
    ulps: grade.ulps,
    honest: honest.map((h, k) => {
      const hc = compare(c.quantity, h.values, expected, bound, precision, mask);
      return { name: h.name, error: hc.worstError, bound: hc.worstBound, ulps: grade.honest[k]?.ulps ?? NaN };
    }),
  };
}
