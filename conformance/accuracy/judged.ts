/**
 * The accuracy of judged outputs: what judge.ts adds to each comparison it makes against the float64
 * reference, so a check can count its cases as pass / inconclusive / fail (inconclusive.ts) and grade them
 * (grade.ts), and a report can plot them (points.ts).
 *
 * Per compared output of one case:
 *   conclusive   whether the output's trivial answer (inconclusive.ts: y = b, the old running buffer, a zero
 *                gradient) would FAIL the same comparison — same bound, same mask
 *   accuracy     the adapter's error in ulps at the quantity's scale against the correctly rounded result
 *                (ulp.ts), each honest algorithm's on the same case (oracles.ts), their ratio (grade.ts), and
 *                the case's conditioning κ and largest group size M
 * The honest algorithms run in the adapter's precision on the very inputs the adapter was given, so the ratio
 * reads "how far from what its precision honestly allows, on this data".
 */
import type { Precision } from '../adapter.js';
import { compare, type Comparison } from '../compare.js';
import type { Grouping } from '../error_model.js';
import { gradeOutput, type OutputGrade } from './grade.js';
import { isConclusive } from './inconclusive.js';
import type { HonestPoint } from './points.js';

/** The accuracy of one compared output of one case (see the header). */
export interface OutputAccuracy {
  grade: OutputGrade;
  /** max over the case's groups of max|x| / sqrt(var + eps) (RMSNorm: max|x| / sqrt(mean x² + eps)) */
  kappa: number;
  /** values in the case's largest group */
  M: number;
  /** each honest algorithm's worst error/bound element under the same bound, and its ulps */
  honest: HonestPoint[];
}

/** κ and M of a case, from the norm's own float64 statistics per group (norms/spec.ts `bounds.stats`). */
export function caseConditioning(
  stats: (x: ArrayLike<number>, idx: Int32Array, eps: number) => { A: number; sigma: number; M: number },
  x: ArrayLike<number>, grouping: Grouping, eps: number, poisoned: readonly number[] = [],
): { kappa: number; M: number } {
  let kappa = 0;
  let M = 0;
  grouping.groups.forEach((idx, g) => {
    if (poisoned.includes(g)) return;
    const s = stats(x, idx, eps);
    if (Number.isFinite(s.A) && s.sigma > 0) kappa = Math.max(kappa, s.A / s.sigma);
    M = Math.max(M, idx.length);
  });
  return { kappa, M };
}

export interface Judged {
  precision: Precision;
  actual: ArrayLike<number>;
  exact: ArrayLike<number>;
  bound: ArrayLike<number> | number;
  /** the ulp scale per element (ulp.ts) */
  scale: ArrayLike<number> | number;
  /** each honest algorithm's values of the same output; empty: not graded (conclusiveness only) */
  honest: readonly { name: string; values: ArrayLike<number> }[];
  /** the trivial answer; null: the output has none (saved statistics) */
  trivial: ArrayLike<number> | null;
  where: { kappa: number; M: number };
  mask?: (i: number) => boolean;
}

/** The comparison with its conclusiveness and accuracy added (nothing added where nothing was compared). */
export function withAccuracy(c: Comparison, j: Judged): Comparison {
  if (c.count === 0) return c;
  const out: Comparison = { ...c };
  if (j.trivial) out.conclusive = isConclusive(j.trivial, j.exact, j.bound, j.precision, j.mask);
  if (j.honest.length) {
    const grade = gradeOutput(j.precision, c.quantity, j.actual, j.exact, j.scale, j.honest, j.mask);
    out.accuracy = {
      grade, kappa: j.where.kappa, M: j.where.M,
      honest: j.honest.map((h, k) => {
        const hc = compare(c.quantity, h.values, j.exact, j.bound, j.precision, j.mask);
        return { name: h.name, error: hc.worstError, bound: hc.worstBound, ulps: grade.honest[k]!.ulps };
      }),
    };
  }
  return out;
}

/**
 * A relation's comparison (metamorphic checks) made conclusive or not by the output it relates: the trivial
 * answer satisfies every relation the suite checks (shift, scale, permutation, independence, the eval-mode
 * affine map), so a case whose output is itself within the relation's bound of the trivial answer shows
 * nothing — the relation held vacuously; so does one that relates no element at all. `output` is the adapter's output on the case, `trivial` that output's
 * trivial answer.
 */
export function relationConclusive(
  c: Comparison, output: ArrayLike<number>, trivial: ArrayLike<number>, bound: ArrayLike<number> | number, precision: Precision,
  mask?: (i: number) => boolean,
): Comparison {
  // nothing related (one row, and it was the one replaced): vacuous as well
  if (c.count === 0) return { ...c, conclusive: false };
  return { ...c, conclusive: !compare('trivial', trivial, output, bound, precision, mask).ok };
}

// ---------------------------------------------------------------------------------------------------------
// The honest oracles of one case, per kind of call (judge.ts): every algorithm of the norm in the precision

/** The statistics of each group from per-channel running buffers (BatchNorm: group = channel; InstanceNorm: its channel's). */
export function perGroupStats(grouping: Grouping, running: { runningMean: ArrayLike<number>; runningVar: ArrayLike<number> }): { mean: Float64Array; var: Float64Array } {
  const ch = grouping.groups.map((idx) => grouping.param[idx[0]!]!);
  return { mean: Float64Array.from(ch, (k) => running.runningMean[k]!), var: Float64Array.from(ch, (k) => running.runningVar[k]!) };
}
