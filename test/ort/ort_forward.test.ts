/**
 * ONNX Runtime (onnxruntime-node and onnxruntime-web) against the float64 reference, forward only, under
 * ONNX's conventions: running = running·0.9 + batch·0.1 with the biased batch variance. The bounds are the
 * error model of helpers.ts; the inputs are float32, so both sides compute from exactly the same values.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { batchNormEval, batchNormTrain, layerNormForward } from '../../reference/index.js';
import { ortNode } from '../../conformance/adapters/ort-node.js';
import { ortWeb } from '../../conformance/adapters/ort-web.js';
import type { OrtAdapter } from '../../conformance/adapters/ort/ort_adapter.js';
import { describeMismatch, gamma, mismatches, normalF32, U, uniformF32 } from './helpers.js';

const EPS = 1e-5;

/** Per-channel maximum of |x| over the N·S values of channel c, for the conditioning term. */
function channelMaxAbs(x: Float32Array, [N, C, ...spatial]: readonly number[]): Float64Array {
  const S = spatial.reduce((a, b) => a * b, 1);
  const m = new Float64Array(C!);
  for (let n = 0; n < N!; n++) for (let c = 0; c < C!; c++) for (let s = 0; s < S; s++) m[c] = Math.max(m[c]!, Math.abs(x[(n * C! + c) * S + s]!));
  return m;
}

