/**
 * GEMM version 2, register-blocked plain TypeScript: each form computes a 4×4 tile of the output in
 * 16 local accumulators, so every step of the reduction loads 8 values and does 16 multiply-adds, and
 * every load in the inner loop is either contiguous or a fixed stride (no transposed walk of a whole matrix).
 *
 * Sizes and forms as naive_impl.ts (N rows, I inputs, O outputs; weight (O, I)):
 *   xwt   y[n, o]  = Σ_i x[n, i]·W[o, i]    tile 4 n × 4 o; reduction over i walks rows of x and W, both contiguous
 *   dytx  dW[o, i] = Σ_n dy[n, o]·x[n, i]   tile 4 o × 4 i; for each n, loads dy[n, o..o+3] and x[n, i..i+3]
 *                                           (an outer product per row: no transposed copy needed)
 *   dyw   dx[n, i] = Σ_o dy[n, o]·W[o, i]   tile 4 n × 4 i; for each o, loads dy[n..n+3, o] and W[o, i..i+3]
 * Edges (N, I or O not a multiple of 4) fall back to one dot product per output over the same loops.
 * Accumulates in float64 like the naive version (exact products, rounded sums, one float32 rounding at the
 * store), and each output is still the sum in increasing order of the reduction index with the bias added
 * last, so the two versions agree bit for bit (a test checks that).
 */
import type { GemmDims, GemmVersion } from './version.js';

// ---------------------------------------------------------------------------------------------------------
// y = x·Wᵀ + b, optional ReLU

function xwtEdge(
  x: Float32Array, w: Float32Array, bias: Float32Array | null, relu: boolean, y: Float32Array,
  I: number, O: number, n0: number, n1: number, o0: number, o1: number,
): void {
  for (let n = n0; n < n1; n++) {
    for (let o = o0; o < o1; o++) {
      let acc = 0;
      const xr = n * I;
      const wr = o * I;
      for (let i = 0; i < I; i++) acc += x[xr + i]! * w[wr + i]!;
      if (bias !== null) acc += bias[o]!;
      y[n * O + o] = relu ? (acc > 0 ? acc : 0) : acc;
    }
  }
}

export function xwtBlocked(
  x: Float32Array, w: Float32Array, bias: Float32Array | null, relu: boolean, y: Float32Array, { N, I, O }: GemmDims,
): void {
  const N4 = N - (N % 4);
  const O4 = O - (O % 4);
  for (let n = 0; n < N4; n += 4) {
    const x0 = n * I, x1 = x0 + I, x2 = x1 + I, x3 = x2 + I;
    for (let o = 0; o < O4; o += 4) {
      const w0 = o * I, w1 = w0 + I, w2 = w1 + I, w3 = w2 + I;
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
      let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
      let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let i = 0; i < I; i++) {
        const a0 = x[x0 + i]!, a1 = x[x1 + i]!, a2 = x[x2 + i]!, a3 = x[x3 + i]!;
        const b0 = w[w0 + i]!, b1 = w[w1 + i]!, b2 = w[w2 + i]!, b3 = w[w3 + i]!;
        c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
        c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
        c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
        c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
      }
      // bias after the dot product, as the naive version and the edge loop add it
      const b0 = bias !== null ? bias[o]! : 0, b1 = bias !== null ? bias[o + 1]! : 0;
      const b2 = bias !== null ? bias[o + 2]! : 0, b3 = bias !== null ? bias[o + 3]! : 0;
      let r = n * O + o;
      y[r] = act(c00 + b0, relu); y[r + 1] = act(c01 + b1, relu); y[r + 2] = act(c02 + b2, relu); y[r + 3] = act(c03 + b3, relu);
      r += O;
      y[r] = act(c10 + b0, relu); y[r + 1] = act(c11 + b1, relu); y[r + 2] = act(c12 + b2, relu); y[r + 3] = act(c13 + b3, relu);
      r += O;
      y[r] = act(c20 + b0, relu); y[r + 1] = act(c21 + b1, relu); y[r + 2] = act(c22 + b2, relu); y[r + 3] = act(c23 + b3, relu);
      r += O;
      y[r] = act(c30 + b0, relu); y[r + 1] = act(c31 + b1, relu); y[r + 2] = act(c32 + b2, relu); y[r + 3] = act(c33 + b3, relu);
    }
    xwtEdge(x, w, bias, relu, y, I, O, n, n + 4, O4, O);
  }
  xwtEdge(x, w, bias, relu, y, I, O, N4, N, 0, O);
}

function act(v: number, relu: boolean): number {
  return relu ? (v > 0 ? v : 0) : v;
}

// ---------------------------------------------------------------------------------------------------------
// dW = dyᵀ·x

function dytxEdge(
  dy: Float32Array, x: Float32Array, dw: Float32Array, N: number, I: number, O: number,
  o0: number, o1: number, i0: number, i1: number,
): void {
  for (let o = o0; o < o1; o++) {
    for (let i = i0; i < i1; i++) {
      let acc = 0;
      for (let n = 0; n < N; n++) acc += dy[n * O + o]! * x[n * I + i]!;
      dw[o * I + i] = acc;
    }
  }
}

