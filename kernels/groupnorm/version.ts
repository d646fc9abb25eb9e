/**
 * The one signature every GroupNorm version has, forward and backward: the versions in forward_impl.ts,
 * backward_impl.ts and wasm_impl.ts, all listed in kernels/registry.ts. Arguments are already checked (api.ts);
 * sizes and layouts as in forward_impl.ts. InstanceNorm runs these with G = C (instancenorm/).
 */
import type { GroupNormWorkspace } from './workspace.js';

/** N batch, C channels, G groups (G divides C), S spatial positions per (n, c). */
export interface GroupDims {
  readonly N: number;
  readonly C: number;
  readonly G: number;
  readonly S: number;
}

export interface GroupNormForwardVersion {
  name: string;
  /** one line: what this version changes */
  description: string;
  /**
   * NCHW (N, C, S). Writes y (N·C·S), mean and rstd (N·G, n-major) and, when given, the first N·G values of
   * variance (each group's biased variance, which InstanceNorm's running statistics take). weight/bias null mean 1/0.
   */
  nchw(
    x: Float32Array, d: GroupDims, weight: Float32Array | null, bias: Float32Array | null, eps: number,
    y: Float32Array, mean: Float64Array, rstd: Float64Array, variance: Float64Array | null, ws: GroupNormWorkspace,
  ): void;
  /** NHWC (N, S, C); the same outputs. */
  nhwc(
    x: Float32Array, d: GroupDims, weight: Float32Array | null, bias: Float32Array | null, eps: number,
    y: Float32Array, mean: Float64Array, rstd: Float64Array, variance: Float64Array | null, ws: GroupNormWorkspace,
  ): void;
}

export interface GroupNormBackwardVersion {
  name: string;
  /** one line: what this version changes */
  description: string;
  /**
   * NCHW (N, C, S). Writes dx (N·C·S) and, when given, dweight and dbias (C). `inputStats`: the forward's mean
   * and rstd are the groups' own (they depend on x: GroupNorm, InstanceNorm with use_input_stats); false: they
   * are constants (InstanceNorm's running statistics), and dx = weight·rstd·dy.
   */
  nchw(
    dy: Float32Array, x: Float32Array, d: GroupDims, weight: Float32Array | null, mean: Float64Array, rstd: Float64Array,
    inputStats: boolean, dx: Float32Array, dweight: Float32Array | null, dbias: Float32Array | null, ws: GroupNormWorkspace,
  ): void;
  /** NHWC (N, S, C); the same outputs. */
  nhwc(
    dy: Float32Array, x: Float32Array, d: GroupDims, weight: Float32Array | null, mean: Float64Array, rstd: Float64Array,
    inputStats: boolean, dx: Float32Array, dweight: Float32Array | null, dbias: Float32Array | null, ws: GroupNormWorkspace,
  ): void;
}
