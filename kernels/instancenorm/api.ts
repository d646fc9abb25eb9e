/**
 * Float32 InstanceNorm kernels with PyTorch's semantics: F.instance_norm(input, running_mean, running_var, weight,
 * bias, use_input_stats, momentum, eps), what nn.InstanceNorm1d/2d/3d call; forward and backward, NCHW and NHWC.
 *
 * Sizes: N batch, C channels, S spatial positions (L, H·W or D·H·W); instance (n, c) is channel c of sample n.
 *   layout 'NCHW'  element (n, c, s) at (n·C + c)·S + s      layout 'NHWC'  element (n, s, c) at (n·S + s)·C + c
 *
 * The three valid combinations, as reference/instancenorm.ts:
 *   useInputStats  running
 *   true           null       track_running_stats = False: each instance's own statistics
 *   true           given      training with track_running_stats: the same, and the running buffers UPDATED IN PLACE
 *   false          given      eval with track_running_stats: normalise with the running buffers
 * With the input's statistics this is GroupNorm with one channel per group (groupnorm/: the kernels run its
 * versions, with its accuracy: y within a small fraction of an ulp of the exact result at any offset) and S = 1
 * is refused ("Expected more than 1 spatial element when training"). Running statistics, momentum f:
 *   runningMean[c] ← (1 - f)·runningMean[c] + f·(1/N)·Σ_n mean[n, c]
 *   runningVar[c]  ← (1 - f)·runningVar[c]  + f·(1/N)·Σ_n var[n, c]·S/(S - 1)       (unbiased, batch-averaged)
 * numBatchesTracked, if given, is left as it is (InstanceNorm never increments it). momentum is a number: the
 * module's momentum=None reaches F.instance_norm as 0.0 (`self.momentum if self.momentum is not None else 0.0`).
 *
 * Conventions as groupnorm/api.ts: Float32Array data, float64 arithmetic, saved mean and rstd Float64Array (N·C,
 * n-major: the instances' statistics, or the running ones repeated per sample), caller-supplied outputs that
 * overlap nothing, inputs never modified (but the running buffers in training), scratch in an
 * `InstanceNormWorkspace` (one per C), closed argument objects, KernelShapeError / KernelValueError naming the argument.
 *
 * Versions (version.ts, listed in kernels/registry.ts): forward twoPass, wasm (the default); the backward runs the
 * GroupNorm backward versions with G = C.
 */
import { INSTANCENORM_BACKWARD_DEFAULT, INSTANCENORM_FORWARD_DEFAULT } from '../registry.js';
import {
  checkChannelAffine, checkChannelDims, checkForwardOverlaps, checkGradients, describeChannelShape,
  type ChannelDims, type ChannelLayout,
} from '../groupnorm/api.js';
import type { GroupDims } from '../groupnorm/version.js';
import {
  argSpec, checkArgs, checkCount, checkEps, checkF32, checkF64, checkFlag, checkNoOverlap, checkNumber, describe, KernelShapeError,
  KernelValueError,
} from '../shared/args.js';
import type { InstanceNormBackwardVersion, InstanceNormForwardVersion } from './version.js';
import { InstanceNormWorkspace } from './workspace.js';

export type { InstanceDims, InstanceNormBackwardVersion, InstanceNormForwardVersion } from './version.js';
export { InstanceNormWorkspace } from './workspace.js';

/** The module's running buffers (track_running_stats = True): updated in place when useInputStats, read otherwise. */
export interface InstanceNormRunning {
  runningMean: Float32Array; // (C)
  runningVar: Float32Array; // (C)
  /** accepted so a module's buffers pass as they are; never changed (InstanceNorm does not count batches) */
  numBatchesTracked?: number;
}

const RUNNING_SHAPE = 'running: { runningMean, runningVar, numBatchesTracked }';
const RUNNING_ARGS = argSpec('the running statistics', ['runningMean', 'runningVar'], { numBatchesTracked: 'left as it is' }, {
  mean: 'the running mean is runningMean', var: 'the running variance is runningVar',
});

