/**
 * The accuracy claims of the float32 BatchNorm kernels that the differential tests do not state on their own:
 * 1 ulp at large offsets (where PyTorch's float32 kernel loses 2.8e-3 at 1e4 and 0.33 at 1e6 on 64×8 values of
 * unit spread, issue 3), running statistics over several steps, constant channels, and finite outputs over the
 * whole float32 range. Data from a seeded PRNG; the seeds are in the test names or printed by fast-check.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BATCHNORM_FORWARD_VERSIONS, batchNormBackward, batchNormTrainForward, BatchNormWorkspace, KernelArgError, KernelShapeError,
  KernelValueError, type BatchNormLayout, type BatchNormRunning,
} from '../../kernels/index.js';
import { batchNormTrain as refTrain } from '../../reference/index.js';
import { batchNormCase, buildBatchNormCase, momentumValue, seed, seededRng } from '../helpers/arbitraries.js';
import { onePassVarianceIsAccurate } from '../../kernels/shared/one_pass.js';
import { float32Case, kernelTrain, referenceTrain, type Float32Case } from './batchnorm_fixture.js';
import { gamma, toNchw, toNhwc, U64, ulp32, ulpError } from './norm_error_model.js';

const LAYOUTS: readonly BatchNormLayout[] = ['NCHW', 'NHWC'];

/** x = offset + z, z ~ N(0, 1), rounded to float32; (N, C, S). */
function offsetCase(caseSeed: number, N: number, C: number, S: number, offset: number): Float32Case {
  const rng = seededRng(caseSeed);
  const x = new Float32Array(N * C * S);
  for (let i = 0; i < x.length; i++) x[i] = offset + rng.normal();
  const weight = new Float32Array(C);
  const bias = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    weight[c] = rng.between(0.25, 4) * (rng.uniform() < 0.5 ? -1 : 1);
    bias[c] = rng.between(-2, 2);
  }
  return { N, C, S, x, weight, bias };
}

/**
 * A nearly exact reference for large offsets: BatchNorm's output does not change when a channel is shifted, and
 * x - K for K the channel's first value is exact in float64 (both float32 within a factor of 2 of each other,
 * Sterbenz), so the reference run on x - K sees values of unit size: its mean errs by γ_M·mean|x - K| ≈ 1e-13
 * instead of γ_M·1e6. Its own error is then ~1e-12 of an output, far below the ½ ulp the kernel may spend.
 */
function shiftedReference(k: Float32Case): Float64Array {
  const { N, C, S } = k;
  const shifted = new Float64Array(k.x.length);
  for (let c = 0; c < C; c++) {
    const K = k.x[c * S]!;
    for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) shifted[(n * C + c) * S + s] = k.x[(n * C + c) * S + s]! - K;
  }
  return refTrain({ x: shifted, shape: [N, C, S], weight: k.weight, bias: k.bias }).y;
}

describe.each(BATCHNORM_FORWARD_VERSIONS.map((v) => [v.name, v] as const))('BatchNorm training forward %s at large offsets', (_n, version) => {
  const shapes = [
    { name: '64×8 values per channel, BatchNorm1d (64, 8)', N: 64, C: 8, S: 1 },
    { name: 'BatchNorm2d (8, 4, 32, 32)', N: 8, C: 4, S: 1024 },
  ];
  for (const { name, N, C, S } of shapes) {
    it.each(LAYOUTS)(`${name}, %s: y is within 1 ulp of the exact result at offsets 1e2, 1e3, 1e4, 1e5 and 1e6 (seeds 1..3)`, (layout) => {
      for (const offset of [1e2, 1e3, 1e4, 1e5, 1e6]) {
        for (let s = 1; s <= 3; s++) {
          const k = offsetCase(s, N, C, S, offset);
          const got = kernelTrain(k, layout, { version });
          const want = shiftedReference(k);
          let worst = 0;
          for (let i = 0; i < want.length; i++) worst = Math.max(worst, ulpError(got.y[i]!, want[i]!));
          // the specification (issue 3): at most 1 ulp of the output, at any offset up to 1e6
          expect(worst, `offset ${offset}, seed ${s}: worst error in ulps`).toBeLessThanOrEqual(1);
        }
      }
    });
  }
});

