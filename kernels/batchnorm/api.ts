/**
 * Float32 BatchNorm kernels with PyTorch's semantics: training forward (batch statistics, running-statistics
 * update), eval forward, backward in both modes, each optionally fused with a following ReLU; NCHW and NHWC.
 * Fused ReLU: the forwards take `relu: true`; the backward takes the forward's output as `reluOutput`.
 *
 * Sizes: N batch, C channels, S spatial positions (L, H·W or D·H·W; 1 for BatchNorm1d on (N, C)), M = N·S.
 *   layout 'NCHW'  element (n, c, s) at (n·C + c)·S + s     (PyTorch's contiguous layout)
 *   layout 'NHWC'  element (n, s, c) at (n·S + s)·C + c     (channels_last; a row-major (M, C) matrix)
 * BatchNorm1d on (N, C) is S = 1, and then both layouts are the same (M, C) matrix and take the same code.
 *
 * Storage and arithmetic. x, y, dy, dx, weight, bias and the running buffers are Float32Array; everything is
 * computed in float64 (JS numbers) and rounded once on store. The saved statistics `mean` and `rstd` that the
 * backward needs are Float64Array: a float32 mean of a channel at offset 1e6 is off by up to 0.03, which is
 * 3% of a unit spread — exactly the error PyTorch's float32 kernels show at large offsets. The math and the
 * accuracy argument are in forward_impl.ts and backward_impl.ts; the outcome is that y is the float32
 * rounding of the exact result up to a small fraction of an ulp, at any offset, and a constant channel gives
 * y = bias (x̂ = 0), never NaN.
 *
 * Running statistics (training, PyTorch): f = momentum (default 0.1), or 1/numBatchesTracked when momentum is
 * null (cumulative average, after the increment);
 *   runningMean ← (1 - f)·runningMean + f·mean,   runningVar ← (1 - f)·runningVar + f·var·M/(M - 1)
 * (unbiased; `unbiasedRunningVar: false` takes the biased var, as ONNX and Keras do).
 *
 * Conventions every function here keeps:
 * - Outputs are caller-supplied buffers of exactly the result's size, written whole, never read; they may not
 *   overlap an input. Inputs are never modified. The one exception, as in PyTorch: `running` (runningMean,
 *   runningVar, numBatchesTracked) is updated IN PLACE by the training forward.
 * - Nothing allocates a typed array: per-channel scratch is in the `BatchNormWorkspace` passed in (one per C);
 *   the wasm version's module memory grows on the first call at a larger size and is reused after that.
 * - A bad argument throws `KernelArgError` naming it and the expected type and size.
 *
 * Versions (one signature each, listed in kernels/registry.ts, every one run by the tests and the benchmark):
 * forward twoPass, onePass, blocked, wasm; backward twoPass, blocked, wasm. The default is wasm (WebAssembly SIMD
 * element loops), which falls back to blocked for the fused ReLU, odd channels-last C, or a runtime without SIMD.
 */
import { BATCHNORM_BACKWARD_DEFAULT, BATCHNORM_FORWARD_DEFAULT } from '../registry.js';
import { checkEps, checkF32, checkF64, checkNoOverlap, checkPositiveInts, KernelArgError } from '../shared/args.js';
import { evalForwardNchw, evalForwardNhwc } from './forward_impl.js';
import type { BatchNormBackwardVersion, BatchNormForwardVersion } from './version.js';
import { BatchNormWorkspace } from './workspace.js';

export { BatchNormWorkspace } from './workspace.js';
export type { BatchNormBackwardVersion, BatchNormForwardVersion } from './version.js';

export type BatchNormLayout = 'NCHW' | 'NHWC';

/** N batch, C channels, S spatial positions per (n, c) (1 for (N, C) inputs). */
export interface BatchNormDims {
  N: number;
  C: number;
  S: number;
}

/** PyTorch's running buffers, updated in place by `batchNormTrainForward`. */
export interface BatchNormRunning {
  runningMean: Float32Array; // (C)
  runningVar: Float32Array; // (C)
  numBatchesTracked: number; // incremented by every training forward
}

