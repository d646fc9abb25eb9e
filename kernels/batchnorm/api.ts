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
 * - Both modes take the running statistics the same way, `running: { runningMean, runningVar, numBatchesTracked? }`
 *   (PyTorch's module buffers): the training forward updates them IN PLACE, as PyTorch does (numBatchesTracked,
 *   default 0, is set to the count after the call); the eval forward only reads them.
 * - Outputs are caller-supplied buffers of exactly the result's size, written whole, never read; they may not
 *   overlap an input or each other. Inputs are never modified (but for `running` in training, above).
 * - Nothing allocates a typed array: per-channel scratch is in the `BatchNormWorkspace` passed in (one per C);
 *   the wasm version's module memory grows on the first call at a larger size and is reused after that.
 * - Argument objects are closed: an unknown key, or an optional key given as undefined, is an error (a typo must
 *   not change the answer). A bad argument throws KernelShapeError (a size) or KernelValueError (a value, a type,
 *   a key, an overlap), both KernelArgErrors, naming it and what was expected (shared/args.ts).
 *
 * Versions (one signature each, listed in kernels/registry.ts, every one run by the tests and the benchmark):
 * forward twoPass, onePass, blocked, wasm; backward twoPass, blocked, wasm. The default is wasm (WebAssembly SIMD
 * element loops), which falls back to blocked for the fused ReLU, odd channels-last C, or a runtime without SIMD.
 */
import { BATCHNORM_BACKWARD_DEFAULT, BATCHNORM_EVAL_DEFAULT, BATCHNORM_FORWARD_DEFAULT } from '../registry.js';
import {
  argSpec, checkArgs, checkCount, checkEps, checkF32, checkF64, checkFlag, checkMomentum, checkNoOverlap, checkPositiveInts,
  describe, KernelShapeError, KernelValueError,
} from '../shared/args.js';
import type { BatchNormBackwardVersion, BatchNormEvalVersion, BatchNormForwardVersion } from './version.js';
import { BatchNormWorkspace } from './workspace.js';

export { BatchNormWorkspace } from './workspace.js';
export type { BatchNormBackwardVersion, BatchNormEvalVersion, BatchNormForwardVersion } from './version.js';

export type BatchNormLayout = 'NCHW' | 'NHWC';

/** N batch, C channels, S spatial positions per (n, c) (1 for (N, C) inputs). */
export interface BatchNormDims {
  N: number;
  C: number;
  S: number;
}

/** PyTorch's running buffers: updated in place by `batchNormTrainForward`, read by `batchNormEvalForward`. */
export interface BatchNormRunning {
  runningMean: Float32Array; // (C)
  runningVar: Float32Array; // (C)
  /** training calls so far (default 0); the training forward sets it to the count after its call */
  numBatchesTracked?: number;
}

// ---------------------------------------------------------------------------------------------------------
// Checks shared by the three entry points

const DIM_KEYS = ['N', 'C', 'S'] as const;

const RUNNING_SHAPE = 'running: { runningMean, runningVar, numBatchesTracked }';
const MISPLACED = {
  runningMean: `the running statistics go in ${RUNNING_SHAPE}`,
  runningVar: `the running statistics go in ${RUNNING_SHAPE}`,
  numBatchesTracked: `the running statistics go in ${RUNNING_SHAPE}`,
  training: 'the mode is the function: batchNormTrainForward (batch statistics) or batchNormEvalForward (running statistics)',
  shape: 'the kernels take dims: { N, C, S } and a layout',
} as const;

const RUNNING_ARGS = argSpec('the running statistics', ['runningMean', 'runningVar'], { numBatchesTracked: '0' }, {
  mean: 'the running mean is runningMean', var: 'the running variance is runningVar',
});

function describeShape({ N, C, S }: BatchNormDims, layout: BatchNormLayout): string {
  return layout === 'NCHW' ? `(N, C, S) = (${N}, ${C}, ${S})` : `(N, S, C) = (${N}, ${S}, ${C})`;
}

function checkLayoutDims(dims: BatchNormDims, layout: BatchNormLayout): void {
  checkPositiveInts('dims', dims, DIM_KEYS);
  if (layout !== 'NCHW' && layout !== 'NHWC') throw new KernelValueError(`layout: expected 'NCHW' or 'NHWC', got ${describe(layout)}`);
}

