/**
 * Float32 GEMM in the three forms a Linear layer's training step needs, PyTorch's layout (weight is (out, in)).
 *
 * Sizes: N rows (batch), I input features, O output features. All arrays row-major Float32Array.
 *   gemmXWt   y  (N, O) = x (N, I) · weightᵀ (+ bias) (then ReLU)      forward,          x·Wᵀ
 *   gemmDyTX  dW (O, I) = dy (N, O)ᵀ · x (N, I)   (dbias = Σ_n dy)     weight gradient,  dyᵀ·x
 *   gemmDyW   dx (N, I) = dy (N, O) · weight (O, I) (masked by ReLU)   input gradient,   dy·W
 * Epilogues save a pass over the output: bias and ReLU on the forward; the bias gradient (column sums of dy)
 * beside the weight gradient; ReLU's backward on the input gradient — `reluMask` is the forward *output* of the
 * ReLU that fed this layer (the layer's input x), and dx is zeroed where it is ≤ 0, as PyTorch's
 * threshold_backward does.
 *
 * Outputs are caller-supplied buffers of exactly the result's size, written whole (not accumulated into);
 * inputs are never modified; an output may not overlap an input. Each version states its accumulation:
 * float64 (naive, blocked; see naive_impl.ts for why the products are exact), for a reduction of length k
 *   |ŷ - y| ≤ u32·|y| + γ_k(u64)·Σ|a||b|,    u32 = 2⁻²⁴ (the one rounding to float32), u64 = 2⁻⁵³
 * or float32 (wasm-simd: products and sums rounded to float32, as PyTorch's and XNNPACK's kernels do)
 *   |ŷ - y| ≤ γ_k(u32)·Σ|a||b|
 * where γ_k = k·u/(1 - k·u); the bias counts as one more term.
 *
 * Versions, one signature (`GemmVersion`, version.ts), listed in kernels/registry.ts (GEMM_VERSIONS) so tests
 * and the benchmark loop over all:
 *   naive      plain triple loops (naive_impl.ts)
 *   blocked    4×4 register tiles, contiguous or fixed-stride inner loads (blocked_impl.ts)
 *   wasm-simd  WebAssembly SIMD 4×8 micro-kernel on packed panels (wasm_impl.ts) — the default where the
 *              engine runs WebAssembly SIMD, else blocked
 */
import { GEMM_DEFAULT } from '../registry.js';
import { argSpec, checkArgs, checkF32, checkFlag, checkNoOverlap, checkPositiveInts, isF32 } from '../shared/args.js';
import type { GemmDims, GemmVersion } from './version.js';

export type { GemmDims, GemmVersion } from './version.js';

const DIM_KEYS = ['N', 'I', 'O'] as const;

export interface XWtOptions {
  /** (O); added to every row. */
  bias?: Float32Array | null;
  /** Apply max(·, 0) to the output. */
  relu?: boolean;
  /** default: GEMM_DEFAULT (kernels/registry.ts) */
  version?: GemmVersion;
}

const XWT_OPTIONS = argSpec('gemmXWt', [], { bias: 'null, no bias', relu: 'false', version: 'GEMM_DEFAULT' });

/** y (N, O) = x (N, I) · weightᵀ + bias, then ReLU if `relu`. Writes all of y. */
export function gemmXWt(x: Float32Array, weight: Float32Array, y: Float32Array, dims: GemmDims, options: XWtOptions = {}): void {
  checkPositiveInts('dims', dims, DIM_KEYS);
  checkArgs(XWT_OPTIONS, options, 'options.');
  const { N, I, O } = dims;
  const { bias = null, relu = false, version = GEMM_DEFAULT } = options;
  checkFlag('options.relu', relu, 'apply max(·, 0) to the output');
  if (!isF32(x, N * I)) checkF32('x', x, N * I, `an input of shape (N, I) = (${N}, ${I})`);
  if (!isF32(weight, O * I)) checkF32('weight', weight, O * I, `a weight of shape (out, in) = (${O}, ${I})`);
  if (bias !== null && !isF32(bias, O)) checkF32('bias', bias, O, `a bias of shape (${O},)`);
  if (!isF32(y, N * O)) checkF32('y', y, N * O, `an output of shape (N, O) = (${N}, ${O})`);
  checkNoOverlap('y', y, 'x', x);
  checkNoOverlap('y', y, 'weight', weight);
  checkNoOverlap('y', y, 'bias', bias);
  version.xwt(x, weight, bias, relu, y, dims);
}

