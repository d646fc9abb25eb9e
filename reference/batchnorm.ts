/**
 * Batch Normalization, float64, with PyTorch's semantics
 * (torch/nn/modules/batchnorm.py `_BatchNorm.forward`, torch/nn/functional.py `batch_norm`,
 * ATen native/Normalization.cpp `batch_norm_cpu_update_stats_template`).
 *
 * Sizes: N batch, C channels, S spatial positions (L, H·W or D·H·W; 1 for BatchNorm1d on (N, C)),
 * M = N·S values per channel. x has shape (N, C), (N, C, L), (N, C, H, W) or (N, C, D, H, W), row-major,
 * so element (n, c, s) lives at index (n·C + c)·S + s.
 *
 * Forward, per channel c (training mode):
 *   mean    = (1/M) Σ x
 *   var     = (1/M) Σ (x - mean)²                       biased: this is what normalises
 *   rstd    = 1 / sqrt(var + eps)                        eps inside the square root
 *   x̂       = (x - mean) · rstd
 *   y       = weight · x̂ + bias
 * Running statistics (training mode with track_running_stats), factor f:
 *   f = momentum                  (default 0.1)          new = (1 - f)·old + f·batch
 *   f = 1 / num_batches_tracked   (momentum = null)      cumulative moving average; the count after this
 *                                                        step's increment, so step n (from 1) weighs 1/n
 *   running_mean ← (1 - f)·running_mean + f·mean
 *   running_var  ← (1 - f)·running_var  + f·var·M/(M - 1)   unbiased (Bessel-corrected)
 * num_batches_tracked is incremented on every training call, whatever the momentum.
 * Eval mode uses running_mean and running_var in place of mean and var, and updates nothing.
 * Both modes take the buffers the same way, running: { runningMean, runningVar, numBatchesTracked }:
 * batchNormTrain returns updated copies, batchNormEval only reads them.
 * With track_running_stats = false there are no running buffers and both modes use batch statistics.
 *
 * Backward. Write g = dy · weight, the gradient with respect to x̂. Then
 *   dbias   = Σ dy                  dweight = Σ dy · x̂
 * Eval mode: mean and rstd are constants, so dx = g · rstd.
 * Training mode: mean and var depend on every x of the channel. With ∂mean/∂x_j = 1/M,
 * ∂var/∂x_j = 2(x_j - mean)/M (the Σ_i (x_i - mean) term of the chain rule is 0) and ∂rstd/∂var = -rstd³/2,
 *   ∂rstd/∂x_j = -rstd³·(x_j - mean)/M = -rstd²·x̂_j/M
 * and x̂_i = (x_i - mean)·rstd depends on x_j three ways: directly, through mean, through rstd:
 *   ∂x̂_i/∂x_j = rstd·[i = j] - rstd/M - (x_i - mean)·rstd²·x̂_j/M = rstd·([i = j] - 1/M - x̂_i·x̂_j/M)
 * so dx_j = Σ_i g_i·∂x̂_i/∂x_j
 *         = rstd · ( g_j - (1/M) Σ_i g_i - x̂_j·(1/M) Σ_i g_i·x̂_i )
 *         = rstd · ( g_j - mean(g) - x̂_j · mean(g · x̂) )
 * The two subtracted terms make Σ dx = 0 per channel (the output cannot change under a shift of the
 * channel, so neither can the loss) and Σ dx·x̂ = rstd·eps/(var + eps)·Σ g·x̂: a positive scaling of the
 * channel changes the output only through eps, so Σ dx·x̂ = 0 holds only in the limit eps → 0.
 *
 * Not here: other layouts (channels-last is a kernel concern), mixed precision, SyncBatchNorm's
 * communication (see sharded_stats.ts for its statistics).
 */
import {
  checkArgs, checkArray, checkEps, checkFlag, checkMomentum, checkOptionalArray, ShapeError, ValueError, type ArgSpec,
} from './args.js';
import { checkRunningStats, type RunningStats, type RunningStatsArgs } from './running.js';
import { checkShape, formatShape, sizeOf, type Shape } from './shape.js';

export interface BatchNormDims {
  /** batch */
  N: number;
  /** channels */
  C: number;
  /** spatial positions per (n, c): product of the dimensions after C */
  S: number;
}

