/**
 * BatchNorm version "wasm": the blocked versions' algorithms with their element loops in WebAssembly SIMD
 * (wasm_module.ts), two float64 lanes per instruction and no bounds checks. Same statistics (shifted
 * one-pass sums, checked, exact second pass in TypeScript when needed), same expressions, float64 throughout.
 *
 * The loops read and write the module's own memory, so each call copies its inputs in (x; dy and x) and its
 * output out (y; dx) with TypedArray.set — memcpy speed, a few ms per 51 MB array, paid for loops roughly twice as
 * fast. The memory grows once to the largest problem seen and is then reused: no allocation per call.
 * The fused ReLU runs in the SIMD loops on the forward (v & (v > 0)); the backward falls back to the blocked
 * TypeScript loops when given `reluOutput`, as both directions do for channels-last inputs with odd C (the SIMD
 * loops take channel pairs), and everywhere when WebAssembly SIMD is not available or its memory cannot grow.
 */
import { align16, f32View, type WasmHeap } from '../shared/wasm_runtime.js';
import { backwardConstantsNhwc, BN_BACKWARD_BLOCKED } from './backward_impl.js';
import { BN_FORWARD_BLOCKED, finishStatistics, onePassStatisticsNchw, onePassStatisticsNhwc } from './forward_impl.js';
import type { BatchNormBackwardVersion, BatchNormForwardVersion } from './version.js';
import { batchNormWasm } from './wasm_module.js';
import type { BatchNormWorkspace } from './workspace.js';

/**
 * Byte layout for a call on n values and C channels: up to three float32 arrays of n, eight float64 arrays of C
 * (shift, dm, scale, offset, sum1, sum2, k0, k1; 16-byte aligned), and 16 bytes for the returned pair of sums.
 */
interface Layout {
  a: number; // float32 array 0
  b: number; // float32 array 1
  c: number; // float32 array 2
  ch: number; // first float64 per-channel array
  chStride: number; // bytes between per-channel arrays
  out: number;
  end: number; // bytes used
}

/** The layout for (n, C). */
function layout(n: number, C: number): Layout {
  const f32Bytes = align16(4 * n);
  const chStride = align16(8 * C);
  const out = 3 * f32Bytes + 8 * chStride;
  return { a: 0, b: f32Bytes, c: 2 * f32Bytes, ch: 3 * f32Bytes, chStride, out, end: out + 16 };
}

// per-channel float64 array k of the layout, as a byte address
const CH_SHIFT = 0, CH_DM = 1, CH_SCALE = 2, CH_OFFSET = 3, CH_SUM1 = 4, CH_SUM2 = 5, CH_K0 = 6, CH_K1 = 7;
const chAddr = (l: Layout, k: number): number => l.ch + k * l.chStride;

/** Copies the C float64 values (a per-channel array of exactly C) into per-channel array k. */
function putChannels(h: WasmHeap, l: Layout, k: number, values: Float64Array): void {
  h.f64.set(values, chAddr(l, k) >> 3);
}

// ---------------------------------------------------------------------------------------------------------
// Forward

function forwardNchw(
  x: Float32Array, N: number, C: number, S: number, weight: Float32Array | null, bias: Float32Array | null,
  eps: number, relu: boolean, y: Float32Array, mean: Float64Array, rstd: Float64Array, ws: BatchNormWorkspace,
): void {
  const n = N * C * S;
  const l = layout(n, C);
  const wasm = batchNormWasm(l.end);
  if (wasm === null) {
    BN_FORWARD_BLOCKED.nchw(x, N, C, S, weight, bias, eps, relu, y, mean, rstd, ws);
    return;
  }
  const { fn: k, heap: w } = wasm;
  w.f32.set(x, l.a >> 2);
  const M = N * S;
  const CS = C * S;
  const S4 = S >> 2;
  const out = l.out >> 3;
  for (let c = 0; c < C; c++) {
    // Σ(x - K), Σ(x - K)², K = first value of the channel: quadruples in wasm, the rest here
    const K = x[c * S]!;
    let s1 = 0;
    let s2 = 0;
    for (let nn = 0; nn < N; nn++) {
      const base = nn * CS + c * S;
      k.sums(l.a + 4 * base, S4, K, l.out);
      s1 += w.f64[out]!;
      s2 += w.f64[out + 1]!;
      for (let i = base + 4 * S4; i < base + S; i++) {
        const d = x[i]! - K;
        s1 += d;
        s2 += d * d;
      }
    }
    // variance, biased (the exact second pass, in TypeScript, when the shifted formula may have cancelled); rstd
    onePassStatisticsNchw(x, N, C, S, c, K, s1, s2, eps, mean, rstd, ws);
    // normalise, scale and shift: quadruples in wasm (into its copy of y), the rest here
    const dm = s1 / M;
    const scale = (weight !== null ? weight[c]! : 1) * rstd[c]!;
    const b = bias !== null ? bias[c]! : 0;
    for (let nn = 0; nn < N; nn++) {
      const base = nn * CS + c * S;
      (relu ? k.normRelu : k.norm)(l.a + 4 * base, l.b + 4 * base, S4, K, dm, scale, b);
      for (let i = base + 4 * S4; i < base + S; i++) {
        const v = (x[i]! - K - dm) * scale + b;
        w.f32[(l.b >> 2) + i] = relu && !(v > 0) ? 0 : v;
      }
    }
  }
  y.set(f32View(w, l.b, n));
}