export interface DyTXOptions {
  /** (O); receives Σ_n dy[n, :], the bias gradient. */
  dbias?: Float32Array | null;
  /** default: GEMM_DEFAULT (kernels/registry.ts) */
  version?: GemmVersion;
}

const DYTX_OPTIONS = argSpec('gemmDyTX', [], { dbias: 'null, not computed', version: 'GEMM_DEFAULT' });

/** dweight (O, I) = dyᵀ · x; also dbias (O) = Σ_n dy when given. Writes all of dweight (and dbias). */
export function gemmDyTX(dy: Float32Array, x: Float32Array, dweight: Float32Array, dims: GemmDims, options: DyTXOptions = {}): void {
  checkPositiveInts('dims', dims, DIM_KEYS);
  checkArgs(DYTX_OPTIONS, options, 'options.');
  const { N, I, O } = dims;
  const { dbias = null, version = GEMM_DEFAULT } = options;
  if (!isF32(dy, N * O)) checkF32('dy', dy, N * O, `a gradient of shape (N, O) = (${N}, ${O})`);
  if (!isF32(x, N * I)) checkF32('x', x, N * I, `an input of shape (N, I) = (${N}, ${I})`);
  if (!isF32(dweight, O * I)) checkF32('dweight', dweight, O * I, `a weight gradient of shape (out, in) = (${O}, ${I})`);
  checkNoOverlap('dweight', dweight, 'dy', dy);
  checkNoOverlap('dweight', dweight, 'x', x);
  if (dbias !== null) {
    if (!isF32(dbias, O)) checkF32('dbias', dbias, O, `a bias gradient of shape (${O},)`);
    checkNoOverlap('dbias', dbias, 'dy', dy);
    checkNoOverlap('dbias', dbias, 'x', x);
    checkNoOverlap('dbias', dbias, 'dweight', dweight);
  }
  version.dytx(dy, x, dweight, dims);
  if (dbias !== null) columnSums(dy, dbias, N, O);
}

export interface DyWOptions {
  /** (N, I); dx is zeroed where reluMask ≤ 0 (ReLU's backward given its forward output). */
  reluMask?: Float32Array | null;
  /** default: GEMM_DEFAULT (kernels/registry.ts) */
  version?: GemmVersion;
}

const DYW_OPTIONS = argSpec('gemmDyW', [], { reluMask: 'null, no ReLU backward', version: 'GEMM_DEFAULT' });

/** dx (N, I) = dy (N, O) · weight (O, I), zeroed where reluMask ≤ 0 when given. Writes all of dx. */
export function gemmDyW(dy: Float32Array, weight: Float32Array, dx: Float32Array, dims: GemmDims, options: DyWOptions = {}): void {
  checkPositiveInts('dims', dims, DIM_KEYS);
  checkArgs(DYW_OPTIONS, options, 'options.');
  const { N, I, O } = dims;
  const { reluMask = null, version = GEMM_DEFAULT } = options;
  if (!isF32(dy, N * O)) checkF32('dy', dy, N * O, `a gradient of shape (N, O) = (${N}, ${O})`);
  if (!isF32(weight, O * I)) checkF32('weight', weight, O * I, `a weight of shape (out, in) = (${O}, ${I})`);
  if (reluMask !== null && !isF32(reluMask, N * I)) checkF32('reluMask', reluMask, N * I, `a ReLU output of shape (N, I) = (${N}, ${I})`);
  if (!isF32(dx, N * I)) checkF32('dx', dx, N * I, `an input gradient of shape (N, I) = (${N}, ${I})`);
  checkNoOverlap('dx', dx, 'dy', dy);
  checkNoOverlap('dx', dx, 'weight', weight);
  checkNoOverlap('dx', dx, 'reluMask', reluMask);
  version.dyw(dy, weight, reluMask, dx, dims);
}

/** out[o] = Σ_n m[n, o] for an (N, O) matrix, float64 accumulation, rows in order. */
function columnSums(m: Float32Array, out: Float32Array, N: number, O: number): void {
  // One column at a time into a float64 local: strided reads, but N·O is small beside the GEMM's N·O·I,
  // and no float64 scratch array is needed.
  for (let o = 0; o < O; o++) {
    let acc = 0;
    for (let n = 0, k = o; n < N; n++, k += O) acc += m[k]!;
    out[o] = acc;
  }
}
