/**
 * Float32 GroupNorm kernels with PyTorch's semantics (torch.nn.GroupNorm(num_groups, num_channels, eps=1e-5,
 * affine=True), F.group_norm): forward and backward, NCHW and NHWC. The math and the accuracy argument are in
 * forward_impl.ts and backward_impl.ts.
 *
 * Sizes: N batch, C channels, G = numGroups groups (G divides C), Cg = C/G, S spatial positions (the product of
 * the dimensions after C; 1 for an (N, C) input), D = Cg·S values per group.
 *   layout 'NCHW'  element (n, c, s) at (n·C + c)·S + s     (PyTorch's contiguous layout)
 *   layout 'NHWC'  element (n, s, c) at (n·S + s)·C + c     (channels_last)
 * Per sample n and group g (channels g·Cg .. g·Cg + Cg - 1): biased statistics over the group's D values, then
 * the per-channel affine. No running statistics: training and eval are the same computation.
 *
 * Conventions (as batchnorm/api.ts): x, y, dy, dx, weight, bias, dweight, dbias are Float32Array, arithmetic is
 * float64; the saved `mean` and `rstd` are Float64Array (N·G, n-major: group (n, g) at n·G + g) so the backward
 * sees the exact statistics; y is within a small fraction of an ulp of the float32 rounding of the exact result
 * at any offset, and a constant group gives y = bias, never NaN. Outputs are caller-supplied, written whole,
 * never overlapping an input or each other; inputs are never modified; per-channel scratch lives in a
 * `GroupNormWorkspace` (one per C), so nothing allocates per call; argument objects are closed (an unknown key
 * or an optional key given as undefined is an error); bad arguments throw KernelShapeError or KernelValueError
 * (shared/args.ts) naming the argument. PyTorch's refusals are kept: C % G ≠ 0, and N·Cg·S = 1 (one value per
 * group across the batch, F.group_norm's _verify_batch_size).
 *
 * Versions (one signature each, version.ts, listed in kernels/registry.ts): twoPass, wasm (the default).
 */
import { GROUPNORM_BACKWARD_DEFAULT, GROUPNORM_FORWARD_DEFAULT } from '../registry.js';
import {
  argSpec, checkArgs, checkEps, checkF32, checkF64, checkNoOverlap, checkPositiveInts, describe, KernelShapeError, KernelValueError,
} from '../shared/args.js';
import type { GroupDims, GroupNormBackwardVersion, GroupNormForwardVersion } from './version.js';
import { GroupNormWorkspace } from './workspace.js';

export type { GroupDims, GroupNormBackwardVersion, GroupNormForwardVersion } from './version.js';
export { GroupNormWorkspace } from './workspace.js';

export type ChannelLayout = 'NCHW' | 'NHWC';

/** N batch, C channels, S spatial positions per (n, c) (1 for (N, C) inputs). */
export interface ChannelDims {
  N: number;
  C: number;
  S: number;
}

// ---------------------------------------------------------------------------------------------------------
// Checks shared with InstanceNorm (instancenorm/api.ts), whose kernels are these with G = C

const DIM_KEYS = ['N', 'C', 'S'] as const;

/** dims are positive integers and the layout is one of the two. */
export function checkChannelDims(dims: ChannelDims, layout: ChannelLayout): void {
  checkPositiveInts('dims', dims, DIM_KEYS);
  if (layout !== 'NCHW' && layout !== 'NHWC') throw new KernelValueError(`layout: expected 'NCHW' or 'NHWC', got ${describe(layout)}`);
}

export function describeChannelShape({ N, C, S }: ChannelDims, layout: ChannelLayout): string {
  return layout === 'NCHW' ? `(N, C, S) = (${N}, ${C}, ${S})` : `(N, S, C) = (${N}, ${S}, ${C})`;
}

export function checkChannelAffine(weight: Float32Array | null, bias: Float32Array | null, C: number): void {
  if (weight !== null) checkF32('weight', weight, C, `one weight per channel, shape (${C},)`);
  if (bias !== null) checkF32('bias', bias, C, `one bias per channel, shape (${C},)`);
}

export function checkGroupWorkspace(workspace: unknown, C: number, className: string, make: string): void {
  const ok = workspace instanceof GroupNormWorkspace;
  if (!ok || workspace.C !== C) {
    const Err = ok ? KernelShapeError : KernelValueError;
    throw new Err(`workspace: expected a ${className} for C = ${C} (${make}), got ${ok ? `one for C = ${workspace.C}` : describe(workspace)}`);
  }
}

/** One forward output against the forward's inputs (written out: no array per call on the hot path). */
export function checkForwardOverlaps(name: string, out: ArrayBufferView, x: Float32Array, weight: Float32Array | null, bias: Float32Array | null): void {
  checkNoOverlap(name, out, 'x', x);
  checkNoOverlap(name, out, 'weight', weight);
  checkNoOverlap(name, out, 'bias', bias);
}