function forwardNhwc(
  x: Float32Array, M: number, C: number, weight: Float32Array | null, bias: Float32Array | null,
  eps: number, relu: boolean, y: Float32Array, mean: Float64Array, rstd: Float64Array, ws: BatchNormWorkspace,
): void {
  const n = M * C;
  const l = layout(n, C);
  const wasm = C % 2 === 0 ? batchNormWasm(l.end) : null;
  if (wasm === null) {
    BN_FORWARD_BLOCKED.nhwc(x, M, C, weight, bias, eps, relu, y, mean, rstd, ws);
    return;
  }
  const { fn: k, heap: w } = wasm;
  w.f32.set(x, l.a >> 2);
  // Σ(x - K), Σ(x - K)², K = row 0 (dm = 0 for now)
  for (let c = 0; c < C; c++) ws.shift[c] = x[c]!;
  putChannels(w, l, CH_SHIFT, ws.shift);
  const ch = (k: number): number => chAddr(l, k) >> 3;
  w.f64.fill(0, ch(CH_DM), ch(CH_DM) + C);
  w.f64.fill(0, ch(CH_SUM1), ch(CH_SUM1) + C);
  w.f64.fill(0, ch(CH_SUM2), ch(CH_SUM2) + C);
  k.colsums(l.a, M, C >> 1, chAddr(l, CH_SHIFT), chAddr(l, CH_DM), chAddr(l, CH_SUM1), chAddr(l, CH_SUM2));
  for (let c = 0; c < C; c++) {
    ws.sum1[c] = w.f64[ch(CH_SUM1) + c]!;
    ws.sum2[c] = w.f64[ch(CH_SUM2) + c]!;
  }
  const recheck = onePassStatisticsNhwc(M, C, mean, ws);
  const dm = ws.sum1;
  putChannels(w, l, CH_DM, dm);
  // the exact second pass, Σ((x - K) - dm)², if any channel may have cancelled
  if (recheck) {
    w.f64.fill(0, ch(CH_SUM1), ch(CH_SUM1) + C);
    w.f64.fill(0, ch(CH_SUM2), ch(CH_SUM2) + C);
    k.colsums(l.a, M, C >> 1, chAddr(l, CH_SHIFT), chAddr(l, CH_DM), chAddr(l, CH_SUM1), chAddr(l, CH_SUM2));
    for (let c = 0; c < C; c++) ws.variance[c] = w.f64[ch(CH_SUM2) + c]! / M;
  }
  // rstd, scale, offset; normalise
  finishStatistics(C, weight, bias, eps, ws.variance, rstd, ws);
  putChannels(w, l, CH_SCALE, ws.scale);
  putChannels(w, l, CH_OFFSET, ws.offset);
  (relu ? k.colnormRelu : k.colnorm)(l.a, l.b, M, C >> 1, chAddr(l, CH_SHIFT), chAddr(l, CH_DM), chAddr(l, CH_SCALE), chAddr(l, CH_OFFSET));
  y.set(f32View(w, l.b, n));
}

export const BN_FORWARD_WASM: BatchNormForwardVersion = {
  name: 'wasm',
  description: 'blocked, element loops in WebAssembly SIMD (f64x2), inputs and outputs copied through its memory',
  nchw: forwardNchw,
  nhwc: forwardNhwc,
};

// ---------------------------------------------------------------------------------------------------------
// Backward

