/**
 * Shared fast-check generators for BatchNorm and LayerNorm cases, and the seeded PRNG that fills them.
 *
 * fast-check draws a seed, a shape and the names of the value and affine cases; the values themselves come
 * from a small seeded PRNG (mulberry32 + Box-Muller). fast-check shrinks a shape well and a 400-element array
 * badly, and a case stays reproducible from (seed, shape, case names), which is what a failure prints.
 *
 * Sizes: N batch, C channels, S spatial positions (product of the dimensions after C), R rows and
 * D normalised size for LayerNorm. BatchNorm element (n, c, s) is at (n·C + c)·S + s; LayerNorm row r is
 * the block [r·D, r·D + D).
 *
 * Value cases, per channel (BatchNorm) or per row (LayerNorm), x = offset + spread·z with z ~ N(0, 1):
 *   standardValues   offset in [-2, 2], spread in [0.5, 2]
 *   largeOffset      |offset| = spread·10^k, k in [2, 6]: the mean dwarfs the spread, so a one-pass
 *                    variance Σx²/M - mean² cancels catastrophically (relative error u·10^(2k))
 *   tinyVariance     spread in [1e-6, 1e-3]: var from 1e-12 to 1e-6, at or far below eps = 1e-5
 *   constantChannel  the first group and about half the others are constant (spread 0): var = 0 exactly
 * Affine cases: 'none' (no weight or bias), 'unit' (weight 1, bias 0), 'nonUnit' (|weight| in [0.25, 4]
 * with either sign, bias in [-2, 2]).
 *
 * Every double generator here says what it does about NaN and ±Infinity; none of them produce either.
 */
import fc from 'fast-check';

// ---------------------------------------------------------------------------------------------------------
// Seeded PRNG: the project's one, from reference/random.ts (re-exported so the tests import it from here)

import { seededRng, type Rng } from '../../reference/random.js';

export { mulberry32, seededRng, type Rng } from '../../reference/random.js';

/** n standard normal values from `seed`. */
export function normals(seed: number, n: number): Float64Array {
  const rng = seededRng(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal();
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// fast-check's own seed

/** The seed every property in `npm test` starts from, so a run is deterministic. */
export const DEFAULT_FAST_CHECK_SEED = 20_261_127;

/**
 * Fixes fast-check's seed for the calling test file (vitest isolates files, so this is per file).
 * NORMCHECK_FC_SEED=<integer> picks another seed, NORMCHECK_FC_SEED=random leaves fast-check's time-based one
 * to explore; either way a failure prints the seed and path that replay it. Returns the seed, or null.
 */
export function useReproducibleSeed(): number | null {
  const requested = process.env['NORMCHECK_FC_SEED'];
  if (requested === 'random') return null;
  const chosen = requested === undefined ? DEFAULT_FAST_CHECK_SEED : Number(requested);
  if (!Number.isInteger(chosen)) throw new Error(`NORMCHECK_FC_SEED: expected an integer or 'random', got ${requested}`);
  fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: chosen });
  return chosen;
}

// ---------------------------------------------------------------------------------------------------------
// Scalars

/** A seed for `seededRng`: any non-negative 31-bit integer. */
export const seed = fc.integer({ min: 0, max: 0x7fffffff });

/** BatchNorm momentum, PyTorch's meaning (fraction of the batch statistic), the closed interval [0, 1]. */
export const momentumValue = fc.double({ min: 0, max: 1, noNaN: true, noDefaultInfinity: true });

/** eps in [1e-8, 1e-1], finite, never NaN; spans the frameworks' choices (1e-5 PyTorch, 1e-3 Keras). */
export const epsValue = fc.double({ min: 1e-8, max: 1e-1, noNaN: true, noDefaultInfinity: true });

// ---------------------------------------------------------------------------------------------------------
// Shapes

/** Sizes not divisible by 4 or 8, so no vectorised kernel gets a whole number of lanes. */
export const oddSize = fc.constantFrom(1, 3, 5, 7, 9, 11);

function sizeOfShape(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Values per channel, M = N·S, of a BatchNorm shape. */
export function valuesPerChannel(shape: readonly number[]): number {
  return shape[0]! * sizeOfShape(shape.slice(2));
}

/** Spatial dims of each size up to `max`, fewer allowed per dim as the rank grows so sizes stay small. */
function spatialDims(rank: number): fc.Arbitrary<number[]> {
  const max = [1, 7, 4, 3][rank]!; // rank 0: an empty array, the max is unused
  return fc.array(fc.integer({ min: 1, max }), { minLength: rank, maxLength: rank });
}

/** (N, C, ...spatial) of rank 2 to 5 with N, C in [1, 4]: BatchNorm1d on (N, C) and (N, C, L), 2d, 3d. */
export const generalBatchNormShape: fc.Arbitrary<number[]> = fc
  .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 3 }))
  .chain(([N, C, spatialRank]) => spatialDims(spatialRank).map((spatial) => [N, C, ...spatial]));

