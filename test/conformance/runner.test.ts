/**
 * The runner never crashes: an adapter that throws, hangs, or returns the wrong shape or type fails the
 * checks it breaks, with a message that says what happened, and the other adapters of the run go on.
 * Missing capabilities are "not provided", not failed; expectations turn known failures into expected ones;
 * a failure replays from its seed and path.
 */
import { describe, expect, it } from 'vitest';
import reference from '../../conformance/adapters/reference.js';
import { CHECKS, matchesPattern } from '../../conformance/catalog.js';
import { expectationMatches, parseExpectations, unmatchedExpectations } from '../../conformance/expectations.js';
import { toJson } from '../../conformance/report/json.js';
import { buildJunit } from '../../conformance/report/junit.js';
import { formatReport } from '../../conformance/report/table.js';
import { runConformance, validateAdapter } from '../../conformance/runner.js';
import { hanging, lnOnly, throwing, wrongShape, wrongType } from './broken.js';
import { emulatedAdapter } from './emulated.js';

const seed = Number(process.env.NORMCHECK_FC_SEED ?? 20261127);

describe('the runner', () => {
  it('reports an adapter that throws as an error on the checks that call it, and runs the next adapter', async () => {
    const report = await runConformance(
      [{ adapter: throwing(), spec: 'throws' }, { adapter: reference, spec: 'reference' }],
      { quick: true, seed, only: 'bn.train.forward,bn.eval.forward' },
    );
    const [bad, good] = report.adapters;
    const train = bad!.checks.find((c) => c.id === 'bn.train.forward')!;
    expect(train.status).toBe('error');
    expect(train.message).toMatch(/bnTrainForward threw Error: kernel not compiled for this shape/);
    expect(bad!.checks.find((c) => c.id === 'bn.eval.forward')!.status).toBe('pass');
    expect(good!.checks.every((c) => c.status === 'pass' || c.status === 'robust')).toBe(true);
    expect(report.summary.errors).toBe(1);
    expect(report.exitCode).toBe(1);
  });

  it('times out a call whose Promise never settles, without waiting again while shrinking', async () => {
    const t0 = Date.now();
    const report = await runConformance([{ adapter: hanging(), spec: 'hangs' }], { quick: true, seed, only: 'bn.eval.forward,bn.train.forward', timeoutMs: 100 });
    const evalCheck = report.adapters[0]!.checks.find((c) => c.id === 'bn.eval.forward')!;
    expect(evalCheck.status).toBe('error');
    expect(evalCheck.message).toMatch(/bnEvalForward did not return within 100 ms/);
    expect(report.adapters[0]!.checks.find((c) => c.id === 'bn.train.forward')!.status).toBe('pass');
    // one timeout, not one per shrink step (generous: this only guards against waiting the timeout per run)
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it('stops a check whose calls are each in time but which exceeds its own time limit', async () => {
    const slow = { ...reference, name: 'slow', bnEvalForward: async (a: Parameters<NonNullable<typeof reference.bnEvalForward>>[0]) => {
      await new Promise((r) => setTimeout(r, 40));
      return reference.bnEvalForward(a);
    } };
    const report = await runConformance([{ adapter: slow, spec: 'slow' }], { quick: true, seed, runs: 50, only: 'bn.eval.forward', checkTimeoutMs: 150 });
    const c = report.adapters[0]!.checks[0]!;
    expect(c.status).toBe('error');
    expect(c.message).toMatch(/exceeded its time limit of 150 ms after \d+ of 50 runs/);
  });

  it('fails an adapter that returns the wrong shape, naming the output and both lengths', async () => {
    const report = await runConformance([{ adapter: wrongShape(), spec: 'wrong-shape' }], { quick: true, seed, only: 'bn.train.forward' });
    const c = report.adapters[0]!.checks[0]!;
    expect(c.status).toBe('fail');
    expect(c.message).toMatch(/bnTrainForward returned y with \d+ values; expected \d+/);
    expect(c.counterexample).toBeTruthy();
  });

  it('fails a float32 adapter that returns Float64Array', async () => {
    const report = await runConformance([{ adapter: wrongType(), spec: 'wrong-type' }], { quick: true, seed, only: 'ln.forward,hygiene.output_shape_type' });
    for (const c of report.adapters[0]!.checks) {
      expect(c.status).toBe('fail');
      expect(c.message).toMatch(/returned y as Float64Array; a float32 adapter must return Float32Array/);
    }
  });

  it('reports missing capabilities as not provided, which does not fail the run', async () => {
    const report = await runConformance([{ adapter: lnOnly(), spec: 'ln-only' }], { quick: true, seed, only: 'bn.train.forward,bn.backward,ln.forward,hygiene' });
    const status = Object.fromEntries(report.adapters[0]!.checks.map((c) => [c.id, c.status]));
    expect(status['bn.train.forward']).toBe('not provided');
    expect(status['bn.backward.train']).toBe('not provided');
    expect(status['ln.forward']).toBe('pass');
    expect(status['hygiene.no_input_mutation']).toBe('pass');
    expect(report.summary.failed + report.summary.errors).toBe(0);
    expect(report.exitCode).toBe(0);
  });

  it('skips an adapter that says it is unavailable, and counts a named one as a loading error', async () => {
    const unavailable = { ...reference, name: 'gpu', available: () => 'no GPU here' };
    const relaxed = await runConformance([{ adapter: unavailable, spec: 'gpu' }], { quick: true, seed, only: 'ln.forward' });
    expect(relaxed.adapters[0]!.state).toBe('unavailable');
    expect(relaxed.adapters[0]!.message).toBe('no GPU here');
    expect(relaxed.exitCode).toBe(0);
    const strict = await runConformance([{ adapter: unavailable, spec: 'gpu' }], { quick: true, seed, only: 'ln.forward', required: ['gpu'] });
    expect(strict.exitCode).toBe(2);
  });

  it('turns a listed failure into an expected failure, and reports an unexpected pass', async () => {
    const adapter = emulatedAdapter({ bug: 'no-bessel', name: 'no-bessel' });
    const expectations = parseExpectations('no-bessel bn.train.running_var  biased running variance, known\nno-bessel bn.train.forward  listed but passes\n');
    const report = await runConformance([{ adapter, spec: 'no-bessel' }], { quick: true, seed, only: 'bn.train.running_var,bn.train.forward', expectations });
    const byId = Object.fromEntries(report.adapters[0]!.checks.map((c) => [c.id, c]));
    expect(byId['bn.train.running_var']!.status).toBe('fail');
    expect(byId['bn.train.running_var']!.outcome).toBe('expected failure');
    expect(byId['bn.train.running_var']!.expectedReason).toBe('biased running variance, known');
    // --quick: the JSON's outcome says what the console says; the summary still counts it as unexpectedPasses
    expect(byId['bn.train.forward']!.outcome).toBe('expected failure not reproduced');
    expect(report.summary).toMatchObject({ failed: 0, expectedFailures: 1, unexpectedPasses: 1 });
    expect(report.exitCode).toBe(0);
    expect(formatReport(report)).toMatch(/expected failures \(from --expect\), by reason:\n {2}biased running variance, known\n {4}no-bessel \(1\): bn\.train\.running_var\n/);
    // --quick: five small cases may not draw the failing ones, so the pass is reported as what it is
    expect(formatReport(report)).toMatch(/expected failures not reproduced in this run \(--quick draws few, small cases[^]*?:\n {2}listed but passes\n {4}no-bessel \(1\): bn\.train\.forward\n/);
    expect(formatReport(report)).toMatch(/^bn\.train\.forward +xfail\?$/m);
    expect(formatReport(report)).toMatch(/^bn\.train\.running_var +xfail$/m);
    expect(formatReport(report)).toMatch(/1 expected failure, 1 expected failure not reproduced —/);
    const full = await runConformance([{ adapter, spec: 'no-bessel' }], { runs: 2, seed, only: 'bn.train.forward', expectations });
    expect(full.exitCode).toBe(0);
    expect(formatReport(full)).toMatch(/unexpected passes \(listed in --expect, passed all 2 runs per property[^]*?:\n {2}listed but passes\n {4}no-bessel \(1\): bn\.train\.forward\n/);
    expect(formatReport(full)).toMatch(/^bn\.train\.forward +XPASS$/m);
    expect(formatReport(full)).toMatch(/1 unexpected pass —/);
    expect(full.adapters[0]!.checks[0]!.outcome).toBe('unexpected pass');
  });

  it('matches an expectation by exact id, so an id does not cover the checks named under it', async () => {
    // no-bessel passes ln.backward and ln.backward.dbias_sum_dy alike; only the listed one is claimed
    const adapter = emulatedAdapter({ bug: 'no-bessel', name: 'no-bessel' });
    const expectations = parseExpectations('no-bessel ln.backward  claimed\n');
    const report = await runConformance([{ adapter, spec: 'no-bessel' }], { quick: true, seed, only: 'ln.backward,ln.backward.dbias_sum_dy', expectations });
    const byId = Object.fromEntries(report.adapters[0]!.checks.map((c) => [c.id, c]));
    expect(byId['ln.backward']!.outcome).toBe('expected failure not reproduced');
    expect(byId['ln.backward.dbias_sum_dy']!.outcome).toBe('ok');
    expect(byId['ln.backward.dbias_sum_dy']!.expectedReason).toBeNull();
  });

  it('replays a failure from its seed and path to the same counterexample', async () => {
    const adapter = emulatedAdapter({ variance: 'one-pass' });
    const first = await runConformance([{ adapter, spec: 'x' }], { quick: true, seed, only: 'bn.train.offset_1e4' });
    const failed = first.adapters[0]!.checks[0]!;
    expect(failed.status).toBe('fail');
    const again = await runConformance([{ adapter, spec: 'x' }], { quick: true, seed: failed.seed!, path: failed.path!, only: 'bn.train.offset_1e4' });
    const replayed = again.adapters[0]!.checks[0]!;
    expect(replayed.status).toBe('fail');
    expect(replayed.counterexample).toBe(failed.counterexample);
  });

  it('shrinks a missing Bessel correction to a case still within a decade of its first failure, and replays that case', async () => {
    const adapter = emulatedAdapter({ bug: 'no-bessel', name: 'no-bessel' });
    const first = await runConformance([{ adapter, spec: 'x' }], { quick: true, seed, only: 'bn.train.running_var' });
    const failed = first.adapters[0]!.checks[0]!;
    expect(failed.status).toBe('fail');
    // the detail line reports both ratios; the shrunk one must be ≥ first/10 (and > 1), not the bound-grazing 1.00
    const m = /first failing case: ([\d.e+]+)× its bound .*; shrunk to ([\d.e+]+)×/.exec(failed.details.join('\n'));
    expect(m).not.toBeNull();
    const [r0, shrunk] = [Number(m![1]), Number(m![2])];
    expect(shrunk).toBeGreaterThanOrEqual(Math.max(1, r0 / 10) * (1 - 1e-2)); // 1e-2: the printed ratios have 3 digits
    expect(shrunk).toBeLessThanOrEqual(r0 * 1.01);
    const again = await runConformance([{ adapter, spec: 'x' }], { quick: true, seed: failed.seed!, path: failed.path!, only: 'bn.train.running_var' });
    expect(again.adapters[0]!.checks[0]!.counterexample).toBe(failed.counterexample);
  });

  it('writes a JSON report with the documented fields and a JUnit report with one testcase per check', async () => {
    const report = await runConformance([{ adapter: emulatedAdapter({ bug: 'no-bessel' }), spec: 'x' }], { quick: true, seed, only: 'bn.train' });
    const json = JSON.parse(toJson(report));
    expect(json.schema).toBe('normcheck-report/1');
    expect(Object.keys(json.summary)).toEqual(expect.arrayContaining(['passed', 'failed', 'errors', 'skipped']));
    const check = json.adapters[0].checks.find((c: { id: string }) => c.id === 'bn.train.running_var');
    expect(check).toMatchObject({ status: 'fail', seed });
    expect(check.worst).toEqual(expect.objectContaining({ ratio: expect.any(Number), bound: expect.any(Number), ulps: expect.any(Number) }));
    expect(check.counterexample).toEqual(expect.any(String));
    const xml = buildJunit(report);
    expect(xml.startsWith('<?xml')).toBe(true);
    const cases = xml.match(/<testcase\b/g) ?? [];
    expect(cases).toHaveLength(report.adapters[0]!.checks.length);
    expect(xml).toMatch(/<failure message="[^"]*" type="fail"/);
    expect((xml.match(/<testsuite\b/g) ?? []).length).toBe(1);
  });

  it('refuses an adapter object without name, precision or layout, naming the field', () => {
    expect(() => validateAdapter({ name: 'a', precision: 'float8', layout: 'NCHW' }, 'my.js')).toThrow(/my.js: adapter.precision must be/);
    expect(() => validateAdapter({ precision: 'float32', layout: 'NCHW' }, 'my.js')).toThrow(/adapter.name/);
    expect(() => validateAdapter({ name: 'a', precision: 'float32', layout: 'NCHW', bnTrainForward: 3 }, 'my.js')).toThrow(/bnTrainForward must be a function/);
  });
});

describe('--only patterns and expectation files', () => {
  it('match an id exactly, a dotted prefix, or a glob', () => {
    expect(matchesPattern('bn.train.forward', 'bn.train.forward')).toBe(true);
    expect(matchesPattern('bn.train.forward_x', 'bn.train.forward')).toBe(false);
    expect(matchesPattern('bn.backward.sum_dx_zero', 'bn.backward')).toBe(true);
    expect(matchesPattern('bn.train.offset_1e4', '*.offset_*')).toBe(true);
    expect(matchesPattern('ln.forward', 'bn.train,ln.forward')).toBe(true);
  });

  it('parse JSON and line formats, and name the line of a malformed entry', () => {
    const json = parseExpectations('{"expectations": [{"adapter": "tfjs", "check": "bn.*", "reason": "r"}]}');
    expect(json).toEqual([{ adapter: 'tfjs', check: 'bn.*', reason: 'r' }]);
    const lines = parseExpectations('# comment\n\ntfjs  bn.train.offset_1e6   one-pass moments  # why\n');
    expect(lines).toEqual([{ adapter: 'tfjs', check: 'bn.train.offset_1e6', reason: 'one-pass moments' }]);
    expect(() => parseExpectations('tfjs bn.train\n', 'x.txt')).toThrow(/x.txt:1: expected "ADAPTER CHECK \[features=F1,F2\] REASON/);
    expect(() => parseExpectations('[{"adapter": "a", "check": "b"}]', 'x.json')).toThrow(/x.json: expectation 0: needs/);
  });

  it('match an expectation exactly, or as a glob with *, never as a dotted prefix', () => {
    expect(expectationMatches('ln.backward', 'ln.backward')).toBe(true);
    expect(expectationMatches('ln.backward.dbias_sum_dy', 'ln.backward')).toBe(false);
    expect(expectationMatches('ln.backward.dbias_sum_dy', 'ln.backward.*')).toBe(true);
    expect(expectationMatches('ln.backward', 'ln.backward.*')).toBe(false);
    expect(expectationMatches('bn.train.offset_1e4', '*.offset_*')).toBe(true);
    expect(expectationMatches('bn_train_forward', 'bn.train.forward')).toBe(false); // '.' is literal
  });

  it('find the expectations that match no check of the catalog', () => {
    const ids = CHECKS.map((c) => c.id);
    const list = parseExpectations('a bn.backward old-style prefix\na bn.backward.* family\na ln.backward exact\na ln.fwd typo\n');
    expect(unmatchedExpectations(list, ids).map((e) => e.check)).toEqual(['bn.backward', 'ln.fwd']);
  });
});
