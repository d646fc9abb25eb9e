/**
 * The one signature every GEMM version has: the three forms of a Linear layer's training step (api.ts), the
 * versions in naive_impl.ts, blocked_impl.ts and wasm_impl.ts, all listed in kernels/registry.ts.
 * Arguments are already checked (api.ts).
 */

/** Sizes of one Linear layer in PyTorch's layout: N rows (batch), I input features, O output features. */
export interface GemmDims {
  N: number;
  I: number;
  O: number;
}

/** One implementation of the three forms; arguments already checked. */
export interface GemmVersion {
  name: string;
  description: string;
  /** The precision the sums are carried in, which sets the error bound. */
  accumulation: 'float64' | 'float32';
  xwt(x: Float32Array, weight: Float32Array, bias: Float32Array | null, relu: boolean, y: Float32Array, dims: GemmDims): void;
  dytx(dy: Float32Array, x: Float32Array, dweight: Float32Array, dims: GemmDims): void;
  dyw(dy: Float32Array, weight: Float32Array, reluMask: Float32Array | null, dx: Float32Array, dims: GemmDims): void;
}
