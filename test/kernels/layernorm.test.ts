/**
 * The float32 LayerNorm kernels (kernels/layernorm/), every registered forward version, against the float64
 * reference (reference/layernorm.ts), with the bounds of norm_error_model.ts applied per row (M = D):
 *   y:        ulp32(ref) + |w|·ρ·(1 + |x̂|) + 4u64·(|w x̂| + |b|)
 *   dx:       BatchNorm's dx bound with g = dy·w in place of w·dy (wr = rstd, A = mean|g|, B = mean|g·x̂|)
 *   dweight, dbias: sums over R rows, u32·|ref| + 4·(γ_{R+2} + max ρ)·Σ_rows |dy|·(1 + |x̂|)
 * Cases from the shared generators (test/helpers/arbitraries.ts), rounded to float32 first.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  LAYERNORM_BACKWARD_VERSIONS, LAYERNORM_FORWARD_VERSIONS, layerNormBackward, layerNormForward, LayerNormWorkspace,
  type LayerNormForwardVersion,
} from '../../kernels/index.js';
import { layerNormBackward as refBackward, layerNormForward as refForward } from '../../reference/index.js';
import { layerNormCase, seededRng, type LayerNormCase } from '../helpers/arbitraries.js';
import {
  compareWithBound, dxBound, f32, forwardBound, gamma, statisticsRho, U32, ulpError,
} from './norm_error_model.js';

interface Ln32 {
  R: number;
  D: number;
  x: Float32Array;
  weight: Float32Array | null;
  bias: Float32Array | null;
}

function ln32(k: LayerNormCase): Ln32 {
  return { R: k.R, D: k.D, x: Float32Array.from(k.x), weight: f32(k.weight), bias: f32(k.bias) };
}

function runForward(k: Ln32, version?: LayerNormForwardVersion) {
  const y = new Float32Array(k.R * k.D).fill(NaN); // every element must be written
  const mean = new Float64Array(k.R).fill(NaN);
  const rstd = new Float64Array(k.R).fill(NaN);
  layerNormForward({ x: k.x, dims: { R: k.R, D: k.D }, weight: k.weight, bias: k.bias, y, mean, rstd, ...(version ? { version } : {}) });
  return { y, mean, rstd };
}

/** The reference on the same float32 values, and per-row ρ and x̂ of the error model. */
function reference(k: Ln32) {
  const ref = refForward({ x: k.x, shape: [k.R, k.D], normalizedShape: [k.D], weight: k.weight, bias: k.bias });
  const rho = new Float64Array(k.R);
  const xhat = new Float64Array(k.R * k.D);
  for (let r = 0; r < k.R; r++) {
    let meanAbs = 0;
    for (let i = 0; i < k.D; i++) {
      meanAbs += Math.abs(k.x[r * k.D + i]!) / k.D;
      xhat[r * k.D + i] = (k.x[r * k.D + i]! - ref.mean[r]!) * ref.rstd[r]!;
    }
    rho[r] = statisticsRho(k.D, ref.rstd[r]!, meanAbs);
  }
  return { ref, rho, xhat };
}

function expectWithin(got: ArrayLike<number>, want: ArrayLike<number>, bound: (i: number) => number, what: string): void {
  expect(compareWithBound(got, want, bound), `${what}: worst mismatches (index, got, want, bound)`).toEqual([]);
}

