/**
 * The project gates itself: the quick suite on the `kernels` adapter against the committed
 * baselines/kernels-quick.json, so a kernel change that loses accuracy fails `npm test` (what CI runs) even
 * while every check still passes. The rule (conformance/baseline.ts): a check that passed must still pass,
 * and its worst error/bound may grow at most 2× (plus a floor of 0.01 of the bound).
 *
 * When a kernel change moves a worst error on purpose, rewrite the baseline in the same commit:
 *   npm run build && node dist/cli/main.js check kernels --quick --seed 20261127 --write-baseline baselines/kernels-quick.json
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Adapter, FloatArray } from '../../conformance/adapter.js';
import kernels from '../../conformance/adapters/kernels.js';
import { baselineOf, compareWithBaseline, formatBaselineComparison, parseBaseline, readBaseline, serializeBaseline, type Baseline } from '../../conformance/baseline.js';
import { PRECISIONS } from '../../conformance/precision.js';
import { runConformance } from '../../conformance/runner.js';
import { runCli } from '../../cli/program.js';

const BASELINE_FILE = fileURLToPath(new URL('../../baselines/kernels-quick.json', import.meta.url));

function runLike(b: Baseline, adapter: Adapter) {
  return runConformance([{ adapter, spec: adapter.name }], { quick: b.quick, seed: b.seed, runs: b.runs });
}

/**
 * The kernels with every forward output degraded by a relative error δ on its normalised part:
 * y' = b + (y - b)·(1 + δ). The bias part is left alone, so a constant channel still gives exactly the bias.
 * With δ = 4u the change is of the size the error model allows for the final scale and shift alone
 * (SAFETY·2u·|w·x̂|, error_model.ts), so every check still passes: the loss is invisible to pass/fail.
 */
function degraded(a: Adapter, delta: number): Adapter {
  const degrade = (y: FloatArray, bias: FloatArray | null, paramOf: (i: number) => number) =>
    Float32Array.from(y, (v, i) => {
      const b = bias ? bias[paramOf(i)]! : 0;
      return b + (v - b) * (1 + delta);
    });
  const channelOf = (shape: readonly number[]) => {
    const S = shape.slice(2).reduce((p, d) => p * d, 1);
    return (i: number) => Math.floor(i / S) % shape[1]!;
  };
  return {
    ...a,
    async bnTrainForward(args) {
      const r = await a.bnTrainForward!(args);
      return { ...r, y: degrade(r.y, args.bias, channelOf(args.shape)) };
    },
    async bnEvalForward(args) {
      const r = await a.bnEvalForward!(args);
      return { y: degrade(r.y, args.bias, channelOf(args.shape)) };
    },
    async lnForward(args) {
      const r = await a.lnForward!(args);
      const D = args.normalizedShape.reduce((p, d) => p * d, 1);
      return { ...r, y: degrade(r.y, args.bias, (i) => i % D) };
    },
  };
}

