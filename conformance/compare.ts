/**
 * The one comparison function of the suite. Every check that compares numbers calls `compare`.
 *
 * Rules:
 * - It skips nothing silently: every element is compared (a `mask` may exclude elements, and the check that
 *   passes one says why, e.g. the channel that holds a NaN on purpose).
 * - NaN matches only NaN, +Infinity only +Infinity, -Infinity only -Infinity. A finite expected value needs a
 *   finite actual value within the bound: |actual - expected| ≤ bound[i] (bound from error_model.ts), or,
 *   when it lies beyond the precision's largest finite number, the infinity of its sign.
 * - It reports the worst element (largest error/bound), its index, its error in ulps of the adapter's
 *   precision, and the first few mismatches.
 */
import type { Precision } from './adapter.js';
import type { OutputAccuracy } from './accuracy/judged.js';
import { PRECISIONS, ulp } from './precision.js';

export interface Mismatch {
  index: number;
  actual: number;
  expected: number;
  error: number;
  bound: number;
}

export interface Comparison {
  /** What was compared: 'y', 'runningVar', 'dx', … */
  quantity: string;
  ok: boolean;
  /** Elements compared (after the mask). */
  count: number;
  /** Elements out of bound. */
  numMismatches: number;
  /** The element with the largest error/bound, -1 when nothing was compared. */
  worstIndex: number;
  /** error/bound at the worst element: ≤ 1 passes; Infinity for a non-finite mismatch or an error over a zero bound. */
  worstRatio: number;
  worstError: number;
  worstBound: number;
  /** Error at the worst element in ulps of the adapter's precision at the expected value. */
  worstUlps: number;
  mismatches: Mismatch[];
  /** A remark for the report (e.g. what an honest implementation in the precision reaches here). */
  note?: string;
  /**
   * Whether this comparison tells the right answer from the output's trivial one (accuracy/inconclusive.ts):
   * false when the trivial answer would pass it too. Absent: the output has no trivial answer (saved statistics).
   */
  conclusive?: boolean;
  /** The output's accuracy grade and plot data (accuracy/judged.ts); absent where no honest oracle exists. */
  accuracy?: OutputAccuracy;
}

const KEEP_MISMATCHES = 5;

function sameSpecial(actual: number, expected: number): boolean {
  return Number.isNaN(expected) ? Number.isNaN(actual) : actual === expected;
}

export function compare(
  quantity: string, actual: ArrayLike<number>, expected: ArrayLike<number>, bound: ArrayLike<number> | number, precision: Precision,
  mask?: (index: number) => boolean,
): Comparison {
  const max = PRECISIONS[precision].max;
  const result: Comparison = {
    quantity, ok: true, count: 0, numMismatches: 0, worstIndex: -1, worstRatio: 0, worstError: 0, worstBound: 0, worstUlps: 0, mismatches: [],
  };
  if (actual.length !== expected.length) {
    // Lengths are validated when the adapter returns; this guards checks that build their own arrays.
    result.ok = false;
    result.worstRatio = Infinity;
    result.numMismatches = 1;
    result.mismatches.push({ index: -1, actual: actual.length, expected: expected.length, error: Infinity, bound: 0 });
    return result;
  }
  for (let i = 0; i < expected.length; i++) {
    if (mask && !mask(i)) continue;
    result.count++;
    const a = actual[i]!;
    const e = expected[i]!;
    const b = typeof bound === 'number' ? bound : bound[i]!;
    let error: number;
    let ratio: number;
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      // An expected value beyond the precision's largest finite number overflows in any implementation:
      // the infinity of its sign is then the right answer.
      const same = sameSpecial(a, e) || (Number.isFinite(e) && Math.abs(e) > max && a === Math.sign(e) * Infinity);
      error = same ? 0 : Infinity;
      ratio = same ? 0 : Infinity;
    } else {
      error = Math.abs(a - e);
      ratio = error === 0 ? 0 : b > 0 ? error / b : Infinity;
    }
    if (ratio > 1) {
      result.ok = false;
      result.numMismatches++;
      if (result.mismatches.length < KEEP_MISMATCHES) result.mismatches.push({ index: i, actual: a, expected: e, error, bound: b });
    }
    if (ratio > result.worstRatio || result.worstIndex < 0) {
      result.worstRatio = ratio;
      result.worstIndex = i;
      result.worstError = error;
      result.worstBound = b;
      result.worstUlps = Number.isFinite(error) ? error / ulp(precision, e) : Infinity;
    }
  }
  return result;
}

/** A check of a scalar relation (Σ dx = 0, …) as a one-element comparison, so it reports like the others. */
export function compareScalar(quantity: string, actual: number, expected: number, bound: number, precision: Precision): Comparison {
  return compare(quantity, [actual], [expected], [bound], precision);
}

function fmt(v: number): string {
  return Number.isFinite(v) ? v.toPrecision(9) : String(v);
}

/** One line per mismatch, for reports. `where` turns a flat index into a readable position. */
export function describeComparison(c: Comparison, where: (index: number) => string = (i) => `[${i}]`): string[] {
  const lines = [
    `${c.quantity}: ${c.numMismatches} of ${c.count} values out of bound; worst ${where(c.worstIndex)} error ${fmt(c.worstError)} = ${fmtRatio(c.worstRatio)} of bound ${fmt(c.worstBound)} (${fmtUlps(c.worstUlps)})`,
  ];
  if (c.note) lines.push(`  (${c.note})`);
  for (const m of c.mismatches) {
    lines.push(`  ${c.quantity}${where(m.index)}: got ${fmt(m.actual)}, expected ${fmt(m.expected)} ± ${fmt(m.bound)}`);
  }
  return lines;
}

export function fmtRatio(r: number): string {
  if (!Number.isFinite(r)) return '∞';
  if (r === 0) return '0';
  return r >= 0.01 ? r.toFixed(2) : r.toExponential(1);
}

export function fmtUlps(ulps: number): string {
  if (!Number.isFinite(ulps)) return '∞ ulp';
  return `${ulps < 10 ? ulps.toFixed(1) : ulps.toExponential(2)} ulp`;
}
