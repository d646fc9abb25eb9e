/**
 * The accuracy grade: how close an adapter comes to the correctly rounded result, read against what honest
 * algorithms of its precision reach on the same cases.
 *
 * Per case and output q (y, mean, rstd, dx, …), with ulps at the quantity's scale (ulp.ts):
 *   U_a(q)   the adapter's worst error in ulps against the correctly rounded result
 *   U_h(q)   each honest algorithm's worst error on the same case (oracles.ts: two-pass, Welford, shifted,
 *            pairwise, float64-accumulating, in the adapter's precision)
 *   N(q)     = U_a(q) / max(1, max_h U_h(q))        the ratio to the LEAST accurate honest algorithm
 * and over every graded output of every case of a check, U = max U_a and N = max N. The grade:
 *   correctly rounded        U ≤ 1                 every output within one ulp of fl_p(exact) (ulp.ts: why 1, not ½)
 *   as accurate as honest    U > 1, N ≤ 2          no worse than some plain algorithm of the precision
 *   worse than honest ×N     N > 2
 * Why the least accurate honest algorithm: each of them is a correct implementation, so an adapter that is
 * within a factor of the loosest one is as accurate as its precision honestly allows — the two-pass float32
 * error grows like u·κ (its mean is off by ~u·max|x|), a float64-accumulating one stays near 1 ulp, and both are
 * right. Why max(1, ·): where every honest algorithm is exact (dyadic data) a one-ulp difference is no
 * defect. Why 2: the same factor as error_model.ts's SAFETY — the honest family fixes one operation order
 * each; fused multiply-adds, rsqrt and reordered constants add a few roundings of the same size.
 * A float64 adapter's correctly rounded result is the reference itself: it is graded against float64 oracles.
 */
import type { Precision } from '../adapter.js';
import { worstUlps } from './ulp.js';

export const CORRECTLY_ROUNDED_ULPS = 1;
export const HONEST_FACTOR = 2;

/** One output of one case, graded. */
export interface OutputGrade {
  quantity: string;
  /** the adapter's worst error in ulps at the quantity's scale */
  ulps: number;
  index: number;
  /** each honest algorithm's worst error in ulps on the same output */
  honest: { name: string; ulps: number }[];
  /** ulps / max(1, max honest ulps) */
  ratio: number;
}

export function honestRatio(ulps: number, honestUlps: number): number {
  const h = Math.max(1, honestUlps);
  if (!Number.isFinite(ulps)) return Number.isFinite(h) ? Infinity : 1;
  return ulps / h;
}

/**
 * Grades one output: `actual` and each honest algorithm's values against the float64 reference `exact`.
 * `scale` as in ulp.ts; `mask` excludes elements (the poisoned groups of a non-finite case).
 */
export function gradeOutput(
  precision: Precision, quantity: string, actual: ArrayLike<number>, exact: ArrayLike<number>, scale: ArrayLike<number> | number,
  honest: readonly { name: string; values: ArrayLike<number> }[], mask?: (i: number) => boolean,
): OutputGrade {
  const a = worstUlps(precision, actual, exact, scale, mask);
  const h = honest.map((o) => ({ name: o.name, ulps: worstUlps(precision, o.values, exact, scale, mask).ulps }));
  const maxHonest = Math.max(0, ...h.map((x) => x.ulps));
  return { quantity, ulps: a.ulps, index: a.index, honest: h, ratio: honestRatio(a.ulps, maxHonest) };
}

export type GradeClass = 'correctly rounded' | 'as accurate as honest' | 'worse than honest';

export function classify(ulps: number, ratio: number): GradeClass {
  if (ulps <= CORRECTLY_ROUNDED_ULPS) return 'correctly rounded';
  return ratio <= HONEST_FACTOR ? 'as accurate as honest' : 'worse than honest';
}

/** A check's grade: the worst over its graded outputs, and the case that decided it. */
export interface Grade {
  class: GradeClass;
  /** the largest error in ulps over every graded output of every case */
  ulps: number;
  /** the largest ratio to the honest algorithms */
  ratio: number;
  /** the output and case where the ratio (or, when correctly rounded, the ulp error) was largest */
  quantity: string;
  /** that output's error in ulps, and the least accurate honest algorithm's there */
  caseUlps: number;
  honestUlps: number;
  label: string;
  /** fast-check replay path of that case (null for fixed cases) */
  path: string | null;
  /** outputs graded, over all cases */
  outputs: number;
  /** the command that replays that case (set by the runner when it has a path) */
  replay?: string | null;
}

