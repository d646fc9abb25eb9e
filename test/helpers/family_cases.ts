/**
 * fast-check cases for GroupNorm, InstanceNorm and RMSNorm, built on the BatchNorm and LayerNorm cases of
 * arbitraries.ts (same seeded values, same value and affine case names, so a printed counterexample rebuilds
 * from (seed, shape, case names, numGroups)).
 *
 * Sizes: N batch, C channels, G groups (a divisor of C), S spatial positions; R rows and D normalised size
 * for RMSNorm.
 */
import fc from 'fast-check';
import {
  AFFINE_CASES, buildBatchNormCase, layerNormCase, seed, VALUE_CASES,
  type AffineCase, type BatchNormCase, type LayerNormCase, type ValueCase,
} from './arbitraries.js';

const spatial = (rank: number) => fc.array(fc.integer({ min: 1, max: [1, 6, 4, 3][rank]! }), { minLength: rank, maxLength: rank });

/** (N, C, ...spatial), N in [1, 3], C in [1, 6], 0 to 3 spatial dims; `minSpatial` bounds S from below. */
export function channelShape({ minRank = 2, minSpatial = 1 }: { minRank?: number; minSpatial?: number } = {}): fc.Arbitrary<number[]> {
  return fc
    .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: minRank - 2, max: 3 }))
    .chain(([N, C, rank]) => spatial(rank).map((s) => [N, C, ...s]))
    .filter((shape) => shape.slice(2).reduce((a, b) => a * b, 1) >= minSpatial);
}

export interface GroupNormCase extends BatchNormCase {
  numGroups: number;
}

/** A GroupNorm case: G drawn among the divisors of C (G = 1 and G = C included), N·(C/G)·S ≥ 2. */
export function groupNormCase({
  values = VALUE_CASES,
  affine = AFFINE_CASES,
}: { values?: readonly ValueCase[]; affine?: readonly AffineCase[] } = {}): fc.Arbitrary<GroupNormCase> {
  return fc
    .tuple(seed, channelShape(), fc.constantFrom(...values), fc.constantFrom(...affine))
    .chain(([s, shape, v, a]) => {
      const C = shape[1]!;
      const divisors = Array.from({ length: C }, (_, i) => i + 1).filter((g) => C % g === 0);
      return fc.constantFrom(...divisors).map((numGroups) => ({ ...buildBatchNormCase(s, shape, v, a), numGroups }));
    })
    .filter((c) => (c.N * c.C * c.S) / c.numGroups >= 2);
}

/** An InstanceNorm case with at least two spatial elements (what the input's statistics need). */
export function instanceNormCase({
  values = VALUE_CASES,
  affine = AFFINE_CASES,
}: { values?: readonly ValueCase[]; affine?: readonly AffineCase[] } = {}): fc.Arbitrary<BatchNormCase> {
  return fc
    .tuple(seed, channelShape({ minRank: 3, minSpatial: 2 }), fc.constantFrom(...values), fc.constantFrom(...affine))
    .map(([s, shape, v, a]) => buildBatchNormCase(s, shape, v, a));
}

/** An RMSNorm case: a LayerNorm case without the bias (RMSNorm has none). */
export function rmsNormCase(options: { values?: readonly ValueCase[]; affine?: readonly AffineCase[] } = {}): fc.Arbitrary<LayerNormCase> {
  return layerNormCase(options).map((c) => ({ ...c, bias: null }));
}
