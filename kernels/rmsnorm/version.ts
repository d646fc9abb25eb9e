/**
 * The one signature every RMSNorm version has, forward and backward: the versions in forward_impl.ts,
 * backward_impl.ts and wasm_impl.ts, all listed in kernels/registry.ts. Arguments are already checked (api.ts).
 */

export interface RmsNormForwardVersion {
  name: string;
  /** one line: what this version changes */
  description: string;
  /** Writes y (R·D) and rstd (R). weight null means 1; eps is the value to use (api.ts resolves null). */
  forward(x: Float32Array, R: number, D: number, weight: Float32Array | null, eps: number, y: Float32Array, rstd: Float64Array): void;
}

export interface RmsNormBackwardVersion {
  name: string;
  /** one line: what this version changes */
  description: string;
  /**
   * Writes dx (R·D) and, when given, dweight (D), accumulated across rows in the float64 `accWeight` (D, from the
   * workspace). `weight` is never null here: api.ts passes the workspace's ones for elementwise_affine = false.
   */
  backward(
    dy: Float32Array, x: Float32Array, R: number, D: number, weight: Float32Array, rstd: Float64Array,
    dx: Float32Array, dweight: Float32Array | null, accWeight: Float64Array,
  ): void;
}