describe.each(BATCHNORM_FORWARD_VERSIONS.map((v) => [v.name, v] as const))('BatchNorm training forward %s, cancellation check', (_n, version) => {
  /**
   * A channel of M = 4096 values whose first value (the shift K) is 1e4 standard deviations out: E[(x - K)²] is
   * about M times the variance, so the one-pass formula's bound 3·γ_M·E[(x-K)²] exceeds 2⁻³⁰·var and the kernel
   * must take the exact second pass. The output must still meet the forward bound of norm_error_model.ts.
   */
  it.each(LAYOUTS)('%s: a channel whose first value is an outlier (which triggers the exact second pass) stays within the bound (seed 5)', (layout) => {
    const N = 64;
    const C = 3;
    const S = 64;
    const k = offsetCase(5, N, C, S, 0);
    k.x[0] = 1e4; // channel 0's first value
    k.x[1 * S] = -1e4; // channel 1's
    const M = N * S;
    let s1 = 0;
    let s2 = 0;
    for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) {
      const d = k.x[n * C * S + s]! - k.x[0]!;
      s1 += d;
      s2 += d * d;
    }
    expect(onePassVarianceIsAccurate(s2 / M - (s1 / M) ** 2, s2 / M, M), 'the case must trigger the second pass').toBe(false);
    const got = kernelTrain(k, layout, { version });
    const want = referenceTrain(k, false);
    for (let i = 0; i < want.y.length; i++) {
      const err = Math.abs(got.y[i]! - want.y[i]!);
      if (!(err <= want.bound(i))) expect.fail(`y[${i}] = ${got.y[i]}, reference ${want.y[i]}, bound ${want.bound(i)}`);
    }
  });
});