function checkWorkspace(workspace: BatchNormWorkspace, C: number): void {
  if (!(workspace instanceof BatchNormWorkspace) || workspace.C !== C) {
    const got = workspace instanceof BatchNormWorkspace ? `one for C = ${workspace.C}` : describe(workspace);
    const Err = workspace instanceof BatchNormWorkspace ? KernelShapeError : KernelValueError;
    throw new Err(`workspace: expected a BatchNormWorkspace for C = ${C} (new BatchNormWorkspace(${C})), got ${got}`);
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

function checkRunning(running: BatchNormRunning, C: number): void {
  checkArgs(RUNNING_ARGS, running, 'running.');
  checkF32('running.runningMean', running.runningMean, C, `one running mean per channel, shape (${C},)`);
  checkF32('running.runningVar', running.runningVar, C, `one running variance per channel, shape (${C},)`);
  if (running.numBatchesTracked !== undefined) checkCount('running.numBatchesTracked', running.numBatchesTracked);
}

/** One forward output against the buffers it is computed from (written out: no array per call on the hot path). */
function checkOutputOverlaps(
  name: string, out: ArrayBufferView, x: Float32Array, weight: Float32Array | null, bias: Float32Array | null,
  running: BatchNormRunning | null,
): void {
  checkNoOverlap(name, out, 'x', x);
  checkNoOverlap(name, out, 'weight', weight);
  checkNoOverlap(name, out, 'bias', bias);
  if (running !== null) {
    checkNoOverlap(name, out, 'running.runningMean', running.runningMean);
    checkNoOverlap(name, out, 'running.runningVar', running.runningVar);
  }
}

/** The forward's outputs (y, mean, rstd) must be disjoint from each other and from every buffer they are computed from. */
function checkForwardOverlaps(
  x: Float32Array, weight: Float32Array | null, bias: Float32Array | null, running: BatchNormRunning | null,
  y: Float32Array, mean: Float64Array, rstd: Float64Array,
): void {
  checkOutputOverlaps('y', y, x, weight, bias, running);
  checkOutputOverlaps('mean', mean, x, weight, bias, running);
  checkOutputOverlaps('rstd', rstd, x, weight, bias, running);
  checkNoOverlap('y', y, 'mean', mean);
  checkNoOverlap('y', y, 'rstd', rstd);
  checkNoOverlap('mean', mean, 'rstd', rstd);
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

const TRAIN_ARGS = argSpec('batchNormTrainForward', ['x', 'dims', 'y', 'mean', 'rstd', 'workspace'], {
  layout: "'NCHW'", weight: 'null, no weight', bias: 'null, no bias', eps: '1e-5', relu: 'false',
  running: 'null, no running statistics', momentum: '0.1; pass null for the cumulative average', unbiasedRunningVar: 'true',
  version: 'BATCHNORM_FORWARD_DEFAULT',
}, MISPLACED);

/**
 * Training-mode forward: normalise each channel with its batch statistics, then scale, shift (and ReLU).
 * Writes y, mean, rstd (and workspace.variance); updates `running` in place. Requires M = N·S ≥ 2, as PyTorch does.
 */
export function batchNormTrainForward(args: BatchNormTrainForwardArgs): void {
  checkArgs(TRAIN_ARGS, args);
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
  checkFlag('relu', relu, 'fuse a ReLU after the normalisation');
  checkMomentum(momentum);
  checkFlag('unbiasedRunningVar', unbiasedRunningVar, 'Bessel-corrected running variance, PyTorch');
  if (running !== null) {
    checkRunning(running, C);
    // the running buffers are written in place: they are outputs too
    checkOutputOverlaps('running.runningMean', running.runningMean, x, weight, bias, null);
    checkOutputOverlaps('running.runningVar', running.runningVar, x, weight, bias, null);
    checkNoOverlap('running.runningMean', running.runningMean, 'running.runningVar', running.runningVar);
  }
  checkF32('y', y, N * C * S, `an output of shape ${shape}`);
  checkStats(mean, rstd, C, 'an output: the batch');
  checkWorkspace(workspace, C);
  checkForwardOverlaps(x, weight, bias, running, y, mean, rstd);
  if (M < 2) {
    // the variance of one value is 0 and its unbiased estimate 0/0; PyTorch refuses too
    throw new KernelShapeError(`x: expected more than 1 value per channel when training, got ${shape}`);
  }

  if (layout === 'NHWC' || S === 1) version.nhwc(x, M, C, weight, bias, eps, relu, y, mean, rstd, workspace);
  else version.nchw(x, N, C, S, weight, bias, eps, relu, y, mean, rstd, workspace);

  // running statistics, in place
  if (running !== null) {
    const numBatchesTracked = (running.numBatchesTracked ?? 0) + 1;
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
  /** the running statistics to normalise with, as the training forward takes them; read, never written */
  running: BatchNormRunning;
  eps?: number;
  relu?: boolean;
  /** OUTPUT: N·C·S values in `layout` */
  y: Float32Array;
  /** OUTPUT (C): running.runningMean as float64, what the backward takes as `mean` */
  mean: Float64Array;
  /** OUTPUT (C): 1/sqrt(running.runningVar + eps), what the backward takes as `rstd` */
  rstd: Float64Array;
  workspace: BatchNormWorkspace;
  /** default: BATCHNORM_EVAL_DEFAULT (kernels/registry.ts) */
  version?: BatchNormEvalVersion;
}

const EVAL_ARGS = argSpec('batchNormEvalForward', ['x', 'dims', 'running', 'y', 'mean', 'rstd', 'workspace'], {
  layout: "'NCHW'", weight: 'null, no weight', bias: 'null, no bias', eps: '1e-5', relu: 'false', version: 'BATCHNORM_EVAL_DEFAULT',
}, {
  ...MISPLACED,
  momentum: 'eval mode updates nothing; momentum is an argument of batchNormTrainForward',
  unbiasedRunningVar: 'eval mode updates nothing; unbiasedRunningVar is an argument of batchNormTrainForward',
});

/** Eval-mode forward: y = (x - runningMean)·weight/sqrt(runningVar + eps) + bias (then ReLU). Writes y, mean, rstd. */
export function batchNormEvalForward(args: BatchNormEvalForwardArgs): void {
  checkArgs(EVAL_ARGS, args);
  const {
    x, dims, layout = 'NCHW', weight = null, bias = null, running, eps = 1e-5, relu = false, y, mean, rstd, workspace,
    version = BATCHNORM_EVAL_DEFAULT,
  } = args;
  checkLayoutDims(dims, layout);
  const { N, C, S } = dims;
  const shape = describeShape(dims, layout);
  checkF32('x', x, N * C * S, `an input of shape ${shape}`);
  checkAffine(weight, bias, C);
  if (running == null) {
    throw new KernelValueError(`running: expected the running statistics { runningMean, runningVar } that eval mode normalises with, got ${describe(running)}`);
  }
  checkRunning(running, C);
  checkEps(eps);
  checkFlag('relu', relu, 'fuse a ReLU after the normalisation');
  checkF32('y', y, N * C * S, `an output of shape ${shape}`);
  checkStats(mean, rstd, C, 'an output: the running');
  checkWorkspace(workspace, C);
  checkForwardOverlaps(x, weight, bias, running, y, mean, rstd);
  const { runningMean, runningVar } = running;
  if (layout === 'NHWC' || S === 1) version.nhwc(x, N * S, C, weight, bias, runningMean, runningVar, eps, relu, y, mean, rstd, workspace);
  else version.nchw(x, N, C, S, weight, bias, runningMean, runningVar, eps, relu, y, mean, rstd, workspace);
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

const BACKWARD_ARGS = argSpec('batchNormBackward', ['dy', 'x', 'dims', 'mean', 'rstd', 'training', 'dx', 'workspace'], {
  layout: "'NCHW'", weight: 'null, no weight', reluOutput: 'null, no fused ReLU', dweight: 'null, not computed',
  dbias: 'null, not computed', version: 'BATCHNORM_BACKWARD_DEFAULT',
}, {
  ...MISPLACED,
  bias: 'the backward does not read the bias; pass dbias for its gradient',
  eps: "the backward takes the forward's rstd, which already holds eps",
  running: 'for the eval-mode backward pass the eval forward\'s mean and rstd, with training: false',
  relu: 'for a fused ReLU pass the forward\'s output as reluOutput',
});

/** One backward output against every input of the backward. */
function checkGradientOverlaps(
  name: string, out: Float32Array, dy: Float32Array, x: Float32Array, weight: Float32Array | null,
  mean: Float64Array, rstd: Float64Array, reluOutput: Float32Array | null,
): void {
  checkNoOverlap(name, out, 'dy', dy);
  checkNoOverlap(name, out, 'x', x);
  checkNoOverlap(name, out, 'weight', weight);
  checkNoOverlap(name, out, 'mean', mean);
  checkNoOverlap(name, out, 'rstd', rstd);
  checkNoOverlap(name, out, 'reluOutput', reluOutput);
}

/** Gradients of (ReLU ∘) BatchNorm: writes dx, and dweight, dbias when given. */
export function batchNormBackward(args: BatchNormBackwardArgs): void {
  checkArgs(BACKWARD_ARGS, args);
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
  checkFlag('training', training, 'true: the forward used batch statistics, false: running statistics');
  checkF32('dx', dx, N * C * S, `an input gradient of shape ${shape}`);
  if (dweight !== null) checkF32('dweight', dweight, C, `a weight gradient of shape (${C},)`);
  if (dbias !== null) checkF32('dbias', dbias, C, `a bias gradient of shape (${C},)`);
  checkWorkspace(workspace, C);
  checkGradientOverlaps('dx', dx, dy, x, weight, mean, rstd, reluOutput);
  if (dweight !== null) checkGradientOverlaps('dweight', dweight, dy, x, weight, mean, rstd, reluOutput);
  if (dbias !== null) checkGradientOverlaps('dbias', dbias, dy, x, weight, mean, rstd, reluOutput);
  if (dweight !== null) checkNoOverlap('dx', dx, 'dweight', dweight);
  if (dbias !== null) checkNoOverlap('dx', dx, 'dbias', dbias);
  if (dweight !== null && dbias !== null) checkNoOverlap('dweight', dweight, 'dbias', dbias);
  if (layout === 'NHWC' || S === 1) {
    version.nhwc(dy, x, N * S, C, weight, mean, rstd, training, reluOutput, dx, dweight, dbias, workspace);
  } else {
    version.nchw(dy, x, N, C, S, weight, mean, rstd, training, reluOutput, dx, dweight, dbias, workspace);
  }
}
