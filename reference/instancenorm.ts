/**
 * Instance Normalization, float64, with PyTorch's semantics (torch.nn.InstanceNorm1d/2d/3d,
 * torch.nn.functional.instance_norm, ATen native/Normalization.cpp `instance_norm`).
 *
 * Sizes: N batch, C channels, S spatial positions (L, H·W or D·H·W). x has shape (N, C, ...spatial),
 * row-major, so instance (n, c) — one channel of one sample — is the contiguous block [(n·C + c)·S, (n·C + c + 1)·S).
 *
 * The function mirrors F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats,
 * momentum, eps); the module calls it with use_input_stats = training or not track_running_stats, and with
 * running buffers only when track_running_stats = True. Three combinations are valid:
 *   useInputStats  running
 *   true           null       track_running_stats = False, training or eval: normalise with the instance's own statistics
 *   true           given      training with track_running_stats: the same, and update the running buffers
 *   false          given      eval with track_running_stats: normalise with the running buffers
 * (useInputStats false without running buffers is ATen's "Expected running_mean and running_var to be
 * defined when use_input_stats is false".)
 *
 * Forward with the instance's statistics, per (n, c):
 *   mean = (1/S) Σ_s x                var = (1/S) Σ_s (x - mean)²       biased
 *   rstd = 1 / sqrt(var + eps)        y = weight[c] · (x - mean) · rstd + bias[c]
 * F.instance_norm refuses S = 1 here ("Expected more than 1 spatial element when training"), in eval mode too
 * when the module does not track running statistics.
 * Running statistics (useInputStats with running buffers), momentum m: ATen reshapes x to (1, N·C, ...spatial),
 * runs batch_norm with the buffers repeated N times (each instance updates its own copy with its mean and its
 * unbiased variance var·S/(S-1)), then writes back the mean of the N copies. In exact arithmetic that is
 *   running_mean[c] ← (1 - m)·running_mean[c] + m · (1/N) Σ_n mean[n, c]
 *   running_var[c]  ← (1 - m)·running_var[c]  + m · (1/N) Σ_n var[n, c]·S/(S - 1)
 * the batch average of the instances' statistics. num_batches_tracked is never incremented by InstanceNorm
 * (it exists only because _InstanceNorm shares _NormBase with BatchNorm); it passes through unchanged.
 * momentum null: nn.InstanceNorm*(momentum=None) passes momentum 0.0 in current PyTorch
 * (`self.momentum if self.momentum is not None else 0.0`), so the running statistics never move — unlike
 * BatchNorm, where None is the cumulative average. torch 1.13 raises a TypeError instead. Here null means 0.
 * Eval with running buffers, per channel: y = weight[c] · (x - running_mean[c]) · rstd[c] + bias[c],
 * rstd[c] = 1/sqrt(running_var[c] + eps); the buffers are returned unchanged.
 *
 * Backward, g = dy · weight[c]. With the instance's statistics it is BatchNorm's algebra over the S values of
 * the instance (batchnorm.ts, M → S):
 *   dx = rstd · ( g - mean_s(g) - x̂ · mean_s(g · x̂) )
 * With the running statistics mean and rstd are constants: dx = g · rstd.
 * In both, dweight[c] = Σ_n Σ_s dy · x̂ and dbias[c] = Σ_n Σ_s dy.
 *
 * Not here: unbatched input ((C, L), (C, H, W): the module adds and removes the batch dimension itself),
 * channels-last layouts, the module's num_features warning.
 */
import {
  checkArgs, checkArray, checkEps, checkFlag, checkNumber, checkOptionalArray, ShapeError, ValueError, type ArgSpec,
} from './args.js';
import { checkRunningStats, type RunningStats, type RunningStatsArgs } from './running.js';
import { checkShape, formatShape, sizeOf, type Shape } from './shape.js';

export interface InstanceNormDims {
  N: number;
  C: number;
  /** spatial positions per instance (n, c) */
  S: number;
}

/** Splits (N, C, ...spatial) into N, C, S. */
export function instanceNormDims(shape: Shape): InstanceNormDims {
  checkShape('shape', shape, 2);
  const [N, C] = shape as [number, number];
  return { N, C, S: sizeOf(shape.slice(2)) };
}

export interface InstanceNormArgs {
  x: ArrayLike<number>; // (N, C, ...spatial)
  shape: Shape;
  weight?: ArrayLike<number> | null; // (C); null when affine = false (InstanceNorm's default)
  bias?: ArrayLike<number> | null; // (C)
  /** Running buffers (track_running_stats = True); null otherwise. Never modified: the result holds copies. */
  running?: RunningStatsArgs | null;
  /** true: normalise with each instance's statistics (default); false: with the running buffers. */
  useInputStats?: boolean;
  /** Fraction of the batch-averaged instance statistic in the new running value; null means 0 (see header). */
  momentum?: number | null;
  eps?: number;
}