function backwardNchw(
  dy: Float32Array, x: Float32Array, N: number, C: number, S: number,
  weight: Float32Array | null, mean: Float64Array, rstd: Float64Array,
  training: boolean, reluOutput: Float32Array | null, dx: Float32Array, dweight: Float32Array | null, dbias: Float32Array | null,
  ws: BatchNormWorkspace,
): void {
  const n = N * C * S;
  const l = layout(n, C);
  const wasm = reluOutput === null ? batchNormWasm(l.end) : null;
  if (wasm === null) {
    BN_BACKWARD_BLOCKED.nchw(dy, x, N, C, S, weight, mean, rstd, training, reluOutput, dx, dweight, dbias, ws);
    return;
  }
  const { fn: k, heap: w } = wasm;
  w.f32.set(dy, l.a >> 2);
  w.f32.set(x, l.b >> 2);
  const M = N * S;
  const CS = C * S;
  const S4 = S >> 2;
  const out = l.out >> 3;
  for (let c = 0; c < C; c++) {
    const m = mean[c]!;
    const r = rstd[c]!;
    const scale = (weight !== null ? weight[c]! : 1) * r;
    // reductions: Σ dy and Σ dy·(x - mean)
    let sumDy = 0;
    let sumDyXc = 0;
    for (let nn = 0; nn < N; nn++) {
      const base = nn * CS + c * S;
      k.bsums(l.a + 4 * base, l.b + 4 * base, S4, m, l.out);
      sumDy += w.f64[out]!;
      sumDyXc += w.f64[out + 1]!;
      for (let i = base + 4 * S4; i < base + S; i++) {
        sumDy += dy[i]!;
        sumDyXc += dy[i]! * (x[i]! - m);
      }
    }
    const sumDyXhat = sumDyXc * r;
    if (dbias !== null) dbias[c] = sumDy;
    if (dweight !== null) dweight[c] = sumDyXhat;
    // per-element terms: dx = scale·dy - k0 - (x - mean)·k1
    const k0 = training ? (scale * sumDy) / M : 0;
    const k1 = training ? (scale * r * sumDyXhat) / M : 0;
    for (let nn = 0; nn < N; nn++) {
      const base = nn * CS + c * S;
      k.bdx(l.a + 4 * base, l.b + 4 * base, l.c + 4 * base, S4, m, scale, k0, k1);
      for (let i = base + 4 * S4; i < base + S; i++) w.f32[(l.c >> 2) + i] = scale * dy[i]! - k0 - (x[i]! - m) * k1;
    }
  }
  dx.set(f32View(w, l.c, n));
}

function backwardNhwc(
  dy: Float32Array, x: Float32Array, M: number, C: number,
  weight: Float32Array | null, mean: Float64Array, rstd: Float64Array,
  training: boolean, reluOutput: Float32Array | null, dx: Float32Array, dweight: Float32Array | null, dbias: Float32Array | null,
  ws: BatchNormWorkspace,
): void {
  const n = M * C;
  const l = layout(n, C);
  const wasm = reluOutput === null && C % 2 === 0 ? batchNormWasm(l.end) : null;
  if (wasm === null) {
    BN_BACKWARD_BLOCKED.nhwc(dy, x, M, C, weight, mean, rstd, training, reluOutput, dx, dweight, dbias, ws);
    return;
  }
  const { fn: k, heap: w } = wasm;
  w.f32.set(dy, l.a >> 2);
  w.f32.set(x, l.b >> 2);
  const ch = (k: number): number => chAddr(l, k) >> 3;
  // mean lives in the shift slot: (x - mean) is the loops' (x - shift)
  putChannels(w, l, CH_SHIFT, mean);
  w.f64.fill(0, ch(CH_SUM1), ch(CH_SUM1) + C);
  w.f64.fill(0, ch(CH_SUM2), ch(CH_SUM2) + C);
  k.colbsums(l.a, l.b, M, C >> 1, chAddr(l, CH_SHIFT), chAddr(l, CH_SUM1), chAddr(l, CH_SUM2));
  const { scale, k0, k1 } = ws;
  for (let c = 0; c < C; c++) {
    ws.sum1[c] = w.f64[ch(CH_SUM1) + c]!;
    ws.sum2[c] = w.f64[ch(CH_SUM2) + c]!;
  }
  backwardConstantsNhwc(M, C, weight, rstd, training, dweight, dbias, ws);
  putChannels(w, l, CH_SCALE, scale);
  putChannels(w, l, CH_K0, k0);
  putChannels(w, l, CH_K1, k1);
  k.colbdx(l.a, l.b, l.c, M, C >> 1, chAddr(l, CH_SHIFT), chAddr(l, CH_SCALE), chAddr(l, CH_K0), chAddr(l, CH_K1));
  dx.set(f32View(w, l.c, n));
}

export const BN_BACKWARD_WASM: BatchNormBackwardVersion = {
  name: 'wasm',
  description: 'blocked, element loops in WebAssembly SIMD (f64x2), inputs and outputs copied through its memory',
  nchw: backwardNchw,
  nhwc: backwardNhwc,
};
