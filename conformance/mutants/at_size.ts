/**
 * Mutants that hide where bounds are loose: defects whose error scales like 1/M (invisible once the
 * worst-case bound γ_M·κ has grown with M), defects only large groups reach (the last partial block of a
 * blocked reduction), and implementations that pass a saturated bound without computing anything
 * (accuracy/inconclusive.ts). Each says which tier or grade sees it at which sizes (conformance/README.md,
 * "Accuracy": the measured table).
 */
import type { Adapter, FloatArray } from '../adapter.js';
import { twoPassMoments, type Moments, type Round } from './base.js';
import { mutant, type Mutant } from './mutant.js';

/**
 * Two-level reduction in blocks of 1024 once M > 4096: the second level sums the partial sums of the full
 * blocks only (grid = floor(M / 1024) instead of ceil), so the last partial block's M mod 1024 values are lost
 * from the mean and the variance — which still divide by M. Exact at M ≤ 4096 and at multiples of 1024.
 */
export function lastBlockDroppedMoments(x: ArrayLike<number>, idx: Int32Array, R: Round): Moments {
  const M = idx.length;
  if (M <= 4096) return twoPassMoments(x, idx, R);
  const full = Math.floor(M / 1024) * 1024;
  let sum = 0;
  for (let b = 0; b < full; b += 1024) {
    let s = 0;
    for (let k = b; k < b + 1024; k++) s = R(s + x[idx[k]!]!);
    sum = R(sum + s);
  }
  const mean = R(sum / M);
  let sq = 0;
  for (let b = 0; b < full; b += 1024) {
    let s = 0;
    for (let k = b; k < b + 1024; k++) {
      const d = R(x[idx[k]!]! - mean);
      s = R(s + R(d * d));
    }
    sq = R(sq + s);
  }
  return { mean, var: R(sq / M) };
}

/**
 * |E[x²] - E[x]²| in float32: the one-pass formula with its sign "fixed". Its error grows like u·κ² (both sums
 * are ~κ²·σ²): within the bound to offsets of about 1e2 on small groups, far outside from 1e3 on — until the
 * variance is pure rounding noise much larger than the true one, x̂ ≈ 0 and y ≈ bias, which a saturated bound
 * (offset 1e6) can no longer tell from the right answer.
 */
export function absOnePassMoments(x: ArrayLike<number>, idx: Int32Array, R: Round): Moments {
  const M = idx.length;
  let s1 = 0;
  let s2 = 0;
  for (const i of idx) {
    s1 = R(s1 + x[i]!);
    s2 = R(s2 + R(x[i]! * x[i]!));
  }
  const mean = R(s1 / M);
  return { mean, var: Math.abs(R(R(s2 / M) - R(mean * mean))) };
}

/** y = bias, x̂ ≡ 0: the input thrown away entirely (no statistics, running buffers left as they were, no backward). */
function yEqualsBias(): Adapter {
  const biasOf = (length: number, param: (i: number) => number, bias: FloatArray | null): Float32Array => {
    const y = new Float32Array(length);
    if (bias) for (let i = 0; i < length; i++) y[i] = bias[param(i)]!;
    return y;
  };
  const nchwChannel = (shape: readonly number[]) => {
    const C = shape[1]!;
    const S = shape.slice(2).reduce((a, b) => a * b, 1);
    return (i: number) => Math.floor(i / S) % C;
  };
  return {
    name: 'mutant:y-equals-bias',
    description: 'y = bias (the input thrown away entirely)',
    precision: 'float32',
    layout: 'NCHW',
    profile: 'pytorch',
    bnTrainForward: ({ x, shape, bias, runningMean, runningVar }) => ({
      y: biasOf(x.length, nchwChannel(shape), bias),
      runningMean: runningMean && Float32Array.from(runningMean),
      runningVar: runningVar && Float32Array.from(runningVar),
    }),
    bnEvalForward: ({ x, shape, bias }) => ({ y: biasOf(x.length, nchwChannel(shape), bias) }),
    lnForward: ({ x, normalizedShape, bias }) => {
      const D = normalizedShape.reduce((a, b) => a * b, 1);
      return { y: biasOf(x.length, (i) => i % D, bias) };
    },
  };
}

export const AT_SIZE_MUTANTS: readonly Mutant[] = [
  // The normalising variance 0.1 % too large: x̂ shrinks by 5e-4 relative. Stands for an rstd taken from a
  // hardware reciprocal-square-root estimate without its Newton step (SSE rsqrtps: relative error up to
  // 1.5·2^-12 = 3.7e-4). The worst-case bound sees it only on small groups (M ≲ 500 at κ ≈ 2); with
  // N·spatial = 2 every case is one (bn.train.forward, M up to 256 in the quick profile, missed 21 seeds in 100).
  mutant({
    name: 'variance-off-1e-3', bugClass: 'normalises with the variance multiplied by (1 + 1e-3)',
    seenIn: 'rstd from an rsqrt estimate without a Newton step (SSE rsqrtps: relative error up to 3.7e-4)',
    caughtBy: ['bn.train.two_values'],
    parts: { bnVariance: (v, _M, R) => R(v * (1 + 1e-3)) },
  }),
  // |one-pass| variance: accurate only up to offsets of ~1e2 times the spread.
  mutant({
    name: 'accurate-to-offset-1e2', bugClass: 'variance as |E[x²] - E[x]²| in float32: accurate only up to offsets of ~1e2',
    seenIn: 'a classic mistake (one-pass variance with its negative results folded back by abs)',
    caughtBy: ['bn.train.offset_1e3', 'bn.train.offset_1e4'],
    parts: { moments: absOnePassMoments },
  }),
  {
    name: 'y-equals-bias', bugClass: 'y = bias: the input thrown away (x̂ ≡ 0, running buffers not updated)',
    seenIn: 'the issue that introduced inconclusive cases: y = bias passed bn.train.offset_1e6 on 3 of 3 seeds',
    caughtBy: [{ check: 'bn.train.forward', quantity: 'y' }, { check: 'ln.forward', quantity: 'y' }, { check: 'bn.eval.forward', quantity: 'y' }],
    adapter: yEqualsBias,
  },
];
