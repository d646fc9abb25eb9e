/**
 * Mutants of the BatchNorm forward: the normalisation itself, its statistics, its axes and modes.
 * Each entry replaces one part of base.ts; the comment above it names the bug, where it has been seen and
 * why the named check catches it.
 */
import { twoPassMoments, type Groups, type Moments, type Round } from './base.js';
import { mutant, type Mutant } from './mutant.js';

/** E[x²] - E[x]² in the working precision: two sums of size A², subtracted. */
export function onePassMoments(x: ArrayLike<number>, idx: Int32Array, R: Round): Moments {
  const M = idx.length;
  let s1 = 0;
  let s2 = 0;
  for (const i of idx) {
    s1 = R(s1 + x[i]!);
    s2 = R(s2 + R(x[i]! * x[i]!));
  }
  const mean = R(s1 / M);
  return { mean, var: R(R(s2 / M) - R(mean * mean)) };
}

/** Two passes, each summing four lanes at a time over the first M - M mod 4 values: the tail is dropped. */
function unrolledForgetsTailMoments(x: ArrayLike<number>, idx: Int32Array, R: Round): Moments {
  const M = idx.length;
  const body = M - (M % 4);
  const lanes = [0, 0, 0, 0];
  for (let k = 0; k < body; k += 4) for (let l = 0; l < 4; l++) lanes[l] = R(lanes[l]! + x[idx[k + l]!]!);
  const mean = R(R(R(lanes[0]! + lanes[1]!) + R(lanes[2]! + lanes[3]!)) / M);
  lanes.fill(0);
  for (let k = 0; k < body; k += 4) {
    for (let l = 0; l < 4; l++) {
      const d = R(x[idx[k + l]!]! - mean);
      lanes[l] = R(lanes[l]! + R(d * d));
    }
  }
  // (the remainder loop `for (k = body; k < M; k++)` is missing)
  return { mean, var: R(R(R(lanes[0]! + lanes[1]!) + R(lanes[2]! + lanes[3]!)) / M) };
}

/** Two-pass statistics that read a NaN as 0 (a `x[i] || 0` guard, or a NaN-skipping reduction). */
function nanAsZeroMoments(x: ArrayLike<number>, idx: Int32Array, R: Round): Moments {
  const clean = Float64Array.from(x, (v) => (Number.isNaN(v) ? 0 : v));
  return twoPassMoments(clean, idx, R);
}

/** The channel of flat index i taken as i mod C, whatever the layout: right for (N, C) and channels-last only. */
function channelIsLastAxisGroups(shape: readonly number[]): Groups {
  const C = shape[1]!;
  const total = shape.reduce((a, b) => a * b, 1);
  const param = new Int32Array(total);
  const members: number[][] = Array.from({ length: C }, () => []);
  for (let i = 0; i < total; i++) {
    param[i] = i % C;
    members[i % C]!.push(i);
  }
  return { groups: members.map((m) => Int32Array.from(m)), param };
}

