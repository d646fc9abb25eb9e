/**
 * Expectations confined to features: a defect that shows only on some features (here: a BatchNorm that is
 * wrong only without affine parameters) is listed for those features only. The check is then graded on
 * its other cases, with a normal verdict, and every report says what it left out; an expectation without
 * features, or one whose features every case of the check has, covers the whole check as before.
 */
import { describe, expect, it } from 'vitest';
import type { Adapter, BatchNormTrainArgs } from '../../conformance/adapter.js';
import reference from '../../conformance/adapters/reference.js';
import { ExpectationsError, parseExpectations } from '../../conformance/expectations.js';
import { buildJunit } from '../../conformance/report/junit.js';
import { formatReport } from '../../conformance/report/table.js';
import { runConformance } from '../../conformance/runner.js';

/** The reference, but y shifted by 1 when there is no weight: wrong on exactly the no_affine cases. */
const affineOnly: Adapter = {
  ...reference, name: 'affine-only',
  async bnTrainForward(a: BatchNormTrainArgs) {
    const r = await reference.bnTrainForward!(a);
    return a.weight ? r : { ...r, y: Float64Array.from(r.y, (v) => v + 1) };
  },
};
const seed = 11;
const only = 'bn.train.forward';

describe('an expectation with features', () => {
  it('is read from JSON ("features") and from lines (features=…), each name checked', () => {
    expect(parseExpectations('[{"adapter": "a", "check": "bn.train.forward", "features": ["no_affine", "rank5"], "reason": "r"}]'))
      .toEqual([{ adapter: 'a', check: 'bn.train.forward', features: ['no_affine', 'rank5'], reason: 'r' }]);
    expect(parseExpectations('a  bn.train.*  features=no_affine,rank5  wrong without weight\n'))
      .toEqual([{ adapter: 'a', check: 'bn.train.*', features: ['no_affine', 'rank5'], reason: 'wrong without weight' }]);
    expect(() => parseExpectations('[{"adapter": "a", "check": "b", "features": ["noaffine"], "reason": "r"}]', 'x.json'))
      .toThrow(/x\.json: expectation 0 \(a b\): features: unknown feature "noaffine" \(did you mean no_affine\?\)/);
    expect(() => parseExpectations('[{"adapter": "a", "check": "b", "features": [], "reason": "r"}]', 'x.json')).toThrow(ExpectationsError);
    expect(() => parseExpectations('a b features=rank6 r\n', 'x.txt')).toThrow(/x\.txt:1: features=: unknown feature "rank6"/);
    // the reason stays mandatory
    expect(() => parseExpectations('[{"adapter": "a", "check": "b", "features": ["rank5"]}]', 'x.json')).toThrow(/needs string fields adapter, check and a non-empty reason/);
  });

  it('grades the check without those features: a normal pass, saying what it left out and why', async () => {
    const plain = await runConformance([{ adapter: affineOnly, spec: 'affine-only' }], { quick: true, seed, only });
    expect(plain.adapters[0]!.checks[0]!.status).toBe('fail');
    const expectations = parseExpectations('affine-only bn.train.forward features=no_affine wrong without weight\n');
    const report = await runConformance([{ adapter: affineOnly, spec: 'affine-only' }], { quick: true, seed, only, expectations });
    const c = report.adapters[0]!.checks[0]!;
    expect(c).toMatchObject({ status: 'pass', outcome: 'ok', expectedReason: 'wrong without weight' });
    expect(c.excluded).toEqual([expect.objectContaining({ feature: 'no_affine', source: 'expectation' })]);
    expect(c.graded).toBeGreaterThan(0);
    expect(report.summary).toMatchObject({ passed: 1, expectedFailures: 0, failed: 0 });
    const text = formatReport(report);
    expect(text).toMatch(/^\* affine-only: passes excluding non-affine cases \(expected to fail there\): bn\.train\.forward$/m);
    expect(text).toMatch(/known failures confined to features[^\n]*\n {2}wrong without weight\n {4}affine-only \(1\): bn\.train\.forward/);
    expect(buildJunit(report)).toMatch(/name="normcheck\.excluded" value="no_affine \(expected to fail there, \d+ cases?\)"/);
  });

  it('still fails a defect outside those features', async () => {
    const expectations = parseExpectations('affine-only bn.train.forward features=rank5 wrong only in 3-d\n');
    const report = await runConformance([{ adapter: affineOnly, spec: 'affine-only' }], { quick: true, seed, only, expectations });
    expect(report.adapters[0]!.checks[0]!).toMatchObject({ status: 'fail', outcome: 'failed' });
    expect(report.exitCode).toBe(1);
  });

  it('covers the whole check where every case has one of its features', async () => {
    const expectations = parseExpectations('affine-only bn.train.no_running_stats features=no_running_stats,no_affine whole check\n');
    const report = await runConformance([{ adapter: affineOnly, spec: 'affine-only' }], { quick: true, seed, only: 'bn.train.no_running_stats', expectations });
    const c = report.adapters[0]!.checks[0]!;
    expect(c.status).toBe('fail');
    expect(c.outcome).toBe('expected failure');
    expect(c.excluded ?? []).toEqual([]);
  });
});