/** Splits (N, C, ...spatial) into N, C, S, checking the rank is 2 to 5 as BatchNorm1d/2d/3d accept. */
export function batchNormDims(shape: Shape): BatchNormDims {
  checkShape('shape', shape, 2, 5);
  const [N, C] = shape as [number, number];
  return { N, C, S: sizeOf(shape.slice(2)) };
}

export type { RunningStats, RunningStatsArgs } from './running.js';

export interface BatchNormTrainArgs {
  x: ArrayLike<number>; // (N, C, ...spatial)
  shape: Shape;
  weight?: ArrayLike<number> | null; // (C); null when affine = false
  bias?: ArrayLike<number> | null; // (C); null when affine = false
  /** Running buffers to update; null when track_running_stats = false. Never modified: the result holds the new ones. */
  running?: RunningStatsArgs | null;
  /** Fraction of the batch statistic in the new running value; null for the cumulative average. */
  momentum?: number | null;
  eps?: number;
  /**
   * true (PyTorch): the running variance takes the unbiased batch variance var·M/(M-1).
   * false: it takes the biased one, as ONNX and Keras do. Exists for the conformance profiles.
   */
  unbiasedRunningVar?: boolean;
}

export interface BatchNormTrainResult {
  y: Float64Array; // (N, C, ...spatial)
  mean: Float64Array; // (C) batch mean
  var: Float64Array; // (C) biased batch variance
  rstd: Float64Array; // (C) 1/sqrt(var + eps)
  running: RunningStats | null; // updated copies, null without running buffers
}

const RUNNING_SHAPE = 'running: { runningMean, runningVar, numBatchesTracked }';
const RUNNING_MISPLACED = {
  runningMean: `the running statistics go in ${RUNNING_SHAPE}`,
  runningVar: `the running statistics go in ${RUNNING_SHAPE}`,
  numBatchesTracked: `the running statistics go in ${RUNNING_SHAPE}`,
  training: 'the mode is the function: batchNormTrain (batch statistics) or batchNormEval (running statistics)',
  hasBias: 'hasBias is an argument of batchNormBackward; the forward has a bias when bias is given',
  affine: 'pass weight and bias for affine = true, or null for affine = false',
  trackRunningStats: 'pass running for track_running_stats = true, or null for false',
  y: 'the reference returns new arrays and takes no output buffers',
} as const;

const TRAIN_ARGS: ArgSpec = {
  required: ['x', 'shape'],
  optional: {
    weight: 'null, no weight', bias: 'null, no bias', running: 'null, no running statistics',
    momentum: '0.1; pass null for the cumulative average', eps: '1e-5', unbiasedRunningVar: 'true',
  },
  misplaced: RUNNING_MISPLACED,
};

const EVAL_ARGS: ArgSpec = {
  required: ['x', 'shape', 'running'],
  optional: { weight: 'null, no weight', bias: 'null, no bias', eps: '1e-5' },
  misplaced: {
    ...RUNNING_MISPLACED,
    momentum: 'eval mode updates nothing; momentum is an argument of batchNormTrain',
    unbiasedRunningVar: 'eval mode updates nothing; unbiasedRunningVar is an argument of batchNormTrain',
  },
};

const BACKWARD_ARGS: ArgSpec = {
  required: ['dy', 'x', 'shape', 'mean', 'rstd', 'training'],
  optional: { weight: 'null, no weight', hasBias: 'true exactly when weight is given' },
  misplaced: {
    bias: 'the backward takes hasBias: true or false (whether the forward had a bias), not the bias itself',
    eps: "the backward takes the forward's rstd, which already holds eps",
    running: 'for the eval-mode backward pass mean = running mean and rstd = 1/sqrt(running var + eps), as batchNormEval returns them, with training: false',
    runningMean: 'for the eval-mode backward pass mean = running mean and rstd as batchNormEval returns them, with training: false',
    runningVar: 'for the eval-mode backward pass rstd = 1/sqrt(running var + eps), as batchNormEval returns it, with training: false',
  },
};

function checkAffine(weight: unknown, bias: unknown, C: number): void {
  checkOptionalArray('weight', weight, C, `one weight per channel, shape (${C},)`);
  checkOptionalArray('bias', bias, C, `one bias per channel, shape (${C},)`);
}