// ---------------------------------------------------------------------------------------------------------
// Checks shared by the three entry points

function describeShape({ N, C, S }: BatchNormDims, layout: BatchNormLayout): string {
  return layout === 'NCHW' ? `(N, C, S) = (${N}, ${C}, ${S})` : `(N, S, C) = (${N}, ${S}, ${C})`;
}

function checkLayoutDims(dims: BatchNormDims, layout: BatchNormLayout): void {
  checkPositiveInts('dims', dims, ['N', 'C', 'S']);
  if (layout !== 'NCHW' && layout !== 'NHWC') throw new KernelArgError(`layout: expected 'NCHW' or 'NHWC', got ${String(layout)}`);
}

function checkWorkspace(workspace: BatchNormWorkspace, C: number): void {
  if (!(workspace instanceof BatchNormWorkspace) || workspace.C !== C) {
    const got = workspace instanceof BatchNormWorkspace ? `one for C = ${workspace.C}` : String(workspace);
    throw new KernelArgError(`workspace: expected a BatchNormWorkspace for C = ${C} (new BatchNormWorkspace(${C})), got ${got}`);
  }
}

function checkAffine(weight: Float32Array | null, bias: Float32Array | null, C: number): void {
  if (weight !== null) checkF32('weight', weight, C, `one weight per channel, shape (${C},)`);
  if (bias !== null) checkF32('bias', bias, C, `one bias per channel, shape (${C},)`);
}

function checkStats(mean: Float64Array, rstd: Float64Array, C: number, role: string): void {
  checkF64('mean', mean, C, `${role} mean per channel, shape (${C},)`);
  checkF64('rstd', rstd, C, `${role} 1/sqrt(var + eps) per channel, shape (${C},)`);
}

// ---------------------------------------------------------------------------------------------------------
// Training forward

export interface BatchNormTrainForwardArgs {
  /** input, N·C·S values in `layout` */
  x: Float32Array;
  dims: BatchNormDims;
  /** default 'NCHW' */
  layout?: BatchNormLayout;
  /** (C) or null (affine = false: weight 1, bias 0) */
  weight?: Float32Array | null;
  bias?: Float32Array | null;
  /** default 1e-5 (PyTorch) */
  eps?: number;
  /** fuse a ReLU: y = max(0, BN(x)) */
  relu?: boolean;
  /** running buffers, UPDATED IN PLACE; null or absent when track_running_stats = false */
  running?: BatchNormRunning | null;
  /** fraction of the batch statistic in the new running value (default 0.1); null: cumulative average */
  momentum?: number | null;
  /** default true (PyTorch): the running variance takes var·M/(M - 1) */
  unbiasedRunningVar?: boolean;
  /** OUTPUT: N·C·S values in `layout` */
  y: Float32Array;
  /** OUTPUT (C): batch mean, saved for the backward */
  mean: Float64Array;
  /** OUTPUT (C): 1/sqrt(var + eps) with the biased batch variance, saved for the backward */
  rstd: Float64Array;
  /** scratch for C channels; afterwards workspace.variance holds the biased batch variance */
  workspace: BatchNormWorkspace;
  /** default: BATCHNORM_FORWARD_DEFAULT (kernels/registry.ts) */
  version?: BatchNormForwardVersion;
}

/**
 * Training-mode forward: normalise each channel with its batch statistics, then scale, shift (and ReLU).
 * Writes y, mean, rstd (and workspace.variance); updates `running` in place. Requires M = N·S ≥ 2, as PyTorch does.
 */
