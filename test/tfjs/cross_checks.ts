/**
 * The shared tfjs cross-check suite: every tfjs adapter (cpu, wasm, tensorflow; ops and layers level) runs
 * these same tests, listing its exclusions with a reason, as tfjs' own backends share one test suite.
 *
 * Each property draws a case from the shared generators (test/helpers/arbitraries.ts, channels-first and
 * float64), rounds it to float32, and compares on those same float32 numbers:
 *   reference vs tfjs   the float64 reference (reference/) against the adapter,
 *   kernels vs tfjs     the float32 kernels (kernels/, via kernels_bridge.ts) against the adapter,
 * which together also pin reference vs kernels on the same inputs.
 * Bounds come from conformance/error_model.ts: the reference comparison allows the float32 bound plus the
 * float64 one; two float32 implementations may each be off by the float32 bound in opposite directions, so
 * kernels vs tfjs allows twice the float32 bound (u = 2^-24, the group size M, and the conditioning
 * κ = max|x|/σ of each channel or row all enter it there).
 *
 * The adapter is NHWC; the case is transposed on the way in and the results back (test/tfjs/layout.ts).
 * After all tests the engine must hold exactly as many tensors as before (tf.memory().numTensors).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Adapter, ProfileName } from '../../conformance/adapter.js';
import { compare, describeComparison, type Comparison } from '../../conformance/compare.js';
import {
  bnEvalBounds, bnGrouping, lnGrouping, normBackwardBounds, normForwardBounds, roundoffs, runningStepBounds,
} from '../../conformance/error_model.js';
import { PRECISIONS } from '../../conformance/precision.js';
import { batchNormBackward, batchNormEval, batchNormTrain, layerNormBackward, layerNormForward } from '../../reference/index.js';
import {
  AFFINE_CASES, batchNormCase, batchNormShape, layerNormCase, layerNormShape, normals, type AffineCase,
} from '../helpers/arbitraries.js';
import { kernelBnBackward, kernelBnEval, kernelBnTrain, kernelLn } from './kernels_bridge.js';
import { toChannelsFirst, toChannelsLast, toChannelsLastShape } from './layout.js';

/** A few dozen cases per property keep all five tfjs suites within a few seconds on two busy cores. */
const NUM_RUNS = 30;
const F32 = roundoffs('float32');
/** Two float32 implementations, each within the float32 bound of the exact result. */
const F32_TWICE = [PRECISIONS.float32.u, PRECISIONS.float32.u];

export interface CrossCheckOptions {
  adapter: Adapter;
  /** Skip everything, with the reason (e.g. tfjs-node not installed). */
  unavailable?: string;
  /** Largest BatchNorm rank the adapter handles (the reason sits next to the option in each test file). */
  maxBatchNormRank?: number;
  /** Affine cases the backward (and, for layers, the training forward) supports; the rest are divergences. */
  backwardAffine?: readonly AffineCase[];
  trainAffine?: readonly AffineCase[];
  lnBackwardAffine?: readonly AffineCase[];
  /**
   * Whether the running-statistics step may have factor f = 1 (momentum null at numBatchesTracked 0, the
   * first step of the cumulative average, which replaces the old value outright). Default true.
   */
  factorOne?: boolean;
  /** LayerNorm input ranks the adapter handles (default 1 to 5, all the generator makes). */
  lnRanks?: readonly [number, number];
}

/** Rounds to float32 and back, so the reference sees exactly the numbers the adapter sees. */
function f32(a: ArrayLike<number>): Float64Array {
  return Float64Array.from(Float32Array.from(a as ArrayLike<number> & Iterable<number>));
}
function f32OrNull(a: Float64Array | null): Float64Array | null {
  return a ? f32(a) : null;
}
function toF32(a: Float64Array | null): Float32Array | null {
  return a ? Float32Array.from(a) : null;
}

function assertClose(c: Comparison, context: string): void {
  if (!c.ok) expect.fail([`${context}`, ...describeComparison(c)].join('\n'));
}

