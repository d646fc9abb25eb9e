/**
 * The strict tier (`--tolerance strict`, accuracy/probabilistic.ts): never looser than the worst case, falls
 * back to it where the probabilistic model does not hold (terms that do not vary over the partial sums' ulps),
 * tells a 1e-3 variance error from honest float32 on a group of 8 192 values where the worst case cannot, and
 * passes every honest algorithm on the same case. The 20-seed false-alarm measurement at realistic sizes is
 * scripts/no_false_alarms.ts --tolerance strict and scripts/at_size.ts (not part of npm test).
 */
import { describe, expect, it } from 'vitest';
import type { Adapter } from '../../conformance/adapter.js';
import { strictGamma } from '../../conformance/accuracy/probabilistic.js';
import { seededUnitValues } from '../../conformance/accuracy/realistic.js';
import reference from '../../conformance/adapters/reference.js';
import { FULL_DOMAIN } from '../../conformance/domain.js';
import { bnGrouping, gamma, groupStats, normBackwardBounds, normForwardBounds, roundoffs } from '../../conformance/error_model.js';
import { InProcessHost } from '../../conformance/hosts/in_process.js';
import type { CheckContext } from '../../conformance/invoke.js';
import { judgeBackward, judgeForward } from '../../conformance/judge.js';
import { CORRECT_VARIANTS, MUTANTS } from '../../conformance/mutants/gallery.js';
import { BATCHNORM } from '../../conformance/norms/batchnorm.js';
import type { NormCase } from '../../conformance/norms/spec.js';
import { roundTo } from '../../conformance/precision.js';
import { conventionsFor } from '../../conformance/profiles.js';
import { runConformance } from '../../conformance/runner.js';

const u = 2 ** -24;

function contextFor(adapter: Adapter, tolerance: 'worst-case' | 'strict'): CheckContext {
  const host = new InProcessHost(adapter, adapter.name);
  return {
    host, capabilities: new Set(host.meta.capabilities), precision: adapter.precision, layout: adapter.layout, profile: adapter.profile ?? 'pytorch',
    conventions: conventionsFor(adapter), quick: true, numRuns: 1, seed: 1, timeoutMs: 10_000, checkTimeoutMs: 60_000, ledger: { fault: null },
    origin: null, domain: FULL_DOMAIN, tolerance,
  };
}

/** One BatchNorm channel of M values t ∈ [-1, 1] (realistic.ts's grid, seed 7), weight 1.5, bias 0.25, in the precision. */
function channel(M: number, precision: 'float32' | 'float16'): NormCase {
  const r = (a: ArrayLike<number>) => Float64Array.from(a, (v) => roundTo(precision, v));
  return {
    shape: [1, 1, M], label: `channel_${M}`, tags: [], poisoned: [],
    x: r(seededUnitValues(7, M)), dy: r(seededUnitValues(8, M)),
    weight: Float64Array.of(1.5), bias: Float64Array.of(0.25), runningMean: Float64Array.of(0.5), runningVar: Float64Array.of(2),
  };
}

async function worstRatio(adapter: Adapter, c: NormCase, tolerance: 'worst-case' | 'strict', backward = false): Promise<number> {
  const ctx = contextFor(adapter, tolerance);
  const eps = ctx.conventions.eps;
  const comps = backward ? await judgeBackward(ctx, BATCHNORM, c, { eps }) : await judgeForward(ctx, BATCHNORM, c, { eps, running: true });
  return Math.max(...comps.map((x) => x.worstRatio));
}

