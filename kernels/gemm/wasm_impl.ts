/**
 * GEMM version 3, WebAssembly SIMD: the three forms mapped onto one micro-kernel (wasm_module.ts) computing
 * C = A·B with A read in place through strides and B read 8 columns at a time.
 *
 *   form   C (M × cols)        A (M × K), strides (m, k)     B (K × cols)
 *   xwt    y  = x·Wᵀ  N × O    x,  (I, 1)                    Wᵀ, packed into 8-column panels by packT (in wasm)
 *   dytx   dW = dyᵀ·x O × I    dy, (1, O)  (dyᵀ in place)    x as it is, rows of I
 *   dyw    dx = dy·W  N × I    dy, (O, 1)                    W as it is, rows of I
 * The operands are copied into the shared wasm memory (a memcpy each); only Wᵀ needs a transposing pass, done in
 * wasm. Every form's inner loop reads 32 contiguous bytes of B and four broadcast values of A per k, so none of
 * them pays for a transposed operand. Epilogues (bias, ReLU, ReLU mask) are applied while copying C out; with
 * no epilogue and rows already contiguous (I a multiple of 8) C is copied out with one memcpy (dW, dx). Rows
 * are padded to a multiple of 4 and columns to a multiple of 8 (padded rows and columns of C are discarded).
 * k is blocked by KC so a block of B stays in L1.
 *
 * Accumulation is float32 (f32x4 lanes, k in order): |ŝ - s| ≤ γ_k(u32)·Σ|a||b|, u32 = 2⁻²⁴, with the bias as one
 * more term added in float64 and rounded once. The memory grows to the largest problem seen and is reused:
 * calls after the first at a given size allocate nothing.
 */
import { beginStage, stageBytes } from '../shared/stage.js';
import { f32View, type WasmInstance } from '../shared/wasm_runtime.js';
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

type Layout = ReturnType<typeof layout>;

/**
 * The module, and the layout moved to a scratch block of the kernels' memory large enough for it (the version
 * is listed only where the engine runs WebAssembly SIMD).
 */
function memoryFor(L: Layout): { rt: WasmInstance<'gemm' | 'packT'>; L: Layout } {
  const rt = gemmWasm();
  if (rt === null || !beginStage(rt.heap, 4 * L.total)) {
    throw new Error('GEMM version wasm-simd: this engine has no WebAssembly SIMD, or its memory cannot grow');
  }
  const base = stageBytes(4 * L.total) >> 2;
  return { rt, L: { ...L, aOff: L.aOff + base, bOff: L.bOff + base, cOff: L.cOff + base, sOff: L.sOff + base } };
}

const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;

/**
 * Layout of one call in the module's memory, in floats: A, then B (packed panels, or a row-major matrix with 8
 * floats of padding for the last partial panel's reads), then C, then a staging area for W when it is packed.
 */
function layout(aFloats: number, bFloats: number, M: number, cols: number, stageFloats = 0) {
  const Mt = Math.ceil(M / 4);
  const P = Math.ceil(cols / 8);
  const aOff = 0;
  const bOff = roundUp(aFloats, 4);
  const cOff = bOff + roundUp(bFloats, 4);
  const sOff = cOff + Mt * 4 * P * 8;
  return { Mt, P, aOff, bOff, cOff, sOff, ldc: P * 8, total: sOff + stageFloats };
}

/** C = A·B over K, one micro-kernel call per k-block (byte offsets and strides as wasm_module.ts). */
function gemmBlocked(
  rt: WasmInstance<'gemm' | 'packT'>, a: number, sm4: number, sk4: number, b: number, pstride4: number, bk4: number, c: number, Mt: number, P: number,
  K: number, ldc4: number,
): void {
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = Math.min(KC, K - k0);
    rt.fn.gemm(a + k0 * sk4, sm4, sk4, b + k0 * bk4, pstride4, bk4, c, Mt, P, kc, ldc4, k0 > 0 ? 1 : 0);
  }
}

