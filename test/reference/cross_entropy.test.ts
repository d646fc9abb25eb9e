/**
 * Softmax cross-entropy: the values the math fixes (log K for equal logits), stability at logits of ±1e4, and
 * the gradient's row sums. u = 2^-53; a K-term sum is off by ≤ (K-1)·u·Σ|terms|.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crossEntropyBackward, crossEntropyForward } from '../../reference/index.js';
import { normals, seed, seededRng, useReproducibleSeed } from '../helpers/arbitraries.js';

useReproducibleSeed();

const U = 2 ** -53;

const dims = fc.record({ N: fc.integer({ min: 1, max: 6 }), K: fc.integer({ min: 2, max: 12 }) });

/** A logit shift: 0, ordinary, or ±1e4 where exp overflows without the max subtraction. */
const shift = fc.oneof(
  fc.constantFrom(0, 1e4, -1e4),
  fc.double({ min: -1e4, max: 1e4, noNaN: true, noDefaultInfinity: true }),
);

function targetsFor(s: number, N: number, K: number): number[] {
  const rng = seededRng(s);
  return Array.from({ length: N }, () => rng.int(K));
}

describe('cross-entropy', () => {
  it('of equal logits is log K, whatever their common value', () => {
    fc.assert(
      fc.property(seed, dims, shift, (s, { N, K }, c) => {
        const { loss } = crossEntropyForward(new Float64Array(N * K).fill(c), targetsFor(s, N, K), N, K);
        // logsumexp = c + log K rounds by u·(|c| + log K); subtracting it from c and averaging over N rows
        // adds (N + 2)·u of the same size
        expect(Math.abs(loss - Math.log(K))).toBeLessThanOrEqual((N + 4) * U * (Math.abs(c) + Math.log(K)));
      }),
      { numRuns: 30 },
    );
  });

  it('is finite at logits of ±1e4 and equals the loss of the logits shifted to near 0', () => {
    fc.assert(
      fc.property(seed, dims, shift, fc.double({ min: 0.1, max: 20, noNaN: true, noDefaultInfinity: true }), (s, { N, K }, c, scale) => {
        const z = normals(s, N * K).map((v) => scale * v);
        const logits = z.map((v) => c + v);
        const targets = targetsFor(s + 1, N, K);
        const { loss, probs } = crossEntropyForward(logits, targets, N, K);
        expect(Number.isFinite(loss)).toBe(true);
        expect(probs.every(Number.isFinite)).toBe(true);
        // Expected: the naive formula log Σ exp(z) - z_t on the shifted logits z' = logits - c, which are
        // small enough (|z'| ≲ 100) for exp. logits = fl(c + z) moved each z by ≤ u·|c + z|, so z' carries that.
        let expected = 0;
        let maxAbs = 0;
        for (let n = 0; n < N; n++) {
          let sumExp = 0;
          for (let k = 0; k < K; k++) {
            sumExp += Math.exp(logits[n * K + k]! - c);
            maxAbs = Math.max(maxAbs, Math.abs(logits[n * K + k]!));
          }
          expected += Math.log(sumExp) - (logits[n * K + targets[n]!]! - c);
        }
        expected /= N;
        // both sides round |logits| ≈ |c| + |z| a few times per row (max shift, the log, the subtraction):
        // 8u·max|logit|; their K-term sums of exponentials are each within (K + 2)·u relative, which the
        // log turns into an absolute error of that size; the mean over N rows adds N·u·|loss|
        const bound = 8 * U * maxAbs + 2 * (K + 2) * U + (N + 2) * U * Math.abs(expected);
        expect(Math.abs(loss - expected), `c = ${c}`).toBeLessThanOrEqual(bound);
      }),
      { numRuns: 30 },
    );
  });

  it('of logits (1e4, -1e4) with target 1 is 2e4, not Infinity', () => {
    // log p_1 = -1e4 - logsumexp(1e4, -1e4) = -2e4 - log(1 + e^-2e4) = -2e4 in float64
    const { loss, probs } = crossEntropyForward([1e4, -1e4], [1], 1, 2);
    expect(loss).toBe(2e4);
    expect(probs).toEqual(Float64Array.of(1, 0));
  });

  it('has gradient rows that sum to 0 and lie in [-1/N, 1/N], negative only at the target', () => {
    fc.assert(
      fc.property(seed, dims, shift, (s, { N, K }, c) => {
        const logits = normals(s, N * K).map((v) => c + 3 * v);
        const targets = targetsFor(s + 1, N, K);
        const { probs } = crossEntropyForward(logits, targets, N, K);
        const d = crossEntropyBackward(probs, targets, N, K);
        for (let n = 0; n < N; n++) {
          let sum = 0;
          for (let k = 0; k < K; k++) {
            const v = d[n * K + k]!;
            sum += v;
            expect(Math.abs(v)).toBeLessThanOrEqual(1 / N);
            if (k !== targets[n]) expect(v).toBeGreaterThanOrEqual(0);
          }
          // Σ_k (p_k - [k = t])/N: each p_k is exp of a logit minus a logsumexp rounded by u·|logit|,
          // so relative error ≤ 2u·max|logit| + 2u; the sum of K terms ≤ 1 adds (K + 2)·u; divided by N
          const maxAbs = Math.max(...logits.subarray(n * K, (n + 1) * K).map(Math.abs));
          expect(Math.abs(sum)).toBeLessThanOrEqual(((2 * maxAbs + K + 6) * U) / N);
        }
      }),
      { numRuns: 30 },
    );
  });
});