describe('the strict tier\'s bounds', () => {
  it('are never looser than the worst case, and about √M/λ tighter on centred data of 8 192 values', () => {
    const c = channel(8192, 'float32');
    const g = bnGrouping(1, 1, 8192);
    const worst = normForwardBounds(roundoffs('float32'), c.x, g, c.weight, c.bias, 1e-5);
    const strict = normForwardBounds(roundoffs('float32'), c.x, g, c.weight, c.bias, 1e-5, strictGamma);
    expect(strict.y.every((b, i) => b <= worst.y[i]!)).toBe(true);
    // the mean's bound is γ·max|x| alone: γ_8193 / γ̃_8193 = 8193 / (10·√8193) = 9.05
    expect(worst.mean[0]! / strict.mean[0]!).toBeCloseTo(9.05, 1);
    const dWorst = normBackwardBounds(roundoffs('float32'), c.x, c.dy, g, c.weight, 1e-5);
    const dStrict = normBackwardBounds(roundoffs('float32'), c.x, c.dy, g, c.weight, 1e-5, null, strictGamma);
    expect(dStrict.dx.every((b, i) => b <= dWorst.dx[i]!)).toBe(true);
    expect(dWorst.dbias[0]! / dStrict.dbias[0]!).toBeGreaterThan(8);
  });

  it('fall back to the worst case where the terms do not vary over the partial sums\' ulps (n·u·κ > 1/32)', () => {
    expect(strictGamma(8192, u, 64)).toBeLessThan(gamma(8192, u)); // 8192·2^-24·64 = 1/32: still within
    expect(strictGamma(8192, u, 65)).toBe(gamma(8192, u));
    expect(strictGamma(8192, u, Infinity)).toBe(gamma(8192, u));
    // two-valued data: every squared deviation is the same, κ of the variance's terms is ∞
    const idx = Int32Array.from({ length: 1000 }, (_, i) => i);
    const s = groupStats(Float64Array.from(idx, (i) => (i % 2 ? 1 : -1)), idx, 1e-5);
    expect(s.kappaVar).toBe(Infinity);
    expect(s.kappaMean).toBe(1);
    // offset 1e4 ± 1: κ of the mean's terms ≈ 1e4 / 0.58
    const far = groupStats(Float64Array.from(idx, (i) => 1e4 + seededUnitValues(3, 1000)[i]!), idx, 1e-5);
    expect(far.kappaMean).toBeGreaterThan(1.5e4);
  });
});

describe('at 8 192 values per channel', () => {
  const off = MUTANTS.find((m) => m.name === 'variance-off-1e-3')!;
  const c32 = channel(8192, 'float32');

  it('the variance × (1 + 1e-3) mutant passes the worst-case bound but fails the strict one', async () => {
    expect(await worstRatio(off.adapter(), c32, 'worst-case')).toBeLessThan(1);
    expect(await worstRatio(off.adapter(), c32, 'strict')).toBeGreaterThan(1);
  });

  it('every honest algorithm passes the strict bound, forward and backward', async () => {
    const honest = ['f32-two-pass', 'f32-welford', 'f32-shifted', 'f32-float64-accumulate', 'f32-pairwise', 'f16-storage'];
    for (const name of honest) {
      const v = CORRECT_VARIANTS.find((x) => x.name === name)!;
      const c = v.adapter().precision === 'float16' ? channel(8192, 'float16') : c32;
      expect(await worstRatio(v.adapter(), c, 'strict'), name).toBeLessThan(1);
      expect(await worstRatio(v.adapter(), c, 'strict', true), `${name} backward`).toBeLessThan(1);
    }
  });
});

describe('a strict run', () => {
  it('says so in its report and in every replay command', async () => {
    const report = await runConformance([{ adapter: reference, spec: 'reference' }], { quick: true, seed: 1, only: 'bn.train.forward', tolerance: 'strict' });
    expect(report.tolerance).toBe('strict');
    expect(report.adapters[0]!.checks[0]!.replay).toMatch(/--tolerance strict/);
    const plain = await runConformance([{ adapter: reference, spec: 'reference' }], { quick: true, seed: 1, only: 'bn.train.forward' });
    expect(plain.tolerance).toBe('worst-case');
    expect(plain.adapters[0]!.checks[0]!.replay).not.toMatch(/--tolerance/);
  });
});
