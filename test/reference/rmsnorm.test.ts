/**
 * The RMSNorm reference: hand-derived cases (forward, backward, the all-zero row), eps = None, the exact
 * relations (LayerNorm on rows of mean exactly 0; scaling by a power of two with eps scaled by its square),
 * gradcheck, bad input. Bounds from the error model with u = 2^-53.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatGradcheck, gradcheck, layerNormForward, rmsNormBackward, rmsNormDefaultEps, rmsNormForward,
  ShapeError, ValueError, type GradcheckValues,
} from '../../reference/index.js';
import { normals, seed, useReproducibleSeed } from '../helpers/arbitraries.js';
import { rmsNormCase } from '../helpers/family_cases.js';

useReproducibleSeed();

const U = 2 ** -53;

describe('RMSNorm forward', () => {
  it('a hand-derived case: no mean is subtracted, eps is inside the root, the weight scales afterwards', () => {
    // row [3, 4]: mean square 12.5; eps 3.5 makes it 16, rstd 1/4; row [-1, 1]: 1 + 3.5 = 4.5
    const r = rmsNormForward({ x: [3, 4, -1, 1], shape: [2, 2], normalizedShape: [2], weight: [2, -1], eps: 3.5 });
    expect(r.rstd[0]).toBe(0.25);
    expect(Math.abs(r.rstd[1]! - 1 / Math.sqrt(4.5))).toBeLessThanOrEqual(2 * U / Math.sqrt(4.5));
    expect(Array.from(r.y.subarray(0, 2))).toEqual([1.5, -1]); // [3, 4]/4 · [2, -1], exact in binary
    const s = 1 / Math.sqrt(4.5);
    [-2 * s, -1 * s].forEach((v, i) => expect(Math.abs(r.y[2 + i]! - v)).toBeLessThanOrEqual(4 * U * Math.abs(v)));
  });

  it('eps null is float64 eps (Number.EPSILON, 2^-52), and an all-zero row gives 0 with rstd = 2^26', () => {
    const r = rmsNormForward({ x: [0, 0, 0, 1e-9, 0, 0], shape: [2, 3], normalizedShape: [3] });
    expect(Array.from(r.y.subarray(0, 3))).toEqual([0, 0, 0]);
    expect(r.rstd[0]).toBe(2 ** 26);
    // the default is what eps: Number.EPSILON gives, bit for bit
    expect(r).toEqual(rmsNormForward({ x: [0, 0, 0, 1e-9, 0, 0], shape: [2, 3], normalizedShape: [3], eps: Number.EPSILON }));
  });

  it("PyTorch's default eps by dtype: float32's for float16, bfloat16 and float32 (ATen's opmath type), float64's for float64", () => {
    expect(rmsNormDefaultEps('float64')).toBe(2 ** -52);
    for (const dtype of ['float16', 'bfloat16', 'float32'] as const) expect(rmsNormDefaultEps(dtype)).toBe(2 ** -23);
    expect(() => rmsNormDefaultEps('int8' as never)).toThrow(ValueError);
  });

  it('equals LayerNorm (without bias) on rows whose mean is exactly 0, to the bit', () => {
    // rows [a, -a, b, -b, …]: the left-to-right sum returns to 0 after every pair, so LayerNorm's mean is
    // exactly 0 and its Σ(x - 0)² is RMSNorm's Σx²
    fc.assert(
      fc.property(seed, fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }), (s, R, pairs) => {
        const z = normals(s, R * pairs);
        const D = 2 * pairs;
        const x = new Float64Array(R * D);
        for (let r = 0; r < R; r++) for (let k = 0; k < pairs; k++) {
          x[r * D + 2 * k] = z[r * pairs + k]!;
          x[r * D + 2 * k + 1] = -z[r * pairs + k]!;
        }
        const weight = normals(s + 1, D);
        const rms = rmsNormForward({ x, shape: [R, D], normalizedShape: [D], weight, eps: 1e-5 });
        const ln = layerNormForward({ x, shape: [R, D], normalizedShape: [D], weight, eps: 1e-5 });
        expect(Array.from(ln.mean)).toEqual(new Array(R).fill(0));
        expect(rms.rstd).toEqual(ln.rstd);
        // LayerNorm: w·((x - 0)·rstd) + 0 and RMSNorm: (x·rstd)·w round the same products
        expect(rms.y).toEqual(ln.y);
      }),
      { numRuns: 30 },
    );
  });

  it('is scale invariant: x·2^k with eps·4^k gives the same output to the bit, and rstd·2^-k', () => {
    fc.assert(
      fc.property(rmsNormCase(), fc.integer({ min: -20, max: 20 }), (c, k) => {
        const scale = 2 ** k;
        const a = rmsNormForward({ x: c.x, shape: c.shape, normalizedShape: c.normalizedShape, weight: c.weight, eps: 1e-5 });
        const b = rmsNormForward({ x: c.x.map((v) => v * scale), shape: c.shape, normalizedShape: c.normalizedShape, weight: c.weight, eps: 1e-5 * scale * scale });
        // powers of two scale exactly (no overflow or underflow at these sizes): every rounding is the same
        expect(b.y).toEqual(a.y);
        expect(b.rstd).toEqual(a.rstd.map((v) => v / scale));
      }),
      { numRuns: 30 },
    );
  });

  it('does not subtract the mean: a shifted input gives a different output (LayerNorm would not)', () => {
    const x = [1, 2, 3];
    const a = rmsNormForward({ x, shape: [3], normalizedShape: [3], eps: 1e-5 }).y;
    const b = rmsNormForward({ x: x.map((v) => v + 10), shape: [3], normalizedShape: [3], eps: 1e-5 }).y;
    expect(Math.abs(a[0]! - b[0]!)).toBeGreaterThan(0.1);
  });
});

describe('RMSNorm backward', () => {
  it('a hand-derived case: dx = rstd·(g - x̂·mean(g·x̂)), no mean(g) term', () => {
    // row [3, 4], eps 3.5: rstd 1/4, x̂ = [3/4, 1]; weight [2, -1], dy = [1, 1] → g = [2, -1];
    // mean(g·x̂) = (3/2 - 1)/2 = 1/4; dx = (1/4)·([2, -1] - [3/4, 1]·1/4) = [29/64, -5/16];
    // dweight = dy·x̂ = [3/4, 1]
    const x = [3, 4];
    const { rstd } = rmsNormForward({ x, shape: [2], normalizedShape: [2], weight: [2, -1], eps: 3.5 });
    const g = rmsNormBackward({ dy: [1, 1], x, shape: [2], normalizedShape: [2], weight: [2, -1], rstd });
    expect(Array.from(g.dx)).toEqual([29 / 64, -5 / 16]);
    expect(Array.from(g.dweight!)).toEqual([0.75, 1]);
    expect(Object.keys(g)).toEqual(['dx', 'dweight']);
  });

  it('matches central differences of the forward, with and without weight, eps given or null', () => {
    fc.assert(
      fc.property(rmsNormCase({ values: ['standardValues', 'largeOffset', 'tinyVariance', 'constantChannel'] }), fc.constantFrom(1e-5, null), (c, eps) => {
        const inputs: Record<string, Float64Array> = c.weight ? { x: c.x, weight: c.weight } : { x: c.x };
        const fwd = (p: GradcheckValues) => rmsNormForward({ x: p.x!, shape: c.shape, normalizedShape: c.normalizedShape, weight: p.weight ?? null, eps });
        const result = gradcheck({
          inputs,
          forward: (p) => fwd(p).y,
          backward: (p, dy) => {
            const g = rmsNormBackward({ dy, x: p.x!, shape: c.shape, normalizedShape: c.normalizedShape, weight: p.weight ?? null, rstd: fwd(p).rstd });
            return { x: g.dx, weight: g.dweight };
          },
        }, { mode: 'random', directions: 6, seed: c.seed });
        expect(result.ok, formatGradcheck(result)).toBe(true);
      }),
      { numRuns: 25 },
    );
  });
});

describe('RMSNorm rejects invalid arguments, naming them', () => {
  const args = { x: normals(2, 12), shape: [3, 4], normalizedShape: [4] };
  it('a bias (RMSNorm has none), a misplaced mean, bad eps, and a normalizedShape that is not trailing', () => {
    expect(() => rmsNormForward({ ...args, bias: [0, 0, 0, 0] } as never)).toThrow(/^bias: not an argument of rmsNormForward; RMSNorm has no bias/);
    expect(() => rmsNormForward({ ...args, eps: undefined })).toThrow(/^eps: got undefined; omit the key for the default \(null, PyTorch's eps=None\)/);
    for (const eps of [0, -1, Number.NaN, '1e-6']) {
      expect(() => rmsNormForward({ ...args, eps: eps as never })).toThrow(ValueError);
      expect(() => rmsNormForward({ ...args, eps: eps as never })).toThrow(/^eps: expected a finite number > 0, or null for PyTorch's eps=None/);
    }
    expect(() => rmsNormForward({ ...args, normalizedShape: [3] })).toThrow(ShapeError);
    expect(() => rmsNormForward({ ...args, weight: [1, 1, 1] })).toThrow(/^weight: expected a weight of shape normalizedShape \(4,\)/);
    const { rstd } = rmsNormForward(args);
    expect(() => rmsNormBackward({ ...args, dy: args.x, rstd, mean: rstd } as never)).toThrow(/^mean: not an argument of rmsNormBackward; RMSNorm subtracts no mean/);
    expect(() => rmsNormBackward({ ...args, dy: args.x, rstd: rstd.subarray(1) })).toThrow(/^rstd: expected one rstd per row, shape \(3,\)/);
  });
});
