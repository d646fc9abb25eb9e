/**
 * A check's cases, counted by outcome and graded: what propertyCheck and fixedCheck (check.ts) keep of every
 * case they judge — its outcome (inconclusive.ts), the grade of each of its outputs (grade.ts) and a point per
 * graded output for the accuracy picture (points.ts). Only the cases fast-check runs before any failure are
 * tallied: shrinking re-draws cases that say nothing new about accuracy.
 */
import type { Comparison } from '../compare.js';
import { GradeAccumulator, type Grade } from './grade.js';
import { caseOutcome, checkVerdict, type CaseCounts, type CaseOutcome } from './inconclusive.js';
import type { CasePoint } from './points.js';

/** Points kept per check: 50 full-profile runs of a few outputs each fit; a report stays a few MB at most. */
export const MAX_POINTS = 400;

/** What a check's run reports about accuracy (CheckRun: `cases`, `grade`, `points`). */
export interface CheckAccuracy {
  cases: CaseCounts;
  grade: Grade | null;
  points: CasePoint[];
}

export class CaseTally {
  private readonly counts: CaseCounts = { pass: 0, inconclusive: 0, fail: 0 };
  private readonly grades = new GradeAccumulator();
  private readonly points: CasePoint[] = [];

  /** One judged case: `label` its short name, `describe` its input description, `path` its replay path (null: fixed). */
  add(label: string, describe: () => string, path: string | null, comparisons: readonly Comparison[]): CaseOutcome {
    const outcome = caseOutcome(comparisons);
    this.counts[outcome]++;
    const graded = comparisons.filter((c) => c.accuracy);
    if (graded.length) this.grades.add(describe(), path, graded.map((c) => c.accuracy!.grade));
    for (const c of graded) {
      if (this.points.length >= MAX_POINTS) break;
      const a = c.accuracy!;
      this.points.push({ label, path, outcome, quantity: c.quantity, kappa: a.kappa, M: a.M, error: c.worstError, bound: c.worstBound, ulps: a.grade.ulps, honest: a.honest });
    }
    return outcome;
  }

  get total(): number {
    return this.counts.pass + this.counts.inconclusive + this.counts.fail;
  }

  /** 'robust' when every case was inconclusive (none graded as a pass, none failed), else 'pass' / 'fail'. */
  verdict(): 'pass' | 'robust' | 'fail' {
    return checkVerdict(this.counts);
  }

  result(): CheckAccuracy {
    return { cases: { ...this.counts }, grade: this.grades.result(), points: [...this.points] };
  }
}