export interface InstanceNormResult {
  y: Float64Array; // (N, C, ...spatial)
  /** (N·C), n-major: the instance means, or running_mean[c] repeated per sample when useInputStats is false */
  mean: Float64Array;
  /** (N·C): 1/sqrt(var + eps) of each instance, or of running_var[c] when useInputStats is false */
  rstd: Float64Array;
  /** The running buffers after the call (updated copies, or unchanged copies in eval); null without them. */
  running: RunningStats | null;
}

const FORWARD_ARGS: ArgSpec = {
  required: ['x', 'shape'],
  optional: {
    weight: 'null, no weight', bias: 'null, no bias', running: 'null, no running statistics', useInputStats: 'true',
    momentum: '0.1; null means 0, as nn.InstanceNorm passes it', eps: '1e-5',
  },
  misplaced: {
    runningMean: 'the running statistics go in running: { runningMean, runningVar, numBatchesTracked }',
    runningVar: 'the running statistics go in running: { runningMean, runningVar, numBatchesTracked }',
    training: 'pass useInputStats = training || !trackRunningStats, as nn.InstanceNorm does',
    trackRunningStats: 'pass running for track_running_stats = true, or null for false',
    hasBias: 'hasBias is an argument of instanceNormBackward; the forward has a bias when bias is given',
    affine: 'pass weight and bias for affine = true, or null for affine = false',
    y: 'the reference returns new arrays and takes no output buffers',
  },
};

const BACKWARD_ARGS: ArgSpec = {
  required: ['dy', 'x', 'shape', 'mean', 'rstd', 'useInputStats'],
  optional: { weight: 'null, no weight', hasBias: 'true exactly when weight is given' },
  misplaced: {
    bias: 'the backward takes hasBias: true or false (whether the forward had a bias), not the bias itself',
    eps: "the backward takes the forward's rstd, which already holds eps",
    running: "the backward takes the forward's mean and rstd (N·C), which hold the running statistics when useInputStats is false",
    training: 'the backward takes useInputStats, as the forward did',
  },
};

function checkAffine(weight: unknown, bias: unknown, C: number): void {
  checkOptionalArray('weight', weight, C, `one weight per channel, shape (${C},)`);
  checkOptionalArray('bias', bias, C, `one bias per channel, shape (${C},)`);
}

export function instanceNormForward(args: InstanceNormArgs): InstanceNormResult {
  checkArgs('instanceNormForward', args, FORWARD_ARGS);
  const { x, shape, weight = null, bias = null, running = null, useInputStats = true, momentum = 0.1, eps = 1e-5 } = args;
  const { N, C, S } = instanceNormDims(shape);
  checkArray('x', x, N * C * S, `an input of shape ${formatShape(shape)}`);
  checkAffine(weight, bias, C);
  checkFlag('useInputStats', useInputStats, "true: each instance's statistics, false: the running statistics");
  if (momentum !== null) checkNumber('momentum', momentum, (v) => v >= 0 && v <= 1, 'a number in [0, 1], or null (0, as nn.InstanceNorm passes it)');
  checkEps(eps);
  if (running !== null) checkRunningStats('instanceNormForward', running, C);
  if (!useInputStats && running === null) {
    throw new ValueError('running: expected the running statistics { runningMean, runningVar } when useInputStats is false (eval with track_running_stats), got null');
  }
  if (useInputStats && S === 1) {
    throw new ShapeError(`x: expected more than 1 spatial element when using the input's statistics, got input of shape ${formatShape(shape)}`);
  }

  const y = new Float64Array(N * C * S);
  const mean = new Float64Array(N * C);
  const variance = new Float64Array(N * C); // biased, of each instance; only with useInputStats
  const rstd = new Float64Array(N * C);
  if (useInputStats) {
    for (let nc = 0; nc < N * C; nc++) {
      const base = nc * S; // instance (n, c) = nc is the block [base, base + S)
      // mean
      let sum = 0;
      for (let s = 0; s < S; s++) sum += x[base + s]!;
      const m = sum / S;
      // variance, biased
      let sq = 0;
      for (let s = 0; s < S; s++) {
        const d = x[base + s]! - m;
        sq += d * d;
      }
      mean[nc] = m;
      variance[nc] = sq / S;
      // rstd
      rstd[nc] = 1 / Math.sqrt(sq / S + eps);
    }
  } else {
    // eval with running statistics: running_mean[c] and 1/sqrt(running_var[c] + eps) for every sample
    const { runningMean, runningVar } = running!;
    for (let nc = 0; nc < N * C; nc++) {
      const c = nc % C;
      mean[nc] = runningMean[c]!;
      rstd[nc] = 1 / Math.sqrt(runningVar[c]! + eps);
    }
  }
  // normalise, scale and shift
  for (let nc = 0; nc < N * C; nc++) {
    const c = nc % C;
    const w = weight != null ? weight[c]! : 1;
    const b = bias != null ? bias[c]! : 0;
    const base = nc * S;
    for (let s = 0; s < S; s++) y[base + s] = w * ((x[base + s]! - mean[nc]!) * rstd[nc]!) + b;
  }

  // running statistics: the batch average of the instances' mean and unbiased variance var·S/(S - 1)
  let updated: RunningStats | null = null;
  if (running !== null) {
    const runningMean = Float64Array.from(running.runningMean);
    const runningVar = Float64Array.from(running.runningVar);
    if (useInputStats) {
      const f = momentum ?? 0;
      const bessel = S / (S - 1);
      for (let c = 0; c < C; c++) {
        let sumMean = 0;
        let sumVar = 0;
        for (let n = 0; n < N; n++) {
          sumMean += mean[n * C + c]!;
          sumVar += variance[n * C + c]! * bessel;
        }
        runningMean[c] = (1 - f) * runningMean[c]! + f * (sumMean / N);
        runningVar[c] = (1 - f) * runningVar[c]! + f * (sumVar / N);
      }
    }
    // InstanceNorm never increments num_batches_tracked
    updated = { runningMean, runningVar, numBatchesTracked: running.numBatchesTracked ?? 0 };
  }
  return { y, mean, rstd, running: updated };
}

