/**
 * Properties of the BatchNorm reference that follow from the math alone, each with a bound from the error
 * model. u = 2^-53 is float64's unit roundoff; M = N·S values per channel. A recursive sum of M terms is off
 * by at most (M-1)·u·Σ|terms| (Higham, Accuracy and Stability, §4.2); the bounds below count such sums on
 * both sides (the reference's and the test's own) and a handful of single roundings per element.
 * Expected values come from the test's own two-pass moments, never from the reference's saved statistics.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batchNormBackward, batchNormEval, batchNormTrain } from '../../reference/index.js';
import {
  batchNormCase,
  batchNormShape,
  buildBatchNormCase,
  momentumValue,
  epsValue,
  normals,
  seed,
  VALUE_CASES,
  type BatchNormCase,
  useReproducibleSeed,
} from '../helpers/arbitraries.js';
import { moments, sumAbsOf, sumOf } from '../helpers/moments.js';

useReproducibleSeed();

const U = 2 ** -53;
const NUM_RUNS = 30;

/** The M values of channel c. */
function channel(x: ArrayLike<number>, { N, C, S }: { N: number; C: number; S: number }, c: number): Float64Array {
  const out = new Float64Array(N * S);
  for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) out[n * S + s] = x[(n * C + c) * S + s]!;
  return out;
}

