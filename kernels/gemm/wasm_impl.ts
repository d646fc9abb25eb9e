/**
 * GEMM version 3, WebAssembly SIMD: the three forms mapped onto one micro-kernel (wasm_module.ts) computing
 * C = A·B with A in packed 4-row tiles and B read 8 columns at a time.
 *
 *   form   C (M × cols)        A (M × K), packed by               B (K × cols)
 *   xwt    y  = x·Wᵀ  N × O    packRows4 from x (rows of I)       Wᵀ, packed into 8-column panels by packT
 *   dytx   dW = dyᵀ·x O × I    packA4 from dy (dyᵀ: columns)      x as it is, rows of I
 *   dyw    dx = dy·W  N × I    packRows4 from dy (rows of O)      W as it is, rows of I
 * Operands that live in the kernels' memory (shared/wasm_arrays.ts) are read in place (the packing passes read
 * them there); others are copied into its scratch block first (a memcpy each). The packing passes are wasm.
 * Every form's inner loop reads 32 contiguous bytes of B and 16 of A per k, so none of them pays for a
 * transposed operand. Rows are padded to a multiple of 4 and columns to a multiple of 8 (padded rows and columns
 * of C are discarded); C is the output itself when the tiles cover it exactly and there is no epilogue (dW, dx),
 * else the wasm epilogue writes the output from it, adding the bias and applying the ReLU or its mask on the way.
 * k is blocked by KC so a block of B stays in L1.
 *
 * Accumulation is float32 (f32x4 lanes, k in order): |ŝ - s| ≤ γ_k(u32)·Σ|a||b|, u32 = 2⁻²⁴, with the bias as one
 * more term added in float64 and rounded once. The memory grows to the largest problem seen and is reused:
 * calls after the first at a given size allocate nothing.
 */
import { beginStage, finishOut, slot, stageBytes, stagedBytes, stageIn, stageOut } from '../shared/stage.js';
import { inHeap } from '../shared/wasm_runtime.js';
import type { GemmDims, GemmVersion } from './version.js';
import { gemmWasm } from './wasm_module.js';

/**
 * k-block: one block of a B panel is KC·32 bytes = 8 KB, a quarter of a 32 KB L1, leaving room for the 4 rows
 * of A the tile reads. The seed network's reductions (784, 256, 128) take 1 to 4 blocks.
 */
export const KC = 256;

/** True when this JavaScript engine runs WebAssembly SIMD (Node ≥ 16.4). */
export function wasmSimdAvailable(): boolean {
  return gemmWasm() !== null;
}

/** The module's instance, its function names taken from wasm_module.ts's list (not repeated here). */
type Gemm = NonNullable<ReturnType<typeof gemmWasm>>;

/** The module with `bytes` of scratch reserved (the version is listed only where the engine runs WebAssembly SIMD). */
function instance(bytes: number): Gemm {
  const rt = gemmWasm();
  if (rt === null || !beginStage(rt.heap, bytes)) {
    throw new Error('GEMM version wasm-simd: this engine has no WebAssembly SIMD, or its memory cannot grow');
  }
  return rt;
}

/**
 * C = A·B over K, one micro-kernel call per k-block (byte offsets and strides as wasm_module.ts), A in packed
 * 4-row tiles (packRows4, packA4: tile t at a + t·K·16, k at 16 bytes per step).
 */
function gemmPackedA(rt: Gemm, a: number, b: number, pstride4: number, bk4: number, c: number, Mt: number, P: number, K: number, ldc4: number): void {
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = Math.min(KC, K - k0);
    rt.fn.gemm(a + 16 * k0, 16 * K, b + k0 * bk4, pstride4, bk4, c, Mt, P, kc, ldc4, k0 > 0 ? 1 : 0);
  }
}

/**
 * An operand the micro-kernel reads in place when it lives in the kernels' memory (reads past its end, into
 * padded rows or columns whose results are discarded, stay inside the memory: every block is followed by other
 * blocks or the memory's guard zone) and `inPlace` allows; otherwise a copy followed by `pad` zero floats.
 */
function operand(rt: Gemm, a: Float32Array, pad: number, inPlace: boolean): number {
  if (inPlace && inHeap(rt.heap, a)) return a.byteOffset;
  const at = stageBytes(4 * (a.length + pad));
  rt.heap.f32.set(a, at >> 2);
  rt.heap.f32.fill(0, (at >> 2) + a.length, (at >> 2) + a.length + pad);
  return at;
}

const operandBytes = (rt: Gemm, a: Float32Array, pad: number, inPlace: boolean): number =>
  inPlace && inHeap(rt.heap, a) ? 0 : slot(4 * (a.length + pad));

/** The 4-row tiles (packRows4) of a row-major (rows, K) operand, read in place or from a copy; their address. */
function packedRows(rt: Gemm, a: Float32Array, rows: number, K: number, Mt: number): number {
  const src = operand(rt, a, 0, true);
  const at = stageBytes(16 * Mt * K);
  rt.fn.packRows4(src, K * 4, K, rows, Mt, at);
  return at;
}