export const BN_FORWARD_MUTANTS: readonly Mutant[] = [
  // eps added to the standard deviation, 1/(sqrt(var) + eps), instead of inside the square root.
  // Seen in: the tf.keras.backend.batch_normalization docstring ("(x - mean) / (sqrt(var) + epsilon)", while
  // the code computes sqrt(var + epsilon)); scienceai/neocortex's JS batchNormalization divides by std + epsilon.
  // Caught: variances near eps make the two forms differ by orders of magnitude (tiny_variance), and scaling x
  // by a with eps by a² is exact only with eps inside the root (scale_invariance, whose data has variances
  // near eps: at unit spreads the difference, ~eps·|a-1|/σ relative, would hide under the float32 bound).
  mutant({
    name: 'eps-outside-sqrt', bugClass: 'rstd = 1/(sqrt(var) + eps) instead of 1/sqrt(var + eps)',
    seenIn: 'tf.keras.backend.batch_normalization docstring; scienceai/neocortex batchNormalization (std + epsilon)',
    caughtBy: ['bn.train.tiny_variance', 'bn.train.scale_invariance'],
    parts: { rstd: (v, eps, R) => R(1 / R(R(Math.sqrt(v)) + eps)) },
  }),
  // No eps at all: rstd = 1/sqrt(var). A constant channel has var = 0, so x̂ = 0·∞ = NaN where the bias is due.
  mutant({
    name: 'no-eps', bugClass: 'rstd = 1/sqrt(var): eps left out',
    seenIn: 'a classic mistake',
    caughtBy: [{ check: 'bn.train.constant_channel', quantity: 'y' }],
    parts: { rstd: (v, _eps, R) => R(1 / R(Math.sqrt(v))) },
  }),
  // One-pass variance E[x²] - E[x]² accumulated in float32: at offset κ·spread both terms are ~κ²·spread² and
  // their difference loses ~2·log10(κ) digits; at κ = 1e4 in float32 nothing is left (often a negative variance).
  // Seen in: the BNLayer of several Caffe forks ("computes variance using var(X) = E(X^2) - (EX)^2").
  mutant({
    name: 'one-pass-variance-f32', bugClass: 'variance as E[x²] - E[x]² in float32',
    seenIn: 'Caffe forks\' BNLayer ("var(X) = E(X^2) - (EX)^2")',
    caughtBy: ['bn.train.offset_1e4'],
    parts: { moments: onePassMoments },
  }),
  // Normalising with the unbiased variance var·M/(M-1) (what torch.var returns by default) instead of the
  // biased one. At M = 2 values per channel the variance doubles.
  mutant({
    name: 'bn-forward-unbiased-var', bugClass: 'forward normalises with the unbiased variance var·M/(M-1)',
    seenIn: 'a classic mistake (torch.var defaults to unbiased=True)',
    caughtBy: ['bn.train.two_values'],
    parts: { bnVariance: (v, M, R) => R(R(v * M) / (M - 1)) },
  }),
  // Training mode normalising with the running statistics (the training flag not threaded through).
  mutant({
    name: 'train-uses-running-stats', bugClass: 'training forward normalises with the running statistics',
    seenIn: 'a classic mistake (the training flag not passed down)',
    caughtBy: [{ check: 'bn.train.forward', quantity: 'y' }],
    parts: { trainingStatistics: 'running' },
  }),
  // Eval mode normalising with the batch's own statistics: the output then depends on the rest of the batch.
  mutant({
    name: 'eval-uses-batch-stats', bugClass: 'eval forward normalises with the batch statistics',
    seenIn: 'a classic mistake (the "forgot model.eval()" symptom, inside the implementation)',
    caughtBy: ['bn.eval.affine_map', 'bn.eval.forward'],
    parts: { evalStatistics: 'batch' },
  }),
  // Channel index i mod C on NCHW data: correct for (N, C) inputs and channels-last, wrong as soon as there
  // are spatial dimensions, where it mixes channels (changing one channel moves the others' outputs).
  mutant({
    name: 'channel-axis-last', bugClass: 'channel taken as the last axis (i mod C) on NCHW data',
    seenIn: 'a classic mistake (channels-last indexing applied to NCHW)',
    caughtBy: ['bn.train.channel_independence'],
    parts: { bnGroups: channelIsLastAxisGroups },
  }),
  // A 4-way unrolled reduction whose remainder loop is missing: sizes that are multiples of 4 are right,
  // the others drop up to 3 values from the mean and the variance.
  mutant({
    name: 'unrolled-reduction-drops-tail', bugClass: '4-way unrolled sums forget the M mod 4 tail',
    seenIn: 'a classic mistake (vector-loop remainder)',
    caughtBy: ['bn.train.odd_sizes'],
    parts: { moments: unrolledForgetsTailMoments },
  }),
  // NaN read as 0 by the statistics: the poisoned channel comes out finite (but wrong) instead of NaN.
  mutant({
    name: 'nan-as-zero', bugClass: 'a NaN input is read as 0 by the mean/variance reductions',
    seenIn: 'a classic mistake (`x || 0` guards, NaN-skipping reductions)',
    caughtBy: ['bn.train.nonfinite_confined'],
    parts: { moments: nanAsZeroMoments },
  }),
  // The saved statistic for the backward is the standard deviation sqrt(var + eps), not its reciprocal.
  // Seen in: a naming trap of THNN's BatchNormalization, whose `save_std` buffer held 1/std.
  mutant({
    name: 'saved-std-not-rstd', bugClass: 'saves sqrt(var + eps) where rstd = 1/sqrt(var + eps) is due',
    seenIn: 'a naming trap: THNN BatchNormalization_updateOutput\'s save_std held the inverse std',
    caughtBy: [{ check: 'bn.train.forward', quantity: 'rstd' }],
    parts: { savedRstd: (rstd, R) => R(1 / rstd) },
  }),
];