/** One backward output against every input of the backward. */
export function checkGradientOverlaps(
  name: string, out: Float32Array, dy: Float32Array, x: Float32Array, weight: Float32Array | null, mean: Float64Array, rstd: Float64Array,
): void {
  checkNoOverlap(name, out, 'dy', dy);
  checkNoOverlap(name, out, 'x', x);
  checkNoOverlap(name, out, 'weight', weight);
  checkNoOverlap(name, out, 'mean', mean);
  checkNoOverlap(name, out, 'rstd', rstd);
}

/** The backward's outputs: sizes, and disjoint from its inputs and each other. */
export function checkGradients(
  dy: Float32Array, x: Float32Array, weight: Float32Array | null, mean: Float64Array, rstd: Float64Array,
  dx: Float32Array, dweight: Float32Array | null, dbias: Float32Array | null, n: number, C: number, shape: string,
): void {
  checkF32('dx', dx, n, `an input gradient of shape ${shape}`);
  if (dweight !== null) checkF32('dweight', dweight, C, `a weight gradient of shape (${C},)`);
  if (dbias !== null) checkF32('dbias', dbias, C, `a bias gradient of shape (${C},)`);
  checkGradientOverlaps('dx', dx, dy, x, weight, mean, rstd);
  if (dweight !== null) checkGradientOverlaps('dweight', dweight, dy, x, weight, mean, rstd);
  if (dbias !== null) checkGradientOverlaps('dbias', dbias, dy, x, weight, mean, rstd);
  if (dweight !== null) checkNoOverlap('dx', dx, 'dweight', dweight);
  if (dbias !== null) checkNoOverlap('dx', dx, 'dbias', dbias);
  if (dweight !== null && dbias !== null) checkNoOverlap('dweight', dweight, 'dbias', dbias);
}

/** numGroups is a positive integer that divides C (ATen: "Expected number of channels in input to be divisible by num_groups"). */
function checkNumGroups(numGroups: unknown, C: number): asserts numGroups is number {
  if (typeof numGroups !== 'number') throw new KernelValueError(`numGroups: expected a positive integer (num_groups), got ${describe(numGroups)}`);
  if (!Number.isInteger(numGroups) || numGroups < 1) throw new KernelShapeError(`numGroups: expected a positive integer (num_groups), got ${describe(numGroups)}`);
  if (C % numGroups !== 0) throw new KernelShapeError(`numGroups: expected a divisor of the channel count C = ${C}, got ${numGroups}`);
}

const MISPLACED = {
  num_groups: 'the argument is numGroups',
  G: 'the number of groups is numGroups; dims is { N, C, S }',
  shape: 'the kernels take dims: { N, C, S } and a layout',
  running: 'GroupNorm keeps no running statistics: it normalises with the statistics of each sample',
  training: 'GroupNorm computes the same in training and eval',
} as const;

// ---------------------------------------------------------------------------------------------------------
// Forward

export interface GroupNormForwardArgs {
  /** input, N·C·S values in `layout` */
  x: Float32Array;
  dims: ChannelDims;
  /** G: must divide C */
  numGroups: number;
  /** default 'NCHW' */
  layout?: ChannelLayout;
  /** (C) or null (affine = false: weight 1, bias 0) */
  weight?: Float32Array | null;
  bias?: Float32Array | null;
  /** default 1e-5 (PyTorch) */
  eps?: number;
  /** OUTPUT: N·C·S values in `layout` */
  y: Float32Array;
  /** OUTPUT (N·G), n-major: each group's mean, saved for the backward */
  mean: Float64Array;
  /** OUTPUT (N·G): 1/sqrt(var + eps), biased group variance, saved for the backward */
  rstd: Float64Array;
  /** scratch for C channels */
  workspace: GroupNormWorkspace;
  /** default: GROUPNORM_FORWARD_DEFAULT (kernels/registry.ts) */
  version?: GroupNormForwardVersion;
}

const FORWARD_ARGS = argSpec('groupNormForward', ['x', 'dims', 'numGroups', 'y', 'mean', 'rstd', 'workspace'], {
  layout: "'NCHW'", weight: 'null, no weight', bias: 'null, no bias', eps: '1e-5', version: 'GROUPNORM_FORWARD_DEFAULT',
}, MISPLACED);