/** Batch mean and biased variance per channel, two passes (the second over x - mean, so no cancellation). */
export function batchMoments(x: ArrayLike<number>, { N, C, S }: BatchNormDims): { mean: Float64Array; var: Float64Array } {
  const M = N * S;
  const mean = new Float64Array(C);
  const variance = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    // mean
    let sum = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * S;
      for (let s = 0; s < S; s++) sum += x[base + s]!;
    }
    const m = sum / M;
    // variance, biased
    let sq = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * S;
      for (let s = 0; s < S; s++) {
        const d = x[base + s]! - m;
        sq += d * d;
      }
    }
    mean[c] = m;
    variance[c] = sq / M;
  }
  return { mean, var: variance };
}

/** y = weight·(x - mean)·rstd + bias, per channel. */
function normalize(
  x: ArrayLike<number>, { N, C, S }: BatchNormDims, mean: ArrayLike<number>, rstd: ArrayLike<number>,
  weight: ArrayLike<number> | null | undefined, bias: ArrayLike<number> | null | undefined,
): Float64Array {
  const y = new Float64Array(N * C * S);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const w = weight != null ? weight[c]! : 1;
      const b = bias != null ? bias[c]! : 0;
      const base = (n * C + c) * S;
      for (let s = 0; s < S; s++) y[base + s] = w * ((x[base + s]! - mean[c]!) * rstd[c]!) + b;
    }
  }
  return y;
}

/** Training-mode forward: normalise with the batch statistics, update copies of the running buffers. */
export function batchNormTrain(args: BatchNormTrainArgs): BatchNormTrainResult {
  checkArgs('batchNormTrain', args, TRAIN_ARGS);
  const { x, shape, weight = null, bias = null, running = null, momentum = 0.1, eps = 1e-5, unbiasedRunningVar = true } = args;
  const dims = batchNormDims(shape);
  const { N, C, S } = dims;
  const M = N * S;
  checkArray('x', x, N * C * S, `an input of shape ${formatShape(shape)}`);
  checkAffine(weight, bias, C);
  checkEps(eps);
  checkMomentum(momentum);
  checkFlag('unbiasedRunningVar', unbiasedRunningVar, 'Bessel-corrected running variance');
  if (running !== null) checkRunningStats('batchNormTrain', running, C);
  if (M < 2) {
    // PyTorch: "Expected more than 1 value per channel when training": the variance of one value is 0
    // and its unbiased estimate is 0/0.
    throw new ShapeError(`x: expected more than 1 value per channel when training, got input of shape ${formatShape(shape)}`);
  }

  const { mean, var: variance } = batchMoments(x, dims);
  // rstd
  const rstd = new Float64Array(C);
  for (let c = 0; c < C; c++) rstd[c] = 1 / Math.sqrt(variance[c]! + eps);
  // normalise, scale and shift
  const y = normalize(x, dims, mean, rstd, weight, bias);

  // running statistics
  let updated: RunningStats | null = null;
  if (running !== null) {
    const numBatchesTracked = (running.numBatchesTracked ?? 0) + 1;
    const f = momentum === null ? 1 / numBatchesTracked : momentum;
    const bessel = unbiasedRunningVar ? M / (M - 1) : 1;
    const runningMean = new Float64Array(C);
    const runningVar = new Float64Array(C);
    for (let c = 0; c < C; c++) {
      runningMean[c] = (1 - f) * running.runningMean[c]! + f * mean[c]!;
      runningVar[c] = (1 - f) * running.runningVar[c]! + f * variance[c]! * bessel;
    }
    updated = { runningMean, runningVar, numBatchesTracked };
  }
  return { y, mean, var: variance, rstd, running: updated };
}

export interface BatchNormEvalArgs {
  x: ArrayLike<number>; // (N, C, ...spatial)
  shape: Shape;
  weight?: ArrayLike<number> | null; // (C)
  bias?: ArrayLike<number> | null; // (C)
  /** The running statistics to normalise with, passed as to batchNormTrain; read, never updated. */
  running: RunningStatsArgs;
  eps?: number;
}

export interface BatchNormEvalResult {
  y: Float64Array; // (N, C, ...spatial)
  mean: Float64Array; // (C) the running mean used, a copy: what the eval-mode backward takes as mean
  rstd: Float64Array; // (C) 1/sqrt(runningVar + eps)
}

