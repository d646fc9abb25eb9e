/**
 * The one signature every BatchNorm version has (llm.c's dev/cuda keeps its versions side by side the same way):
 * the training and eval forward versions in forward_impl.ts and wasm_impl.ts, the backward versions in backward_impl.ts and
 * wasm_impl.ts, all listed in kernels/registry.ts. Arguments are already checked (api.ts); sizes and layouts as
 * in forward_impl.ts.
 */
import type { BatchNormWorkspace } from './workspace.js';

export interface BatchNormForwardVersion {
  name: string;
  /** one line: what this version changes */
  description: string;
  /**
   * Training forward for (N, C, S) NCHW. Writes y (N·C·S), mean and rstd (C), ws.variance (C, biased).
   * weight/bias null mean 1/0.
   */
  nchw(
    x: Float32Array, N: number, C: number, S: number, weight: Float32Array | null, bias: Float32Array | null,
    eps: number, relu: boolean, y: Float32Array, mean: Float64Array, rstd: Float64Array, ws: BatchNormWorkspace,
  ): void;
  /** Training forward for (M, C) channels-last; the same outputs. */
  nhwc(
    x: Float32Array, M: number, C: number, weight: Float32Array | null, bias: Float32Array | null,
    eps: number, relu: boolean, y: Float32Array, mean: Float64Array, rstd: Float64Array, ws: BatchNormWorkspace,
  ): void;
}

export interface BatchNormEvalVersion {
  name: string;
  /** one line: what this version changes */
  description: string;
  /** Eval forward for (N, C, S) NCHW from the running statistics. Writes y, mean (= runningMean) and rstd (C). */
  nchw(
    x: Float32Array, N: number, C: number, S: number, weight: Float32Array | null, bias: Float32Array | null,
    runningMean: Float32Array, runningVar: Float32Array, eps: number, relu: boolean,
    y: Float32Array, mean: Float64Array, rstd: Float64Array, ws: BatchNormWorkspace,
  ): void;
  /** (M, C) channels-last; the same outputs. */
  nhwc(
    x: Float32Array, M: number, C: number, weight: Float32Array | null, bias: Float32Array | null,
    runningMean: Float32Array, runningVar: Float32Array, eps: number, relu: boolean,
    y: Float32Array, mean: Float64Array, rstd: Float64Array, ws: BatchNormWorkspace,
  ): void;
}

export interface BatchNormBackwardVersion {
  name: string;
  /** one line: what this version changes */
  description: string;
  /** NCHW (N, C, S). Writes dx (N·C·S) and, when given, dweight and dbias (C). */
  nchw(
    dy: Float32Array, x: Float32Array, N: number, C: number, S: number,
    weight: Float32Array | null, mean: Float64Array, rstd: Float64Array,
    training: boolean, reluOutput: Float32Array | null, dx: Float32Array, dweight: Float32Array | null, dbias: Float32Array | null,
    ws: BatchNormWorkspace,
  ): void;
  /** (M, C) channels-last; the same outputs. */
  nhwc(
    dy: Float32Array, x: Float32Array, M: number, C: number,
    weight: Float32Array | null, mean: Float64Array, rstd: Float64Array,
    training: boolean, reluOutput: Float32Array | null, dx: Float32Array, dweight: Float32Array | null, dbias: Float32Array | null,
    ws: BatchNormWorkspace,
  ): void;
}
