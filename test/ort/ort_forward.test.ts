/**
 * ONNX Runtime (onnxruntime-node and onnxruntime-web) against the float64 reference, forward only, under
 * ONNX's conventions: running = running·0.9 + batch·0.1 with the biased batch variance. Every tolerance comes
 * from the suite's error model (conformance/error_model.ts: γ_M·max|x| for the mean, linear in the
 * conditioning κ = max|x|/σ, the fused form y = x·a + (b - mean·a) covered by its SAFETY factor) at float32's
 * u = 2^-24 plus float64's; the inputs are float32, so both sides compute from exactly the same values, and
 * compare() treats NaN/±Inf as equal only to themselves.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { batchNormEval, batchNormTrain, layerNormForward } from '../../reference/index.js';
import { ortNode } from '../../conformance/adapters/ort-node.js';
import { ortWeb } from '../../conformance/adapters/ort-web.js';
import type { OrtAdapter } from '../../conformance/adapters/ort/ort_adapter.js';
import { compare, describeComparison, type Comparison } from '../../conformance/compare.js';
import { bnEvalBounds, bnGrouping, lnGrouping, normForwardBounds, roundoffs, runningStepBounds } from '../../conformance/error_model.js';
import { normalF32, U, uniformF32 } from './helpers.js';

const US = roundoffs('float32');

/** Asserts a comparison passed, printing the worst element and the case's seed when it did not. */
function expectWithin(c: Comparison, seed: number): void {
  expect(c.ok, `seed ${seed}: ${describeComparison(c).join('; ')}`).toBe(true);
}

/** (N, C, ...spatial) → the N, C, S the error model's grouping takes. */
function ncs(shape: readonly number[]): [number, number, number] {
  return [shape[0]!, shape[1]!, shape.slice(2).reduce((a, b) => a * b, 1)];
}

const EPS = 1e-5;