const MISPLACED = {
  runningMean: `the running statistics go in ${RUNNING_SHAPE}`,
  runningVar: `the running statistics go in ${RUNNING_SHAPE}`,
  training: 'pass useInputStats = training || !trackRunningStats, as nn.InstanceNorm does',
  trackRunningStats: 'pass running for track_running_stats = true, or null for false',
  use_input_stats: 'the argument is useInputStats',
  shape: 'the kernels take dims: { N, C, S } and a layout',
  numGroups: 'InstanceNorm has one group per channel; groupNormForward takes numGroups',
} as const;

function checkWorkspace(workspace: unknown, C: number): asserts workspace is InstanceNormWorkspace {
  const ok = workspace instanceof InstanceNormWorkspace;
  if (!ok || workspace.C !== C) {
    const Err = ok ? KernelShapeError : KernelValueError;
    throw new Err(`workspace: expected an InstanceNormWorkspace for C = ${C} (new InstanceNormWorkspace(${C})), got ${ok ? `one for C = ${workspace.C}` : describe(workspace)}`);
  }
}

function checkRunning(running: InstanceNormRunning, C: number): void {
  checkArgs(RUNNING_ARGS, running, 'running.');
  checkF32('running.runningMean', running.runningMean, C, `one running mean per channel, shape (${C},)`);
  checkF32('running.runningVar', running.runningVar, C, `one running variance per channel, shape (${C},)`);
  if (running.numBatchesTracked !== undefined) checkCount('running.numBatchesTracked', running.numBatchesTracked);
}

