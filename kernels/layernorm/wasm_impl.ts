/**
 * LayerNorm versions "wasm": the onePass forward (forward_impl.ts) and the row-by-row backward (backward_impl.ts)
 * with their element loops in WebAssembly SIMD (wasm_module.ts: sums, lnnorm, lnbsums, lnbdx), two float64 lanes
 * per instruction, the same expressions bit for bit; only the order of the sums differs. Inputs, weight and bias
 * are copied into the shared memory and the output out (shared/wasm_runtime.ts); dweight and dbias accumulate in
 * its float64 arrays. Falls back to the TypeScript versions where WebAssembly SIMD is unavailable or its memory
 * cannot grow to the problem.
 */
import { align16, f32View } from '../shared/wasm_runtime.js';
import { LN_BACKWARD_FOUR_ROWS } from './backward_impl.js';
import { LN_FORWARD_ONE_PASS, onePassStatisticsRow } from './forward_impl.js';
import type { LayerNormBackwardVersion, LayerNormForwardVersion } from './version.js';
import { layerNormWasm } from './wasm_module.js';

/** Byte layout: x, y-or-dy, dx (R·D float32 each), weight, bias (D float32), accW, accB (D float64), out (16). */
function layout(n: number, D: number) {
  const big = align16(4 * n);
  const row = align16(4 * D);
  const acc = align16(8 * D);
  const out = 3 * big + 2 * row + 2 * acc;
  return { a: 0, b: big, c: 2 * big, w: 3 * big, bias: 3 * big + row, accW: 3 * big + 2 * row, accB: 3 * big + 2 * row + acc, out, end: out + 16 };
}

function forward(
  x: Float32Array, R: number, D: number, weight: Float32Array | null, bias: Float32Array | null, eps: number,
  y: Float32Array, mean: Float64Array, rstd: Float64Array,
): void {
  const n = R * D;
  const l = layout(n, D);
  const wasm = layerNormWasm(l.end);
  if (wasm === null) {
    LN_FORWARD_ONE_PASS.forward(x, R, D, weight, bias, eps, y, mean, rstd);
    return;
  }
  const { fn: k, heap: w } = wasm;
  w.f32.set(x, l.a >> 2);
  if (weight !== null) w.f32.set(weight, l.w >> 2);
  else w.f32.fill(1, l.w >> 2, (l.w >> 2) + D);
  if (bias !== null) w.f32.set(bias, l.bias >> 2);
  else w.f32.fill(0, l.bias >> 2, (l.bias >> 2) + D);
  const wf = w.f32;
  const D4 = D >> 2;
  const out = l.out >> 3;
  for (let row = 0; row < R; row++) {
    const base = row * D;
    // Σ(x - K), Σ(x - K)²: quadruples in wasm, the rest here
    const K = x[base]!;
    k.sums(l.a + 4 * base, D4, K, l.out);
    let s1 = w.f64[out]!;
    let s2 = w.f64[out + 1]!;
    for (let i = base + 4 * D4; i < base + D; i++) {
      const d = x[i]! - K;
      s1 += d;
      s2 += d * d;
    }
    // variance, biased (the exact second pass, in TypeScript, when the shifted formula may have cancelled); rstd
    onePassStatisticsRow(x, base, D, K, s1, s2, eps, row, mean, rstd);
    const dm = s1 / D;
    const r = rstd[row]!;
    // normalise, scale and shift: quadruples in wasm, the rest here
    k.lnnorm(l.a + 4 * base, l.b + 4 * base, l.w, l.bias, D4, K, dm, r);
    for (let i = 4 * D4; i < D; i++) {
      wf[(l.b >> 2) + base + i] = (x[base + i]! - K - dm) * r * wf[(l.w >> 2) + i]! + wf[(l.bias >> 2) + i]!;
    }
  }
  y.set(f32View(w, l.b, n));
}

export const LN_FORWARD_WASM: LayerNormForwardVersion = {
  name: 'wasm',
  description: 'onePass with WebAssembly SIMD (f64x2) element loops, through the module memory',
  forward,
};

function backward(
  dy: Float32Array, x: Float32Array, R: number, D: number, weight: Float32Array,
  mean: Float64Array, rstd: Float64Array, dx: Float32Array, dweight: Float32Array | null, dbias: Float32Array | null,
  accWeight: Float64Array, accBias: Float64Array,
): void {
  const n = R * D;
  const l = layout(n, D);
  const wasm = layerNormWasm(l.end);
  if (wasm === null) {
    LN_BACKWARD_FOUR_ROWS.backward(dy, x, R, D, weight, mean, rstd, dx, dweight, dbias, accWeight, accBias);
    return;
  }
  const { fn: k, heap: w } = wasm;
  w.f32.set(dy, l.a >> 2);
  w.f32.set(x, l.b >> 2);
  w.f32.set(weight, l.w >> 2);
  const f64 = w.f64;
  const aw = l.accW >> 3;
  const ab = l.accB >> 3;
  f64.fill(0, aw, aw + D);
  f64.fill(0, ab, ab + D);
  const D4 = D >> 2;
  const out = l.out >> 3;
  for (let row = 0; row < R; row++) {
    const base = row * D;
    const m = mean[row]!;
    const r = rstd[row]!;
    // reductions over the row: Σg and Σg·(x - mean), g = dy·weight
    k.lnbsums(l.a + 4 * base, l.b + 4 * base, l.w, D4, m, l.out);
    let sumG = f64[out]!;
    let sumGXc = f64[out + 1]!;
    for (let i = 4 * D4; i < D; i++) {
      const g = dy[base + i]! * weight[i]!;
      sumG += g;
      sumGXc += g * (x[base + i]! - m);
    }
    // dx = rstd·g - k0 - (x - mean)·k1; dweight += dy·x̂, dbias += dy
    const k0 = (r * sumG) / D;
    const k1 = (r * r * r * sumGXc) / D;
    k.lnbdx(l.a + 4 * base, l.b + 4 * base, l.w, l.c + 4 * base, l.accW, l.accB, D4, m, r, k0, k1);
    for (let i = 4 * D4; i < D; i++) {
      const d = dy[base + i]!;
      const xc = x[base + i]! - m;
      w.f32[(l.c >> 2) + base + i] = r * (d * weight[i]!) - k0 - xc * k1;
      f64[aw + i] = f64[aw + i]! + d * xc * r;
      f64[ab + i] = f64[ab + i]! + d;
    }
  }
  dx.set(f32View(w, l.c, n));
  if (dweight !== null) for (let i = 0; i < D; i++) dweight[i] = f64[aw + i]!;
  if (dbias !== null) for (let i = 0; i < D; i++) dbias[i] = f64[ab + i]!;
}

export const LN_BACKWARD_WASM: LayerNormBackwardVersion = {
  name: 'wasm',
  description: 'row by row with WebAssembly SIMD (f64x2) element loops, dweight/dbias in float64 module memory',
  backward,
};