describe('BatchNorm running statistics', () => {
  /**
   * Each step is compared with the reference's update of the same float32 running buffers (the kernel's previous
   * ones), so the bound is one step's: the rounding to float32 (1 ulp32 at the new value, see the forward bound),
   * f times the batch statistic's error, and float64 roundings of the blend,
   *   mean: ulp32 + f·δm + 4u64·(|old| + |mean|),   δm ≤ γ_{M+2}·2·mean|x|   (norm_error_model.ts)
   *   var:  ulp32 + f·b·δv + 4u64·(|old| + f·b·var), δv ≤ (2⁻³⁰ + 3γ_{M+2})·var + δm² + 2δm·mean|x - mean|
   * with b = M/(M-1) the Bessel factor.
   */
  it.each(LAYOUTS)('%s: four training steps update the running buffers in place as PyTorch does, momentum in [0, 1] or null', (layout) => {
    fc.assert(
      fc.property(batchNormCase(), fc.option(momentumValue, { nil: null }), fc.integer({ min: 0, max: 5 }), (first, momentum, tracked) => {
        const { N, C, S } = first;
        const M = N * S;
        const running: BatchNormRunning = {
          runningMean: Float32Array.from(first.runningMean), runningVar: Float32Array.from(first.runningVar), numBatchesTracked: tracked,
        };
        for (let step = 0; step < 4; step++) {
          const kase = step === 0 ? first : buildBatchNormCase(first.seed + step, first.shape, first.values, first.affine);
          const k = float32Case(kase);
          const before = { runningMean: Float64Array.from(running.runningMean), runningVar: Float64Array.from(running.runningVar), numBatchesTracked: running.numBatchesTracked };
          kernelTrain(k, layout, { running, momentum });
          const result = refTrain({ x: k.x, shape: [N, C, S], weight: k.weight, bias: k.bias, running: before, momentum });
          const want = result.running!;
          expect(running.numBatchesTracked).toBe(want.numBatchesTracked);
          const f = momentum === null ? 1 / want.numBatchesTracked : momentum;
          const bessel = M / (M - 1);
          for (let c = 0; c < C; c++) {
            let meanAbs = 0;
            let meanAbsDev = 0;
            let mean = 0;
            for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) mean += k.x[(n * C + c) * S + s]! / M;
            for (let n = 0; n < N; n++) {
              for (let s = 0; s < S; s++) {
                meanAbs += Math.abs(k.x[(n * C + c) * S + s]!) / M;
                meanAbsDev += Math.abs(k.x[(n * C + c) * S + s]! - mean) / M;
              }
            }
            const dm = 2 * gamma(M + 2) * meanAbs;
            const v = result.var[c]!;
            const dv = (2 ** -30 + 3 * gamma(M + 2)) * Math.abs(v) + dm * dm + 2 * dm * meanAbsDev;
            const meanBound = ulp32(want.runningMean[c]!) + f * dm + 4 * U64 * (Math.abs(before.runningMean[c]!) + meanAbs);
            const varBound = ulp32(want.runningVar[c]!) + f * bessel * dv + 4 * U64 * (Math.abs(before.runningVar[c]!) + f * bessel * Math.abs(v));
            expect(Math.abs(running.runningMean[c]! - want.runningMean[c]!), `step ${step} runningMean[${c}]`).toBeLessThanOrEqual(meanBound);
            expect(Math.abs(running.runningVar[c]! - want.runningVar[c]!), `step ${step} runningVar[${c}]`).toBeLessThanOrEqual(varBound);
          }
        }
      }),
      { numRuns: 40 },
    );
  });

  it('momentum = null averages the batch statistics cumulatively: after k steps from numBatchesTracked = 0 the running mean is their mean', () => {
    // three batches of constant channels with means 1, 2, 6: the cumulative average is 3, exactly representable
    const C = 2;
    const running: BatchNormRunning = { runningMean: new Float32Array(C), runningVar: new Float32Array(C).fill(1), numBatchesTracked: 0 };
    for (const value of [1, 2, 6]) {
      const k: Float32Case = { N: 4, C, S: 1, x: new Float32Array(4 * C).fill(value), weight: null, bias: null };
      kernelTrain(k, 'NCHW', { running, momentum: null });
    }
    expect(Array.from(running.runningMean)).toEqual([3, 3]);
    expect(Array.from(running.runningVar)).toEqual([0, 0]); // f = 1 at the first step forgets the initial 1
    expect(running.numBatchesTracked).toBe(3);
  });
});

