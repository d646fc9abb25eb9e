/**
 * Correct variants: implementations that differ from base.ts in ways that are all RIGHT, each of which a
 * suite with false alarms would fail. Every one must pass the whole catalog (test/mutants/gallery.test.ts,
 * and across 20 seeds in the full profile: scripts/no_false_alarms.ts).
 *
 * The variance algorithms are the ones Chan, Golub & LeVeque (1983) analyse; all have errors of order
 * u·(1 + κ) in the variance's relative terms (κ = offset/spread), which the error model's bound covers:
 *   two-pass       mean first, then Σ(x - mean)²                              (base.ts)
 *   Welford        running mean and M2, one pass, update by δ = x - mean
 *   shifted data   Σ(x - K) and Σ(x - K)² with K = the group's first value: one pass whose cancellation
 *                  is relative to |mean - K| ~ spread, not to the offset
 *   float64 sums   float32 storage, float64 accumulators (what llm.c's and most CPU kernels do); for RMSNorm
 *                  a float64 mean of squares
 *   pairwise       the two passes with each sum split in halves down to blocks of 8 (numpy's summation)
 * The moment functions are conformance/accuracy/moments.ts's, which the accuracy grade's oracles use too.
 */
import type { Adapter } from '../adapter.js';
import { float64Moments, pairwiseMoments, shiftedMoments, welfordMoments } from '../accuracy/moments.js';
import { buildAdapter, type Round } from './base.js';

export { float64Moments, shiftedMoments, welfordMoments };

/**
 * RMSNorm's mean of squares accumulated in float64; the result is rounded to the working precision, so rows
 * whose mean square float32 cannot hold (|x| past 1.8e19) are still rescaled by a power of two first.
 */
export function float64MeanSquare(x: ArrayLike<number>, idx: Int32Array, R: Round): { scale: number; ms: number } {
  let m = 0;
  for (const i of idx) m = Math.max(m, Math.abs(x[i]!));
  const scale = Number.isFinite(m) && (m > 2 ** 60 || (m > 0 && m < 2 ** -60)) ? 2 ** Math.floor(Math.log2(m)) : 1;
  let sq = 0;
  for (const i of idx) sq += (x[i]! / scale) ** 2;
  return { scale, ms: R(sq / idx.length) };
}

export interface CorrectVariant {
  name: string;
  /** what it does differently, and why that is still correct */
  description: string;
  adapter(): Adapter;
}

function variant(name: string, description: string, build: Omit<Parameters<typeof buildAdapter>[0], 'name' | 'description'>): CorrectVariant {
  return { name, description, adapter: () => buildAdapter({ name, description, ...build }) };
}

export const CORRECT_VARIANTS: readonly CorrectVariant[] = [
  variant('f32-two-pass', 'float32, two-pass mean and variance (the base implementation)', {}),
  variant('f32-welford', 'float32, Welford\'s one-pass update of mean and M2', { parts: { moments: welfordMoments } }),
  variant('f32-shifted', 'float32, one pass over data shifted by the group\'s first value', { parts: { moments: shiftedMoments } }),
  variant('f32-float64-accumulate', 'float32 storage and arithmetic, float64 accumulators for the statistics', {
    parts: { moments: float64Moments, rmsMeanSquare: float64MeanSquare },
  }),
  variant('f32-pairwise', 'float32, two passes with pairwise sums (blocks of 8, as numpy sums)', { parts: { moments: pairwiseMoments } }),
  variant('f32-nhwc', 'float32 two-pass on channels-last data (N, ...spatial, C)', { layout: 'NHWC' }),
  variant('f32-async', 'float32 two-pass behind Promises that settle on a later macrotask', { async: true }),
  variant('f16-storage', 'float16 inputs and outputs, float32 arithmetic (as half-precision kernels accumulate), judged at float16', {
    precision: 'float16',
  }),
  variant('f32-keras-profile', 'float32, Keras conventions (biased moving variance, channels-last), judged by the keras profile', {
    profile: 'keras', layout: 'NHWC', parts: { runningVariance: (v) => v },
  }),
];
