/**
 * The one signature every InstanceNorm version has: the versions in forward_impl.ts and wasm_impl.ts, listed in
 * kernels/registry.ts. Arguments are already checked (api.ts). InstanceNorm is GroupNorm with one group per
 * channel (G = C), so with the input's statistics a version runs its GroupNorm counterpart; what is its own is
 * the eval path, which normalises with given statistics (the running ones). The backward versions are
 * GroupNorm's, run with G = C (inputStats false for the running statistics).
 */
import type { GroupNormBackwardVersion, GroupNormForwardVersion } from '../groupnorm/version.js';
import type { GroupNormWorkspace } from '../groupnorm/workspace.js';

/** N batch, C channels, S spatial positions per instance (n, c). */
export interface InstanceDims {
  readonly N: number;
  readonly C: number;
  readonly S: number;
}

export interface InstanceNormForwardVersion {
  name: string;
  /** one line: what this version changes */
  description: string;
  /** use_input_stats: the GroupNorm version of the same approach, run with G = C */
  groups: GroupNormForwardVersion;
  /**
   * NCHW (N, C, S): y = (x - mean)·(w·rstd) + b with the given statistics of each instance, mean and rstd (N·C,
   * n-major). weight/bias null mean 1/0.
   */
  applyNchw(
    x: Float32Array, d: InstanceDims, weight: Float32Array | null, bias: Float32Array | null,
    mean: Float64Array, rstd: Float64Array, y: Float32Array, ws: GroupNormWorkspace,
  ): void;
  /** NHWC (N, S, C); the same. */
  applyNhwc(
    x: Float32Array, d: InstanceDims, weight: Float32Array | null, bias: Float32Array | null,
    mean: Float64Array, rstd: Float64Array, y: Float32Array, ws: GroupNormWorkspace,
  ): void;
}

/** The backward: GroupNorm's versions with G = C. */
export type InstanceNormBackwardVersion = GroupNormBackwardVersion;
