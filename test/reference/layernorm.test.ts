/**
 * Properties of the LayerNorm reference, with bounds from the error model (u = 2^-53, D values per row;
 * an n-term recursive sum is off by at most (n-1)·u·Σ|terms|). Expected values come from the test's own
 * two-pass moments.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { layerNormBackward, layerNormForward } from '../../reference/index.js';
import { epsValue, layerNormCase, normals, useReproducibleSeed } from '../helpers/arbitraries.js';
import { moments, sumAbsOf, sumOf } from '../helpers/moments.js';

useReproducibleSeed();

const U = 2 ** -53;
const NUM_RUNS = 30;

describe('LayerNorm forward', () => {
  it('normalises every row to mean 0 and biased variance var/(var + eps), at any offset and for constant rows', () => {
    fc.assert(
      fc.property(layerNormCase({ affine: ['none'] }), epsValue, (c, eps) => {
        const { shape, normalizedShape, D } = c;
        const { y } = layerNormForward({ x: c.x, shape, normalizedShape, eps });
        for (let r = 0; r < c.R; r++) {
          const xs = moments(c.x.subarray(r * D, (r + 1) * D));
          const ys = moments(y.subarray(r * D, (r + 1) * D));
          const rstd = 1 / Math.sqrt(xs.var + eps);
          // as for BatchNorm (see batchnorm.test.ts) with M = D: the mean error (m - m̂)·rstd ≤ D·u·mean|x|·rstd
          // and two D-term sums; the variance with (4D + 16)·u relative and the squared mean errors
          expect(Math.abs(ys.mean), `row ${r}`).toBeLessThanOrEqual((2 * D + 8) * U * (rstd * xs.meanAbs + ys.meanAbs));
          const expected = xs.var / (xs.var + eps);
          const bound = (4 * D + 16) * U * expected + 2 * (D * U * xs.meanAbs * rstd) ** 2;
          expect(Math.abs(ys.var - expected), `row ${r}`).toBeLessThanOrEqual(bound);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('normalises each row on its own: a row alone gives the same output to the bit', () => {
    fc.assert(
      fc.property(layerNormCase(), (c) => {
        const { normalizedShape, D } = c;
        const { y } = layerNormForward({ x: c.x, shape: c.shape, normalizedShape, weight: c.weight, bias: c.bias });
        for (let r = 0; r < c.R; r++) {
          const one = layerNormForward({ x: c.x.subarray(r * D, (r + 1) * D), shape: normalizedShape, normalizedShape, weight: c.weight, bias: c.bias });
          expect(one.y).toEqual(y.subarray(r * D, (r + 1) * D));
        }
      }),
      { numRuns: 15 },
    );
  });

  it('over several trailing dimensions equals LayerNorm over their flattened product, to the bit', () => {
    fc.assert(
      fc.property(layerNormCase(), (c) => {
        const { D, R } = c;
        const many = layerNormForward({ x: c.x, shape: c.shape, normalizedShape: c.normalizedShape, weight: c.weight, bias: c.bias });
        const flat = layerNormForward({ x: c.x, shape: [R, D], normalizedShape: [D], weight: c.weight, bias: c.bias });
        expect(many.y).toEqual(flat.y);
        expect(many.rstd).toEqual(flat.rstd);
      }),
      { numRuns: 15 },
    );
  });
});

describe('LayerNorm backward', () => {
  it('Σdx = 0 over each row, and dbias, dweight are the column sums of dy and dy·x̂ over the rows', () => {
    fc.assert(
      fc.property(layerNormCase({ values: ['standardValues', 'tinyVariance', 'constantChannel'], affine: ['nonUnit'] }), (c) => {
        const { shape, normalizedShape, D, R } = c;
        const { mean, rstd } = layerNormForward({ x: c.x, shape, normalizedShape, weight: c.weight, bias: c.bias });
        const dy = normals(c.seed + 1, c.x.length);
        const g = layerNormBackward({ dy, x: c.x, shape, normalizedShape, weight: c.weight, mean, rstd });
        for (let r = 0; r < R; r++) {
          const xs = moments(c.x.subarray(r * D, (r + 1) * D));
          const gr = Float64Array.from({ length: D }, (_, i) => dy[r * D + i]! * c.weight![i]!);
          const xhat = Float64Array.from({ length: D }, (_, i) => (c.x[r * D + i]! - xs.mean) * rstd[r]!);
          const meanGX = sumOf(gr.map((v, i) => v * xhat[i]!)) / D;
          // dx = r(g - mean g - x̂·mean(g·x̂)), summed: (2D + 8)·u·r·Σ|terms|, plus the reference's Σx̂ =
          // D·(m - m̂)·r ≠ 0 and the error of its mean(g·x̂), each of size δ = (D + 2)·u·mean|x|·r per x̂
          const delta = 2 * (D + 2) * U * xs.meanAbs * rstd[r]!;
          const bound =
            (2 * D + 8) * U * rstd[r]! * (2 * sumAbsOf(gr) + Math.abs(meanGX) * sumAbsOf(xhat)) +
            rstd[r]! * delta * (D * Math.abs(meanGX) + (sumAbsOf(gr) / D) * sumAbsOf(xhat));
          expect(Math.abs(sumOf(g.dx.subarray(r * D, (r + 1) * D))), `row ${r}`).toBeLessThanOrEqual(bound);
        }
        for (let i = 0; i < D; i++) {
          const col = Float64Array.from({ length: R }, (_, r) => dy[r * D + i]!);
          const colX = Float64Array.from({ length: R }, (_, r) => dy[r * D + i]! * (c.x[r * D + i]! - mean[r]!) * rstd[r]!);
          // R-term sums in the same order, of terms rounded ≤ 3 times: (R + 3)·u·Σ|terms|
          expect(Math.abs(g.dbias![i]! - sumOf(col))).toBeLessThanOrEqual((R + 3) * U * sumAbsOf(col));
          expect(Math.abs(g.dweight![i]! - sumOf(colX))).toBeLessThanOrEqual((R + 3) * U * sumAbsOf(colX));
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('returns dbias without dweight when the forward had a bias and no weight', () => {
    const x = Float64Array.of(1, 2, 4, -1, 0, 3);
    const { mean, rstd } = layerNormForward({ x, shape: [2, 3], normalizedShape: [3], bias: [0, 0, 0] });
    const g = layerNormBackward({ dy: x, x, shape: [2, 3], normalizedShape: [3], weight: null, hasBias: true, mean, rstd });
    expect(g.dweight).toBeNull();
    // dbias = Σ_rows dy = (1 - 1, 2 + 0, 4 + 3), exact in float64
    expect(g.dbias).toEqual(Float64Array.of(0, 2, 7));
  });
});
