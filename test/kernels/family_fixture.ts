/**
 * GroupNorm and InstanceNorm cases run through the float32 kernels in either layout, results returned in NCHW
 * order (so a check reads the same for both layouts), and the shared helpers of the family tests.
 */
import {
  groupNormBackward, groupNormForward, GroupNormWorkspace, instanceNormBackward, instanceNormForward, InstanceNormWorkspace,
  type ChannelLayout, type GroupNormBackwardVersion, type GroupNormForwardVersion, type InstanceNormForwardVersion, type InstanceNormRunning,
} from '../../kernels/index.js';
import { expect } from 'vitest';
import type { BatchNormCase } from '../helpers/arbitraries.js';
import { compareWithBound, f32, toNchw, toNhwc } from './norm_error_model.js';

export const LAYOUTS: readonly ChannelLayout[] = ['NCHW', 'NHWC'];

export interface ChannelCase {
  N: number;
  C: number;
  S: number;
  x: Float32Array; // NCHW
  weight: Float32Array | null;
  bias: Float32Array | null;
}

export function channelCase(k: BatchNormCase): ChannelCase {
  return { N: k.N, C: k.C, S: k.S, x: Float32Array.from(k.x), weight: f32(k.weight), bias: f32(k.bias) };
}

/** `a` (NCHW order) in `layout`. */
export const into = (a: Float32Array, k: ChannelCase, layout: ChannelLayout): Float32Array => (layout === 'NCHW' ? a : toNhwc(a, k.N, k.C, k.S));
/** `a` (in `layout`) in NCHW order. */
export const back = (a: Float32Array, k: ChannelCase, layout: ChannelLayout): Float32Array => (layout === 'NCHW' ? a : toNchw(a, k.N, k.C, k.S));

export interface KernelResult {
  y: Float32Array; // NCHW
  mean: Float64Array;
  rstd: Float64Array;
}

export function gnKernel(k: ChannelCase, G: number, layout: ChannelLayout, version?: GroupNormForwardVersion, workspace = new GroupNormWorkspace(k.C)): KernelResult {
  const { N, C, S } = k;
  const y = new Float32Array(N * C * S).fill(NaN); // every element must be written
  const mean = new Float64Array(N * G).fill(NaN);
  const rstd = new Float64Array(N * G).fill(NaN);
  groupNormForward({
    x: into(k.x, k, layout), dims: { N, C, S }, numGroups: G, layout, weight: k.weight, bias: k.bias, y, mean, rstd, workspace,
    ...(version ? { version } : {}),
  });
  return { y: back(y, k, layout), mean, rstd };
}

export function gnKernelBackward(
  k: ChannelCase, G: number, layout: ChannelLayout, dy: Float32Array, fwd: KernelResult, version?: GroupNormBackwardVersion,
): { dx: Float32Array; dweight: Float32Array; dbias: Float32Array } {
  const { N, C, S } = k;
  const dx = new Float32Array(N * C * S).fill(NaN);
  const dweight = new Float32Array(C).fill(NaN);
  const dbias = new Float32Array(C).fill(NaN);
  groupNormBackward({
    dy: into(dy, k, layout), x: into(k.x, k, layout), dims: { N, C, S }, numGroups: G, layout, weight: k.weight, mean: fwd.mean, rstd: fwd.rstd,
    dx, dweight, dbias, workspace: new GroupNormWorkspace(C), ...(version ? { version } : {}),
  });
  return { dx: back(dx, k, layout), dweight, dbias };
}

export interface InOptions {
  running?: InstanceNormRunning | null;
  useInputStats?: boolean;
  momentum?: number;
  version?: InstanceNormForwardVersion;
}

export function inKernel(k: ChannelCase, layout: ChannelLayout, options: InOptions = {}, workspace = new InstanceNormWorkspace(k.C)): KernelResult {
  const { N, C, S } = k;
  const y = new Float32Array(N * C * S).fill(NaN);
  const mean = new Float64Array(N * C).fill(NaN);
  const rstd = new Float64Array(N * C).fill(NaN);
  instanceNormForward({ x: into(k.x, k, layout), dims: { N, C, S }, layout, weight: k.weight, bias: k.bias, y, mean, rstd, workspace, ...options });
  return { y: back(y, k, layout), mean, rstd };
}

export function inKernelBackward(
  k: ChannelCase, layout: ChannelLayout, dy: Float32Array, fwd: KernelResult, useInputStats: boolean, version?: GroupNormBackwardVersion,
): { dx: Float32Array; dweight: Float32Array; dbias: Float32Array } {
  const { N, C, S } = k;
  const dx = new Float32Array(N * C * S).fill(NaN);
  const dweight = new Float32Array(C).fill(NaN);
  const dbias = new Float32Array(C).fill(NaN);
  instanceNormBackward({
    dy: into(dy, k, layout), x: into(k.x, k, layout), dims: { N, C, S }, layout, weight: k.weight, mean: fwd.mean, rstd: fwd.rstd,
    useInputStats, dx, dweight, dbias, workspace: new InstanceNormWorkspace(C), ...(version ? { version } : {}),
  });
  return { dx: back(dx, k, layout), dweight, dbias };
}

/** Every element of `got` within `bound(i)` of `want`; the failure lists the five worst (index, got, want, bound). */
export function expectWithin(got: ArrayLike<number>, want: ArrayLike<number>, bound: (i: number) => number, what: string): void {
  expect(compareWithBound(got, want, bound), `${what}: worst mismatches (index, got, want, bound)`).toEqual([]);
}

/** x = offset + z, z ~ N(0, 1) from `rng`, rounded to float32. */
export function offsetValues(n: number, offset: number, normal: () => number): Float32Array {
  return Float32Array.from({ length: n }, () => offset + normal());
}
