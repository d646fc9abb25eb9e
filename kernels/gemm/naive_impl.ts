/**
 * GEMM version 1, naive: the three Linear products as plain triple loops, one dot product per output.
 *
 * Sizes: N rows (batch), I input features, O output features; weight is (O, I) as in torch.nn.Linear.
 *   xwt   y  (N, O) = x (N, I) · weightᵀ + bias, then ReLU if asked      forward
 *   dytx  dW (O, I) = dy (N, O)ᵀ · x (N, I)                             weight gradient
 *   dyw   dx (N, I) = dy (N, O) · weight (O, I), zeroed where mask ≤ 0   input gradient (ReLU backward fused)
 * Accumulates in float64 (JS numbers): a float32·float32 product has at most 48 significant bits, so each
 * product is exact in float64 and only the additions round (u64 = 2⁻⁵³); the store rounds once to float32.
 * No argument checks here: api.ts checks and then calls a version. The baseline every other version is
 * validated and timed against; dytx and dyw have strided inner loops, which is what the blocked version fixes.
 */
import type { GemmDims, GemmVersion } from './version.js';

export function xwtNaive(
  x: Float32Array, weight: Float32Array, bias: Float32Array | null, relu: boolean, y: Float32Array, { N, I, O }: GemmDims,
): void {
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      let acc = 0;
      for (let i = 0; i < I; i++) acc += x[n * I + i]! * weight[o * I + i]!;
      if (bias !== null) acc += bias[o]!; // after the dot product, as every version adds it
      y[n * O + o] = relu ? (acc > 0 ? acc : 0) : acc;
    }
  }
}

export function dytxNaive(dy: Float32Array, x: Float32Array, dweight: Float32Array, { N, I, O }: GemmDims): void {
  for (let o = 0; o < O; o++) {
    for (let i = 0; i < I; i++) {
      let acc = 0;
      for (let n = 0; n < N; n++) acc += dy[n * O + o]! * x[n * I + i]!;
      dweight[o * I + i] = acc;
    }
  }
}

export function dywNaive(
  dy: Float32Array, weight: Float32Array, mask: Float32Array | null, dx: Float32Array, { N, I, O }: GemmDims,
): void {
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < I; i++) {
      let acc = 0;
      for (let o = 0; o < O; o++) acc += dy[n * O + o]! * weight[o * I + i]!;
      dx[n * I + i] = mask !== null && !(mask[n * I + i]! > 0) ? 0 : acc;
    }
  }
}

export const GEMM_NAIVE: GemmVersion = {
  name: 'naive', description: 'triple loops, float64 accumulation', accumulation: 'float64',
  xwt: xwtNaive, dytx: dytxNaive, dyw: dywNaive,
};
