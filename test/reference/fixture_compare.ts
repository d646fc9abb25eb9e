/**
 * The one comparison the fixture tests use (fixtures.test.ts, fixtures_norms.test.ts): |reference − torch| ≤ bound
 * elementwise, NaN never passes, the worst element and the first failures reported; per family, the largest
 * normwise relative error max|Δ|/max|torch| and the largest |Δ|/bound, printed by reportFamilies.
 */
import { expect } from 'vitest';
import { tensorOf, type Fixture, type FixtureTensor } from '../helpers/fixtures.js';
import { u } from './fixture_error_model.js';

interface FamilyStats { rel: number; relWhere: string; ratio: number; ratioWhere: string; values: number }
const families = new Map<string, FamilyStats>();

function record(family: string, where: string, rel: number, ratio: number, count: number): void {
  const s = families.get(family) ?? { rel: 0, relWhere: '', ratio: 0, ratioWhere: '', values: 0 };
  if (rel > s.rel) Object.assign(s, { rel, relWhere: where });
  if (ratio > s.ratio) Object.assign(s, { ratio, ratioWhere: where });
  s.values += count;
  families.set(family, s);
}

/**
 * `zeroInExactArithmetic`: the exact value is 0 (the bias gradient of a Linear layer followed by training-mode
 * BatchNorm: BatchNorm's output does not change under a shift of its input). Both sides hold rounding noise,
 * so a relative error means nothing; the family's report lists the largest absolute error separately.
 */
export function check(
  family: string, where: string, actual: ArrayLike<number>, expected: ArrayLike<number>, bound: number | ArrayLike<number>,
  zeroInExactArithmetic = false,
): void {
  expect(actual.length, `${where}: length`).toBe(expected.length);
  let maxErr = 0;
  let maxRef = 0;
  let worst = { ratio: 0, i: -1 };
  const failures: string[] = [];
  for (let i = 0; i < expected.length; i++) {
    const b = typeof bound === 'number' ? bound : bound[i]!;
    const err = Math.abs(actual[i]! - expected[i]!);
    // `!(err <= b)` fails on NaN as well as on a too-large error.
    if (!(err <= b)) failures.push(`[${i}] reference ${actual[i]} torch ${expected[i]} |Δ| ${err.toExponential(2)} > bound ${b.toExponential(2)}`);
    maxErr = Math.max(maxErr, err);
    maxRef = Math.max(maxRef, Math.abs(expected[i]!));
    const ratio = err === 0 ? 0 : err / b;
    if (ratio > worst.ratio) worst = { ratio, i };
  }
  if (failures.length > 0) {
    throw new Error(`${where}: ${failures.length} of ${expected.length} values outside the bound; worst at ${worst.i}; first:\n  ${failures.slice(0, 5).join('\n  ')}`);
  }
  if (zeroInExactArithmetic) record(`${family} (exact 0: abs. error)`, where, maxErr, worst.ratio, expected.length);
  else record(family, where, maxRef > 0 ? maxErr / maxRef : maxErr, worst.ratio, expected.length);
}

/**
 * A sampled tensor: the sampled entries within `bound` (the per-entry bound), and each row and column sum of
 * the reference within n·bound (every entry's error) + 2·(n+1)·u·Σ|entries| (the two summations).
 */
export function checkSampled(family: string, where: string, actual: Float64Array, t: FixtureTensor, bound: number | ArrayLike<number>): void {
  const [R, C] = t.shape as [number, number];
  const sample = t.sample!;
  const b = (i: number) => (typeof bound === 'number' ? bound : bound[i]!);
  check(family, `${where} (sample of ${sample.index.length})`, sample.index.map((i) => actual[i]!), sample.data, sample.index.map(b));
  const rowSum = new Float64Array(R);
  const rowAbs = new Float64Array(R);
  const rowBound = new Float64Array(R);
  const colSum = new Float64Array(C);
  const colAbs = new Float64Array(C);
  const colBound = new Float64Array(C);
  for (let r = 0; r < R; r++) {
    for (let c = 0; c < C; c++) {
      const v = actual[r * C + c]!;
      rowSum[r] += v;
      rowAbs[r] += Math.abs(v);
      rowBound[r] += b(r * C + c);
      colSum[c] += v;
      colAbs[c] += Math.abs(v);
      colBound[c] += b(r * C + c);
    }
  }
  check(family, `${where} (row sums)`, rowSum, t.sumLast!, rowAbs.map((a, r) => rowBound[r]! + 2 * (C + 1) * u * a));
  check(family, `${where} (column sums)`, colSum, t.sumFirst!, colAbs.map((a, c) => colBound[c]! + 2 * (R + 1) * u * a));
}

/** A tensor the fixture may store whole or sampled. */
export function checkTensor(
  family: string, fixture: Fixture, name: string, actual: Float64Array, bound: number | ArrayLike<number>, zeroInExactArithmetic = false,
): void {
  const t = tensorOf(fixture, name);
  const where = `${fixture.name} ${name}`;
  if (t.data) check(family, where, actual, t.data, bound, zeroInExactArithmetic);
  else checkSampled(family, where, actual, t, bound);
}

/** Prints, per family, the largest relative error and the largest share of the bound used. */
export function reportFamilies(title: string): void {
  const rows = [...families].sort(([a], [b]) => a.localeCompare(b)).map(([family, s]) =>
    `  ${family}\n    max error      ${s.rel.toExponential(2)} (${s.relWhere})\n` +
    `    max |Δ|/bound  ${s.ratio.toExponential(2)} (${s.ratioWhere}), ${s.values} values checked`);
  console.log(`${title} (error: max|Δ|/max|torch| per tensor, absolute where marked):\n${rows.join('\n')}`);
}