describe('BatchNorm training forward', () => {
  it('normalises each channel to mean 0 and biased variance var/(var + eps), at any offset and for constant channels', () => {
    fc.assert(
      fc.property(batchNormCase({ affine: ['none'] }), epsValue, (c, eps) => {
        const { y } = batchNormTrain({ x: c.x, shape: c.shape, eps });
        const M = c.N * c.S;
        for (let ch = 0; ch < c.C; ch++) {
          const xs = moments(channel(c.x, c, ch));
          const ys = moments(channel(y, c, ch));
          const rstd = 1 / Math.sqrt(xs.var + eps);
          // mean(y) is (m - m̂)·rstd plus the rounding of M products and two M-term sums (reference, test):
          // |m - m̂| ≤ M·u·mean|x|, so |mean(y)| ≤ (2M + 8)·u·(rstd·mean|x| + mean|y|).
          // rstd·mean|x| is the conditioning: it is 1e6 at largeOffset, and the bound grows with it.
          const meanBound = (2 * M + 8) * U * (rstd * xs.meanAbs + ys.meanAbs);
          expect(Math.abs(ys.mean), `channel ${ch}`).toBeLessThanOrEqual(meanBound);
          // var(y) = var/(var + eps): three M-term sums of squares (reference var, test var of x, test var of
          // y) with relative error M·u each, and ~16 single roundings, so (4M + 16)·u relative; and the mean
          // errors enter squared, as (M·u·mean|x|·rstd)² from each side.
          const expected = xs.var / (xs.var + eps);
          const varBound = (4 * M + 16) * U * expected + 2 * (M * U * xs.meanAbs * rstd) ** 2;
          expect(Math.abs(ys.var - expected), `channel ${ch}`).toBeLessThanOrEqual(varBound);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('a constant channel normalises to zero, not NaN, and its output is the bias', () => {
    fc.assert(
      fc.property(batchNormCase({ values: ['constantChannel'], affine: ['nonUnit'] }), (c) => {
        const { y } = batchNormTrain({ x: c.x, shape: c.shape, weight: c.weight, bias: c.bias });
        // channel 0 is constant: x - mean is at most the summation error M·u·|x| and rstd ≤ 1/sqrt(eps)
        const M = c.N * c.S;
        const ys = channel(y, c, 0);
        const xs = channel(c.x, c, 0);
        const bound = (M + 4) * U * Math.abs(xs[0]!) * Math.abs(c.weight![0]!) / Math.sqrt(1e-5) + U * Math.abs(c.bias![0]!);
        for (const v of ys) {
          expect(Number.isFinite(v)).toBe(true);
          expect(Math.abs(v - c.bias![0]!)).toBeLessThanOrEqual(bound);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('returns the batch mean, the biased variance and rstd = 1/sqrt(var + eps) it normalised with', () => {
    fc.assert(
      fc.property(batchNormCase(), (c) => {
        const r = batchNormTrain({ x: c.x, shape: c.shape, weight: c.weight, bias: c.bias });
        const M = c.N * c.S;
        for (let ch = 0; ch < c.C; ch++) {
          const xs = moments(channel(c.x, c, ch));
          // means: two M-term sums, 2M·u·mean|x|; variances: as in the first test, (2M + 8)·u relative
          // plus the squared mean error
          expect(Math.abs(r.mean[ch]! - xs.mean)).toBeLessThanOrEqual(2 * M * U * xs.meanAbs);
          const varBound = (2 * M + 8) * U * xs.var + 2 * (M * U * xs.meanAbs) ** 2;
          expect(Math.abs(r.var[ch]! - xs.var)).toBeLessThanOrEqual(varBound);
          const rstd = 1 / Math.sqrt(xs.var + 1e-5);
          // rstd = (var + eps)^(-1/2): relative error half that of var + eps, plus 3 roundings
          expect(Math.abs(r.rstd[ch]! - rstd)).toBeLessThanOrEqual(rstd * (varBound / (xs.var + 1e-5) + 4 * U));
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('BatchNorm training backward', () => {
  /**
   * With g = dy·weight and x̂ from the test's own moments, the exact gradient satisfies
   *   Σ dx = 0                                      (a shift of the channel does not change y)
   *   Σ dx·x̂ = rstd · eps/(var + eps) · Σ g·x̂        (a scaling changes y only through eps)
   * The second is 0 only when eps = 0: with eps > 0, BatchNorm is not scale-invariant.
   */
  it('Σdx = 0 and Σdx·x̂ = rstd·eps/(var + eps)·Σg·x̂ per channel', () => {
    fc.assert(
      fc.property(batchNormCase(), epsValue, (c, eps) => {
        const { mean, rstd } = batchNormTrain({ x: c.x, shape: c.shape, weight: c.weight, bias: c.bias, eps });
        const dy = normals(c.seed + 1, c.x.length);
        const { dx } = batchNormBackward({ dy, x: c.x, shape: c.shape, weight: c.weight, mean, rstd, training: true });
        const M = c.N * c.S;
        const gamma = (2 * M + 8) * U;
        for (let ch = 0; ch < c.C; ch++) {
          const w = c.weight ? c.weight[ch]! : 1;
          const xc = channel(c.x, c, ch);
          const dxc = channel(dx, c, ch);
          const g = channel(dy, c, ch).map((d) => d * w);
          const xs = moments(xc);
          const r = 1 / Math.sqrt(xs.var + eps);
          const xhat = xc.map((v) => (v - xs.mean) * r);
          const gx = g.map((v, i) => v * xhat[i]!);
          const meanG = sumOf(g) / M;
          const meanGX = sumOf(gx) / M;
          // dx_i = r(g_i - mean(g) - x̂_i·mean(g·x̂)): each term rounded, then summed over M: γ·r·Σ|terms|.
          // Conditioning: a mean is off by its summation error ≤ (M+2)·u·mean|x|, which moves every x̂ by
          // δ = that·r on either side (1e6·M·u at largeOffset). In the reference, δ enters dx through
          // x̂_i·mean(g·x̂) and through mean(g·x̂) itself; in the test, through our own x̂.
          const delta = 2 * (M + 2) * U * xs.meanAbs * r;
          const meanAbsG = sumAbsOf(g) / M;
          const sumBound =
            gamma * r * (sumAbsOf(g) + M * Math.abs(meanG) + Math.abs(meanGX) * sumAbsOf(xhat)) +
            r * delta * (M * Math.abs(meanGX) + meanAbsG * sumAbsOf(xhat));
          expect(Math.abs(sumOf(dxc)), `Σdx, channel ${ch}`).toBeLessThanOrEqual(sumBound);

          const lhs = sumOf(dxc.map((d, i) => d * xhat[i]!));
          const rhs = r * (eps / (xs.var + eps)) * sumOf(gx);
          // the same, weighted by x̂: the terms of Σdx·x̂ are r·(|g|·|x̂| + |mean g|·|x̂| + |mean gx̂|·x̂²);
          // δ moves the reference's dx by r·δ·(|mean gx̂| + mean|g|·|x̂_i|), our x̂ by δ (times Σ|dx|) and
          // our Σg·x̂ by δ·Σ|g|. When var ≫ eps the result is a cancellation to ≈ eps/var of these terms.
          const dotBound =
            gamma * r * (sumAbsOf(gx) + Math.abs(meanG) * sumAbsOf(xhat) + Math.abs(meanGX) * sumOf(xhat.map((v) => v * v))) +
            r * delta * (Math.abs(meanGX) * sumAbsOf(xhat) + meanAbsG * sumOf(xhat.map((v) => v * v)) + sumAbsOf(g)) +
            delta * sumAbsOf(dxc) + gamma * Math.abs(rhs);
          expect(Math.abs(lhs - rhs), `Σdx·x̂, channel ${ch}`).toBeLessThanOrEqual(dotBound);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('Σdx·x̂ is not 0 when eps > 0: x = (0, 2), dy = (1, 3), eps = 0.01 gives 2·eps/(1 + eps)² (regression)', () => {
    // Found by the property above against the header's old claim Σdx·x̂ = 0. By hand: mean 1, var 1,
    // r = 1/sqrt(1.01), x̂ = (-r, r), mean(g) = 2, mean(g·x̂) = r, so
    // dx = (r(1 - 2 + r²), r(3 - 2 - r²)) = (-r(1 - r²), r(1 - r²)): Σdx = 0 and Σdx·x̂ = 2r²(1 - r²) = 0.02/1.0201.
    const x = Float64Array.of(0, 2);
    const { mean, rstd } = batchNormTrain({ x, shape: [2, 1], eps: 0.01 });
    const { dx } = batchNormBackward({ dy: [1, 3], x, shape: [2, 1], mean, rstd, training: true });
    const r = 1 / Math.sqrt(1.01);
    // a dozen roundings of numbers ≤ 3
    expect(Math.abs(dx[0]! + dx[1]!)).toBeLessThanOrEqual(24 * U);
    expect(Math.abs(dx[1]! * r - dx[0]! * r - 0.02 / 1.0201)).toBeLessThanOrEqual(24 * U);
  });
});

describe('BatchNorm running statistics', () => {
  const steps = fc.integer({ min: 1, max: 5 });

  /** k batches of the same shape and value case, from consecutive seeds. */
  function batches(first: BatchNormCase, k: number): BatchNormCase[] {
    return Array.from({ length: k }, (_, t) => buildBatchNormCase(first.seed + 1 + t, first.shape, first.values, 'none'));
  }

  function runSteps(first: BatchNormCase, xs: BatchNormCase[], momentum: number | null, numBatchesTracked: number, unbiasedRunningVar = true) {
    let running = { runningMean: first.runningMean, runningVar: first.runningVar, numBatchesTracked };
    for (const b of xs) running = batchNormTrain({ x: b.x, shape: b.shape, running, momentum, unbiasedRunningVar }).running!;
    return running;
  }

  it('after k steps with momentum m match the closed form (1-m)^k·r0 + Σ_t m(1-m)^(k-t)·stat_t', () => {
    fc.assert(
      fc.property(batchNormCase({ affine: ['none'] }), steps, momentumValue, fc.integer({ min: 0, max: 3 }), (first, k, m, n0) => {
        const xs = batches(first, k);
        const running = runSteps(first, xs, m, n0);
        expect(running.numBatchesTracked).toBe(n0 + k);
        const M = first.N * first.S;
        const bessel = M / (M - 1);
        for (let ch = 0; ch < first.C; ch++) {
          const stats = xs.map((b) => moments(channel(b.x, b, ch)));
          let mean = (1 - m) ** k * first.runningMean[ch]!;
          let variance = (1 - m) ** k * first.runningVar[ch]!;
          stats.forEach((s, t) => {
            mean += m * (1 - m) ** (k - 1 - t) * s.mean;
            variance += m * (1 - m) ** (k - 1 - t) * s.var * bessel;
          });
          // Each recursion step (1-f)·old + f·new costs ≤ 4 roundings of a convex combination, and the closed
          // form's powers ≤ k more, so (4k + k + 4)·u times the largest term; the batch statistics differ
          // between reference and test by their summation errors (2M·u·mean|x| for means, 2M·u relative and
          // the squared mean error for variances).
          const scaleMean = Math.max(Math.abs(first.runningMean[ch]!), ...stats.map((s) => Math.abs(s.mean)));
          const meanAbs = Math.max(...stats.map((s) => s.meanAbs));
          const meanBound = (5 * k + 4) * U * scaleMean + 2 * M * U * meanAbs;
          expect(Math.abs(running.runningMean[ch]! - mean), `running mean, channel ${ch}`).toBeLessThanOrEqual(meanBound);
          const scaleVar = Math.max(first.runningVar[ch]!, ...stats.map((s) => s.var * bessel));
          const varBound = (5 * k + 2 * M + 12) * U * scaleVar + 2 * bessel * (M * U * meanAbs) ** 2;
          expect(Math.abs(running.runningVar[ch]! - variance), `running var, channel ${ch}`).toBeLessThanOrEqual(varBound);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('with momentum = null are the arithmetic mean of the batch statistics over all tracked steps', () => {
    fc.assert(
      fc.property(batchNormCase({ affine: ['none'] }), steps, fc.integer({ min: 0, max: 3 }), (first, k, n0) => {
        const xs = batches(first, k);
        const running = runSteps(first, xs, null, n0);
        const M = first.N * first.S;
        const bessel = M / (M - 1);
        for (let ch = 0; ch < first.C; ch++) {
          const stats = xs.map((b) => moments(channel(b.x, b, ch)));
          // cumulative average: the n0 earlier steps are summarised by the current buffer, weight n0;
          // from n0 = 0 the initial buffer gets weight 0 (PyTorch's first factor is 1/1)
          const n = n0 + k;
          const mean = (n0 * first.runningMean[ch]! + stats.reduce((a, s) => a + s.mean, 0)) / n;
          const variance = (n0 * first.runningVar[ch]! + stats.reduce((a, s) => a + s.var * bessel, 0)) / n;
          // the recursion with f = 1/t: ≤ 5 roundings per step of a convex combination; plus the batch
          // statistics' summation errors as in the momentum test
          const scaleMean = Math.max(Math.abs(first.runningMean[ch]!), ...stats.map((s) => Math.abs(s.mean)));
          const meanAbs = Math.max(...stats.map((s) => s.meanAbs));
          expect(Math.abs(running.runningMean[ch]! - mean)).toBeLessThanOrEqual((5 * k + 4) * U * scaleMean + 2 * M * U * meanAbs);
          const scaleVar = Math.max(first.runningVar[ch]!, ...stats.map((s) => s.var * bessel));
          expect(Math.abs(running.runningVar[ch]! - variance)).toBeLessThanOrEqual(
            (5 * k + 2 * M + 12) * U * scaleVar + 2 * bessel * (M * U * meanAbs) ** 2,
          );
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('take the biased batch variance when unbiasedRunningVar is false and var·M/(M-1) by default', () => {
    fc.assert(
      fc.property(batchNormCase({ values: ['standardValues', 'tinyVariance'], affine: ['none'] }), (c) => {
        const M = c.N * c.S;
        // momentum 1: the new running value is the batch statistic alone, (1 - 1)·old + 1·stat = stat exactly
        const running = { runningMean: c.runningMean, runningVar: c.runningVar, numBatchesTracked: 0 };
        const biased = batchNormTrain({ x: c.x, shape: c.shape, running, momentum: 1, unbiasedRunningVar: false });
        const unbiased = batchNormTrain({ x: c.x, shape: c.shape, running, momentum: 1 });
        for (let ch = 0; ch < c.C; ch++) {
          const xs = moments(channel(c.x, c, ch));
          const varBound = (2 * M + 8) * U * xs.var + 2 * (M * U * xs.meanAbs) ** 2;
          expect(biased.running!.runningVar[ch]).toBe(biased.var[ch]);
          expect(Math.abs(biased.running!.runningVar[ch]! - xs.var)).toBeLessThanOrEqual(varBound);
          // Bessel's factor M/(M-1) adds two roundings
          const unbiasedVar = (xs.var * M) / (M - 1);
          expect(Math.abs(unbiased.running!.runningVar[ch]! - unbiasedVar)).toBeLessThanOrEqual((varBound + 3 * U * xs.var) * (M / (M - 1)));
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('are absent when track_running_stats is false, and the output is the same batch-normalised one', () => {
    fc.assert(
      fc.property(batchNormCase(), (c) => {
        const without = batchNormTrain({ x: c.x, shape: c.shape, weight: c.weight, bias: c.bias, running: null });
        const running = { runningMean: c.runningMean, runningVar: c.runningVar, numBatchesTracked: 2 };
        const withStats = batchNormTrain({ x: c.x, shape: c.shape, weight: c.weight, bias: c.bias, running });
        expect(without.running).toBeNull();
        expect(without.y).toEqual(withStats.y);
      }),
      { numRuns: 10 },
    );
  });
});

describe('BatchNorm eval mode', () => {
  it('is the per-channel affine map y = a·x + b with a = weight/sqrt(running_var + eps), b = bias - running_mean·a', () => {
    fc.assert(
      fc.property(batchNormCase({ shape: batchNormShape({ training: false }), values: VALUE_CASES }), epsValue, (c, eps) => {
        const { runningMean, runningVar } = c;
        const { y } = batchNormEval({ x: c.x, shape: c.shape, weight: c.weight, bias: c.bias, running: { runningMean, runningVar }, eps });
        for (let ch = 0; ch < c.C; ch++) {
          const w = c.weight ? c.weight[ch]! : 1;
          const b = c.bias ? c.bias[ch]! : 0;
          const a = w / Math.sqrt(runningVar[ch]! + eps);
          const shift = b - runningMean[ch]! * a;
          const xc = channel(c.x, c, ch);
          const yc = channel(y, c, ch);
          xc.forEach((v, i) => {
            // two forms of the same affine map, each a few roundings (≤ 6u) of terms |a·x|, |a·rm|, |b|
            const bound = 8 * U * (Math.abs(a * v) + Math.abs(a * runningMean[ch]!) + Math.abs(b));
            expect(Math.abs(yc[i]! - (a * v + shift))).toBeLessThanOrEqual(bound);
          });
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('normalises each sample on its own: the batch around it changes nothing', () => {
    fc.assert(
      fc.property(batchNormCase({ shape: batchNormShape({ training: false }) }), (c) => {
        const { runningMean, runningVar } = c;
        const whole = batchNormEval({ x: c.x, shape: c.shape, weight: c.weight, bias: c.bias, running: { runningMean, runningVar } }).y;
        const per = c.C * c.S;
        for (let n = 0; n < c.N; n++) {
          const one = batchNormEval({
            x: c.x.subarray(n * per, (n + 1) * per), shape: [1, ...c.shape.slice(1)], weight: c.weight, bias: c.bias, running: { runningMean, runningVar },
          }).y;
          // same operations on the same numbers: equal to the bit
          expect(one).toEqual(whole.subarray(n * per, (n + 1) * per));
        }
      }),
      { numRuns: 15 },
    );
  });
});

describe('BatchNorm gradients of the affine parameters', () => {
  it('dbias = Σ dy and dweight = Σ dy·x̂ per channel, in both modes', () => {
    fc.assert(
      fc.property(batchNormCase({ affine: ['nonUnit'], values: ['standardValues', 'largeOffset'] }), fc.boolean(), seed, (c, training, s) => {
        const { mean, rstd } = training
          ? batchNormTrain({ x: c.x, shape: c.shape, weight: c.weight, bias: c.bias })
          : { mean: c.runningMean, rstd: batchNormEval({ x: c.x, shape: c.shape, running: { runningMean: c.runningMean, runningVar: c.runningVar } }).rstd };
        const dy = normals(s, c.x.length);
        const g = batchNormBackward({ dy, x: c.x, shape: c.shape, weight: c.weight, mean, rstd, training });
        const M = c.N * c.S;
        for (let ch = 0; ch < c.C; ch++) {
          const dyc = channel(dy, c, ch);
          const xhat = channel(c.x, c, ch).map((v) => (v - mean[ch]!) * rstd[ch]!);
          // two M-term sums in different orders: 2M·u·Σ|terms|
          expect(Math.abs(g.dbias![ch]! - sumOf(dyc))).toBeLessThanOrEqual(2 * M * U * sumAbsOf(dyc));
          const prod = dyc.map((d, i) => d * xhat[i]!);
          expect(Math.abs(g.dweight![ch]! - sumOf(prod))).toBeLessThanOrEqual((2 * M + 2) * U * sumAbsOf(prod));
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('a bias without a weight still gets dbias = Σ dy; no weight, no dweight', () => {
    // x = (1, 3) in one channel, dy = (0.5, 2): Σ dy = 2.5 exactly.
    const { mean, rstd } = batchNormTrain({ x: [1, 3], shape: [2, 1], bias: [0.25] });
    const g = batchNormBackward({ dy: [0.5, 2], x: [1, 3], shape: [2, 1], mean, rstd, training: true, hasBias: true });
    expect(g.dbias).toEqual(Float64Array.of(2.5));
    expect(g.dweight).toBeNull();
    expect(batchNormBackward({ dy: [0.5, 2], x: [1, 3], shape: [2, 1], mean, rstd, training: true }).dbias).toBeNull();
  });
});