describe.each(LAYERNORM_FORWARD_VERSIONS.map((v) => [v.name, v] as const))('LayerNorm forward, version %s', (_name, version) => {
  it('y is the float32 rounding of the reference within 1 ulp plus the statistics error of the model; mean and rstd are saved', () => {
    fc.assert(
      fc.property(layerNormCase(), (kase) => {
        const k = ln32(kase);
        const got = runForward(k, version);
        const { ref, rho, xhat } = reference(k);
        expectWithin(got.y, ref.y, (i) => {
          const r = Math.floor(i / k.D);
          const j = i % k.D;
          return forwardBound(ref.y[i]!, k.weight ? k.weight[j]! : 1, xhat[i]!, k.bias ? k.bias[j]! : 0, rho[r]!);
        }, 'y');
        expectWithin(got.mean, ref.mean, (r) => rho[r]! / ref.rstd[r]!, 'mean');
        expectWithin(got.rstd, ref.rstd, (r) => rho[r]! * ref.rstd[r]!, 'rstd');
      }),
      { numRuns: 80 },
    );
  });

  it('rows of 768 values at offsets 1e2 to 1e6 (std 1) come out within 1 ulp of the exact result (seed 11)', () => {
    const R = 4;
    const D = 768;
    for (const offset of [1e2, 1e3, 1e4, 1e5, 1e6]) {
      const rng = seededRng(11);
      const x = Float32Array.from({ length: R * D }, () => offset + rng.normal());
      const weight = Float32Array.from({ length: D }, () => rng.between(-2, 2));
      const bias = Float32Array.from({ length: D }, () => rng.between(-1, 1));
      const got = runForward({ R, D, x, weight, bias }, version);
      // LayerNorm ignores a shift of its row; x - K is exact in float64 (Sterbenz), so the reference on shifted
      // rows has an error ~1e-13 of the output (see batchnorm_accuracy.test.ts)
      const shifted = new Float64Array(R * D);
      for (let r = 0; r < R; r++) for (let i = 0; i < D; i++) shifted[r * D + i] = x[r * D + i]! - x[r * D]!;
      const want = refForward({ x: shifted, shape: [R, D], normalizedShape: [D], weight, bias }).y;
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, ulpError(got.y[i]!, want[i]!));
      expect(worst, `offset ${offset}: worst error in ulps`).toBeLessThanOrEqual(1);
    }
  });
});

describe.each(LAYERNORM_BACKWARD_VERSIONS.map((v) => [v.name, v] as const))('LayerNorm backward, version %s', (_name, version) => {
  it('dx, dweight, dbias match the reference within the cancellation-aware bound, with and without weight', () => {
    fc.assert(
      fc.property(layerNormCase(), (kase) => {
        const k = ln32(kase);
        const { R, D } = k;
        const fwd = runForward(k);
        const rng = seededRng(kase.seed + 1);
        const dy = Float32Array.from({ length: R * D }, () => rng.normal());
        const dx = new Float32Array(R * D).fill(NaN);
        const dweight = new Float32Array(D).fill(NaN);
        const dbias = new Float32Array(D).fill(NaN);
        layerNormBackward({ dy, x: k.x, dims: { R, D }, weight: k.weight, mean: fwd.mean, rstd: fwd.rstd, dx, dweight, dbias, workspace: new LayerNormWorkspace(D), version });
        const { ref, rho, xhat } = reference(k);
        const grads = refBackward({ dy, x: k.x, shape: [R, D], normalizedShape: [D], weight: k.weight ?? new Float64Array(D).fill(1), hasBias: true, mean: ref.mean, rstd: ref.rstd });
        // per-row terms of the dx bound; column sums for dweight and dbias
        const w = (i: number): number => (k.weight ? k.weight[i]! : 1);
        const rowTerms = Array.from({ length: R }, (_, r) => {
          let A = 0;
          let B = 0;
          let X = 0;
          for (let i = 0; i < D; i++) {
            const g = Math.abs(dy[r * D + i]! * w(i));
            A += g / D;
            B += (g * Math.abs(xhat[r * D + i]!)) / D;
            X = Math.max(X, Math.abs(xhat[r * D + i]!));
          }
          return { M: D, rho: rho[r]!, wr: ref.rstd[r]!, A, B, X };
        });
        expectWithin(dx, grads.dx, (i) => {
          const r = Math.floor(i / D);
          return dxBound(grads.dx[i]!, dy[i]! * w(i % D), xhat[i]!, rowTerms[r]!);
        }, 'dx');
        const maxRho = Math.max(...rho);
        const columnAbs = new Float64Array(D);
        for (let r = 0; r < R; r++) for (let i = 0; i < D; i++) columnAbs[i] = columnAbs[i]! + Math.abs(dy[r * D + i]!) * (1 + Math.abs(xhat[r * D + i]!));
        const sumBound = (ref: number, i: number): number => U32 * Math.abs(ref) + 4 * (gamma(R + 2) + maxRho) * columnAbs[i]! + 2 ** -149;
        expectWithin(dweight, grads.dweight!, (i) => sumBound(grads.dweight![i]!, i), 'dweight');
        expectWithin(dbias, grads.dbias!, (i) => sumBound(grads.dbias![i]!, i), 'dbias');
      }),
      { numRuns: 80 },
    );
  });
});