export function xwtWasm(
  x: Float32Array, w: Float32Array, bias: Float32Array | null, relu: boolean, y: Float32Array, { N, I, O }: GemmDims,
): void {
  // A = x packed into 4-row tiles by packRows4 (from x in place); B[i, o] = W[o, i], packed into panels by packT
  // (from W in place); C into y through the epilogue (bias and ReLU)
  const P = Math.ceil(O / 8);
  const Mt = Math.ceil(N / 4);
  const ldc = P * 8;
  const rt0 = gemmWasm();
  if (rt0 === null) throw new Error('GEMM version wasm-simd: this engine has no WebAssembly SIMD');
  const h = rt0.heap;
  const bytes = operandBytes(rt0, x, 0, true) + slot(16 * Mt * I) + operandBytes(rt0, w, 0, true) + slot(4 * P * I * 8)
    + slot(4 * Mt * 4 * ldc) + stagedBytes(h, bias) + stagedBytes(h, y);
  const rt = instance(bytes);
  const a = packedRows(rt, x, N, I, Mt);
  const wa = operand(rt, w, 0, true);
  const b = stageBytes(4 * P * I * 8);
  rt.fn.packT(wa, I * 4, I, O, b, P);
  const c = stageBytes(4 * Mt * 4 * ldc);
  gemmPackedA(rt, a, b, I * 32, 32, c, Mt, P, I, ldc * 4);
  const ba = bias === null ? 0 : stageIn(h, bias);
  const ya = stageOut(h, y);
  rt.fn.epilogue(c, ldc * 4, N, O, ba, relu ? 1 : 0, ya, O * 4);
  finishOut(h, y, ya);
}

export function dytxWasm(dy: Float32Array, x: Float32Array, dw: Float32Array, { N, I, O }: GemmDims): void {
  // A = dyᵀ packed into 4-row tiles from dy (in place): the last tile's spare rows read at most 3 values past a
  // row of dy, or past its end.
  // B = x as it is, row-major (N, I): the last partial panel reads at most 7 values past a row's end.
  // C straight into dW when its tiles cover it exactly (I a multiple of 8, O of 4), else through the epilogue.
  const P = Math.ceil(I / 8);
  const Mt = Math.ceil(O / 4);
  const ldc = P * 8;
  const rt0 = gemmWasm();
  if (rt0 === null) throw new Error('GEMM version wasm-simd: this engine has no WebAssembly SIMD');
  const h = rt0.heap;
  const direct = ldc === I && Mt * 4 === O && inHeap(h, dw);
  const bytes = operandBytes(rt0, dy, 4, true) + slot(16 * Mt * N) + operandBytes(rt0, x, 8, true)
    + (direct ? 0 : slot(4 * Mt * 4 * ldc) + stagedBytes(h, dw));
  const rt = instance(bytes);
  const dya = operand(rt, dy, 4, true);
  const a = stageBytes(16 * Mt * N);
  rt.fn.packA4(dya, O * 4, N, Mt, a);
  const b = operand(rt, x, 8, true);
  const c = direct ? dw.byteOffset : stageBytes(4 * Mt * 4 * ldc);
  gemmPackedA(rt, a, b, 32, I * 4, c, Mt, P, N, ldc * 4);
  if (direct) return;
  const out = stageOut(h, dw);
  rt.fn.epilogue(c, ldc * 4, O, I, 0, 0, out, I * 4);
  finishOut(h, dw, out);
}

export function dywWasm(
  dy: Float32Array, w: Float32Array, mask: Float32Array | null, dx: Float32Array, { N, I, O }: GemmDims,
): void {
  // A = dy packed into 4-row tiles by packRows4 (from dy in place); B = W as it is, row-major (O, I); C straight
  // into dx when there is no mask and the tiles cover it exactly, else through an epilogue
  const P = Math.ceil(I / 8);
  const Mt = Math.ceil(N / 4);
  const ldc = P * 8;
  const rt0 = gemmWasm();
  if (rt0 === null) throw new Error('GEMM version wasm-simd: this engine has no WebAssembly SIMD');
  const h = rt0.heap;
  const direct = mask === null && ldc === I && Mt * 4 === N && inHeap(h, dx);
  const bytes = operandBytes(rt0, dy, 0, true) + slot(16 * Mt * O) + operandBytes(rt0, w, 8, true)
    + (direct ? 0 : slot(4 * Mt * 4 * ldc) + stagedBytes(h, dx) + stagedBytes(h, mask));
  const rt = instance(bytes);
  const a = packedRows(rt, dy, N, O, Mt);
  const b = operand(rt, w, 8, true);
  const c = direct ? dx.byteOffset : stageBytes(4 * Mt * 4 * ldc);
  gemmPackedA(rt, a, b, 32, I * 4, c, Mt, P, O, ldc * 4);
  if (direct) return;
  const out = stageOut(h, dx);
  if (mask === null) rt.fn.epilogue(c, ldc * 4, N, I, 0, 0, out, I * 4);
  else rt.fn.maskEpilogue(c, ldc * 4, N, I, stageIn(h, mask), out, I * 4);
  finishOut(h, dx, out);
}

export const GEMM_WASM: GemmVersion = {
  name: 'wasm-simd', description: 'WebAssembly SIMD 4×8 tiles on packed panels, float32 accumulation', accumulation: 'float32',
  xwt: xwtWasm, dytx: dytxWasm, dyw: dywWasm,
};
