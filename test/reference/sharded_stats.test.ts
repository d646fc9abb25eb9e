/**
 * Sharded statistics (reference/sharded_stats.ts): merging the per-shard (count, mean, M2) with Chan's formula
 * must give the whole batch's mean and biased variance, however the batch is cut, including empty shards,
 * shards of one value and offsets of 1e6.
 *
 * Error model, n values, k shards, u = 2^-53. The two-pass whole-batch result (computed here) has its mean
 * off by ≤ n·u·mean|x| and its variance by ≤ (n + 3)·u·var plus the squared mean error. The merge: each
 * shard mean is off by ≤ n_s·u·max|x|, so δ = mean_b - mean_a is off by ≤ 2n·u·max|x| and each merge's
 * δ²·n_a·n_b/n term by ≤ 2|δ|·2n·u·max|x|·n/4; with |δ| ≤ 2·max|x - mean| and k - 1 merges, M2 is off by
 * ≤ 2k·n²·u·max|x|·max|x - mean|, the variance by 2k·n·u·max|x|·max|x - mean|. Relative to the variance σ²
 * that is 2k·n·u·κ with κ = (max|x|/σ)·(max|x - mean|/σ), the conditioning of the problem: ≈ 4e6 at offset 1e6.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeAll, mergeMoments, shardMoments, ShapeError } from '../../reference/index.js';
import { seed, seededRng, useReproducibleSeed } from '../helpers/arbitraries.js';

useReproducibleSeed();

const U = 2 ** -53;

/** Shard sizes 0 to 6 (0 and 1 on purpose), 1 to 10 shards, at least one value in all. */
const shardSizes = fc
  .array(fc.oneof(fc.constantFrom(0, 1), fc.integer({ min: 0, max: 6 })), { minLength: 1, maxLength: 10 })
  .filter((sizes) => sizes.some((s) => s > 0));

/** log10 of offset/spread: 0 (centred) or 2 to 6 (large offsets), as doubles without NaN or infinities. */
const offsetExponent = fc.oneof(fc.constant(0), fc.double({ min: 2, max: 6, noNaN: true, noDefaultInfinity: true }));

function twoPass(v: Float64Array): { mean: number; var: number } {
  let s = 0;
  for (const e of v) s += e;
  const mean = s / v.length;
  let q = 0;
  for (const e of v) q += (e - mean) ** 2;
  return { mean, var: q / v.length };
}

describe('sharded statistics', () => {
  it('merged over any cut of the batch equal the whole batch mean and biased variance, also at offset 1e6', () => {
    fc.assert(
      fc.property(seed, shardSizes, offsetExponent, (s, sizes, k) => {
        const rng = seededRng(s);
        const spread = rng.between(0.5, 2);
        const offset = (rng.uniform() < 0.5 ? -1 : 1) * spread * (k === 0 ? rng.between(-1, 1) : 10 ** k);
        const shards = sizes.map((n) => Float64Array.from({ length: n }, () => offset + spread * rng.normal()));
        const all = Float64Array.from(shards.flatMap((sh) => [...sh]));
        const n = all.length;
        const whole = twoPass(all);
        const merged = mergeAll(shards.map(shardMoments));
        expect(merged.count).toBe(n);

        let maxAbs = 0;
        let maxDev = 0;
        for (const e of all) {
          maxAbs = Math.max(maxAbs, Math.abs(e));
          maxDev = Math.max(maxDev, Math.abs(e - whole.mean));
        }
        // means: both sides' summation errors, and each merge's mean_a + δ·n_b/n adds 3 roundings
        const meanBound = (2 * n + 3 * sizes.length) * U * maxAbs;
        expect(Math.abs(merged.mean - whole.mean)).toBeLessThanOrEqual(meanBound);
        // variances: see the header; the two-pass side adds (n + 3)·u·var and the squared mean error
        const varBound =
          2 * sizes.length * n * U * maxAbs * maxDev + (2 * n + 3 * sizes.length + 8) * U * whole.var + 2 * (n * U * maxAbs) ** 2;
        expect(Math.abs(merged.var - whole.var), `n = ${n}, offset = ${offset}`).toBeLessThanOrEqual(varBound);
      }),
      { numRuns: 60 },
    );
  });

  it('do not depend on the order the shards are merged in, beyond rounding', () => {
    fc.assert(
      fc.property(seed, shardSizes, (s, sizes) => {
        const rng = seededRng(s);
        const shards = sizes.map((n) => Float64Array.from({ length: n }, () => 3 + rng.normal()));
        const forward = mergeAll(shards.map(shardMoments));
        const backward = mergeAll(shards.map(shardMoments).reverse());
        const n = forward.count;
        const values = shards.flatMap((sh) => [...sh]);
        const maxAbs = Math.max(...values.map(Math.abs));
        const maxDev = Math.max(...values.map((v) => Math.abs(v - forward.mean)));
        // two merge sequences, each within the header's bound of the exact values, so twice that apart
        expect(Math.abs(forward.mean - backward.mean)).toBeLessThanOrEqual(2 * (n + 3 * sizes.length) * U * maxAbs);
        expect(Math.abs(forward.var - backward.var)).toBeLessThanOrEqual(
          4 * sizes.length * n * U * maxAbs * maxDev + 2 * (2 * n + 3 * sizes.length + 8) * U * forward.var,
        );
      }),
      { numRuns: 30 },
    );
  });

  it('treat an empty shard as the identity of the merge', () => {
    const a = shardMoments([1, 2, 4]);
    const empty = shardMoments([]);
    expect(empty).toEqual({ count: 0, mean: 0, m2: 0 });
    expect(mergeMoments(a, empty)).toEqual(a);
    expect(mergeMoments(empty, a)).toEqual(a);
  });

  it('of a shard of one value are that value with variance 0', () => {
    expect(shardMoments([-7.25])).toEqual({ count: 1, mean: -7.25, m2: 0 });
    // {1} ∪ {3}: mean 2, M2 = 0 + 0 + 2²·1·1/2 = 2, biased variance 1, all exact in binary
    expect(mergeAll([shardMoments([1]), shardMoments([3])])).toEqual({ count: 2, mean: 2, var: 1 });
  });

  it('refuse a batch with no values at all, naming the shards', () => {
    expect(() => mergeAll([])).toThrow(ShapeError);
    expect(() => mergeAll([shardMoments([]), shardMoments([])])).toThrow(/^shards:/);
  });
});