/** The smallest batches that can train: N·S = 2 values per channel, with one-element spatial dims too. */
export const tinyBatchShape: fc.Arbitrary<number[]> = fc
  .tuple(
    fc.constantFrom([2], [1, 2], [2, 1], [1, 1, 2], [2, 1, 1], [1, 2, 1, 1], [2, 1, 1, 1], [1, 1, 1, 2]),
    fc.integer({ min: 1, max: 5 }),
  )
  .map(([[N, ...spatial], C]) => [N!, C, ...spatial]);

/** Every dimension odd (1, 3, 5, ...), none a multiple of 4 or 8, rank 2 to 4. */
export const oddSizesShape: fc.Arbitrary<number[]> = fc
  .integer({ min: 2, max: 4 })
  .chain((rank) => fc.array(fc.constantFrom(1, 3, 5, 7), { minLength: rank, maxLength: rank }));

/**
 * A BatchNorm shape, mixing the three families above. `training` keeps only shapes with at least two
 * values per channel (PyTorch refuses to train on one).
 */
export function batchNormShape({ training = true }: { training?: boolean } = {}): fc.Arbitrary<number[]> {
  const any = fc.oneof(generalBatchNormShape, tinyBatchShape, oddSizesShape);
  return training ? any.filter((shape) => valuesPerChannel(shape) >= 2) : any;
}

export interface LayerNormShape {
  shape: number[];
  /** A trailing run of 1 to 3 of shape's dimensions. */
  normalizedShape: number[];
}

/** (...outer, ...normalizedShape): 0 to 2 outer dims in [1, 4], 1 to 3 normalised dims in [1, 7]. */
export const layerNormShape: fc.Arbitrary<LayerNormShape> = fc
  .tuple(
    fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 2 }),
    fc.integer({ min: 1, max: 3 }).chain((k) => fc.array(fc.integer({ min: 1, max: [0, 7, 5, 3][k]! }), { minLength: k, maxLength: k })),
  )
  .map(([outer, normalizedShape]) => ({ shape: [...outer, ...normalizedShape], normalizedShape }));

// ---------------------------------------------------------------------------------------------------------
// Values

export type ValueCase = 'standardValues' | 'largeOffset' | 'tinyVariance' | 'constantChannel';
export const VALUE_CASES: readonly ValueCase[] = ['standardValues', 'largeOffset', 'tinyVariance', 'constantChannel'];

export type AffineCase = 'none' | 'unit' | 'nonUnit';
export const AFFINE_CASES: readonly AffineCase[] = ['none', 'unit', 'nonUnit'];

/** Offset and spread of each of G groups (channels or rows), as the header describes per case. */
export function groupStatistics(kind: ValueCase, rng: Rng, G: number): { offset: Float64Array; spread: Float64Array } {
  const offset = new Float64Array(G);
  const spread = new Float64Array(G);
  for (let g = 0; g < G; g++) {
    switch (kind) {
      case 'standardValues':
        offset[g] = rng.between(-2, 2);
        spread[g] = rng.between(0.5, 2);
        break;
      case 'largeOffset':
        spread[g] = rng.between(0.5, 2);
        offset[g] = (rng.uniform() < 0.5 ? -1 : 1) * spread[g]! * 10 ** rng.between(2, 6);
        break;
      case 'tinyVariance':
        offset[g] = rng.between(-1, 1);
        spread[g] = 10 ** rng.between(-6, -3);
        break;
      case 'constantChannel':
        offset[g] = rng.between(-2, 2);
        spread[g] = g === 0 || rng.uniform() < 0.5 ? 0 : rng.between(0.5, 2);
        break;
    }
  }
  return { offset, spread };
}

/** weight and bias of length n for an affine case; null for 'none'. */
export function affineParameters(kind: AffineCase, rng: Rng, n: number): { weight: Float64Array | null; bias: Float64Array | null } {
  if (kind === 'none') return { weight: null, bias: null };
  const weight = new Float64Array(n);
  const bias = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    weight[i] = kind === 'unit' ? 1 : (rng.uniform() < 0.5 ? -1 : 1) * rng.between(0.25, 4);
    bias[i] = kind === 'unit' ? 0 : rng.between(-2, 2);
  }
  return { weight, bias };
}