/** One forward output against the buffers it is computed from. */
function checkOutputOverlaps(
  name: string, out: ArrayBufferView, x: Float32Array, weight: Float32Array | null, bias: Float32Array | null, running: InstanceNormRunning | null,
): void {
  checkForwardOverlaps(name, out, x, weight, bias);
  if (running !== null) {
    checkNoOverlap(name, out, 'running.runningMean', running.runningMean);
    checkNoOverlap(name, out, 'running.runningVar', running.runningVar);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Forward

export interface InstanceNormForwardArgs {
  /** input, N·C·S values in `layout` */
  x: Float32Array;
  dims: ChannelDims;
  /** default 'NCHW' */
  layout?: ChannelLayout;
  /** (C) or null (affine = false, InstanceNorm's default) */
  weight?: Float32Array | null;
  bias?: Float32Array | null;
  /** running buffers (track_running_stats = True), UPDATED IN PLACE when useInputStats; null or absent otherwise */
  running?: InstanceNormRunning | null;
  /** default true: each instance's statistics; false: the running ones (needs `running`) */
  useInputStats?: boolean;
  /** fraction of the batch-averaged instance statistic in the new running value, in [0, 1]; default 0.1 */
  momentum?: number;
  /** default 1e-5 (PyTorch) */
  eps?: number;
  /** OUTPUT: N·C·S values in `layout` */
  y: Float32Array;
  /** OUTPUT (N·C), n-major: the means used, saved for the backward */
  mean: Float64Array;
  /** OUTPUT (N·C): the 1/sqrt(var + eps) used, saved for the backward */
  rstd: Float64Array;
  workspace: InstanceNormWorkspace;
  /** default: INSTANCENORM_FORWARD_DEFAULT (kernels/registry.ts) */
  version?: InstanceNormForwardVersion;
}

const FORWARD_ARGS = argSpec('instanceNormForward', ['x', 'dims', 'y', 'mean', 'rstd', 'workspace'], {
  layout: "'NCHW'", weight: 'null, no weight', bias: 'null, no bias', running: 'null, no running statistics', useInputStats: 'true',
  momentum: '0.1', eps: '1e-5', version: 'INSTANCENORM_FORWARD_DEFAULT',
}, MISPLACED);

function checkMomentum(momentum: unknown): asserts momentum is number {
  if (momentum === null) {
    throw new KernelValueError("momentum: expected a number in [0, 1], got null (nn.InstanceNorm's momentum=None reaches F.instance_norm as 0.0: pass 0)");
  }
  checkNumber('momentum', momentum, (v) => v >= 0 && v <= 1, 'a number in [0, 1]');
}

/**
 * InstanceNorm forward: writes y, mean, rstd; with useInputStats and running buffers, updates them in place.
 */
export function instanceNormForward(args: InstanceNormForwardArgs): void {
  checkArgs(FORWARD_ARGS, args);
  const {
    x, dims, layout = 'NCHW', weight = null, bias = null, running = null, useInputStats = true, momentum = 0.1, eps = 1e-5,
    y, mean, rstd, workspace, version = INSTANCENORM_FORWARD_DEFAULT,
  } = args;
  checkChannelDims(dims, layout);
  const { N, C, S } = dims;
  const shape = describeChannelShape(dims, layout);
  checkF32('x', x, N * C * S, `an input of shape ${shape}`);
  checkChannelAffine(weight, bias, C);
  checkFlag('useInputStats', useInputStats, "true: each instance's statistics, false: the running statistics");
  checkMomentum(momentum);
  checkEps(eps);
  if (running !== null) {
    checkRunning(running, C);
    if (useInputStats) {
      // the running buffers are written in place: they are outputs too
      checkForwardOverlaps('running.runningMean', running.runningMean, x, weight, bias);
      checkForwardOverlaps('running.runningVar', running.runningVar, x, weight, bias);
      checkNoOverlap('running.runningMean', running.runningMean, 'running.runningVar', running.runningVar);
    }
  } else if (!useInputStats) {
    throw new KernelValueError(`running: expected the running statistics { runningMean, runningVar } when useInputStats is false (eval with track_running_stats), got ${describe(args.running)}`);
  }
  checkF32('y', y, N * C * S, `an output of shape ${shape}`);
  checkF64('mean', mean, N * C, `an output: one mean per (sample, channel), shape (${N * C},)`);
  checkF64('rstd', rstd, N * C, `an output: one rstd per (sample, channel), shape (${N * C},)`);
  checkWorkspace(workspace, C);
  checkOutputOverlaps('y', y, x, weight, bias, running);
  checkOutputOverlaps('mean', mean, x, weight, bias, running);
  checkOutputOverlaps('rstd', rstd, x, weight, bias, running);
  checkNoOverlap('y', y, 'mean', mean);
  checkNoOverlap('y', y, 'rstd', rstd);
  checkNoOverlap('mean', mean, 'rstd', rstd);
  if (useInputStats && S === 1) {
    throw new KernelShapeError(`x: expected more than 1 spatial element when using the input's statistics, got ${shape}`);
  }
  const nhwc = layout === 'NHWC' && S > 1;

  if (!useInputStats) {
    // eval with the running statistics, the same for every sample
    const { runningMean, runningVar } = running!;
    for (let nc = 0, c = 0; nc < N * C; nc++, c = c + 1 === C ? 0 : c + 1) {
      mean[nc] = runningMean[c]!;
      rstd[nc] = 1 / Math.sqrt(runningVar[c]! + eps);
    }
    if (nhwc) version.applyNhwc(x, dims, weight, bias, mean, rstd, y, workspace.groups);
    else version.applyNchw(x, dims, weight, bias, mean, rstd, y, workspace.groups);
    return;
  }

  const variance = running !== null ? workspace.variance(N * C) : null;
  const d: GroupDims = { N, C, G: C, S };
  if (nhwc) version.groups.nhwc(x, d, weight, bias, eps, y, mean, rstd, variance, workspace.groups);
  else version.groups.nchw(x, d, weight, bias, eps, y, mean, rstd, variance, workspace.groups);

  // running statistics, in place: the batch average of the instances' mean and unbiased variance
  if (running !== null) {
    const { runningMean, runningVar } = running;
    const f = momentum;
    const bessel = S / (S - 1);
    for (let c = 0; c < C; c++) {
      let sumMean = 0;
      let sumVar = 0;
      for (let n = 0; n < N; n++) {
        sumMean += mean[n * C + c]!;
        sumVar += variance![n * C + c]! * bessel;
      }
      runningMean[c] = (1 - f) * runningMean[c]! + f * (sumMean / N);
      runningVar[c] = (1 - f) * runningVar[c]! + f * (sumVar / N);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Backward

export interface InstanceNormBackwardArgs {
  /** upstream gradient, N·C·S values in `layout` */
  dy: Float32Array;
  /** the forward's input */
  x: Float32Array;
  dims: ChannelDims;
  layout?: ChannelLayout;
  /** (C) or null, as in the forward */
  weight?: Float32Array | null;
  /** (N·C) the forward's saved mean */
  mean: Float64Array;
  /** (N·C) the forward's saved rstd */
  rstd: Float64Array;
  /** as in the forward: true when mean and rstd are the instances' own, so they depend on x */
  useInputStats: boolean;
  /** OUTPUT: N·C·S values in `layout` */
  dx: Float32Array;
  /** OUTPUT (C) or null: Σ dy·x̂ over samples and positions */
  dweight?: Float32Array | null;
  /** OUTPUT (C) or null: Σ dy */
  dbias?: Float32Array | null;
  workspace: InstanceNormWorkspace;
  /** default: INSTANCENORM_BACKWARD_DEFAULT (kernels/registry.ts) */
  version?: InstanceNormBackwardVersion;
}

const BACKWARD_ARGS = argSpec('instanceNormBackward', ['dy', 'x', 'dims', 'mean', 'rstd', 'useInputStats', 'dx', 'workspace'], {
  layout: "'NCHW'", weight: 'null, no weight', dweight: 'null, not computed', dbias: 'null, not computed', version: 'INSTANCENORM_BACKWARD_DEFAULT',
}, {
  ...MISPLACED,
  bias: 'the backward does not read the bias; pass dbias for its gradient',
  eps: "the backward takes the forward's rstd, which already holds eps",
  running: "the backward takes the forward's mean and rstd (N·C), which hold the running statistics when useInputStats is false",
  momentum: 'the backward updates nothing; momentum is an argument of instanceNormForward',
});

/** InstanceNorm backward: writes dx, and dweight, dbias when given. */
export function instanceNormBackward(args: InstanceNormBackwardArgs): void {
  checkArgs(BACKWARD_ARGS, args);
  const {
    dy, x, dims, layout = 'NCHW', weight = null, mean, rstd, useInputStats, dx, dweight = null, dbias = null, workspace,
    version = INSTANCENORM_BACKWARD_DEFAULT,
  } = args;
  checkChannelDims(dims, layout);
  const { N, C, S } = dims;
  const shape = describeChannelShape(dims, layout);
  checkF32('dy', dy, N * C * S, `a gradient of shape ${shape}`);
  checkF32('x', x, N * C * S, `an input of shape ${shape}`);
  if (weight !== null) checkF32('weight', weight, C, `one weight per channel, shape (${C},)`);
  checkF64('mean', mean, N * C, `the forward's saved mean, one per (sample, channel), shape (${N * C},)`);
  checkF64('rstd', rstd, N * C, `the forward's saved rstd, one per (sample, channel), shape (${N * C},)`);
  checkFlag('useInputStats', useInputStats, "true: the forward used each instance's statistics, false: the running statistics");
  checkWorkspace(workspace, C);
  checkGradients(dy, x, weight, mean, rstd, dx, dweight, dbias, N * C * S, C, shape);
  const d: GroupDims = { N, C, G: C, S };
  if (layout === 'NHWC' && S > 1) version.nhwc(dy, x, d, weight, mean, rstd, useInputStats, dx, dweight, dbias, workspace.groups);
  else version.nchw(dy, x, d, weight, mean, rstd, useInputStats, dx, dweight, dbias, workspace.groups);
}