describe.each<[string, OrtAdapter]>([['ort-node', ortNode], ['ort-web', ortWeb]])('%s', (_name, adapter) => {
  afterAll(async () => {
    await adapter.teardown();
  });

  it('is available here, with the onnx profile and no backward', async () => {
    expect(await adapter.available()).toBe(true);
    expect(adapter.profile).toBe('onnx');
    // ONNX Runtime's inference API has no gradients: not provided, so the suite reports, not fails, them.
    expect((adapter as { bnBackward?: unknown }).bnBackward).toBeUndefined();
    expect((adapter as { lnBackward?: unknown }).lnBackward).toBeUndefined();
  });

  // Cases named by their settings; seeds fixed in the table so every input is reproducible.
  const bnShapes: [string, number[], number][] = [
    ['bn2d_n4_c3_5x2', [4, 3, 5, 2], 11],
    ['bn1d_batch2', [2, 3], 12], // M = 2: the smallest batch training accepts
    ['bn2d_single_spatial', [3, 2, 1, 1], 13],
  ];

  /** x ~ 0.5 + 2·N(0, 1) and the per-channel parameters and running statistics of a case, all from its seed. */
  function bnInputs(shape: number[], seed: number) {
    const C = shape[1]!;
    const size = shape.reduce((a, b) => a * b, 1);
    return {
      x: normalF32(size, seed, 0.5, 2),
      weight: uniformF32(C, seed + 1, 0.5, 1.5),
      bias: uniformF32(C, seed + 2, -1, 1),
      runningMean: uniformF32(C, seed + 3, -1, 1),
      runningVar: uniformF32(C, seed + 4, 0.5, 4),
    };
  }

  it.each(bnShapes)('eval forward %s matches the reference within the float32 error model', async (_case, shape, seed) => {
    const { x, weight, bias, runningMean, runningVar } = bnInputs(shape, seed);
    const { y } = await adapter.bnEvalForward({ x, shape, weight, bias, runningMean, runningVar, eps: EPS });
    const ref = batchNormEval({ x, shape, weight, bias, running: { runningMean, runningVar }, eps: EPS });
    // No reduction in eval mode: the error model's affine-map bound (x - mean, or ONNX Runtime's fused
    // x·a + (b - mean·a), then rstd's 3u, scale and shift).
    const bound = bnEvalBounds(US, x, bnGrouping(...ncs(shape)), weight, bias, runningMean, runningVar, EPS);
    expectWithin(compare('y', y, ref.y, bound, 'float32'), seed);
  });

  it.each(bnShapes)(
    'training forward %s normalises with the batch statistics and updates the running ones with momentum 0.9 kept and the biased variance',
    async (_case, shape, seed) => {
      const { x, weight, bias, runningMean, runningVar } = bnInputs(shape, seed);
      const got = await adapter.bnTrainForward({ x, shape, weight, bias, runningMean, runningVar, numBatchesTracked: 0, momentum: 0.1, eps: EPS });
      const ref = batchNormTrain({
        x, shape, weight, bias, momentum: 0.1, eps: EPS, unbiasedRunningVar: false,
        running: { runningMean: Float64Array.from(runningMean), runningVar: Float64Array.from(runningVar), numBatchesTracked: 0 },
      });
      // y, then one running step with f = 0.1 and the biased variance; the bounds include the mean's error
      // (γ_M·max|x|, entering running_mean as f·that) and the variance's (entering running_var as f·that).
      const fwd = normForwardBounds(US, x, bnGrouping(...ncs(shape)), weight, bias, EPS);
      const step = runningStepBounds(US, fwd, runningMean, runningVar, 0.1, false);
      expectWithin(compare('y', got.y, ref.y, fwd.y, 'float32'), seed);
      expectWithin(compare('runningMean', got.runningMean!, ref.running!.runningMean, step.runningMean, 'float32'), seed);
      expectWithin(compare('runningVar', got.runningVar!, ref.running!.runningVar, step.runningVar, 'float32'), seed);
    },
  );

  it('running_var takes the biased batch variance: it differs from the unbiased update by 0.1·var/(M-1)', async () => {
    // (2, 1): M = 2 makes the Bessel factor M/(M-1) = 2, the largest gap between the two conventions.
    const x = new Float32Array([1, 3]); // mean 2, biased var 1, unbiased var 2
    const got = await adapter.bnTrainForward({
      x, shape: [2, 1], weight: null, bias: null, runningMean: new Float32Array([0]), runningVar: new Float32Array([1]),
      numBatchesTracked: 0, momentum: 0.1, eps: EPS,
    });
    // ONNX: 0.9·1 + 0.1·1 = 1 (PyTorch would give 0.9·1 + 0.1·2 = 1.1); mean 0.1·2 = 0.2. Exact up to the
    // float32 rounding of the attribute 0.9 and of 0.2: a few u.
    expect(Math.abs(got.runningVar![0]! - 1)).toBeLessThanOrEqual(4 * U);
    expect(Math.abs(got.runningMean![0]! - 0.2)).toBeLessThanOrEqual(4 * U);
  });

  it('the cumulative average (momentum null) reaches ONNX as momentum 1 - 1/(t+1)', async () => {
    const x = new Float32Array([1, 3]);
    // Step t = 3 (numBatchesTracked before the call): factor 1/4, so running_mean = 0.75·8 + 0.25·2 = 6.5.
    const got = await adapter.bnTrainForward({
      x, shape: [2, 1], weight: null, bias: null, runningMean: new Float32Array([8]), runningVar: new Float32Array([1]),
      numBatchesTracked: 3, momentum: null, eps: EPS,
    });
    expect(Math.abs(got.runningMean![0]! - 6.5)).toBeLessThanOrEqual(4 * U * 8);
  });

  const lnCases: [string, number[], number[], boolean, number][] = [
    ['ln_axes_last1', [3, 4, 8], [8], true, 21],
    ['ln_axes_last2', [3, 4, 8], [4, 8], true, 22],
    ['ln_axes_last1_no_bias', [2, 16], [16], false, 23],
    ['ln_axes_all', [2, 3], [2, 3], true, 24],
  ];

  it.each(lnCases)('forward %s matches the reference in y, mean and rstd', async (_case, shape, normalizedShape, withBias, seed) => {
    const D = normalizedShape.reduce((a, b) => a * b, 1);
    const R = shape.reduce((a, b) => a * b, 1) / D;
    const x = normalF32(R * D, seed, 0.5, 2);
    const weight = uniformF32(D, seed + 1, 0.5, 1.5);
    const bias = withBias ? uniformF32(D, seed + 2, -1, 1) : null;
    const got = await adapter.lnForward({ x, shape, normalizedShape, weight, bias, eps: EPS });
    const ref = layerNormForward({ x, shape, normalizedShape, weight, bias, eps: EPS });
    // Same model as BatchNorm training with the row in place of the channel: M = D.
    const fwd = normForwardBounds(US, x, lnGrouping(R, D), weight, bias, EPS);
    expectWithin(compare('y', got.y, ref.y, fwd.y, 'float32'), seed);
    expectWithin(compare('mean', got.mean, ref.mean, fwd.mean, 'float32'), seed);
    expectWithin(compare('rstd', got.rstd, ref.rstd, fwd.rstd, 'float32'), seed);
  });

  it('a NaN in one channel (training) or row (LayerNorm) stays there: every other channel and row is finite', async () => {
    const x = normalF32(24, 51);
    x[0] = NaN; // BN (4, 3, 2): n 0, channel 0; LN (4, 6): row 0
    const bn = await adapter.bnTrainForward({
      x, shape: [4, 3, 2], weight: null, bias: null, runningMean: new Float32Array(3), runningVar: new Float32Array([1, 1, 1]),
      numBatchesTracked: 0, momentum: 0.1, eps: EPS,
    });
    for (let i = 0; i < 24; i++) expect(Number.isNaN(bn.y[i]!), `BN y[${i}] (channel ${Math.floor(i / 2) % 3})`).toBe(Math.floor(i / 2) % 3 === 0);
    expect(Array.from(bn.runningMean!, Number.isNaN)).toEqual([true, false, false]);
    const ln = await adapter.lnForward({ x, shape: [4, 6], normalizedShape: [6], weight: null, bias: null, eps: EPS });
    for (let i = 0; i < 24; i++) expect(Number.isNaN(ln.y[i]!), `LN y[${i}] (row ${Math.floor(i / 6)})`).toBe(i < 6);
  });

  it('a constant channel normalises to the bias, not NaN: variance 0 leaves rstd = 1/sqrt(eps)', async () => {
    const x = new Float32Array([3, 1, 3, 2, 3, 3, 3, 4]); // (4, 2), element (n, c) at 2n + c: channel 0 is all 3
    const got = await adapter.bnTrainForward({
      x, shape: [4, 2], weight: new Float32Array([2, 2]), bias: new Float32Array([0.5, 0.5]),
      runningMean: new Float32Array(2), runningVar: new Float32Array([1, 1]), numBatchesTracked: 0, momentum: 0.1, eps: EPS,
    });
    // The mean of equal values is that value, so the exact y is b. ONNX Runtime's fused form
    // x·a + (b - mean·a), a = w·rstd, forms the same product x·a twice but rounds b - x·a (and the final
    // sum) at the size of |x·a| = 3·2·316: allow 4u·|w|·rstd·|x|, rstd = 1/sqrt(1e-5) ≈ 316.2.
    for (const i of [0, 2, 4, 6]) expect(Math.abs(got.y[i]! - 0.5)).toBeLessThanOrEqual(4 * U * 2 * 316.3 * 3);
  });

  it('leaves every input array unmodified, including the running statistics ONNX Runtime aliases to its outputs', async () => {
    const shape = [4, 2, 3];
    const x = normalF32(24, 31);
    const runningMean = new Float32Array([0.5, -0.5]);
    const runningVar = new Float32Array([2, 3]);
    const weight = new Float32Array([1.5, 0.5]);
    const bias = new Float32Array([0.1, -0.1]);
    const before = [x, runningMean, runningVar, weight, bias].map((a) => Array.from(a));
    await adapter.bnTrainForward({ x, shape, weight, bias, runningMean, runningVar, numBatchesTracked: 0, momentum: 0.1, eps: EPS });
    await adapter.bnEvalForward({ x, shape, weight, bias, runningMean, runningVar, eps: EPS });
    expect([x, runningMean, runningVar, weight, bias].map((a) => Array.from(a))).toEqual(before);
  });

  it('reuses one session per model: a second call with the same shape and attributes creates none', async () => {
    const args = { x: normalF32(6, 41), shape: [3, 2], weight: null, bias: null, runningMean: new Float32Array(2), runningVar: new Float32Array([1, 1]), eps: 1e-3 };
    await adapter.bnEvalForward(args);
    const n = adapter.sessionCount();
    await adapter.bnEvalForward({ ...args, x: normalF32(6, 42) });
    expect(adapter.sessionCount()).toBe(n);
    await adapter.bnEvalForward({ ...args, shape: [2, 3], runningMean: new Float32Array(3), runningVar: new Float32Array([1, 1, 1]) });
    expect(adapter.sessionCount()).toBe(n + 1);
  });
});