export function batchNormTrainForward(args: BatchNormTrainForwardArgs): void {
  const {
    x, dims, layout = 'NCHW', weight = null, bias = null, eps = 1e-5, relu = false, running = null,
    momentum = 0.1, unbiasedRunningVar = true, y, mean, rstd, workspace, version = BATCHNORM_FORWARD_DEFAULT,
  } = args;
  checkLayoutDims(dims, layout);
  const { N, C, S } = dims;
  const M = N * S;
  const shape = describeShape(dims, layout);
  checkF32('x', x, N * C * S, `an input of shape ${shape}`);
  checkAffine(weight, bias, C);
  checkEps(eps);
  if (momentum !== null && !(typeof momentum === 'number' && momentum >= 0 && momentum <= 1)) {
    throw new KernelArgError(`momentum: expected a number in [0, 1] or null (cumulative average), got ${momentum}`);
  }
  if (running !== null) {
    checkF32('running.runningMean', running.runningMean, C, `one running mean per channel, shape (${C},)`);
    checkF32('running.runningVar', running.runningVar, C, `one running variance per channel, shape (${C},)`);
    if (!Number.isInteger(running.numBatchesTracked) || running.numBatchesTracked < 0) {
      throw new KernelArgError(`running.numBatchesTracked: expected a non-negative integer, got ${running.numBatchesTracked}`);
    }
    checkNoOverlap('running.runningMean', running.runningMean, 'x', x);
    checkNoOverlap('running.runningVar', running.runningVar, 'x', x);
  }
  checkF32('y', y, N * C * S, `an output of shape ${shape}`);
  checkStats(mean, rstd, C, 'an output: the batch');
  checkWorkspace(workspace, C);
  checkNoOverlap('y', y, 'x', x);
  checkNoOverlap('y', y, 'weight', weight);
  checkNoOverlap('y', y, 'bias', bias);
  if (M < 2) {
    // the variance of one value is 0 and its unbiased estimate 0/0; PyTorch refuses too
    throw new KernelArgError(`x: expected more than 1 value per channel when training, got ${shape}`);
  }

  if (layout === 'NHWC' || S === 1) version.nhwc(x, M, C, weight, bias, eps, relu, y, mean, rstd, workspace);
  else version.nchw(x, N, C, S, weight, bias, eps, relu, y, mean, rstd, workspace);

  // running statistics, in place
  if (running !== null) {
    const numBatchesTracked = running.numBatchesTracked + 1;
    const f = momentum === null ? 1 / numBatchesTracked : momentum;
    const bessel = unbiasedRunningVar ? M / (M - 1) : 1;
    const { runningMean, runningVar } = running;
    const variance = workspace.variance;
    for (let c = 0; c < C; c++) {
      runningMean[c] = (1 - f) * runningMean[c]! + f * mean[c]!;
      runningVar[c] = (1 - f) * runningVar[c]! + f * variance[c]! * bessel;
    }
    running.numBatchesTracked = numBatchesTracked;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Eval forward

export interface BatchNormEvalForwardArgs {
  x: Float32Array;
  dims: BatchNormDims;
  layout?: BatchNormLayout;
  weight?: Float32Array | null;
  bias?: Float32Array | null;
  /** (C), read only */
  runningMean: Float32Array;
  /** (C), read only */
  runningVar: Float32Array;
  eps?: number;
  relu?: boolean;
  /** OUTPUT: N·C·S values in `layout` */
  y: Float32Array;
  /** OUTPUT (C): runningMean as float64, what the backward takes as `mean` */
  mean: Float64Array;
  /** OUTPUT (C): 1/sqrt(runningVar + eps), what the backward takes as `rstd` */
  rstd: Float64Array;
  workspace: BatchNormWorkspace;
}

/** Eval-mode forward: y = (x - runningMean)·weight/sqrt(runningVar + eps) + bias (then ReLU). Writes y, mean, rstd. */
export function batchNormEvalForward(args: BatchNormEvalForwardArgs): void {
  const { x, dims, layout = 'NCHW', weight = null, bias = null, runningMean, runningVar, eps = 1e-5, relu = false, y, mean, rstd, workspace } = args;
  checkLayoutDims(dims, layout);
  const { N, C, S } = dims;
  const shape = describeShape(dims, layout);
  checkF32('x', x, N * C * S, `an input of shape ${shape}`);
  checkAffine(weight, bias, C);
  checkF32('runningMean', runningMean, C, `one running mean per channel, shape (${C},)`);
  checkF32('runningVar', runningVar, C, `one running variance per channel, shape (${C},)`);
  checkEps(eps);
  checkF32('y', y, N * C * S, `an output of shape ${shape}`);
  checkStats(mean, rstd, C, 'an output: the running');
  checkWorkspace(workspace, C);
  checkNoOverlap('y', y, 'x', x);
  if (layout === 'NHWC' || S === 1) evalForwardNhwc(x, N * S, C, weight, bias, runningMean, runningVar, eps, relu, y, mean, rstd, workspace);
  else evalForwardNchw(x, N, C, S, weight, bias, runningMean, runningVar, eps, relu, y, mean, rstd);
}

// ---------------------------------------------------------------------------------------------------------
// Backward

export interface BatchNormBackwardArgs {
  /** upstream gradient, N·C·S values in `layout` */
  dy: Float32Array;
  /** the forward's input */
  x: Float32Array;
  dims: BatchNormDims;
  layout?: BatchNormLayout;
  /** (C) or null, as in the forward */
  weight?: Float32Array | null;
  /** (C) the forward's saved `mean` (batch mean in training, running mean in eval) */
  mean: Float64Array;
  /** (C) the forward's saved `rstd` */
  rstd: Float64Array;
  /** true: the forward used batch statistics, so they depend on x */
  training: boolean;
  /** the forward was fused with a ReLU: its output y (N·C·S in `layout`); dy is masked where y ≤ 0 */
  reluOutput?: Float32Array | null;
  /** OUTPUT: N·C·S values in `layout` */
  dx: Float32Array;
  /** OUTPUT (C) or null: Σ dy·x̂ */
  dweight?: Float32Array | null;
  /** OUTPUT (C) or null: Σ dy */
  dbias?: Float32Array | null;
  workspace: BatchNormWorkspace;
  /** default: BATCHNORM_BACKWARD_DEFAULT (kernels/registry.ts) */
  version?: BatchNormBackwardVersion;
}

/** Gradients of (ReLU ∘) BatchNorm: writes dx, and dweight, dbias when given. */
export function batchNormBackward(args: BatchNormBackwardArgs): void {
  const {
    dy, x, dims, layout = 'NCHW', weight = null, mean, rstd, training, reluOutput = null,
    dx, dweight = null, dbias = null, workspace, version = BATCHNORM_BACKWARD_DEFAULT,
  } = args;
  checkLayoutDims(dims, layout);
  const { N, C, S } = dims;
  const shape = describeShape(dims, layout);
  checkF32('dy', dy, N * C * S, `a gradient of shape ${shape}`);
  checkF32('x', x, N * C * S, `an input of shape ${shape}`);
  if (weight !== null) checkF32('weight', weight, C, `one weight per channel, shape (${C},)`);
  if (reluOutput !== null) checkF32('reluOutput', reluOutput, N * C * S, `the fused forward's output y of shape ${shape}`);
  checkStats(mean, rstd, C, "the forward's saved");
  if (typeof training !== 'boolean') throw new KernelArgError(`training: expected true or false, got ${String(training)}`);
  checkF32('dx', dx, N * C * S, `an input gradient of shape ${shape}`);
  if (dweight !== null) checkF32('dweight', dweight, C, `a weight gradient of shape (${C},)`);
  if (dbias !== null) checkF32('dbias', dbias, C, `a bias gradient of shape (${C},)`);
  checkWorkspace(workspace, C);
  checkNoOverlap('dx', dx, 'dy', dy);
  checkNoOverlap('dx', dx, 'x', x);
  checkNoOverlap('dx', dx, 'reluOutput', reluOutput);
  if (dweight !== null) checkNoOverlap('dweight', dweight, 'dy', dy);
  if (dbias !== null) checkNoOverlap('dbias', dbias, 'dy', dy);
  if (layout === 'NHWC' || S === 1) {
    version.nhwc(dy, x, N * S, C, weight, mean, rstd, training, reluOutput, dx, dweight, dbias, workspace);
  } else {
    version.nchw(dy, x, N, C, S, weight, mean, rstd, training, reluOutput, dx, dweight, dbias, workspace);
  }
}