/** GroupNorm forward: writes y, mean, rstd. */
export function groupNormForward(args: GroupNormForwardArgs): void {
  checkArgs(FORWARD_ARGS, args);
  const {
    x, dims, numGroups, layout = 'NCHW', weight = null, bias = null, eps = 1e-5, y, mean, rstd, workspace,
    version = GROUPNORM_FORWARD_DEFAULT,
  } = args;
  checkChannelDims(dims, layout);
  const { N, C, S } = dims;
  checkNumGroups(numGroups, C);
  const G = numGroups;
  const shape = describeChannelShape(dims, layout);
  checkF32('x', x, N * C * S, `an input of shape ${shape}`);
  checkChannelAffine(weight, bias, C);
  checkEps(eps);
  checkF32('y', y, N * C * S, `an output of shape ${shape}`);
  checkF64('mean', mean, N * G, `an output: one mean per (sample, group), shape (${N * G},)`);
  checkF64('rstd', rstd, N * G, `an output: one rstd per (sample, group), shape (${N * G},)`);
  checkGroupWorkspace(workspace, C, 'GroupNormWorkspace', `new GroupNormWorkspace(${C})`);
  checkForwardOverlaps('y', y, x, weight, bias);
  checkForwardOverlaps('mean', mean, x, weight, bias);
  checkForwardOverlaps('rstd', rstd, x, weight, bias);
  checkNoOverlap('y', y, 'mean', mean);
  checkNoOverlap('y', y, 'rstd', rstd);
  checkNoOverlap('mean', mean, 'rstd', rstd);
  if (N * (C / G) * S === 1) {
    throw new KernelShapeError(`x: expected more than 1 value per group across the batch (N·C/G·S = 1), as F.group_norm requires, got ${shape} with numGroups ${G}`);
  }
  const d: GroupDims = { N, C, G, S };
  if (layout === 'NHWC' && S > 1) version.nhwc(x, d, weight, bias, eps, y, mean, rstd, null, workspace);
  else version.nchw(x, d, weight, bias, eps, y, mean, rstd, null, workspace);
}

// ---------------------------------------------------------------------------------------------------------
// Backward

export interface GroupNormBackwardArgs {
  /** upstream gradient, N·C·S values in `layout` */
  dy: Float32Array;
  /** the forward's input */
  x: Float32Array;
  dims: ChannelDims;
  numGroups: number;
  layout?: ChannelLayout;
  /** (C) or null, as in the forward */
  weight?: Float32Array | null;
  /** (N·G) the forward's saved mean */
  mean: Float64Array;
  /** (N·G) the forward's saved rstd */
  rstd: Float64Array;
  /** OUTPUT: N·C·S values in `layout` */
  dx: Float32Array;
  /** OUTPUT (C) or null: Σ dy·x̂ over samples and positions */
  dweight?: Float32Array | null;
  /** OUTPUT (C) or null: Σ dy */
  dbias?: Float32Array | null;
  workspace: GroupNormWorkspace;
  /** default: GROUPNORM_BACKWARD_DEFAULT (kernels/registry.ts) */
  version?: GroupNormBackwardVersion;
}

const BACKWARD_ARGS = argSpec('groupNormBackward', ['dy', 'x', 'dims', 'numGroups', 'mean', 'rstd', 'dx', 'workspace'], {
  layout: "'NCHW'", weight: 'null, no weight', dweight: 'null, not computed', dbias: 'null, not computed', version: 'GROUPNORM_BACKWARD_DEFAULT',
}, {
  ...MISPLACED,
  bias: 'the backward does not read the bias; pass dbias for its gradient',
  eps: "the backward takes the forward's rstd, which already holds eps",
});

/** GroupNorm backward: writes dx, and dweight, dbias when given. */
export function groupNormBackward(args: GroupNormBackwardArgs): void {
  checkArgs(BACKWARD_ARGS, args);
  const {
    dy, x, dims, numGroups, layout = 'NCHW', weight = null, mean, rstd, dx, dweight = null, dbias = null, workspace,
    version = GROUPNORM_BACKWARD_DEFAULT,
  } = args;
  checkChannelDims(dims, layout);
  const { N, C, S } = dims;
  checkNumGroups(numGroups, C);
  const G = numGroups;
  const shape = describeChannelShape(dims, layout);
  checkF32('dy', dy, N * C * S, `a gradient of shape ${shape}`);
  checkF32('x', x, N * C * S, `an input of shape ${shape}`);
  if (weight !== null) checkF32('weight', weight, C, `one weight per channel, shape (${C},)`);
  checkF64('mean', mean, N * G, `the forward's saved mean, one per (sample, group), shape (${N * G},)`);
  checkF64('rstd', rstd, N * G, `the forward's saved rstd, one per (sample, group), shape (${N * G},)`);
  checkGroupWorkspace(workspace, C, 'GroupNormWorkspace', `new GroupNormWorkspace(${C})`);
  checkGradients(dy, x, weight, mean, rstd, dx, dweight, dbias, N * C * S, C, shape);
  const d: GroupDims = { N, C, G, S };
  if (layout === 'NHWC' && S > 1) version.nhwc(dy, x, d, weight, mean, rstd, true, dx, dweight, dbias, workspace);
  else version.nchw(dy, x, d, weight, mean, rstd, true, dx, dweight, dbias, workspace);
}