/** Eval-mode forward: a fixed per-channel affine map built from the running statistics. */
export function batchNormEval(args: BatchNormEvalArgs): BatchNormEvalResult {
  checkArgs('batchNormEval', args, EVAL_ARGS);
  const { x, shape, weight = null, bias = null, running, eps = 1e-5 } = args;
  const dims = batchNormDims(shape);
  const { N, C, S } = dims;
  checkArray('x', x, N * C * S, `an input of shape ${formatShape(shape)}`);
  checkAffine(weight, bias, C);
  if (running == null) {
    throw new ValueError(`running: expected the running statistics { runningMean, runningVar } that eval mode normalises with, got ${running}`);
  }
  checkRunningStats('batchNormEval', running, C);
  checkEps(eps);
  const mean = Float64Array.from(running.runningMean);
  // rstd from the running variance
  const rstd = new Float64Array(C);
  for (let c = 0; c < C; c++) rstd[c] = 1 / Math.sqrt(running.runningVar[c]! + eps);
  return { y: normalize(x, dims, mean, rstd, weight, bias), mean, rstd };
}

export interface BatchNormBackwardArgs {
  dy: ArrayLike<number>; // (N, C, ...spatial)
  x: ArrayLike<number>; // (N, C, ...spatial), the forward input
  shape: Shape;
  weight?: ArrayLike<number> | null; // (C)
  /** Whether the forward had a bias: decides whether dbias is returned. Default: same as weight (affine). */
  hasBias?: boolean;
  /** The mean and rstd the forward used: batch ones (training) or running ones (eval). */
  mean: ArrayLike<number>; // (C)
  rstd: ArrayLike<number>; // (C)
  /** true: mean and rstd came from this batch, so they depend on x. */
  training: boolean;
}

export interface BatchNormGrads {
  dx: Float64Array; // (N, C, ...spatial)
  dweight: Float64Array | null; // (C), null without a weight (affine = false)
  dbias: Float64Array | null; // (C), null without a bias
}

/** Gradients of BatchNorm given the upstream gradient dy, for either mode (see the header for the math). */
export function batchNormBackward(args: BatchNormBackwardArgs): BatchNormGrads {
  checkArgs('batchNormBackward', args, BACKWARD_ARGS);
  const { dy, x, shape, weight = null, mean, rstd, training } = args;
  const hasBias = args.hasBias ?? weight != null;
  checkFlag('training', training, 'true: batch statistics, false: running statistics');
  checkFlag('hasBias', hasBias, 'whether the forward had a bias');
  const { N, C, S } = batchNormDims(shape);
  const M = N * S;
  checkArray('dy', dy, N * C * S, `a gradient of shape ${formatShape(shape)}`);
  checkArray('x', x, N * C * S, `an input of shape ${formatShape(shape)}`);
  checkOptionalArray('weight', weight, C, `one weight per channel, shape (${C},)`);
  checkArray('mean', mean, C, `one mean per channel, shape (${C},)`);
  checkArray('rstd', rstd, C, `one rstd per channel, shape (${C},)`);

  const dx = new Float64Array(N * C * S);
  const dweight = weight != null ? new Float64Array(C) : null;
  const dbias = hasBias ? new Float64Array(C) : null;
  for (let c = 0; c < C; c++) {
    const w = weight != null ? weight[c]! : 1;
    const m = mean[c]!;
    const rstdC = rstd[c]!; // rstd of channel c
    // reductions: Σ dy and Σ dy·x̂
    let sumDy = 0;
    let sumDyXhat = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * S;
      for (let s = 0; s < S; s++) {
        const xhat = (x[base + s]! - m) * rstdC;
        sumDy += dy[base + s]!;
        sumDyXhat += dy[base + s]! * xhat;
      }
    }
    if (dweight) dweight[c] = sumDyXhat;
    if (dbias) dbias[c] = sumDy;
    // per-element terms: dx = rstd·(g - mean(g) - x̂·mean(g·x̂)), g = dy·weight
    const meanG = training ? (w * sumDy) / M : 0;
    const meanGXhat = training ? (w * sumDyXhat) / M : 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * S;
      for (let s = 0; s < S; s++) {
        const xhat = (x[base + s]! - m) * rstdC;
        dx[base + s] = rstdC * (w * dy[base + s]! - meanG - xhat * meanGXhat);
      }
    }
  }
  return { dx, dweight, dbias };
}