describe('BatchNorm special values', () => {
  it.each(LAYOUTS)('%s: a constant channel normalises to its bias, not NaN, at offsets 0 to 1e6, and its gradient is finite', (layout) => {
    for (const value of [0, -2.5, 1e4 + 0.5, 1e6, -3e38]) {
      const N = 3;
      const C = 2;
      const S = 5;
      const x = new Float32Array(N * C * S);
      for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) {
        x[(n * C) * S + s] = value; // channel 0 constant
        x[(n * C + 1) * S + s] = n + s; // channel 1 not
      }
      const k: Float32Case = { N, C, S, x, weight: Float32Array.of(3, -1), bias: Float32Array.of(0.75, 2) };
      for (const relu of [false, true]) {
        const got = kernelTrain(k, layout, { relu });
        for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) expect(got.y[(n * C) * S + s], `value ${value}`).toBe(0.75);
        expect(got.mean[0]).toBe(Math.fround(value)); // the stored float32 value, exactly
        expect(got.rstd[0]).toBe(1 / Math.sqrt(1e-5)); // var is exactly 0
        const dx = new Float32Array(N * C * S);
        const dy = Float32Array.from({ length: N * C * S }, (_, i) => (i % 3) - 1);
        batchNormBackward({
          dy: layout === 'NCHW' ? dy : toNhwc(dy, N, C, S), x: got.xIn, dims: { N, C, S }, layout, weight: k.weight,
          mean: got.mean, rstd: got.rstd, training: true, reluOutput: relu ? got.yOut : null, dx, workspace: got.workspace,
        });
        expect(dx.every(Number.isFinite)).toBe(true);
      }
    }
  });

  /**
   * Any finite float32 input gives a finite output: sums are float64 (no overflow below 1e308) and a normalised
   * value obeys |x̂| ≤ sqrt(M - 1) (Samuelson's inequality; eps only shrinks it), so |y - bias| ≤ |weight|·sqrt(M - 1)
   * up to a few roundings (the factor 1 + 2⁻²⁰).
   */
  it.each(LAYOUTS)('%s: finite inputs anywhere in the float32 range give finite outputs with |y - bias| ≤ |weight|·sqrt(M - 1)', (layout) => {
    const finiteFloat32 = fc.float({ noNaN: true, noDefaultInfinity: true }); // ±3.4e38, subnormals, -0; never NaN or ±Infinity
    fc.assert(
      fc.property(
        fc.record({ N: fc.integer({ min: 1, max: 4 }), C: fc.integer({ min: 1, max: 3 }), S: fc.integer({ min: 1, max: 5 }) })
          .filter(({ N, S }) => N * S >= 2)
          .chain((d) => fc.record({
            dims: fc.constant(d),
            x: fc.array(finiteFloat32, { minLength: d.N * d.C * d.S, maxLength: d.N * d.C * d.S }),
            weight: fc.array(fc.float({ min: -4, max: 4, noNaN: true }), { minLength: d.C, maxLength: d.C }),
            bias: fc.array(fc.float({ min: -2, max: 2, noNaN: true }), { minLength: d.C, maxLength: d.C }),
          })),
        ({ dims: { N, C, S }, x, weight, bias }) => {
          const k: Float32Case = { N, C, S, x: Float32Array.from(x), weight: Float32Array.from(weight), bias: Float32Array.from(bias) };
          const got = kernelTrain(k, layout, {});
          const limit = Math.sqrt(N * S - 1) * (1 + 2 ** -20);
          for (let i = 0; i < got.y.length; i++) {
            const c = Math.floor(i / S) % C;
            expect(Number.isFinite(got.y[i]!), `y[${i}]`).toBe(true);
            expect(Math.abs(got.y[i]! - k.bias![c]!)).toBeLessThanOrEqual(Math.abs(k.weight![c]!) * limit + ulp32(k.bias![c]!) + 2 ** -149);
          }
          expect(Array.from(got.rstd).every(Number.isFinite)).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('BatchNorm kernel contract', () => {
  it.each(LAYOUTS)('%s: no input is modified, by the forward or the backward', (layout) => {
    fc.assert(
      fc.property(batchNormCase(), seed, (kase, gradSeed) => {
        const k = float32Case(kase);
        const { N, C, S } = k;
        const xIn = layout === 'NCHW' ? k.x : toNhwc(k.x, N, C, S);
        const copies = { x: xIn.slice(), weight: k.weight?.slice(), bias: k.bias?.slice() };
        const y = new Float32Array(xIn.length);
        const mean = new Float64Array(C);
        const rstd = new Float64Array(C);
        const workspace = new BatchNormWorkspace(C);
        batchNormTrainForward({ x: xIn, dims: { N, C, S }, layout, weight: k.weight, bias: k.bias, y, mean, rstd, workspace });
        const rng = seededRng(gradSeed);
        const dy = Float32Array.from({ length: xIn.length }, () => rng.normal());
        const saved = { dy: dy.slice(), mean: mean.slice(), rstd: rstd.slice(), y: y.slice() };
        batchNormBackward({
          dy, x: xIn, dims: { N, C, S }, layout, weight: k.weight, mean, rstd, training: true, reluOutput: y,
          dx: new Float32Array(xIn.length), dweight: new Float32Array(C), dbias: new Float32Array(C), workspace,
        });
        expect(xIn).toEqual(copies.x);
        expect(k.weight ?? undefined).toEqual(copies.weight);
        expect(k.bias ?? undefined).toEqual(copies.bias);
        expect(dy).toEqual(saved.dy);
        expect(mean).toEqual(saved.mean);
        expect(rstd).toEqual(saved.rstd);
        expect(y).toEqual(saved.y);
      }),
      { numRuns: 30 },
    );
  });

  it('the NHWC kernel on (M, C) and the NCHW kernel agree bit for bit on BatchNorm1d inputs (S = 1 is one memory layout)', () => {
    const k = float32Case(buildBatchNormCase(7, [13, 5], 'largeOffset', 'nonUnit'));
    const a = kernelTrain(k, 'NCHW', {});
    const b = kernelTrain(k, 'NHWC', {});
    expect(toNchw(b.y, 13, 5, 1)).toEqual(a.y);
  });

  describe('bad arguments throw a KernelShapeError (a size) or KernelValueError (a value), both KernelArgErrors, naming the argument', () => {
    const N = 3;
    const C = 5;
    const S = 7;
    const good = () => ({
      x: new Float32Array(N * C * S).map((_, i) => i % 11), dims: { N, C, S }, layout: 'NCHW' as BatchNormLayout,
      weight: new Float32Array(C), bias: new Float32Array(C), y: new Float32Array(N * C * S),
      mean: new Float64Array(C), rstd: new Float64Array(C), workspace: new BatchNormWorkspace(C),
    });
    const cases: [string, Record<string, unknown>, RegExp, typeof KernelShapeError | typeof KernelValueError][] = [
      ['y too short', { y: new Float32Array(3) }, /^y: expected an output of shape \(N, C, S\) = \(3, 5, 7\) \(105 values\), got 3 values$/, KernelShapeError],
      ['x a Float64Array', { x: new Float64Array(N * C * S) }, /^x: expected a Float32Array of .*\(105 values\), got Float64Array$/, KernelValueError],
      ['weight of the wrong length', { weight: new Float32Array(4) }, /^weight: expected one weight per channel, shape \(5,\) \(5 values\), got 4 values$/, KernelShapeError],
      ['mean as Float32Array', { mean: new Float32Array(C) }, /^mean: expected a Float64Array/, KernelValueError],
      ['workspace for another C', { workspace: new BatchNormWorkspace(4) }, /^workspace: expected a BatchNormWorkspace for C = 5/, KernelShapeError],
      ['a fractional N', { dims: { N: 1.5, C, S } }, /^dims\.N: expected a positive integer, got 1\.5$/, KernelShapeError],
      ['an unknown layout', { layout: 'NWHC' }, /^layout: expected 'NCHW' or 'NHWC', got string "NWHC"$/, KernelValueError],
      ['eps = 0', { eps: 0 }, /^eps: expected a finite number > 0, got 0$/, KernelValueError],
      ['momentum 1.5', { momentum: 1.5 }, /^momentum: expected a number in \[0, 1\] or null/, KernelValueError],
      ['one value per channel', { dims: { N: 1, C, S: 1 }, x: new Float32Array(C), y: new Float32Array(C) }, /^x: expected more than 1 value per channel when training/, KernelShapeError],
      ['y aliasing x', { y: null }, /^y: must not overlap x/, KernelValueError],
    ];
    it.each(cases)('%s', (_name, change, message, kind) => {
      const args = { ...good(), ...change };
      if (change.y === null) args.y = args.x;
      expect(() => batchNormTrainForward(args as never)).toThrow(message);
      expect(() => batchNormTrainForward(args as never)).toThrow(kind);
      expect(() => batchNormTrainForward(args as never)).toThrow(KernelArgError);
    });

    it('the backward names dx and the saved rstd', () => {
      const g = good();
      const base = { dy: g.x, x: g.x, dims: g.dims, mean: g.mean, rstd: g.rstd, training: true, workspace: g.workspace };
      expect(() => batchNormBackward({ ...base, dx: new Float32Array(10) })).toThrow(/^dx: expected an input gradient of shape \(N, C, S\) = \(3, 5, 7\) \(105 values\), got 10 values$/);
      expect(() => batchNormBackward({ ...base, rstd: new Float64Array(2), dx: new Float32Array(105) })).toThrow(/^rstd: expected the forward's saved 1\/sqrt\(var \+ eps\) per channel, shape \(5,\) \(5 values\), got 2 values$/);
    });
  });
});
