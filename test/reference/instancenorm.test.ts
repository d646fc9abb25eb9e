/**
 * The InstanceNorm reference: hand-derived cases for the forward, the running statistics and the backward;
 * the exact relation to BatchNorm on (1, N·C, ...spatial) that ATen's instance_norm is built on; momentum
 * null; gradcheck in both modes; bad input. Bounds from the error model with u = 2^-53.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  batchNormEval, batchNormTrain, formatGradcheck, gradcheck, instanceNormBackward, instanceNormForward,
  ShapeError, ValueError, type GradcheckValues,
} from '../../reference/index.js';
import { normals, useReproducibleSeed, type BatchNormCase } from '../helpers/arbitraries.js';
import { instanceNormCase } from '../helpers/family_cases.js';

useReproducibleSeed();

const U = 2 ** -53;

function expectClose(actual: ArrayLike<number>, expected: readonly number[], ulps: number, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(Math.abs(actual[i]! - expected[i]!), `${what}[${i}]`).toBeLessThanOrEqual(ulps * U * Math.abs(expected[i]!));
  }
}

const running = (c: BatchNormCase, numBatchesTracked = 4) => ({ runningMean: c.runningMean, runningVar: c.runningVar, numBatchesTracked });

describe('InstanceNorm forward', () => {
  // (N, C, S) = (2, 1, 2): instance 0 = [1, 3] (mean 2, var 1), instance 1 = [10, 14] (mean 12, var 4);
  // eps = 6.5625 makes var + eps = 2.75², 3.25².
  const x = [1, 3, 10, 14];

  it("a hand-derived case: each instance normalised with its own statistics, the channel's affine", () => {
    const r = instanceNormForward({ x, shape: [2, 1, 2], weight: [2], bias: [0.5], eps: 6.5625 });
    expect(Array.from(r.mean)).toEqual([2, 12]);
    expect(Array.from(r.rstd)).toEqual([1 / 2.75, 1 / 3.25]);
    expectClose(r.y, [2 * (-1 / 2.75) + 0.5, 2 * (1 / 2.75) + 0.5, 2 * (-2 / 3.25) + 0.5, 2 * (2 / 3.25) + 0.5], 4, 'y');
    expect(r.running).toBeNull();
  });

  it('a hand-derived running update: the batch average of the instance means and unbiased variances', () => {
    // unbiased variances var·S/(S-1) = 2 and 8; averages over the batch: mean 7, var 5; momentum 0.5:
    // running_mean = 0.5·0 + 0.5·7 = 3.5, running_var = 0.5·1 + 0.5·5 = 3; num_batches_tracked unchanged
    const r = instanceNormForward({ x, shape: [2, 1, 2], running: { runningMean: [0], runningVar: [1], numBatchesTracked: 7 }, momentum: 0.5 });
    expect(Array.from(r.running!.runningMean)).toEqual([3.5]);
    expect(Array.from(r.running!.runningVar)).toEqual([3]);
    expect(r.running!.numBatchesTracked).toBe(7);
  });

  it('a hand-derived eval case: the running statistics normalise every sample the same way', () => {
    // running_mean 2, running_var 0.25 + eps 0.75 = 1: y = weight·(x - 2) + bias
    const r = instanceNormForward({ x, shape: [2, 1, 2], weight: [3], bias: [1], running: { runningMean: [2], runningVar: [0.25] }, useInputStats: false, eps: 0.75 });
    expect(Array.from(r.y)).toEqual([-2, 4, 25, 37]);
    expect(Array.from(r.mean)).toEqual([2, 2]);
    expect(Array.from(r.rstd)).toEqual([1, 1]);
    expect(Array.from(r.running!.runningMean)).toEqual([2]);
    expect(Array.from(r.running!.runningVar)).toEqual([0.25]);
  });

  it("is BatchNorm on the (1, N·C, ...spatial) view, as ATen computes it: y, mean and rstd to the bit", () => {
    fc.assert(
      fc.property(instanceNormCase(), (c) => {
        const NC = c.N * c.C;
        const tile = (p: Float64Array | null) => (p ? Float64Array.from({ length: NC }, (_, i) => p[i % c.C]!) : null);
        const view = [1, NC, ...c.shape.slice(2)];
        const inorm = instanceNormForward({ x: c.x, shape: c.shape, weight: c.weight, bias: c.bias });
        const bn = batchNormTrain({ x: c.x, shape: view, weight: tile(c.weight), bias: tile(c.bias) });
        expect(inorm.y).toEqual(bn.y);
        expect(inorm.mean).toEqual(bn.mean);
        expect(inorm.rstd).toEqual(bn.rstd);
      }),
      { numRuns: 40 },
    );
  });

  it("updates the running statistics as ATen does: BatchNorm on the view with the buffers repeated N times, then their mean", () => {
    fc.assert(
      fc.property(instanceNormCase(), fc.constantFrom(0, 0.1, 0.5, 1), (c, momentum) => {
        const NC = c.N * c.C;
        const view = [1, NC, ...c.shape.slice(2)];
        const tile = (p: Float64Array) => Float64Array.from({ length: NC }, (_, i) => p[i % c.C]!);
        const inorm = instanceNormForward({ x: c.x, shape: c.shape, running: running(c), momentum });
        const bn = batchNormTrain({ x: c.x, shape: view, running: { runningMean: tile(c.runningMean), runningVar: tile(c.runningVar) }, momentum });
        for (const key of ['runningMean', 'runningVar'] as const) {
          for (let ch = 0; ch < c.C; ch++) {
            let sum = 0;
            let sumAbs = 0;
            for (let n = 0; n < c.N; n++) {
              sum += bn.running![key][n * c.C + ch]!;
              sumAbs += Math.abs(bn.running![key][n * c.C + ch]!);
            }
            // the two orders of (1 - m)·old + m·stat and the average differ by rounding only: both are a few
            // operations per term on values of size Σ|terms|/N, plus an N-term sum in each
            const bound = (2 * c.N + 8) * U * (sumAbs / c.N + Math.abs(c[key][ch]!));
            expect(Math.abs(inorm.running![key][ch]! - sum / c.N), `${key}[${ch}]`).toBeLessThanOrEqual(bound);
          }
        }
        expect(inorm.running!.numBatchesTracked).toBe(4);
      }),
      { numRuns: 40 },
    );
  });

  it('with the running statistics (eval) is BatchNorm eval with the same buffers, to the bit', () => {
    fc.assert(
      fc.property(instanceNormCase(), (c) => {
        const inorm = instanceNormForward({ x: c.x, shape: c.shape, weight: c.weight, bias: c.bias, running: running(c), useInputStats: false });
        const bn = batchNormEval({ x: c.x, shape: c.shape, weight: c.weight, bias: c.bias, running: running(c) });
        expect(inorm.y).toEqual(bn.y);
        expect(Array.from(inorm.running!.runningMean)).toEqual(Array.from(c.runningMean));
        expect(Array.from(inorm.running!.runningVar)).toEqual(Array.from(c.runningVar));
      }),
      { numRuns: 20 },
    );
  });

  it('momentum null is 0, as nn.InstanceNorm passes it: the running statistics never move (unlike BatchNorm)', () => {
    fc.assert(
      fc.property(instanceNormCase({ values: ['standardValues'] }), (c) => {
        const r = instanceNormForward({ x: c.x, shape: c.shape, running: running(c), momentum: null });
        // (1 - 0)·old + 0·stat = old exactly for finite statistics
        expect(Array.from(r.running!.runningMean)).toEqual(Array.from(c.runningMean));
        expect(Array.from(r.running!.runningVar)).toEqual(Array.from(c.runningVar));
        expect(r.running!.runningMean).not.toBe(c.runningMean); // a copy, never the caller's array
      }),
      { numRuns: 10 },
    );
  });
});

describe('InstanceNorm backward', () => {
  it("a hand-derived case: two values per instance, dx = ±rstd·(dy₀ - dy₁)/2·eps/(var + eps)", () => {
    // as in groupnorm.test.ts: instance [1, 3], var 1, eps 6.5625, rstd 1/2.75, dy = [1, 0] on it
    const x = [1, 3, 10, 14];
    const f = instanceNormForward({ x, shape: [2, 1, 2], weight: [1], bias: [0], eps: 6.5625 });
    const g = instanceNormBackward({ dy: [1, 0, 0, 0], x, shape: [2, 1, 2], weight: [1], mean: f.mean, rstd: f.rstd, useInputStats: true });
    const dx0 = ((1 / 2.75) * (6.5625 / 7.5625)) / 2;
    expectClose(g.dx, [dx0, -dx0, 0, 0], 8, 'dx');
    expectClose(g.dweight!, [-1 / 2.75], 4, 'dweight');
    expectClose(g.dbias!, [1], 0, 'dbias');
    // with the running statistics, mean and rstd are constants: dx = dy·weight·rstd
    const e = instanceNormForward({ x, shape: [2, 1, 2], weight: [3], bias: [0], running: { runningMean: [2], runningVar: [0.25] }, useInputStats: false, eps: 0.75 });
    const ge = instanceNormBackward({ dy: [1, -2, 0.5, 4], x, shape: [2, 1, 2], weight: [3], mean: e.mean, rstd: e.rstd, useInputStats: false });
    expect(Array.from(ge.dx)).toEqual([3, -6, 1.5, 12]);
  });

  for (const useInputStats of [true, false]) {
    it(`matches central differences of the forward ${useInputStats ? "with the instances' statistics" : 'with the running statistics'}, with and without affine`, () => {
      fc.assert(
        fc.property(instanceNormCase({ values: ['standardValues', 'tinyVariance', 'constantChannel'] }), (c) => {
          const inputs: Record<string, Float64Array> = c.weight && c.bias ? { x: c.x, weight: c.weight, bias: c.bias } : { x: c.x };
          const stats = useInputStats ? null : running(c);
          const fwd = (p: GradcheckValues) =>
            instanceNormForward({ x: p.x!, shape: c.shape, weight: p.weight ?? null, bias: p.bias ?? null, running: stats, useInputStats });
          const result = gradcheck({
            inputs,
            forward: (p) => fwd(p).y,
            backward: (p, dy) => {
              const { mean, rstd } = fwd(p);
              const g = instanceNormBackward({ dy, x: p.x!, shape: c.shape, weight: p.weight ?? null, hasBias: p.bias != null, mean, rstd, useInputStats });
              return { x: g.dx, weight: g.dweight, bias: g.dbias };
            },
          }, { mode: 'random', directions: 6, seed: c.seed });
          expect(result.ok, formatGradcheck(result)).toBe(true);
        }),
        { numRuns: 20 },
      );
    });
  }
});

describe('InstanceNorm rejects invalid arguments, naming them', () => {
  const x = normals(3, 2 * 3 * 4);
  const base = { x, shape: [2, 3, 4] };
  it('one spatial element with the input statistics (PyTorch: "Expected more than 1 spatial element"); eval accepts it', () => {
    for (const shape of [[2, 3], [2, 3, 1], [2, 3, 1, 1]]) {
      expect(() => instanceNormForward({ x: x.subarray(0, 6), shape })).toThrow(ShapeError);
      expect(() => instanceNormForward({ x: x.subarray(0, 6), shape })).toThrow(/^x: expected more than 1 spatial element/);
      const r = instanceNormForward({ x: x.subarray(0, 6), shape, running: { runningMean: [0, 0, 0], runningVar: [1, 1, 1] }, useInputStats: false });
      expect(r.y).toHaveLength(6);
    }
  });

  it('eval without running statistics, as ATen refuses', () => {
    expect(() => instanceNormForward({ ...base, useInputStats: false })).toThrow(ValueError);
    expect(() => instanceNormForward({ ...base, useInputStats: false })).toThrow(/^running: expected the running statistics .* when useInputStats is false/);
  });

  it('bad flags, momentum, eps, running buffers and misplaced keys', () => {
    expect(() => instanceNormForward({ ...base, useInputStats: 'false' as never })).toThrow(/^useInputStats: expected true or false/);
    expect(() => instanceNormForward({ ...base, momentum: 1.5 })).toThrow(/^momentum: expected a number in \[0, 1\]/);
    expect(() => instanceNormForward({ ...base, momentum: '0.1' as never })).toThrow(/^momentum: .*got string "0.1"/);
    expect(() => instanceNormForward({ ...base, momentum: undefined })).toThrow(/^momentum: got undefined; omit the key for the default/);
    expect(() => instanceNormForward({ ...base, eps: -1 })).toThrow(/^eps:/);
    expect(() => instanceNormForward({ ...base, running: { runningMean: [0, 0], runningVar: [1, 1, 1] } })).toThrow(/^running\.runningMean: .*\(3,\)/);
    expect(() => instanceNormForward({ ...base, running: { runningMean: [0, 0, 0], runningVar: [1, 1, 1], numBatchesTracked: 0.5 } })).toThrow(/^running\.numBatchesTracked: expected a non-negative integer/);
    expect(() => instanceNormForward({ ...base, runningMean: [0, 0, 0] } as never)).toThrow(/^runningMean: not an argument of instanceNormForward; the running statistics go in running/);
    expect(() => instanceNormForward({ ...base, training: true } as never)).toThrow(/^training: not an argument of instanceNormForward; pass useInputStats/);
    expect(() => instanceNormForward({ ...base, weight: [1, 1] })).toThrow(/^weight: expected one weight per channel, shape \(3,\)/);
  });

  it('backward statistics of the wrong length, and a missing mode', () => {
    const { mean, rstd } = instanceNormForward(base);
    const back = { dy: x, x, shape: [2, 3, 4], mean, rstd, useInputStats: true };
    expect(() => instanceNormBackward({ ...back, mean: mean.subarray(1) })).toThrow(/^mean: expected one mean per \(sample, channel\), shape \(6,\)/);
    expect(() => instanceNormBackward({ ...back, rstd: new Float64Array(3) })).toThrow(/^rstd:/);
    const { useInputStats: _, ...noMode } = back;
    expect(() => instanceNormBackward(noMode as never)).toThrow(/^useInputStats: expected true or false/);
  });
});