describe('the kernels against baselines/kernels-quick.json', () => {
  const baseline = readBaseline(BASELINE_FILE);

  it('records the kernels adapter, quick, with a fixed seed and every check passing', () => {
    expect(baseline.quick).toBe(true);
    expect(Object.keys(baseline.adapters)).toEqual(['kernels']);
    const statuses = Object.values(baseline.adapters['kernels']!.checks).map((c) => c.status);
    expect(statuses.length).toBeGreaterThan(40);
    expect(statuses.every((s) => s === 'pass' || s === 'robust')).toBe(true);
  });

  it('the kernels today: no check failing and no worst error grown past 2× the baseline', async () => {
    const report = await runLike(baseline, kernels);
    const c = compareWithBaseline(report, baseline);
    expect(c.comparable).toBe(true);
    expect(c.regressions.map((r) => r.message), formatBaselineComparison(c, BASELINE_FILE)).toEqual([]);
    expect(c.compared).toBe(Object.keys(baseline.adapters['kernels']!.checks).length);
  });

  it('a kernel that loses accuracy fails the gate while still passing every check, naming the check and the growth', async () => {
    const u = PRECISIONS.float32.u;
    const report = await runLike(baseline, degraded(kernels, 4 * u));
    // inside the tolerance: pass/fail alone would not notice
    expect(report.adapters[0]!.checks.filter((x) => x.status !== 'pass' && x.status !== 'robust' && x.status !== 'not provided').map((x) => `${x.id}: ${x.message}`)).toEqual([]);
    const c = compareWithBaseline(report, baseline);
    expect(c.ok).toBe(false);
    expect(c.regressions.length).toBeGreaterThan(0);
    for (const r of c.regressions) {
      expect(r.kind).toBe('error grew');
      expect(r.growth!).toBeGreaterThan(2);
      expect(r.message).toContain(`kernels ${r.check}: worst error grew`);
      expect(r.message).toMatch(/grew \d+(\.\d)?×, from [\d.e-]+ to [\d.e-]+ of its bound/);
    }
    // the forward outputs were degraded, so the gate names forward checks only
    expect(c.regressions.every((r) => /^(bn\.train|bn\.eval|ln\.forward|fixtures)/.test(r.check))).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The rule itself, on hand-made reports

type Row = [id: string, status: 'pass' | 'fail' | 'error' | 'skipped' | 'not provided', ratio: number | null];

function fakeReport(rows: Row[], settings: Partial<{ seed: number; quick: boolean; runs: number }> = {}) {
  return {
    schema: 'normcheck-report/1', startedAt: '2026-01-01T00:00:00.000Z', durationMs: 1, seed: settings.seed ?? 7, quick: settings.quick ?? true,
    runs: settings.runs ?? 5, profileOverride: null, exitCode: 0,
    summary: { passed: 0, failed: 0, errors: 0, skipped: 0, notProvided: 0, expectedFailures: 0, unexpectedPasses: 0, unavailableAdapters: 0, notInstalledAdapters: 0, loadErrors: 0 },
    adapters: [{
      name: 'impl', description: '', precision: 'float32', layout: 'NCHW', profile: 'pytorch', conventions: { momentum: 0.1, runningVar: 'unbiased', eps: 1e-5 },
      capabilities: [], state: 'ran', message: null, spec: 'impl',
      checks: rows.map(([id, status, ratio]) => ({
        id, status, category: 'differential', description: '', outcome: 'ok', expectedReason: null, replay: null, durationMs: 1,
        message: status === 'fail' ? 'y: 1 of 4 values out of bound' : '', runs: 5, seed: 7, path: null, counterexample: null, details: [],
        worst: ratio === null ? null : { ratio, ulps: 1, error: ratio, bound: 1, quantity: 'y' },
      })),
    }],
  } as unknown as Parameters<typeof compareWithBaseline>[0];
}

function baselineFrom(rows: Row[]): Baseline {
  return parseBaseline(JSON.stringify({
    schema: 'normcheck-baseline/1', createdAt: 'x', seed: 7, quick: true, runs: 5, profileOverride: null,
    adapters: { impl: { state: 'ran', checks: Object.fromEntries(rows.map(([id, status, worstRatio]) => [id, { status, worstRatio, quantity: 'y' }])) } },
  }));
}

describe('the baseline rule', () => {
  const before = baselineFrom([['a', 'pass', 0.1], ['b', 'pass', 0.001], ['c', 'pass', 0], ['d', 'pass', 0.2], ['e', 'fail', Infinity], ['f', 'pass', 0.1]]);

  it('flags a check that passed and now fails, a worst error past 2×, and a check that no longer runs', () => {
    const now = fakeReport([['a', 'pass', 0.25], ['b', 'pass', 0.009], ['c', 'pass', 0.02], ['d', 'fail', 3], ['e', 'pass', 0.5], ['f', 'skipped', null]]);
    const c = compareWithBaseline(now, before);
    const byCheck = Object.fromEntries(c.regressions.map((r) => [r.check, r]));
    expect(Object.keys(byCheck).sort()).toEqual(['a', 'c', 'd', 'f']);
    expect(byCheck['a']!.kind).toBe('error grew');
    expect(byCheck['a']!.growth).toBeCloseTo(2.5, 12);
    expect(byCheck['a']!.message).toContain('impl a: worst error grew 2.5×, from 0.100 to 0.250 of its bound');
    expect(byCheck['c']!.message).toContain('∞× (from 0)');
    expect(byCheck['d']!.kind).toBe('now failing');
    expect(byCheck['f']!.kind).toBe('no longer runs');
    expect(c.fixed).toEqual(['impl e (was fail)']);
    expect(c.ok).toBe(false);
  });

  it('lets a growth of 9× pass when it is below the floor of 0.01 of the bound, and exactly 2× pass', () => {
    const now = fakeReport([['a', 'pass', 0.2], ['b', 'pass', 0.009], ['c', 'pass', 0.005], ['d', 'pass', 0.2], ['e', 'fail', Infinity], ['f', 'pass', 0.1]]);
    const c = compareWithBaseline(now, before);
    expect(c.regressions).toEqual([]);
    expect(c.ok).toBe(true);
  });

  it('refuses to compare runs of other cases: another seed, --runs or profile', () => {
    const c = compareWithBaseline(fakeReport([['a', 'pass', 0.1]], { seed: 8, runs: 50, quick: false }), before);
    expect(c.comparable).toBe(false);
    expect(c.ok).toBe(false);
    expect(c.mismatches.join('; ')).toMatch(/seed 8 \(baseline 7\).*full profile \(baseline --quick\).*runs 50 \(baseline 5\)/);
  });

  it('refuses to compare a strict run with a worst-case baseline (other bounds, other ratios), and keeps the tier in the file', () => {
    const strict = { ...fakeReport([['a', 'pass', 0.1]]), tolerance: 'strict' as const };
    expect(compareWithBaseline(strict, before).mismatches).toEqual(['--tolerance strict (baseline worst-case)']);
    const b = parseBaseline(serializeBaseline(baselineOf(strict)));
    expect(b.tolerance).toBe('strict');
    expect(compareWithBaseline(strict, b).comparable).toBe(true);
    expect(() => parseBaseline(JSON.stringify({ ...b, tolerance: 'lax' }))).toThrow(/tolerance must be absent or one of "worst-case", "strict", got "lax"/);
  });

  it('round-trips through its file format, infinite ratios included', () => {
    const b = baselineFrom([['x', 'fail', Infinity], ['y', 'pass', 0.125]]);
    expect(parseBaseline(JSON.stringify({ ...b, adapters: { impl: { state: 'ran', checks: { x: { status: 'fail', worstRatio: 'Infinity', quantity: null } } } } })).adapters['impl']!.checks['x']!.worstRatio).toBe(Infinity);
    expect(() => parseBaseline('{"schema": "something else"}')).toThrow(/not a normcheck baseline/);
  });
});

describe('normcheck check --write-baseline / --baseline', () => {
  it('writes a baseline, passes against it, and fails naming the check and the factor when a ratio was lower', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'normcheck-baseline-'));
    const file = join(dir, 'b.json');
    const out: string[] = [];
    const io = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void out.push(t), stderrIsTTY: false };
    expect(await runCli(['check', 'kernels', '--quick', '--seed', '11', '--only', 'bn.train.forward,bn.eval', '--write-baseline', file], io)).toBe(0);
    expect(await runCli(['check', 'kernels', '--only', 'bn.train.forward,bn.eval', '--baseline', file], io)).toBe(0);
    expect(out.join('')).toMatch(/baseline .*b\.json: OK — 3 checks compared/);

    // pretend the baseline was 8× more accurate on bn.train.forward
    const b = JSON.parse(readFileSync(file, 'utf8'));
    const entry = b.adapters.kernels.checks['bn.train.forward'];
    entry.worstRatio = entry.worstRatio / 8;
    writeFileSync(file, JSON.stringify(b));
    out.length = 0;
    const xml = join(dir, 'baseline-junit.xml');
    expect(await runCli(['check', 'kernels', '--only', 'bn.train.forward,bn.eval', '--baseline', file, '--growth-factor', '3', '--baseline-junit', xml], io)).toBe(1);
    expect(out.join('')).toMatch(/REGRESSION \(error grew\) kernels bn\.train\.forward: worst error grew 8\.0×, from [\d.e-]+ to [\d.e-]+ of its bound .*allowed: at most 3×/);
    // the CI test view gets one test case per gated check, the regression as its failure
    const junitXml = readFileSync(xml, 'utf8');
    expect(junitXml.match(/<testcase /g)!.length).toBe(3);
    expect(junitXml).toMatch(/<testcase classname="normcheck\.baseline\.kernels" name="bn\.train\.forward"[^>]*>\s*<failure message="kernels bn\.train\.forward: worst error grew 8\.0×/);
    out.length = 0;
    expect(await runCli(['check', 'kernels', '--only', 'bn.train.forward', '--seed', '12', '--baseline', file], io)).toBe(2);
    expect(out.join('')).toMatch(/NOT COMPARABLE — this run differs in seed 12 \(baseline 11\)/);
  });
});