export function dytxBlocked(dy: Float32Array, x: Float32Array, dw: Float32Array, { N, I, O }: GemmDims): void {
  const O4 = O - (O % 4);
  const I4 = I - (I % 4);
  for (let o = 0; o < O4; o += 4) {
    for (let i = 0; i < I4; i += 4) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
      let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
      let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      let d = o;
      let xi = i;
      for (let n = 0; n < N; n++, d += O, xi += I) {
        const a0 = dy[d]!, a1 = dy[d + 1]!, a2 = dy[d + 2]!, a3 = dy[d + 3]!;
        const b0 = x[xi]!, b1 = x[xi + 1]!, b2 = x[xi + 2]!, b3 = x[xi + 3]!;
        c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
        c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
        c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
        c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
      }
      let r = o * I + i;
      dw[r] = c00; dw[r + 1] = c01; dw[r + 2] = c02; dw[r + 3] = c03;
      r += I;
      dw[r] = c10; dw[r + 1] = c11; dw[r + 2] = c12; dw[r + 3] = c13;
      r += I;
      dw[r] = c20; dw[r + 1] = c21; dw[r + 2] = c22; dw[r + 3] = c23;
      r += I;
      dw[r] = c30; dw[r + 1] = c31; dw[r + 2] = c32; dw[r + 3] = c33;
    }
    dytxEdge(dy, x, dw, N, I, O, o, o + 4, I4, I);
  }
  dytxEdge(dy, x, dw, N, I, O, O4, O, 0, I);
}

// ---------------------------------------------------------------------------------------------------------
// dx = dy·W, zeroed where mask ≤ 0

function dywEdge(
  dy: Float32Array, w: Float32Array, mask: Float32Array | null, dx: Float32Array, I: number, O: number,
  n0: number, n1: number, i0: number, i1: number,
): void {
  for (let n = n0; n < n1; n++) {
    for (let i = i0; i < i1; i++) {
      let acc = 0;
      for (let o = 0; o < O; o++) acc += dy[n * O + o]! * w[o * I + i]!;
      dx[n * I + i] = mask !== null && !(mask[n * I + i]! > 0) ? 0 : acc;
    }
  }
}

export function dywBlocked(
  dy: Float32Array, w: Float32Array, mask: Float32Array | null, dx: Float32Array, { N, I, O }: GemmDims,
): void {
  const N4 = N - (N % 4);
  const I4 = I - (I % 4);
  for (let n = 0; n < N4; n += 4) {
    const d0 = n * O, d1 = d0 + O, d2 = d1 + O, d3 = d2 + O;
    for (let i = 0; i < I4; i += 4) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
      let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
      let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      let wi = i;
      for (let o = 0; o < O; o++, wi += I) {
        const a0 = dy[d0 + o]!, a1 = dy[d1 + o]!, a2 = dy[d2 + o]!, a3 = dy[d3 + o]!;
        const b0 = w[wi]!, b1 = w[wi + 1]!, b2 = w[wi + 2]!, b3 = w[wi + 3]!;
        c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
        c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
        c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
        c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
      }
      let r = n * I + i;
      if (mask === null) {
        dx[r] = c00; dx[r + 1] = c01; dx[r + 2] = c02; dx[r + 3] = c03;
        r += I;
        dx[r] = c10; dx[r + 1] = c11; dx[r + 2] = c12; dx[r + 3] = c13;
        r += I;
        dx[r] = c20; dx[r + 1] = c21; dx[r + 2] = c22; dx[r + 3] = c23;
        r += I;
        dx[r] = c30; dx[r + 1] = c31; dx[r + 2] = c32; dx[r + 3] = c33;
      } else {
        // ReLU backward: the gradient passes only where the forward output was > 0
        dx[r] = mask[r]! > 0 ? c00 : 0; dx[r + 1] = mask[r + 1]! > 0 ? c01 : 0;
        dx[r + 2] = mask[r + 2]! > 0 ? c02 : 0; dx[r + 3] = mask[r + 3]! > 0 ? c03 : 0;
        r += I;
        dx[r] = mask[r]! > 0 ? c10 : 0; dx[r + 1] = mask[r + 1]! > 0 ? c11 : 0;
        dx[r + 2] = mask[r + 2]! > 0 ? c12 : 0; dx[r + 3] = mask[r + 3]! > 0 ? c13 : 0;
        r += I;
        dx[r] = mask[r]! > 0 ? c20 : 0; dx[r + 1] = mask[r + 1]! > 0 ? c21 : 0;
        dx[r + 2] = mask[r + 2]! > 0 ? c22 : 0; dx[r + 3] = mask[r + 3]! > 0 ? c23 : 0;
        r += I;
        dx[r] = mask[r]! > 0 ? c30 : 0; dx[r + 1] = mask[r + 1]! > 0 ? c31 : 0;
        dx[r + 2] = mask[r + 2]! > 0 ? c32 : 0; dx[r + 3] = mask[r + 3]! > 0 ? c33 : 0;
      }
    }
    dywEdge(dy, w, mask, dx, I, O, n, n + 4, I4, I);
  }
  dywEdge(dy, w, mask, dx, I, O, N4, N, 0, I);
}

export const GEMM_BLOCKED: GemmVersion = {
  name: 'blocked', description: '4×4 register tiles, float64 accumulation', accumulation: 'float64',
  xwt: xwtBlocked, dytx: dytxBlocked, dyw: dywBlocked,
};