const channelOf = (i: number, shape: readonly number[]): number => {
  const S = shape.slice(2).reduce((a, b) => a * b, 1);
  return Math.floor(i / S) % shape[1]!;
};

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

  it.each(bnShapes)('eval forward %s matches the reference within the float32 error model', async (_case, shape, seed) => {
    const C = shape[1]!;
    const size = shape.reduce((a, b) => a * b, 1);
    const x = normalF32(size, seed, 0.5, 2);
    const weight = uniformF32(C, seed + 1, 0.5, 1.5);
    const bias = uniformF32(C, seed + 2, -1, 1);
    const runningMean = uniformF32(C, seed + 3, -1, 1);
    const runningVar = uniformF32(C, seed + 4, 0.5, 4);
    const { y } = await adapter.bnEvalForward({ x, shape, weight, bias, runningMean, runningVar, eps: EPS });
    const ref = batchNormEval({ x, shape, weight, bias, runningMean, runningVar, eps: EPS });
    // No reduction in eval mode: rstd has 2u (sqrt, divide), and the fused y = x·a + (b - mean·a) rounds
    // three times on operands up to |w|·rstd·(|x| + |mean|).
    const bound = (i: number): number => {
      const c = channelOf(i, shape);
      const rstd = 1 / Math.sqrt(runningVar[c]! + EPS);
      return Math.abs(weight[c]!) * rstd * (Math.abs(x[i]!) + Math.abs(runningMean[c]!)) * 6 * U + Math.abs(bias[c]!) * 5 * U;
    };
    const m = mismatches(y, ref.y, bound);
    expect(m.count, describeMismatch(`y seed ${seed}`, m)).toBe(0);
  });

  it.each(bnShapes)(
    'training forward %s normalises with the batch statistics and updates the running ones with momentum 0.9 kept and the biased variance',
    async (_case, shape, seed) => {
      const C = shape[1]!;
      const size = shape.reduce((a, b) => a * b, 1);
      const M = size / C;
      const x = normalF32(size, seed, 0.5, 2);
      const weight = uniformF32(C, seed + 1, 0.5, 1.5);
      const bias = uniformF32(C, seed + 2, -1, 1);
      const runningMean = uniformF32(C, seed + 3, -1, 1);
      const runningVar = uniformF32(C, seed + 4, 0.5, 4);
      const got = await adapter.bnTrainForward({ x, shape, weight, bias, runningMean, runningVar, numBatchesTracked: 0, momentum: 0.1, eps: EPS });
      const ref = batchNormTrain({
        x, shape, weight, bias, momentum: 0.1, eps: EPS, unbiasedRunningVar: false,
        running: { runningMean: Float64Array.from(runningMean), runningVar: Float64Array.from(runningVar), numBatchesTracked: 0 },
      });
      const maxAbs = channelMaxAbs(x, shape);
      // y: see helpers.ts — conditioning term for the mean's error, relative term for rstd, fused-form roundings.
      const yBound = (i: number): number => {
        const c = channelOf(i, shape);
        const xhat = Math.abs((x[i]! - ref.mean[c]!) * ref.rstd[c]!);
        const w = Math.abs(weight[c]!);
        return w * ref.rstd[c]! * maxAbs[c]! * (gamma(M) + 4 * U) + w * xhat * (gamma(M + 3) + 4 * U) + Math.abs(bias[c]!) * 5 * U;
      };
      const my = mismatches(got.y, ref.y, yBound);
      expect(my.count, describeMismatch(`y seed ${seed}`, my)).toBe(0);
      // running_mean = 0.9·old + 0.1·mean: the mean's error scaled by 0.1, three roundings, and the
      // attribute 0.9 itself rounded to float32 (relative u/2, and 1 - 0.9 then carries u).
      const rmBound = (c: number): number =>
        0.1 * gamma(M) * maxAbs[c]! + 4 * U * (Math.abs(runningMean[c]!) + Math.abs(ref.mean[c]!));
      const mm = mismatches(got.runningMean, ref.running!.runningMean, rmBound);
      expect(mm.count, describeMismatch(`running_mean seed ${seed}`, mm)).toBe(0);
      // running_var = 0.9·old + 0.1·var (biased): var relative γ_{M+3} plus the mean's error squared, then as above.
      const rvBound = (c: number): number =>
        0.1 * (gamma(M + 3) * ref.var[c]! + (gamma(M) * maxAbs[c]!) ** 2) + 4 * U * (runningVar[c]! + ref.var[c]!);
      const mv = mismatches(got.runningVar, ref.running!.runningVar, rvBound);
      expect(mv.count, describeMismatch(`running_var seed ${seed}`, mv)).toBe(0);
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
    expect(Math.abs(got.runningVar[0]! - 1)).toBeLessThanOrEqual(4 * U);
    expect(Math.abs(got.runningMean[0]! - 0.2)).toBeLessThanOrEqual(4 * U);
  });

  it('the cumulative average (momentum null) reaches ONNX as momentum 1 - 1/(t+1)', async () => {
    const x = new Float32Array([1, 3]);
    // Step t = 3 (numBatchesTracked before the call): factor 1/4, so running_mean = 0.75·8 + 0.25·2 = 6.5.
    const got = await adapter.bnTrainForward({
      x, shape: [2, 1], weight: null, bias: null, runningMean: new Float32Array([8]), runningVar: new Float32Array([1]),
      numBatchesTracked: 3, momentum: null, eps: EPS,
    });
    expect(Math.abs(got.runningMean[0]! - 6.5)).toBeLessThanOrEqual(4 * U * 8);
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
    const rowMax = Float64Array.from({ length: R }, (_, r) => Math.max(...Array.from(x.subarray(r * D, r * D + D), Math.abs)));
    // Same model as BatchNorm with the row in place of the channel: n = D. ORT computes (x - mean)·rstd·w + b.
    const yBound = (i: number): number => {
      const r = Math.floor(i / D);
      const w = Math.abs(weight[i % D]!);
      const xhat = Math.abs((x[i]! - ref.mean[r]!) * ref.rstd[r]!);
      return w * ref.rstd[r]! * rowMax[r]! * (gamma(D) + 4 * U) + w * xhat * (gamma(D + 3) + 4 * U) + (bias ? Math.abs(bias[i % D]!) * 5 * U : 0);
    };
    const my = mismatches(got.y, ref.y, yBound);
    expect(my.count, describeMismatch(`y seed ${seed}`, my)).toBe(0);
    const mm = mismatches(got.mean, ref.mean, (r) => gamma(D) * rowMax[r]!);
    expect(mm.count, describeMismatch(`mean seed ${seed}`, mm)).toBe(0);
    // rstd: relative γ_{D+3}/2 from the variance (and half the mean's error squared over var), plus sqrt and division.
    const ms = mismatches(got.rstd, ref.rstd, (r) => ref.rstd[r]! * (gamma(D + 3) / 2 + 3 * U + ((gamma(D) * rowMax[r]! * ref.rstd[r]!) ** 2) / 2));
    expect(ms.count, describeMismatch(`rstd seed ${seed}`, ms)).toBe(0);
  });

  it('a NaN in one channel (training) or row (LayerNorm) stays there: every other channel and row is finite', async () => {
    const x = normalF32(24, 51);
    x[0] = NaN; // BN (4, 3, 2): n 0, channel 0; LN (4, 6): row 0
    const bn = await adapter.bnTrainForward({
      x, shape: [4, 3, 2], weight: null, bias: null, runningMean: new Float32Array(3), runningVar: new Float32Array([1, 1, 1]),
      numBatchesTracked: 0, momentum: 0.1, eps: EPS,
    });
    for (let i = 0; i < 24; i++) expect(Number.isNaN(bn.y[i]!), `BN y[${i}] (channel ${Math.floor(i / 2) % 3})`).toBe(Math.floor(i / 2) % 3 === 0);
    expect(Array.from(bn.runningMean, Number.isNaN)).toEqual([true, false, false]);
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
