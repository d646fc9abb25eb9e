/**
 * The honest-algorithm oracles (conformance/accuracy/oracles.ts) are honest: every one of them, in float32 and
 * in float16 storage, lands within the error model's worst-case bound of the float64 reference — forward,
 * running buffers and backward, at offsets up to 1e6 — and the two-pass one is the second reference's two-pass
 * bit for bit (two codes written apart, one algorithm). If an oracle were out of bound, "as accurate as an
 * honest algorithm" would grade against something no correct implementation does.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HONEST_ALGORITHMS, honestBackward, honestForward, honestRunning, honestEval } from '../../conformance/accuracy/oracles.js';
import { compare } from '../../conformance/compare.js';
import { FULL_DOMAIN } from '../../conformance/domain.js';
import { bnEvalBounds, bnGrouping, normBackwardBounds, normForwardBounds, roundoffs, runningStepBounds } from '../../conformance/error_model.js';
import { normCase, typicalShapes, type GroupKind } from '../../conformance/generators.js';
import { BATCHNORM } from '../../conformance/norms/batchnorm.js';
import type { Precision } from '../../conformance/adapter.js';
import { lowPrecisionNormForward } from '../../conformance/reference_lowp.js';
import { batchNormBackward, batchNormEval, batchNormTrain } from '../../reference/index.js';
import { DEFAULT_FAST_CHECK_SEED } from '../helpers/arbitraries.js';

const seed = DEFAULT_FAST_CHECK_SEED;
const eps = 1e-5;
const KINDS: GroupKind[] = ['typical', 'tiny', 'constant', { offset: 1e2 }, { offset: 1e4 }, { offset: 1e6 }];
const cases = (precision: Precision) => fc.constantFrom(...KINDS).chain((kind) =>
  normCase(BATCHNORM, { precision, domain: FULL_DOMAIN }, typicalShapes(false).map((shape) => ({ shape })), { label: 'oracle', kind, affine: 'random' }));

describe.each<Precision>(['float32', 'float16'])('every honest algorithm in %s is within the worst-case bound', (precision) => {
  const us = roundoffs(precision);
  it('forward: y, saved mean and rstd, and one running step', () => {
    fc.assert(fc.property(cases(precision), (c) => {
      const grouping = bnGrouping(c.shape[0]!, c.shape[1]!, c.x.length / (c.shape[0]! * c.shape[1]!));
      const ref = batchNormTrain({ x: c.x, shape: c.shape, weight: c.weight, bias: c.bias, eps, momentum: 0.1, unbiasedRunningVar: true,
        running: { runningMean: c.runningMean!, runningVar: c.runningVar!, numBatchesTracked: 0 } });
      const b = normForwardBounds(us, c.x, grouping, c.weight, c.bias, eps);
      const rb = runningStepBounds(us, b, c.runningMean!, c.runningVar!, 0.1, true);
      for (const alg of HONEST_ALGORITHMS) {
        const o = honestForward(alg, precision, { x: c.x, grouping, weight: c.weight, bias: c.bias, eps });
        const r = honestRunning(alg, precision, { x: c.x, grouping, weight: c.weight, bias: c.bias, eps, runningMean: c.runningMean!, runningVar: c.runningVar!, f: 0.1, unbiased: true });
        for (const [q, got, want, bound] of [['y', o.y, ref.y, b.y], ['mean', o.mean, ref.mean, b.mean], ['rstd', o.rstd, ref.rstd, b.rstd],
          ['runningMean', r.runningMean, ref.running!.runningMean, rb.runningMean], ['runningVar', r.runningVar, ref.running!.runningVar, rb.runningVar]] as const) {
          const cmp = compare(q, got, want, bound, precision);
          expect(cmp.ok, `${alg.name} ${q} ${c.label}: ${cmp.worstRatio}`).toBe(true);
        }
      }
    }), { seed, numRuns: 40 });
  });

  it('backward, training and eval, and the eval forward in both orders', () => {
    fc.assert(fc.property(cases(precision), (c) => {
      const grouping = bnGrouping(c.shape[0]!, c.shape[1]!, c.x.length / (c.shape[0]! * c.shape[1]!));
      const fwd = batchNormTrain({ x: c.x, shape: c.shape, eps });
      const ref = batchNormBackward({ dy: c.dy, x: c.x, shape: c.shape, weight: c.weight, hasBias: c.bias != null, mean: fwd.mean, rstd: fwd.rstd, training: true });
      const b = normBackwardBounds(us, c.x, c.dy, grouping, c.weight, eps);
      const evalStats = { runningMean: c.runningMean!, runningVar: c.runningVar! };
      const refEval = batchNormBackward({ dy: c.dy, x: c.x, shape: c.shape, weight: c.weight, hasBias: c.bias != null, mean: c.runningMean!,
        rstd: c.runningVar!.map((v) => 1 / Math.sqrt(v + eps)), training: false });
      const bEval = normBackwardBounds(us, c.x, c.dy, grouping, c.weight, eps, evalStats);
      for (const alg of HONEST_ALGORITHMS) {
        const problem = { x: c.x, dy: c.dy, grouping, weight: c.weight, bias: c.bias, hasBias: c.bias != null, eps };
        for (const [mode, g, want, bound] of [
          ['train', honestBackward(alg, precision, { ...problem, evalStats: null }), ref, b],
          ['eval', honestBackward(alg, precision, { ...problem, evalStats: { mean: c.runningMean!, var: c.runningVar! } }), refEval, bEval]] as const) {
          expect(compare('dx', g.dx, want.dx, bound.dx, precision).ok, `${alg.name} ${mode} dx ${c.label}`).toBe(true);
          if (c.weight) expect(compare('dweight', g.dweight!, want.dweight!, bound.dweight, precision).ok, `${alg.name} ${mode} dweight`).toBe(true);
          if (c.bias) expect(compare('dbias', g.dbias!, want.dbias!, bound.dbias, precision).ok, `${alg.name} ${mode} dbias`).toBe(true);
        }
      }
      const yEval = batchNormEval({ x: c.x, shape: c.shape, weight: c.weight, bias: c.bias, running: evalStats, eps }).y;
      const be = bnEvalBounds(us, c.x, grouping, c.weight, c.bias, c.runningMean!, c.runningVar!, eps);
      for (const form of ['plain', 'fused'] as const) {
        const y = honestEval(precision, form, c.x, grouping, c.weight, c.bias, { mean: c.runningMean!, var: c.runningVar! }, eps);
        expect(compare('y', y, yEval, be, precision).ok, `eval ${form} ${c.label}`).toBe(true);
      }
    }), { seed, numRuns: 30 });
  });
});

describe('the oracles against other code', () => {
  it('the two-pass oracle is reference_lowp.ts\'s honest two-pass bit for bit', () => {
    fc.assert(fc.property(cases('float32'), (c) => {
      const grouping = bnGrouping(c.shape[0]!, c.shape[1]!, c.x.length / (c.shape[0]! * c.shape[1]!));
      const o = honestForward(HONEST_ALGORITHMS[0]!, 'float32', { x: c.x, grouping, weight: c.weight, bias: c.bias, eps });
      expect(Array.from(o.y)).toEqual(Array.from(lowPrecisionNormForward('float32', c.x, grouping, c.weight, c.bias, eps)));
    }), { seed, numRuns: 30 });
  });

  it('without a mean (RMSNorm) the float64-accumulating oracle is within 2 ulps of x / sqrt(mean(x²) + eps)', () => {
    const x = Float64Array.from({ length: 768 }, (_, i) => Math.fround(Math.sin(i) * 3));
    const grouping = { groups: [Int32Array.from({ length: 768 }, (_, i) => i)], param: Int32Array.from({ length: 768 }, (_, i) => i), numParams: 768 };
    const alg = HONEST_ALGORITHMS.find((a) => a.name === 'float64-accumulate')!;
    const o = honestForward(alg, 'float32', { x, grouping, weight: null, bias: null, eps, centred: false });
    const r = 1 / Math.sqrt(x.reduce((s, v) => s + v * v, 0) / 768 + eps);
    x.forEach((v, i) => expect(Math.abs(o.y[i]! - v * r)).toBeLessThanOrEqual(2 * 2 ** -23 * Math.max(Math.abs(v * r), 1)));
  });
});
