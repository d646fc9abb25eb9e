/**
 * The GroupNorm reference: a case derived by hand, the exact relations to InstanceNorm (G = C) and LayerNorm
 * (G = 1), groups normalised independently, gradcheck of the backward, and bad input. Bounds from the error
 * model with u = 2^-53 (an n-term recursive sum is off by at most (n-1)·u·Σ|terms|).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatGradcheck, gradcheck, groupNormBackward, groupNormForward, instanceNormForward, layerNormForward,
  ShapeError, ValueError, type GradcheckValues,
} from '../../reference/index.js';
import { normals, useReproducibleSeed } from '../helpers/arbitraries.js';
import { groupNormCase, type GroupNormCase } from '../helpers/family_cases.js';
import { moments } from '../helpers/moments.js';

useReproducibleSeed();

const U = 2 ** -53;

const forward = (c: GroupNormCase, eps = 1e-5) =>
  groupNormForward({ x: c.x, shape: c.shape, numGroups: c.numGroups, weight: c.weight, bias: c.bias, eps });

describe('GroupNorm forward', () => {
  it('a hand-derived case: (N, C, S) = (1, 2, 2), G = 2, eps chosen so both rstd are exact', () => {
    // group 0 = channel 0 = [1, 3]: mean 2, var 1; group 1 = channel 1 = [10, 14]: mean 12, var 4.
    // eps = 6.5625 makes var + eps = 2.75² and 3.25², so rstd = 1/2.75 and 1/3.25.
    const r = groupNormForward({ x: [1, 3, 10, 14], shape: [1, 2, 2], numGroups: 2, weight: [2, -1], bias: [0.5, 1], eps: 6.5625 });
    expect(Array.from(r.mean)).toEqual([2, 12]);
    expect(Array.from(r.rstd)).toEqual([1 / 2.75, 1 / 3.25]);
    // y = weight[c]·(x - mean)·rstd + bias[c]
    const expected = [2 * (-1 / 2.75) + 0.5, 2 * (1 / 2.75) + 0.5, -1 * (-2 / 3.25) + 1, -1 * (2 / 3.25) + 1];
    r.y.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThanOrEqual(4 * U * Math.abs(expected[i]!)));
  });

  it('a hand-derived case with G = 1: both channels of a sample form one group', () => {
    // [1, 3, 10, 14]: mean 7, var (36 + 16 + 9 + 49)/4 = 27.5; eps 8.5 makes var + eps = 36, rstd = 1/6
    const r = groupNormForward({ x: [1, 3, 10, 14], shape: [1, 2, 2], numGroups: 1, eps: 8.5 });
    expect(Array.from(r.mean)).toEqual([7]);
    expect(r.rstd[0]).toBe(1 / 6);
    const expected = [-6 / 6, -4 / 6, 3 / 6, 7 / 6];
    r.y.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThanOrEqual(2 * U * Math.abs(expected[i]!)));
  });

  it('normalises every (sample, group) block to mean 0 and variance var/(var + eps) before the affine map', () => {
    fc.assert(
      fc.property(groupNormCase({ affine: ['none'] }), (c) => {
        const { y, mean, rstd } = forward(c);
        const D = (c.C / c.numGroups) * c.S;
        for (let ng = 0; ng < c.N * c.numGroups; ng++) {
          const xs = moments(c.x.subarray(ng * D, (ng + 1) * D));
          const ys = moments(y.subarray(ng * D, (ng + 1) * D));
          // as in layernorm.test.ts with D values per group
          expect(Math.abs(mean[ng]! - xs.mean), `group ${ng}`).toBeLessThanOrEqual(2 * D * U * xs.meanAbs);
          const r = 1 / Math.sqrt(xs.var + 1e-5);
          expect(Math.abs(rstd[ng]! - r) / r).toBeLessThanOrEqual((4 * D + 16) * U + (2 * D * U * xs.meanAbs) ** 2 / (xs.var + 1e-5));
          expect(Math.abs(ys.mean), `group ${ng}`).toBeLessThanOrEqual((2 * D + 8) * U * (r * xs.meanAbs + ys.meanAbs));
        }
      }),
      { numRuns: 40 },
    );
  });

  it('normalises each group on its own: one group alone, as an (1, C/G, ...spatial) input with G = 1, gives the same bits', () => {
    // catches grouping the wrong channels together (g·C/G .. g·C/G + C/G - 1 is the group, in order)
    fc.assert(
      fc.property(groupNormCase(), (c) => {
        const { y } = forward(c);
        const Cg = c.C / c.numGroups;
        const D = Cg * c.S;
        for (let ng = 0; ng < c.N * c.numGroups; ng++) {
          const g = ng % c.numGroups;
          const part = (a: Float64Array | null) => (a ? a.subarray(g * Cg, (g + 1) * Cg) : null);
          if (D === 1) continue; // one value alone is refused as an input (N·C/G·S = 1); it is y = bias
          const one = groupNormForward({
            x: c.x.subarray(ng * D, (ng + 1) * D), shape: [1, Cg, ...c.shape.slice(2)], numGroups: 1,
            weight: part(c.weight), bias: part(c.bias),
          });
          expect(one.y).toEqual(y.subarray(ng * D, (ng + 1) * D));
        }
      }),
      { numRuns: 30 },
    );
  });

  it('with G = C equals InstanceNorm without running statistics, per-channel weight and bias included, to the bit', () => {
    fc.assert(
      fc.property(groupNormCase().filter((c) => c.S >= 2), (c) => {
        const gn = groupNormForward({ x: c.x, shape: c.shape, numGroups: c.C, weight: c.weight, bias: c.bias });
        const inorm = instanceNormForward({ x: c.x, shape: c.shape, weight: c.weight, bias: c.bias });
        expect(gn.y).toEqual(inorm.y);
        expect(gn.mean).toEqual(inorm.mean);
        expect(gn.rstd).toEqual(inorm.rstd);
      }),
      { numRuns: 30 },
    );
  });

  it('with G = 1 equals LayerNorm over (C, ...spatial) without affine, then the per-channel affine, to the bit', () => {
    fc.assert(
      fc.property(groupNormCase(), (c) => {
        const gn = groupNormForward({ x: c.x, shape: c.shape, numGroups: 1, weight: c.weight, bias: c.bias });
        const normalizedShape = c.shape.slice(1);
        const ln = layerNormForward({ x: c.x, shape: c.shape, normalizedShape });
        expect(gn.mean).toEqual(ln.mean);
        expect(gn.rstd).toEqual(ln.rstd);
        // GroupNorm's affine is per channel: LayerNorm's per-element weight repeats weight[c] over the positions
        const expand = (p: Float64Array | null) => (p ? Float64Array.from({ length: c.C * c.S }, (_, i) => p[Math.floor(i / c.S)]!) : null);
        const lnAffine = layerNormForward({ x: c.x, shape: c.shape, normalizedShape, weight: expand(c.weight), bias: expand(c.bias) });
        if (c.weight) expect(gn.y).toEqual(lnAffine.y);
        else expect(gn.y).toEqual(ln.y);
      }),
      { numRuns: 30 },
    );
  });

  it('accepts groups of one value when the batch has more than one sample (var 0, y = bias), as F.group_norm does', () => {
    const r = groupNormForward({ x: [5, -3, 7, 1], shape: [2, 2], numGroups: 2, weight: [2, 3], bias: [0.25, -1] });
    expect(Array.from(r.y)).toEqual([0.25, -1, 0.25, -1]);
  });
});

describe('GroupNorm backward', () => {
  it('matches central differences of the forward, for G among the divisors of C, with and without affine', () => {
    fc.assert(
      fc.property(groupNormCase({ values: ['standardValues', 'tinyVariance', 'constantChannel'] }), (c) => {
        const inputs: Record<string, Float64Array> = c.weight && c.bias ? { x: c.x, weight: c.weight, bias: c.bias } : { x: c.x };
        const fwd = (p: GradcheckValues) =>
          groupNormForward({ x: p.x!, shape: c.shape, numGroups: c.numGroups, weight: p.weight ?? null, bias: p.bias ?? null });
        const result = gradcheck({
          inputs,
          forward: (p) => fwd(p).y,
          backward: (p, dy) => {
            const { mean, rstd } = fwd(p);
            const g = groupNormBackward({ dy, x: p.x!, shape: c.shape, numGroups: c.numGroups, weight: p.weight ?? null, hasBias: p.bias != null, mean, rstd });
            return { x: g.dx, weight: g.dweight, bias: g.dbias };
          },
        }, { mode: 'random', directions: 6, seed: c.seed });
        expect(result.ok, formatGradcheck(result)).toBe(true);
      }),
      { numRuns: 25 },
    );
  });

  it('a hand-derived case: two values per group, where dx = ±rstd·(dy₀ - dy₁)/2·eps/(var + eps)', () => {
    // group [1, 3] (mean 2, var 1, eps 6.5625, rstd 1/2.75, x̂ = ∓k with k = 1/2.75), weight 1, dy = [1, 0]:
    // mean(g) = 1/2, mean(g·x̂) = -k/2, so dx₀ = rstd·(1 - 1/2 - k²/2) = rstd·(1 - k²)/2 = rstd·eps/(var + eps)/2
    // and dx₁ = rstd·(0 - 1/2 + k²/2) = -dx₀; dweight = Σ dy·x̂ = -k, dbias = Σ dy = 1.
    const x = [1, 3, 10, 14];
    const f = groupNormForward({ x, shape: [1, 2, 2], numGroups: 2, weight: [1, 1], bias: [0, 0], eps: 6.5625 });
    const g = groupNormBackward({ dy: [1, 0, 0, 0], x, shape: [1, 2, 2], numGroups: 2, weight: [1, 1], mean: f.mean, rstd: f.rstd });
    const dx0 = ((1 / 2.75) * (6.5625 / 7.5625)) / 2;
    const expected = { dx: [dx0, -dx0, 0, 0], dweight: [-1 / 2.75, 0], dbias: [1, 0] };
    for (const key of ['dx', 'dweight', 'dbias'] as const) {
      g[key]!.forEach((v, i) => expect(Math.abs(v - expected[key][i]!), `${key}[${i}]`).toBeLessThanOrEqual(8 * U * Math.abs(expected[key][i]!)));
    }
  });
});

describe('GroupNorm rejects invalid arguments, naming them', () => {
  const x = new Float64Array(2 * 4 * 3);
  it('a group count that does not divide C, or is not a positive integer', () => {
    expect(() => groupNormForward({ x, shape: [2, 4, 3], numGroups: 3 })).toThrow(ShapeError);
    expect(() => groupNormForward({ x, shape: [2, 4, 3], numGroups: 3 })).toThrow(/^numGroups: expected a divisor of the channel count C = 4 \(shape \(2, 4, 3\)\), got 3/);
    expect(() => groupNormForward({ x, shape: [2, 4, 3], numGroups: 8 })).toThrow(/^numGroups: expected a divisor/);
    for (const numGroups of [0, -2, 1.5, '2', null]) {
      expect(() => groupNormForward({ x, shape: [2, 4, 3], numGroups: numGroups as never })).toThrow(ValueError);
      expect(() => groupNormForward({ x, shape: [2, 4, 3], numGroups: numGroups as never })).toThrow(/^numGroups: expected a positive integer/);
    }
    expect(() => groupNormForward({ x, shape: [2, 4, 3], num_groups: 2 } as never)).toThrow(/^num_groups: not an argument of groupNormForward; the argument is numGroups/);
  });

  it('one value in all (N·C/G·spatial = 1), as F.group_norm refuses; shapes of rank < 2', () => {
    expect(() => groupNormForward({ x: [1, 2], shape: [1, 2, 1], numGroups: 2 })).toThrow(/^x: expected more than 1 value per group across the batch/);
    expect(() => groupNormForward({ x: [1, 2], shape: [2], numGroups: 1 })).toThrow(/^shape: expected at least 2 dimensions/);
  });

  it('arrays of the wrong length or kind, bad eps, and statistics of the wrong length in the backward', () => {
    expect(() => groupNormForward({ x: x.subarray(1), shape: [2, 4, 3], numGroups: 2 })).toThrow(/^x: expected an input of shape \(2, 4, 3\)/);
    expect(() => groupNormForward({ x, shape: [2, 4, 3], numGroups: 2, weight: [1, 1] })).toThrow(/^weight: expected one weight per channel, shape \(4,\)/);
    expect(() => groupNormForward({ x, shape: [2, 4, 3], numGroups: 2, bias: ['0', 0, 0, 0] as never })).toThrow(/^bias: .* as numbers, got string "0"/);
    expect(() => groupNormForward({ x, shape: [2, 4, 3], numGroups: 2, eps: 0 })).toThrow(/^eps: expected a finite number > 0/);
    expect(() => groupNormForward({ x, shape: [2, 4, 3], numGroups: 2, running: null } as never)).toThrow(/^running: not an argument of groupNormForward; GroupNorm keeps no running statistics/);
    const { mean, rstd } = groupNormForward({ x: normals(1, 24), shape: [2, 4, 3], numGroups: 2 });
    const back = { dy: x, x, shape: [2, 4, 3], numGroups: 2, mean, rstd };
    expect(() => groupNormBackward({ ...back, mean: mean.subarray(1) })).toThrow(/^mean: expected one mean per \(sample, group\), shape \(4,\)/);
    expect(() => groupNormBackward({ ...back, rstd: new Float64Array(2) })).toThrow(/^rstd: /);
    expect(() => groupNormBackward({ ...back, bias: null } as never)).toThrow(/^bias: not an argument of groupNormBackward; the backward takes hasBias/);
  });
});
