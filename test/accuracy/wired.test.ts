/**
 * The accuracy verdicts as a run reports them (check.ts, judge.ts, accuracy/judged.ts, accuracy/tally.ts):
 * inconclusive cases make a check `robust`, never `pass`, for an implementation that throws its input away;
 * every differential check carries a grade against the honest algorithms of the precision, with the deciding
 * case and the command that replays it; the full profile draws realistic sizes, the quick one does not.
 */
import { describe, expect, it } from 'vitest';
import type { Adapter } from '../../conformance/adapter.js';
import { CHECKS } from '../../conformance/catalog.js';
import { FULL_DOMAIN } from '../../conformance/domain.js';
import { AT_SIZE_MUTANTS } from '../../conformance/mutants/at_size.js';
import { runConformance } from '../../conformance/runner.js';
import type { CheckContext } from '../../conformance/invoke.js';
import { conventionsFor } from '../../conformance/profiles.js';
import { emulatedAdapter } from '../conformance/emulated.js';

const seed = 20261202;

describe('three outcomes', () => {
  it('y = bias (the input thrown away) passes no check: each is failed, robust or not provided', async () => {
    const m = AT_SIZE_MUTANTS.find((x) => x.name === 'y-equals-bias')!;
    const report = await runConformance([{ adapter: m.adapter(), spec: m.name }], { quick: true, seed });
    const checks = report.adapters[0]!.checks;
    expect(checks.filter((c) => c.status === 'pass').map((c) => c.id)).toEqual([]);
    // the relations it satisfies vacuously, the constant row whose right answer is y = bias, hygiene: robust
    const robust = checks.filter((c) => c.status === 'robust');
    expect(robust.map((c) => c.id)).toEqual(expect.arrayContaining(['ln.forward.shift_invariance', 'ln.forward.constant_row', 'hygiene.deterministic']));
    for (const c of robust) expect(c.cases!.pass).toBe(0);
    expect(report.summary.robust).toBe(robust.length);
  });

  it('zero gradients satisfy Σdx = 0 and linearity only vacuously: robust there, failed by the differential backward', async () => {
    const zeroGrad: Adapter = {
      name: 'zero-grad', precision: 'float32', layout: 'NCHW', profile: 'pytorch',
      bnBackward: ({ x, weight, bias, shape }) => ({ dx: new Float32Array(x.length), dweight: weight && new Float32Array(shape[1]!), dbias: bias && new Float32Array(shape[1]!) }),
    };
    const report = await runConformance([{ adapter: zeroGrad, spec: 'zero-grad' }], { quick: true, seed, only: 'bn.backward' });
    const status = Object.fromEntries(report.adapters[0]!.checks.map((c) => [c.id, c.status]));
    expect(status).toMatchObject({ 'bn.backward.sum_dx_zero': 'robust', 'bn.backward.linearity': 'robust', 'bn.backward.train': 'fail' });
  });
});

describe('the accuracy grade', () => {
  it('reads an honest float32 two-pass as accurate as honest (or better), and a one-pass variance within bound as worse than honest', async () => {
    // multi-axis rows (up to 6·6·6 values): large enough for the one-pass error to show, small enough to stay in bound
    const only = 'ln.forward.multi_axis';
    const honest = await runConformance([{ adapter: emulatedAdapter({ variance: 'two-pass' }), spec: 'two-pass' }], { quick: true, seed, only, runs: 20 });
    const onePass = await runConformance([{ adapter: emulatedAdapter({ variance: 'one-pass' }), spec: 'one-pass' }], { quick: true, seed, only, runs: 20 });
    const h = honest.adapters[0]!.checks[0]!;
    const o = onePass.adapters[0]!.checks[0]!;
    expect(h.status).toBe('pass');
    expect(h.grade!.class).not.toBe('worse than honest');
    expect(h.grade!.ratio).toBeLessThanOrEqual(2);
    // the one-pass error grows like u·κ² where the honest ones grow like u·κ: still inside the worst-case bound
    expect(o.status).toBe('pass');
    expect(o.grade!.class).toBe('worse than honest');
    expect(o.grade!.ratio).toBeGreaterThan(2);
    // the deciding case of a passing check: its description, its replay path and the command
    expect(o.grade!.label).toMatch(/^ln_forward_multi_axis_/);
    expect(o.grade!.path).toMatch(/^\d+$/);
    expect(o.grade!.replay).toContain(`--path "${o.grade!.path}"`);
    expect(onePass.adapters[0]!.grade!.check).toBe(only);
  });
});

describe('realistic sizes', () => {
  const ctx = (quick: boolean): CheckContext => ({
    precision: 'float32', quick, domain: FULL_DOMAIN, conventions: conventionsFor({ profile: 'pytorch' } as never), profile: 'pytorch',
  } as unknown as CheckContext);
  it('the full profile draws real layer sizes (M ≥ 1000) in the differential checks of every norm; the quick profile never', () => {
    for (const id of ['bn.train.forward', 'ln.forward', 'gn.backward', 'in.forward', 'rms.backward']) {
      const check = CHECKS.find((c) => c.id === id)!;
      const full = check.sample!(ctx(false), 60);
      const realistic = full.filter((c) => c.label.includes('_realistic_'));
      expect(realistic.length, id).toBeGreaterThanOrEqual(2);
      expect(Math.max(...realistic.map((c) => (c as unknown as { x: Float64Array }).x.length)), id).toBeGreaterThanOrEqual(1000);
      expect(check.sample!(ctx(true), 60).filter((c) => c.label.includes('_realistic_')), id).toEqual([]);
    }
  });
});
