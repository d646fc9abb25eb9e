/**
 * The float32 BatchNorm kernels (kernels/batchnorm/), every registered version, both layouts, against the
 * float64 reference (reference/batchnorm.ts), with the bounds of norm_error_model.ts (derivation there).
 * Cases come from the shared generators (test/helpers/arbitraries.ts): seed, shape, value case and affine case,
 * printed by fast-check on failure; values are rounded to float32 first so kernel and reference see the same
 * numbers. NHWC runs transpose the same case, so both layouts are checked against one NCHW reference.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BATCHNORM_BACKWARD_VERSIONS, BATCHNORM_FORWARD_VERSIONS, type BatchNormBackwardVersion, type BatchNormForwardVersion,
  type BatchNormLayout,
} from '../../kernels/index.js';
import { batchNormCase, batchNormShape, buildBatchNormCase } from '../helpers/arbitraries.js';
import {
  float32Case, gradient, kernelBackward, kernelEval, kernelTrain, referenceBackward, referenceEval, referenceTrain,
} from './batchnorm_fixture.js';
import { compareWithBound } from './norm_error_model.js';

const LAYOUTS: readonly BatchNormLayout[] = ['NCHW', 'NHWC'];
const RUNS = { numRuns: 60 };

function expectWithin(got: ArrayLike<number>, want: ArrayLike<number>, bound: (i: number) => number, what: string): void {
  expect(compareWithBound(got, want, bound), `${what}: worst mismatches (index, got, want, bound)`).toEqual([]);
}

const forwardVersions = BATCHNORM_FORWARD_VERSIONS.map((v) => [v.name, v] as [string, BatchNormForwardVersion]);
const backwardVersions = BATCHNORM_BACKWARD_VERSIONS.map((v) => [v.name, v] as [string, BatchNormBackwardVersion]);

describe.each(forwardVersions)('BatchNorm training forward, version %s', (_name, version) => {
  it.each(LAYOUTS)(
    '%s: y is the float32 rounding of the reference within 1 ulp plus the statistics error of the model, with or without the fused ReLU',
    (layout) => {
      fc.assert(
        fc.property(batchNormCase(), fc.boolean(), (kase, relu) => {
          const k = float32Case(kase);
          const got = kernelTrain(k, layout, { version, relu });
          const want = referenceTrain(k, relu);
          expectWithin(got.y, want.y, want.bound, 'y');
          // saved statistics: the kernel's are the more accurate ones, so the bound is the reference's own error
          // in units of the channel's scale: |δmean|·rstd ≤ ρ and |δrstd|/rstd ≤ ρ
          const { C } = k;
          for (let c = 0; c < C; c++) {
            const r = want.ref.rstd[c]!;
            expect(Math.abs(got.mean[c]! - want.ref.mean[c]!) * r, `mean[${c}]`).toBeLessThanOrEqual(want.model.rho[c]!);
            expect(Math.abs(got.rstd[c]! - r) / r, `rstd[${c}]`).toBeLessThanOrEqual(want.model.rho[c]!);
          }
        }),
        RUNS,
      );
    },
  );
});

describe('BatchNorm eval forward', () => {
  it.each(LAYOUTS)('%s: y from the running statistics is within 1 ulp of the reference (plus float64 roundings), with or without ReLU', (layout) => {
    fc.assert(
      fc.property(batchNormCase({ shape: batchNormShape({ training: false }) }), fc.boolean(), (kase, relu) => {
        const k = float32Case(kase);
        const rm = Float32Array.from(kase.runningMean);
        const rv = Float32Array.from(kase.runningVar);
        const got = kernelEval(k, layout, rm, rv, relu);
        const want = referenceEval(k, rm, rv, relu);
        expectWithin(got.y, want.y, want.bound, 'y');
        expect(Array.from(got.mean)).toEqual(Array.from(rm)); // the running mean, as float64, exactly
      }),
      RUNS,
    );
  });
});

describe.each(backwardVersions)('BatchNorm backward, version %s', (_name, version) => {
  it.each(LAYOUTS)(
    '%s training mode: dx, dweight, dbias match the reference within the cancellation-aware bound, with or without the fused ReLU',
    (layout) => {
      fc.assert(
        fc.property(batchNormCase(), fc.boolean(), (kase, relu) => {
          const k = float32Case(kase);
          const fwd = kernelTrain(k, layout, { relu });
          const dy = gradient(kase.seed + 1, k.x.length);
          const got = kernelBackward(k, layout, fwd, dy, true, relu, version);
          const want = referenceTrain(k, relu);
          // the fused ReLU's backward is BN's backward of dy masked by the forward's own output y > 0
          const dyMasked = relu ? dy.map((g, i) => (fwd.y[i]! > 0 ? g : 0)) : dy;
          const ref = referenceBackward(k, dyMasked, want.ref.mean, want.ref.rstd, want.model, true);
          expectWithin(got.dx, ref.grads.dx, ref.dxBoundAt, 'dx');
          expectWithin(got.dweight, ref.grads.dweight!, ref.dweightBound, 'dweight');
          expectWithin(got.dbias, ref.grads.dbias!, ref.dbiasBound, 'dbias');
        }),
        RUNS,
      );
    },
  );

  it.each(LAYOUTS)('%s eval mode: dx = weight·rstd·dy and the parameter gradients match the reference', (layout) => {
    fc.assert(
      fc.property(batchNormCase({ shape: batchNormShape({ training: false }) }), fc.boolean(), (kase, relu) => {
        const k = float32Case(kase);
        const rm = Float32Array.from(kase.runningMean);
        const rv = Float32Array.from(kase.runningVar);
        const fwd = kernelEval(k, layout, rm, rv, relu);
        const dy = gradient(kase.seed + 1, k.x.length);
        const got = kernelBackward(k, layout, fwd, dy, false, relu, version);
        const want = referenceEval(k, rm, rv, relu);
        const dyMasked = relu ? dy.map((g, i) => (fwd.y[i]! > 0 ? g : 0)) : dy;
        const ref = referenceBackward(k, dyMasked, want.mean, want.ref.rstd, want.model, false);
        expectWithin(got.dx, ref.grads.dx, ref.dxBoundAt, 'dx');
        expectWithin(got.dweight, ref.grads.dweight!, ref.dweightBound, 'dweight');
        expectWithin(got.dbias, ref.grads.dbias!, ref.dbiasBound, 'dbias');
      }),
      RUNS,
    );
  });
});

describe('BatchNorm on inputs larger than the blocked loops’ 32 kB row tiles', () => {
  // The generated shapes above stay inside one tile (tileRows = 32768 / (4·C) ≥ 1170 rows); this one spans
  // three tiles of 1365 rows with a remainder, and C = 6 is one four-channel block plus two single channels.
  const kase = buildBatchNormCase(2024, [125, 6, 8, 4], 'largeOffset', 'nonUnit'); // M = 125·32 = 4000 rows
  it.each(LAYOUTS)('%s: every forward and backward version matches the reference within the model bounds (seed 2024)', (layout) => {
    const k = float32Case(kase);
    const want = referenceTrain(k, false);
    const dy = gradient(2025, k.x.length);
    const ref = referenceBackward(k, dy, want.ref.mean, want.ref.rstd, want.model, true);
    for (const fwdVersion of BATCHNORM_FORWARD_VERSIONS) {
      const fwd = kernelTrain(k, layout, { version: fwdVersion });
      expectWithin(fwd.y, want.y, want.bound, `y (${fwdVersion.name})`);
      for (const bwdVersion of BATCHNORM_BACKWARD_VERSIONS) {
        const got = kernelBackward(k, layout, fwd, dy, true, false, bwdVersion);
        expectWithin(got.dx, ref.grads.dx, ref.dxBoundAt, `dx (${fwdVersion.name}, ${bwdVersion.name})`);
        expectWithin(got.dweight, ref.grads.dweight!, ref.dweightBound, `dweight (${bwdVersion.name})`);
        expectWithin(got.dbias, ref.grads.dbias!, ref.dbiasBound, `dbias (${bwdVersion.name})`);
      }
    }
  });
});