/** Collects the graded outputs of a check's cases. */
export class GradeAccumulator {
  private worst: Grade | null = null;
  private maxUlps = 0;
  private count = 0;

  add(label: string, path: string | null, outputs: readonly OutputGrade[]): void {
    for (const o of outputs) {
      if (o.index < 0) continue;
      this.count++;
      if (o.ulps > this.maxUlps || Number.isNaN(o.ulps)) this.maxUlps = o.ulps;
      const honestUlps = Math.max(0, ...o.honest.map((h) => h.ulps));
      const w = this.worst;
      // the deciding case: the largest ratio; among equal ratios (all ≤ 1 when correctly rounded), the largest error
      if (!w || o.ratio > w.ratio || (o.ratio === w.ratio && o.ulps > w.ulps)) {
        this.worst = { class: 'correctly rounded', ulps: o.ulps, ratio: o.ratio, quantity: o.quantity, caseUlps: o.ulps, honestUlps, label, path, outputs: 0 };
      }
    }
  }

  result(): Grade | null {
    if (!this.worst) return null;
    return { ...this.worst, ulps: this.maxUlps, class: classify(this.maxUlps, this.worst.ratio), outputs: this.count };
  }
}

function fmtNumber(v: number): string {
  if (!Number.isFinite(v)) return '∞';
  return v < 10 ? v.toFixed(1) : v < 1e4 ? v.toFixed(0) : v.toExponential(1);
}

/** A short cell: '≤1 ulp', 'honest 37 ulp', '×52 38000 ulp'. */
export function gradeCell(g: Grade | null): string {
  if (!g) return '';
  if (g.class === 'correctly rounded') return '≤1 ulp';
  if (g.class === 'as accurate as honest') return `honest ${fmtNumber(g.ulps)} ulp`;
  return `×${fmtNumber(g.ratio)} ${fmtNumber(g.ulps)} ulp`;
}

/** The class and its numbers: 'correctly rounded (worst 0.5 ulp)'. */
export function gradeHead(g: Grade): string {
  return g.class === 'worse than honest'
    ? `worse than honest by ×${fmtNumber(g.ratio)} (${g.quantity}: ${fmtNumber(g.caseUlps)} ulp where honest algorithms reach ${fmtNumber(g.honestUlps)})`
    : g.class === 'as accurate as honest'
      ? `as accurate as an honest algorithm (worst ${fmtNumber(g.ulps)} ulp, ×${fmtNumber(g.ratio)} of honest)`
      : `correctly rounded (worst ${fmtNumber(g.ulps)} ulp)`;
}

/** The deciding case and its replay path. */
export function gradeCase(g: Grade): string {
  return `${g.label}${g.path !== null ? ` (path "${g.path}")` : ''}`;
}

/** One line: the class, the numbers and the deciding case. */
export function describeGrade(g: Grade): string {
  return `${gradeHead(g)}; worst case ${gradeCase(g)}`;
}

const SEVERITY: Record<GradeClass, number> = { 'correctly rounded': 0, 'as accurate as honest': 1, 'worse than honest': 2 };

/** An adapter's grade: its checks' worst (by class, then ratio, then ulps), and the check that decided it. */
export interface AdapterGrade extends Grade {
  check: string;
  /** checks graded */
  checks: number;
}

export function adapterGrade(checks: readonly { id: string; grade?: Grade | null }[]): AdapterGrade | null {
  let worst: AdapterGrade | null = null;
  let n = 0;
  for (const c of checks) {
    const g = c.grade;
    if (!g) continue;
    n++;
    const better = worst && (SEVERITY[g.class] - SEVERITY[worst.class] || g.ratio - worst.ratio || g.ulps - worst.ulps) <= 0;
    if (!worst || !better) worst = { ...g, check: c.id, checks: 0 };
  }
  return worst && { ...worst, checks: n };
}

/** The adapter's grade line: 'correctly rounded (worst 0.0 ulp) over 60 checks' and where it was decided. */
export function describeAdapterGrade(g: AdapterGrade): string {
  return `${gradeHead(g)} over ${g.checks} graded checks; decided by ${g.check} on ${gradeCase(g)}`;
}