describe('LayerNorm special values and contract', () => {
  it('a constant row normalises to the bias, not NaN, and its gradient is finite', () => {
    const D = 5;
    const x = Float32Array.of(3e38, 3e38, 3e38, 3e38, 3e38, 1e6, 1e6, 1e6, 1e6, 1e6);
    const bias = Float32Array.of(1, 2, 3, 4, 5);
    const weight = new Float32Array(D).fill(2);
    const got = runForward({ R: 2, D, x, weight, bias });
    expect(Array.from(got.y)).toEqual([1, 2, 3, 4, 5, 1, 2, 3, 4, 5]);
    const dx = new Float32Array(10);
    layerNormBackward({ dy: new Float32Array(10).fill(1), x, dims: { R: 2, D }, weight, mean: got.mean, rstd: got.rstd, dx, workspace: new LayerNormWorkspace(D) });
    expect(dx.every(Number.isFinite)).toBe(true);
  });

  it('no input is modified by the forward or the backward', () => {
    fc.assert(
      fc.property(layerNormCase(), (kase) => {
        const k = ln32(kase);
        const copies = { x: k.x.slice(), weight: k.weight?.slice(), bias: k.bias?.slice() };
        const fwd = runForward(k);
        const dy = new Float32Array(k.x.length).fill(0.5);
        const saved = { mean: fwd.mean.slice(), rstd: fwd.rstd.slice() };
        layerNormBackward({
          dy, x: k.x, dims: { R: k.R, D: k.D }, weight: k.weight, mean: fwd.mean, rstd: fwd.rstd, dx: new Float32Array(k.x.length),
          dweight: new Float32Array(k.D), dbias: new Float32Array(k.D), workspace: new LayerNormWorkspace(k.D),
        });
        expect(k.x).toEqual(copies.x);
        expect(k.weight ?? undefined).toEqual(copies.weight);
        expect(k.bias ?? undefined).toEqual(copies.bias);
        expect(dy.every((v) => v === 0.5)).toBe(true);
        expect(fwd.mean).toEqual(saved.mean);
        expect(fwd.rstd).toEqual(saved.rstd);
      }),
      { numRuns: 30 },
    );
  });

  it('bad arguments throw a KernelArgError naming the argument and the expected size', () => {
    const base = { x: new Float32Array(12), dims: { R: 3, D: 4 }, y: new Float32Array(12), mean: new Float64Array(3), rstd: new Float64Array(3) };
    expect(() => layerNormForward({ ...base, y: new Float32Array(11) })).toThrow(/^y: expected an output of shape \(R, D\) = \(3, 4\) \(12 values\), got 11 values$/);
    expect(() => layerNormForward({ ...base, weight: new Float32Array(3) })).toThrow(/^weight: expected a weight of normalized_shape, 4 values \(4 values\), got 3 values$/);
    expect(() => layerNormForward({ ...base, rstd: new Float64Array(4) })).toThrow(/^rstd: expected an output: one rstd per row, shape \(3,\) \(3 values\), got 4 values$/);
    expect(() => layerNormForward({ ...base, dims: { R: 0, D: 4 } })).toThrow(/^dims\.R: expected a positive integer, got 0$/);
    expect(() =>
      layerNormBackward({ dy: base.x, x: base.x, dims: base.dims, mean: base.mean, rstd: base.rstd, dx: new Float32Array(12), workspace: new LayerNormWorkspace(5) }),
    ).toThrow(/^workspace: expected a LayerNormWorkspace for D = 4/);
  });
});