export interface InstanceNormBackwardArgs {
  dy: ArrayLike<number>; // (N, C, ...spatial)
  x: ArrayLike<number>; // (N, C, ...spatial), the forward input
  shape: Shape;
  weight?: ArrayLike<number> | null; // (C)
  /** Whether the forward had a bias: decides whether dbias is returned. Default: same as weight (affine). */
  hasBias?: boolean;
  mean: ArrayLike<number>; // (N·C), from the forward
  rstd: ArrayLike<number>; // (N·C), from the forward
  /** As in the forward: true when mean and rstd are the instance's own (so they depend on x). */
  useInputStats: boolean;
}

export interface InstanceNormGrads {
  dx: Float64Array; // (N, C, ...spatial)
  dweight: Float64Array | null; // (C), null without a weight
  dbias: Float64Array | null; // (C), null without a bias
}

export function instanceNormBackward(args: InstanceNormBackwardArgs): InstanceNormGrads {
  checkArgs('instanceNormBackward', args, BACKWARD_ARGS);
  const { dy, x, shape, weight = null, mean, rstd, useInputStats } = args;
  const hasBias = args.hasBias ?? weight != null;
  checkFlag('useInputStats', useInputStats, "true: each instance's statistics, false: the running statistics");
  checkFlag('hasBias', hasBias, 'whether the forward had a bias');
  const { N, C, S } = instanceNormDims(shape);
  checkArray('dy', dy, N * C * S, `a gradient of shape ${formatShape(shape)}`);
  checkArray('x', x, N * C * S, `an input of shape ${formatShape(shape)}`);
  checkOptionalArray('weight', weight, C, `one weight per channel, shape (${C},)`);
  checkArray('mean', mean, N * C, `one mean per (sample, channel), shape (${N * C},)`);
  checkArray('rstd', rstd, N * C, `one rstd per (sample, channel), shape (${N * C},)`);

  const dx = new Float64Array(N * C * S);
  const dweight = weight != null ? new Float64Array(C) : null;
  const dbias = hasBias ? new Float64Array(C) : null;
  for (let nc = 0; nc < N * C; nc++) {
    const c = nc % C;
    const base = nc * S;
    const w = weight != null ? weight[c]! : 1;
    const m = mean[nc]!;
    const r = rstd[nc]!;
    // reductions over the instance: Σ dy and Σ dy·x̂
    let sumDy = 0;
    let sumDyXhat = 0;
    for (let s = 0; s < S; s++) {
      const xhat = (x[base + s]! - m) * r;
      sumDy += dy[base + s]!;
      sumDyXhat += dy[base + s]! * xhat;
    }
    if (dweight) dweight[c] = dweight[c]! + sumDyXhat;
    if (dbias) dbias[c] = dbias[c]! + sumDy;
    // per-element terms: dx = rstd·(g - mean(g) - x̂·mean(g·x̂)), or rstd·g with constant statistics
    const meanG = useInputStats ? (w * sumDy) / S : 0;
    const meanGXhat = useInputStats ? (w * sumDyXhat) / S : 0;
    for (let s = 0; s < S; s++) {
      const xhat = (x[base + s]! - m) * r;
      dx[base + s] = r * (w * dy[base + s]! - meanG - xhat * meanGXhat);
    }
  }
  return { dx, dweight, dbias };
}