export function xwtWasm(
  x: Float32Array, w: Float32Array, bias: Float32Array | null, relu: boolean, y: Float32Array, { N, I, O }: GemmDims,
): void {
  // A = x with 3 spare rows for the last tile; B[i, o] = W[o, i], packed into panels by packT from a staged copy of W
  const P = Math.ceil(O / 8);
  const { rt, L } = memoryFor(layout((N + 3) * I, P * I * 8, N, O, O * I));
  const f32 = rt.heap.f32;
  f32.set(x, L.aOff);
  f32.fill(0, L.aOff + N * I, L.aOff + (N + 3) * I);
  f32.set(w, L.sOff);
  rt.fn.packT(L.sOff * 4, I * 4, I, O, L.bOff * 4, P);
  gemmBlocked(rt, L.aOff * 4, I * 4, 4, L.bOff * 4, I * 32, 32, L.cOff * 4, L.Mt, L.P, I, L.ldc * 4);
  for (let n = 0; n < N; n++) {
    const c = L.cOff + n * L.ldc;
    const r = n * O;
    for (let o = 0; o < O; o++) {
      const v = bias !== null ? f32[c + o]! + bias[o]! : f32[c + o]!;
      y[r + o] = relu ? (v > 0 ? v : 0) : v;
    }
  }
}

export function dytxWasm(dy: Float32Array, x: Float32Array, dw: Float32Array, { N, I, O }: GemmDims): void {
  // A = dyᵀ read in place (strides 1, O); the last tile's spare rows read at most 3 values past dy's end.
  // B = x as it is, row-major (N, I), with 8 zeros after it for the last partial panel's reads.
  const { rt, L } = memoryFor(layout(N * O + 4, N * I + 8, O, I));
  const f32 = rt.heap.f32;
  f32.set(dy, L.aOff);
  f32.fill(0, L.aOff + N * O, L.aOff + N * O + 4);
  f32.set(x, L.bOff);
  f32.fill(0, L.bOff + N * I, L.bOff + N * I + 8);
  gemmBlocked(rt, L.aOff * 4, 4, O * 4, L.bOff * 4, 32, I * 4, L.cOff * 4, L.Mt, L.P, N, L.ldc * 4);
  // I a multiple of 8: C's rows are dW's rows back to back (784, 256 and 128 in the seed network)
  if (L.ldc === I) {
    dw.set(f32View(rt.heap, L.cOff * 4, O * I));
    return;
  }
  for (let o = 0; o < O; o++) {
    const c = L.cOff + o * L.ldc;
    const r = o * I;
    for (let i = 0; i < I; i++) dw[r + i] = f32[c + i]!;
  }
}

export function dywWasm(
  dy: Float32Array, w: Float32Array, mask: Float32Array | null, dx: Float32Array, { N, I, O }: GemmDims,
): void {
  // A = dy with 3 spare rows; B = W as it is, row-major (O, I), with 8 zeros after it
  const { rt, L } = memoryFor(layout((N + 3) * O, O * I + 8, N, I));
  const f32 = rt.heap.f32;
  f32.set(dy, L.aOff);
  f32.fill(0, L.aOff + N * O, L.aOff + (N + 3) * O);
  f32.set(w, L.bOff);
  f32.fill(0, L.bOff + O * I, L.bOff + O * I + 8);
  gemmBlocked(rt, L.aOff * 4, O * 4, 4, L.bOff * 4, 32, I * 4, L.cOff * 4, L.Mt, L.P, O, L.ldc * 4);
  if (mask === null && L.ldc === I) {
    dx.set(f32View(rt.heap, L.cOff * 4, N * I));
    return;
  }
  for (let n = 0; n < N; n++) {
    const c = L.cOff + n * L.ldc;
    const r = n * I;
    if (mask === null) for (let i = 0; i < I; i++) dx[r + i] = f32[c + i]!;
    else for (let i = 0; i < I; i++) dx[r + i] = mask[r + i]! > 0 ? f32[c + i]! : 0;
  }
}

export const GEMM_WASM: GemmVersion = {
  name: 'wasm-simd', description: 'WebAssembly SIMD 4×8 tiles on packed panels, float32 accumulation', accumulation: 'float32',
  xwt: xwtWasm, dytx: dytxWasm, dyw: dywWasm,
};