function conventions(profile: ProfileName): { unbiased: boolean } {
  return { unbiased: profile === 'pytorch' };
}

/** Σ dy·y is the loss whose gradient we compare; dy is a fixed float32 draw from the case's seed. */
function upstream(k: { seed: number; x: Float64Array }): Float64Array {
  return f32(normals(k.seed ^ 0x5bd1e995, k.x.length));
}

export function tfjsCrossChecks(opts: CrossCheckOptions): void {
  const { adapter } = opts;
  const maxRank = opts.maxBatchNormRank ?? 5;
  const backwardAffine = opts.backwardAffine ?? AFFINE_CASES;
  const trainAffine = opts.trainAffine ?? AFFINE_CASES;
  const lnBackwardAffine = opts.lnBackwardAffine ?? AFFINE_CASES;
  const { unbiased } = conventions(adapter.profile ?? 'pytorch');
  const shapes = (training: boolean) => batchNormShape({ training }).filter((s) => s.length <= maxRank);
  const [lnMinRank, lnMaxRank] = opts.lnRanks ?? [1, 5];
  const lnShapes = layerNormShape.filter(({ shape }) => shape.length >= lnMinRank && shape.length <= lnMaxRank);

  describe.skipIf(opts.unavailable !== undefined)(`${adapter.name}: three-way cross-checks${opts.unavailable ? ` (skipped: ${opts.unavailable})` : ''}`, () => {
    let tensorsBefore = 0;
    let countTensors: () => number = () => 0;
    beforeAll(async () => {
      await adapter.setup?.();
      const { requireTf } = await import('../../conformance/adapters/tfjs/backend.js');
      const tf = await requireTf();
      countTensors = () => tf.memory().numTensors;
      tensorsBefore = countTensors();
    });
    afterAll(async () => {
      await adapter.teardown?.();
    });

    it('BatchNorm training forward: y, batch mean, rstd and both running statistics agree with the float64 reference within the error model', async () => {
      await fc.assert(
        fc.asyncProperty(
          batchNormCase({ shape: shapes(true), affine: trainAffine }),
          fc.constantFrom(1e-5, 1e-3),
          fc.constantFrom<number | null>(0.1, 0.01, null),
          fc.integer({ min: opts.factorOne === false ? 1 : 0, max: 4 }),
          async (k, eps, momentum, numBatchesTracked) => {
            const x = f32(k.x);
            const weight = f32OrNull(k.weight);
            const bias = f32OrNull(k.bias);
            const running = { runningMean: f32(k.runningMean), runningVar: f32(k.runningVar), numBatchesTracked };
            const ref = batchNormTrain({ x, shape: k.shape, weight, bias, running, momentum, eps, unbiasedRunningVar: unbiased });
            const got = await adapter.bnTrainForward!({
              x: toChannelsLast(x, k.shape), shape: toChannelsLastShape(k.shape), weight: toF32(weight), bias: toF32(bias),
              runningMean: Float32Array.from(running.runningMean), runningVar: Float32Array.from(running.runningVar),
              numBatchesTracked, momentum, eps,
            });
            const grouping = bnGrouping(k.N, k.C, k.S);
            const fwd = normForwardBounds(F32, x, grouping, weight, bias, eps);
            const f = momentum ?? 1 / (numBatchesTracked + 1);
            const step = runningStepBounds(F32, fwd, running.runningMean, running.runningVar, f, unbiased);
            const where = `${k.values}/${k.affine} shape ${JSON.stringify(k.shape)} seed ${k.seed}`;
            assertClose(compare('y', toChannelsFirst(got.y, k.shape), ref.y, fwd.y, 'float32'), where);
            assertClose(compare('runningMean', got.runningMean!, ref.running!.runningMean, step.runningMean, 'float32'), where);
            assertClose(compare('runningVar', got.runningVar!, ref.running!.runningVar, step.runningVar, 'float32'), where);
            if (got.mean) assertClose(compare('mean', got.mean, ref.mean, fwd.mean, 'float32'), where);
            if (got.rstd) assertClose(compare('rstd', got.rstd, ref.rstd, fwd.rstd, 'float32'), where);
            // kernels vs tfjs
            const ker = kernelBnTrain(x, k.shape, weight, bias, running, momentum, eps, unbiased);
            const fwd2 = normForwardBounds(F32_TWICE, x, grouping, weight, bias, eps);
            const step2 = runningStepBounds(F32_TWICE, fwd2, running.runningMean, running.runningVar, f, unbiased);
            assertClose(compare('y (tfjs vs kernels)', toChannelsFirst(got.y, k.shape), ker.y, fwd2.y, 'float32'), where);
            assertClose(compare('runningMean (tfjs vs kernels)', got.runningMean!, ker.runningMean!, step2.runningMean, 'float32'), where);
            assertClose(compare('runningVar (tfjs vs kernels)', got.runningVar!, ker.runningVar!, step2.runningVar, 'float32'), where);
          },
        ),
        { numRuns: NUM_RUNS },
      );
    });

    it('BatchNorm eval forward agrees with the float64 reference within the error model', async () => {
      await fc.assert(
        fc.asyncProperty(batchNormCase({ shape: shapes(false) }), fc.constantFrom(1e-5, 1e-3), async (k, eps) => {
          const x = f32(k.x);
          const weight = f32OrNull(k.weight);
          const bias = f32OrNull(k.bias);
          const runningMean = f32(k.runningMean);
          const runningVar = f32(k.runningVar);
          const ref = batchNormEval({ x, shape: k.shape, weight, bias, running: { runningMean, runningVar }, eps });
          const got = await adapter.bnEvalForward!({
            x: toChannelsLast(x, k.shape), shape: toChannelsLastShape(k.shape), weight: toF32(weight), bias: toF32(bias),
            runningMean: Float32Array.from(runningMean), runningVar: Float32Array.from(runningVar), eps,
          });
          const where = `${k.values}/${k.affine} shape ${JSON.stringify(k.shape)} seed ${k.seed}`;
          const yGot = toChannelsFirst(got.y, k.shape);
          const bound = bnEvalBounds(F32, x, bnGrouping(k.N, k.C, k.S), weight, bias, runningMean, runningVar, eps);
          assertClose(compare('y', yGot, ref.y, bound, 'float32'), where);
          const bound2 = bnEvalBounds(F32_TWICE, x, bnGrouping(k.N, k.C, k.S), weight, bias, runningMean, runningVar, eps);
          assertClose(compare('y (tfjs vs kernels)', yGot, kernelBnEval(x, k.shape, weight, bias, runningMean, runningVar, eps), bound2, 'float32'), where);
        }),
        { numRuns: NUM_RUNS },
      );
    });

    for (const training of [true, false]) {
      it(`BatchNorm ${training ? 'training' : 'eval'} backward: dx, dweight and dbias agree with the float64 reference within the error model`, async () => {
        await fc.assert(
          fc.asyncProperty(batchNormCase({ shape: shapes(true), affine: backwardAffine }), fc.constantFrom(1e-5, 1e-3), async (k, eps) => {
            const x = f32(k.x);
            const dy = upstream(k);
            const weight = f32OrNull(k.weight);
            const bias = f32OrNull(k.bias);
            const runningMean = f32(k.runningMean);
            const runningVar = f32(k.runningVar);
            // the statistics the forward normalised with: the batch's (training) or the running ones (eval)
            const { mean, rstd } = training
              ? batchNormTrain({ x, shape: k.shape, eps })
              : { mean: runningMean, rstd: batchNormEval({ x, shape: k.shape, running: { runningMean, runningVar }, eps }).rstd };
            const ref = batchNormBackward({ dy, x, shape: k.shape, weight, mean, rstd, training });
            const got = await adapter.bnBackward!({
              dy: toChannelsLast(dy, k.shape), x: toChannelsLast(x, k.shape), shape: toChannelsLastShape(k.shape),
              weight: toF32(weight), bias: toF32(bias), training,
              runningMean: training ? null : Float32Array.from(runningMean), runningVar: training ? null : Float32Array.from(runningVar), eps,
            });
            const evalStats = training ? null : { runningMean, runningVar };
            const bounds = normBackwardBounds(F32, x, dy, bnGrouping(k.N, k.C, k.S), weight, eps, evalStats);
            const where = `${k.values}/${k.affine} shape ${JSON.stringify(k.shape)} seed ${k.seed}`;
            const dxGot = toChannelsFirst(got.dx, k.shape);
            assertClose(compare('dx', dxGot, ref.dx, bounds.dx, 'float32'), where);
            if (ref.dweight) assertClose(compare('dweight', got.dweight ?? [], ref.dweight, bounds.dweight, 'float32'), where);
            if (ref.dbias) assertClose(compare('dbias', got.dbias ?? [], ref.dbias, bounds.dbias, 'float32'), where);
            // kernels vs tfjs
            const ker = kernelBnBackward(dy, x, k.shape, weight, bias !== null, training, runningMean, runningVar, eps);
            const bounds2 = normBackwardBounds(F32_TWICE, x, dy, bnGrouping(k.N, k.C, k.S), weight, eps, evalStats);
            assertClose(compare('dx (tfjs vs kernels)', dxGot, ker.dx, bounds2.dx, 'float32'), where);
            if (ker.dweight) assertClose(compare('dweight (tfjs vs kernels)', got.dweight ?? [], ker.dweight, bounds2.dweight, 'float32'), where);
            if (ker.dbias) assertClose(compare('dbias (tfjs vs kernels)', got.dbias ?? [], ker.dbias, bounds2.dbias, 'float32'), where);
          }),
          { numRuns: NUM_RUNS },
        );
      });
    }

    it('LayerNorm forward: y, mean and rstd agree with the float64 reference within the error model', async () => {
      await fc.assert(
        fc.asyncProperty(layerNormCase({ shape: lnShapes }), fc.constantFrom(1e-5, 1e-3), async (k, eps) => {
          const x = f32(k.x);
          const weight = f32OrNull(k.weight);
          const bias = f32OrNull(k.bias);
          const ref = layerNormForward({ x, shape: k.shape, normalizedShape: k.normalizedShape, weight, bias, eps });
          const got = await adapter.lnForward!({ x: Float32Array.from(x), shape: k.shape, normalizedShape: k.normalizedShape, weight: toF32(weight), bias: toF32(bias), eps });
          const fwd = normForwardBounds(F32, x, lnGrouping(k.R, k.D), weight, bias, eps);
          const where = `${k.values}/${k.affine} shape ${JSON.stringify(k.shape)} normalized ${JSON.stringify(k.normalizedShape)} seed ${k.seed}`;
          assertClose(compare('y', got.y, ref.y, fwd.y, 'float32'), where);
          if (got.mean) assertClose(compare('mean', got.mean, ref.mean, fwd.mean, 'float32'), where);
          if (got.rstd) assertClose(compare('rstd', got.rstd, ref.rstd, fwd.rstd, 'float32'), where);
          // kernels vs tfjs
          const ker = kernelLn(x, k.R, k.D, weight, bias, eps, null);
          const fwd2 = normForwardBounds(F32_TWICE, x, lnGrouping(k.R, k.D), weight, bias, eps);
          assertClose(compare('y (tfjs vs kernels)', got.y, ker.y, fwd2.y, 'float32'), where);
        }),
        { numRuns: NUM_RUNS },
      );
    });

    it('LayerNorm backward: dx, dweight and dbias agree with the float64 reference within the error model', async () => {
      await fc.assert(
        fc.asyncProperty(layerNormCase({ shape: lnShapes, affine: lnBackwardAffine }), fc.constantFrom(1e-5, 1e-3), async (k, eps) => {
          const x = f32(k.x);
          const dy = upstream(k);
          const weight = f32OrNull(k.weight);
          const bias = f32OrNull(k.bias);
          const fwd = layerNormForward({ x, shape: k.shape, normalizedShape: k.normalizedShape, weight, bias, eps });
          const ref = layerNormBackward({ dy, x, shape: k.shape, normalizedShape: k.normalizedShape, weight, hasBias: bias !== null, mean: fwd.mean, rstd: fwd.rstd });
          const got = await adapter.lnBackward!({ dy: Float32Array.from(dy), x: Float32Array.from(x), shape: k.shape, normalizedShape: k.normalizedShape, weight: toF32(weight), bias: toF32(bias), eps });
          const bounds = normBackwardBounds(F32, x, dy, lnGrouping(k.R, k.D), weight, eps);
          const where = `${k.values}/${k.affine} shape ${JSON.stringify(k.shape)} normalized ${JSON.stringify(k.normalizedShape)} seed ${k.seed}`;
          assertClose(compare('dx', got.dx, ref.dx, bounds.dx, 'float32'), where);
          if (ref.dweight) assertClose(compare('dweight', got.dweight ?? [], ref.dweight, bounds.dweight, 'float32'), where);
          if (ref.dbias) assertClose(compare('dbias', got.dbias ?? [], ref.dbias, bounds.dbias, 'float32'), where);
          // kernels vs tfjs
          const ker = kernelLn(x, k.R, k.D, weight, bias, eps, dy);
          const bounds2 = normBackwardBounds(F32_TWICE, x, dy, lnGrouping(k.R, k.D), weight, eps);
          assertClose(compare('dx (tfjs vs kernels)', got.dx, ker.dx!, bounds2.dx, 'float32'), where);
          if (ker.dweight) assertClose(compare('dweight (tfjs vs kernels)', got.dweight ?? [], ker.dweight, bounds2.dweight, 'float32'), where);
          if (ker.dbias) assertClose(compare('dbias (tfjs vs kernels)', got.dbias ?? [], ker.dbias, bounds2.dbias, 'float32'), where);
        }),
        { numRuns: NUM_RUNS },
      );
    });

    it('a NaN in one channel stays in that channel: y, dx and the parameter gradients of the other channels are finite', async () => {
      // (N, C, L) = (3, 3, 2), channel 1 holds one NaN; weight and bias given (the supported path everywhere).
      const shape = [3, 3, 2];
      const x = f32(normals(11, 18));
      x[1 * 2 + 0] = NaN; // (n = 0, c = 1, l = 0)
      const weight = new Float32Array([1.5, -0.5, 2]);
      const bias = new Float32Array([0.25, 0, -1]);
      const nhwc = { x: toChannelsLast(x, shape), shape: toChannelsLastShape(shape), weight, bias, eps: 1e-5 };
      const fwd = await adapter.bnTrainForward!({ ...nhwc, runningMean: new Float32Array(3), runningVar: new Float32Array(3).fill(1), numBatchesTracked: 0, momentum: 0.1 });
      const grads = await adapter.bnBackward!({ ...nhwc, dy: toChannelsLast(f32(normals(12, 18)), shape), training: true, runningMean: null, runningVar: null });
      const y = toChannelsFirst(fwd.y, shape);
      const dx = toChannelsFirst(grads.dx, shape);
      for (let i = 0; i < 18; i++) {
        const c = Math.floor(i / 2) % 3;
        expect(Number.isNaN(y[i]!), `y[${i}] (channel ${c})`).toBe(c === 1);
        expect(Number.isNaN(dx[i]!), `dx[${i}] (channel ${c})`).toBe(c === 1);
      }
      expect([0, 2].map((c) => Number.isFinite(fwd.runningMean![c]!) && Number.isFinite(fwd.runningVar![c]!))).toEqual([true, true]);
      expect(Number.isNaN(fwd.runningMean![1]!)).toBe(true);
      expect([...grads.dweight!].map(Number.isNaN)).toEqual([false, true, false]);
      // dbias = Σ dy does not involve x, so even the NaN channel's is finite.
      expect([...grads.dbias!].map(Number.isFinite)).toEqual([true, true, true]);
    });

    it('no tensor outlives the suite: tf.memory().numTensors is unchanged', () => {
      expect(countTensors()).toBe(tensorsBefore);
    });
  });
}