export interface BatchNormCase {
  seed: number;
  shape: number[];
  N: number;
  C: number;
  S: number;
  values: ValueCase;
  affine: AffineCase;
  x: Float64Array; // (N, C, ...spatial)
  weight: Float64Array | null; // (C)
  bias: Float64Array | null; // (C)
  /** Plausible running statistics before the step: mean ~ N(0, 1), var in [0.5, 2]. */
  runningMean: Float64Array; // (C)
  runningVar: Float64Array; // (C)
}

/** Fills a BatchNorm case from its seed, shape and case names. Exported to rebuild a printed counterexample. */
export function buildBatchNormCase(caseSeed: number, shape: number[], values: ValueCase, affine: AffineCase): BatchNormCase {
  const rng = seededRng(caseSeed);
  const [N, C] = shape as [number, number];
  const S = sizeOfShape(shape.slice(2));
  const { offset, spread } = groupStatistics(values, rng, C);
  const x = new Float64Array(N * C * S);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let s = 0; s < S; s++) x[(n * C + c) * S + s] = offset[c]! + spread[c]! * rng.normal();
    }
  }
  const { weight, bias } = affineParameters(affine, rng, C);
  const runningMean = new Float64Array(C);
  const runningVar = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    runningMean[c] = rng.normal();
    runningVar[c] = rng.between(0.5, 2);
  }
  return { seed: caseSeed, shape, N, C, S, values, affine, x, weight, bias, runningMean, runningVar };
}

/** A BatchNorm case: shape from `shape` (default: trainable shapes), values and affine from the lists given. */
export function batchNormCase({
  shape = batchNormShape(),
  values = VALUE_CASES,
  affine = AFFINE_CASES,
}: { shape?: fc.Arbitrary<number[]>; values?: readonly ValueCase[]; affine?: readonly AffineCase[] } = {}): fc.Arbitrary<BatchNormCase> {
  return fc
    .tuple(seed, shape, fc.constantFrom(...values), fc.constantFrom(...affine))
    .map(([s, sh, v, a]) => buildBatchNormCase(s, sh, v, a));
}

export interface LayerNormCase extends LayerNormShape {
  seed: number;
  R: number;
  D: number;
  values: ValueCase;
  affine: AffineCase;
  x: Float64Array; // shape
  weight: Float64Array | null; // normalizedShape
  bias: Float64Array | null; // normalizedShape
}

/** Fills a LayerNorm case; 'constantChannel' makes constant rows. */
export function buildLayerNormCase(caseSeed: number, { shape, normalizedShape }: LayerNormShape, values: ValueCase, affine: AffineCase): LayerNormCase {
  const rng = seededRng(caseSeed);
  const D = sizeOfShape(normalizedShape);
  const R = sizeOfShape(shape) / D;
  const { offset, spread } = groupStatistics(values, rng, R);
  const x = new Float64Array(R * D);
  for (let r = 0; r < R; r++) for (let i = 0; i < D; i++) x[r * D + i] = offset[r]! + spread[r]! * rng.normal();
  const { weight, bias } = affineParameters(affine, rng, D);
  return { seed: caseSeed, shape, normalizedShape, R, D, values, affine, x, weight, bias };
}

export function layerNormCase({
  shape = layerNormShape,
  values = VALUE_CASES,
  affine = AFFINE_CASES,
}: { shape?: fc.Arbitrary<LayerNormShape>; values?: readonly ValueCase[]; affine?: readonly AffineCase[] } = {}): fc.Arbitrary<LayerNormCase> {
  return fc
    .tuple(seed, shape, fc.constantFrom(...values), fc.constantFrom(...affine))
    .map(([s, sh, v, a]) => buildLayerNormCase(s, sh, v, a));
}

/**
 * The same case with every array rounded to float32 (Math.fround), so a float32 implementation and the
 * float64 reference receive exactly the same numbers and any difference is the implementation's own.
 */
export function roundedToFloat32<T extends { x: Float64Array; weight: Float64Array | null; bias: Float64Array | null }>(c: T): T {
  const round = (a: Float64Array) => a.map(Math.fround);
  const out: T = { ...c, x: round(c.x), weight: c.weight && round(c.weight), bias: c.bias && round(c.bias) };
  for (const key of ['runningMean', 'runningVar'] as const) {
    const v = (c as Record<string, unknown>)[key];
    if (v instanceof Float64Array) (out as Record<string, unknown>)[key] = round(v);
  }
  return out;
}
