/**
 * The one signature every LayerNorm version has, forward and backward: the versions in forward_impl.ts,
 * backward_impl.ts and wasm_impl.ts, all listed in kernels/registry.ts. Arguments are already checked (api.ts).
 */

export interface LayerNormForwardVersion {
  name: string;
  /** one line: what this version changes */
  description: string;
  /** Writes y (R·D), mean and rstd (R). weight/bias null mean 1/0. */
  forward(
    x: Float32Array, R: number, D: number, weight: Float32Array | null, bias: Float32Array | null, eps: number,
    y: Float32Array, mean: Float64Array, rstd: Float64Array,
  ): void;
}

export interface LayerNormBackwardVersion {
  name: string;
  /** one line: what this version changes */
  description: string;
  /**
   * Writes dx (R·D) and, when given, dweight and dbias (D), accumulating them across rows in the float64
   * `accWeight`, `accBias` (D each, from the workspace). `weight` is never null here: api.ts passes the
   * workspace's array of ones for elementwise_affine = false, so the loops have one shape.
   */
  backward(
    dy: Float32Array, x: Float32Array, R: number, D: number, weight: Float32Array,
    mean: Float64Array, rstd: Float64Array, dx: Float32Array, dweight: Float32Array | null, dbias: Float32Array | null,
    accWeight: Float64Array, accBias: Float64Array,
  ): void;
}
