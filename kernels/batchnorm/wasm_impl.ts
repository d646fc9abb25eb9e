/**
 * BatchNorm versions "wasm": the blocked versions' algorithms with their loops in WebAssembly SIMD
 * (wasm_module.ts), two float64 lanes per instruction, no bounds checks, tails in wasm. Same statistics (shifted
 * one-pass sums, checked, exact second pass when needed), float64 throughout; the normalisation centres on
 * fl32(mean) (wasm_module.ts says why that is as accurate).
 *
 * NCHW runs a whole call in one wasm function, channel by channel, so each channel's second pass reads it from
 * cache. NHWC streams the rows once per pass, with the per-channel values in a small table (two channels per
 * 16-byte slot) that the JavaScript side fills and reads back (C values, not N·S).
 *
 * Operands that live in the kernels' memory (shared/wasm_arrays.ts) are used in place; any other array is copied
 * into the memory's scratch block and outputs copied back (shared/stage.ts): a memcpy per array, no allocation
 * once the scratch block is large enough. Falls back to the blocked TypeScript loops where WebAssembly SIMD is
 * unavailable or the memory cannot grow, and (backward only) for a fused ReLU's `reluOutput`.
 */
import { beginStage, finishOut, finishOut64, stageBytes, stagedBytes, stageIn, stageOut } from '../shared/stage.js';
import type { WasmHeap } from '../shared/wasm_runtime.js';
import { backwardConstantsNhwc, BN_BACKWARD_BLOCKED } from './backward_impl.js';
import { BN_EVAL_BLOCKED, BN_FORWARD_BLOCKED, finishStatistics, onePassStatisticsNhwc } from './forward_impl.js';
import type { BatchNormBackwardVersion, BatchNormEvalVersion, BatchNormForwardVersion } from './version.js';
import { batchNormWasm } from './wasm_module.js';
import type { BatchNormWorkspace } from './workspace.js';

/** Bytes of a table with `fields` float64 fields per channel pair, for C channels. */
const tableBytes = (C: number, fields: number): number => ((C + 1) >> 1) * 16 * fields;

/** Writes values[c] into field k of channel c's lane in the table at byte address `table`. */
function putField(h: WasmHeap, table: number, fields: number, k: number, values: Float64Array, C: number): void {
  const f64 = h.f64;
  for (let c = 0; c < C; c++) f64[(table + (c >> 1) * 16 * fields + 16 * k + 8 * (c & 1)) >> 3] = values[c]!;
}

/** Sets field k of every channel to `value`. */
function fillField(h: WasmHeap, table: number, fields: number, k: number, value: number, C: number): void {
  const f64 = h.f64;
  for (let c = 0; c < C; c++) f64[(table + (c >> 1) * 16 * fields + 16 * k + 8 * (c & 1)) >> 3] = value;
}

/** Reads field k of every channel into out. */
function getField(h: WasmHeap, table: number, fields: number, k: number, out: Float64Array, C: number): void {
  const f64 = h.f64;
  for (let c = 0; c < C; c++) out[c] = f64[(table + (c >> 1) * 16 * fields + 16 * k + 8 * (c & 1)) >> 3]!;
}

/** Scratch bytes for weight or bias: the array itself, or C floats of its default (1 or 0). */
const affineBytes = (h: WasmHeap, a: Float32Array | null, C: number): number => (a === null ? 4 * C + 64 : stagedBytes(h, a));

/** The address of weight or bias: in place, staged, or a slot filled with `fill` (affine = false). */
function stageAffine(h: WasmHeap, a: Float32Array | null, C: number, fill: number): number {
  if (a !== null) return stageIn(h, a);
  const at = stageBytes(4 * C);
  h.f32.fill(fill, at >> 2, (at >> 2) + C);
  return at;
}

// ---------------------------------------------------------------------------------------------------------
// Training forward

function forwardNchw(
  x: Float32Array, N: number, C: number, S: number, weight: Float32Array | null, bias: Float32Array | null,
  eps: number, relu: boolean, y: Float32Array, mean: Float64Array, rstd: Float64Array, ws: BatchNormWorkspace,
): void {
  const wasm = batchNormWasm();
  const h = wasm?.heap;
  const bytes = h === undefined ? 0
    : stagedBytes(h, x) + stagedBytes(h, y) + affineBytes(h, weight, C) + affineBytes(h, bias, C) + stagedBytes(h, mean) + stagedBytes(h, rstd) + 8 * C;
  if (wasm === null || h === undefined || !beginStage(h, bytes)) {
    BN_FORWARD_BLOCKED.nchw(x, N, C, S, weight, bias, eps, relu, y, mean, rstd, ws);
    return;
  }
  const xa = stageIn(h, x), ya = stageOut(h, y);
  const wa = stageAffine(h, weight, C, 1), ba = stageAffine(h, bias, C, 0);
  const ma = stageOut(h, mean), ra = stageOut(h, rstd), va = stageBytes(8 * C);
  (relu ? wasm.fn.nchwForwardRelu : wasm.fn.nchwForward)(xa, ya, N, C, S, wa, ba, eps, ma, ra, va);
  finishOut(h, y, ya);
  finishOut64(h, mean, ma);
  finishOut64(h, rstd, ra);
  for (let c = 0; c < C; c++) ws.variance[c] = h.f64[(va >> 3) + c]!;
}

/** The NHWC normalisation from the workspace's scale and offset, centred on m1 = fl32(mean): table [m1, scale, t]. */
function normalizeNhwc(
  h: WasmHeap, fn: { nhwcNorm: (...a: number[]) => void; nhwcNormRelu: (...a: number[]) => void }, xa: number, ya: number, M: number, C: number,
  table: number, mean: Float64Array, shift: Float64Array | null, dm: Float64Array | null, relu: boolean, ws: BatchNormWorkspace,
): void {
  const f64 = h.f64;
  for (let c = 0; c < C; c++) {
    const m1 = Math.fround(mean[c]!);
    const scale = ws.scale[c]!;
    // t = b - (mean - m1)·scale, with mean - m1 = (K - m1) + dm when the mean came from shifted sums
    const rest = shift !== null && dm !== null ? shift[c]! - m1 + dm[c]! : mean[c]! - m1;
    const at = (table + (c >> 1) * 48 + 8 * (c & 1)) >> 3;
    f64[at] = m1;
    f64[at + 2] = scale;
    f64[at + 4] = ws.offset[c]! - rest * scale;
  }
  (relu ? fn.nhwcNormRelu : fn.nhwcNorm)(xa, ya, M, C, table);
}

function forwardNhwc(
  x: Float32Array, M: number, C: number, weight: Float32Array | null, bias: Float32Array | null,
  eps: number, relu: boolean, y: Float32Array, mean: Float64Array, rstd: Float64Array, ws: BatchNormWorkspace,
): void {
  const wasm = batchNormWasm();
  const h = wasm?.heap;
  const bytes = h === undefined ? 0 : stagedBytes(h, x) + stagedBytes(h, y) + tableBytes(C, 3);
  if (wasm === null || h === undefined || !beginStage(h, bytes)) {
    BN_FORWARD_BLOCKED.nhwc(x, M, C, weight, bias, eps, relu, y, mean, rstd, ws);
    return;
  }
  const xa = stageIn(h, x), ya = stageOut(h, y), table = stageBytes(tableBytes(C, 3));
  // Σ(x - K), Σ(x - K)², K = row 0
  for (let c = 0; c < C; c++) ws.shift[c] = x[c]!;
  putField(h, table, 3, 0, ws.shift, C);
  fillField(h, table, 3, 1, 0, C);
  fillField(h, table, 3, 2, 0, C);
  wasm.fn.nhwcSums(xa, M, C, table);
  getField(h, table, 3, 1, ws.sum1, C);
  getField(h, table, 3, 2, ws.sum2, C);
  const recheck = onePassStatisticsNhwc(M, C, mean, ws);
  const dm = ws.sum1;
  // the exact second pass, Σ((x - K) - dm)², if any channel may have cancelled
  if (recheck) {
    putField(h, table, 3, 1, dm, C);
    fillField(h, table, 3, 2, 0, C);
    wasm.fn.nhwcSqDev(xa, M, C, table);
    getField(h, table, 3, 2, ws.sum2, C);
    for (let c = 0; c < C; c++) ws.variance[c] = ws.sum2[c]! / M;
  }
  // rstd, scale, offset; normalise
  finishStatistics(C, weight, bias, eps, ws.variance, rstd, ws);
  normalizeNhwc(h, wasm.fn, xa, ya, M, C, table, mean, ws.shift, dm, relu, ws);
  finishOut(h, y, ya);
}

export const BN_FORWARD_WASM: BatchNormForwardVersion = {
  name: 'wasm',
  description: 'blocked, loops in WebAssembly SIMD (f64x2), NCHW one call channel by channel; in place on wasm arrays',
  nchw: forwardNchw,
  nhwc: forwardNhwc,
};

// ---------------------------------------------------------------------------------------------------------
// Eval forward

function evalNchw(
  x: Float32Array, N: number, C: number, S: number, weight: Float32Array | null, bias: Float32Array | null,
  runningMean: Float32Array, runningVar: Float32Array, eps: number, relu: boolean,
  y: Float32Array, mean: Float64Array, rstd: Float64Array, ws: BatchNormWorkspace,
): void {
  const wasm = batchNormWasm();
  const h = wasm?.heap;
  const bytes = h === undefined ? 0
    : stagedBytes(h, x) + stagedBytes(h, y) + affineBytes(h, weight, C) + affineBytes(h, bias, C) + stagedBytes(h, runningMean)
      + stagedBytes(h, runningVar) + stagedBytes(h, mean) + stagedBytes(h, rstd);
  if (wasm === null || h === undefined || !beginStage(h, bytes)) {
    BN_EVAL_BLOCKED.nchw(x, N, C, S, weight, bias, runningMean, runningVar, eps, relu, y, mean, rstd, ws);
    return;
  }
  const xa = stageIn(h, x), ya = stageOut(h, y);
  const wa = stageAffine(h, weight, C, 1), ba = stageAffine(h, bias, C, 0);
  const rma = stageIn(h, runningMean), rva = stageIn(h, runningVar);
  const ma = stageOut(h, mean), ra = stageOut(h, rstd);
  (relu ? wasm.fn.nchwEvalRelu : wasm.fn.nchwEval)(xa, ya, N, C, S, wa, ba, rma, rva, eps, ma, ra);
  finishOut(h, y, ya);
  finishOut64(h, mean, ma);
  finishOut64(h, rstd, ra);
}

function evalNhwc(
  x: Float32Array, M: number, C: number, weight: Float32Array | null, bias: Float32Array | null,
  runningMean: Float32Array, runningVar: Float32Array, eps: number, relu: boolean,
  y: Float32Array, mean: Float64Array, rstd: Float64Array, ws: BatchNormWorkspace,
): void {
  const wasm = batchNormWasm();
  const h = wasm?.heap;
  const bytes = h === undefined ? 0 : stagedBytes(h, x) + stagedBytes(h, y) + tableBytes(C, 3);
  if (wasm === null || h === undefined || !beginStage(h, bytes)) {
    BN_EVAL_BLOCKED.nhwc(x, M, C, weight, bias, runningMean, runningVar, eps, relu, y, mean, rstd, ws);
    return;
  }
  const xa = stageIn(h, x), ya = stageOut(h, y), table = stageBytes(tableBytes(C, 3));
  for (let c = 0; c < C; c++) {
    mean[c] = runningMean[c]!;
    ws.variance[c] = runningVar[c]!;
  }
  finishStatistics(C, weight, bias, eps, ws.variance, rstd, ws);
  normalizeNhwc(h, wasm.fn, xa, ya, M, C, table, mean, null, null, relu, ws);
  finishOut(h, y, ya);
}

export const BN_EVAL_WASM: BatchNormEvalVersion = {
  name: 'wasm',
  description: 'one pass in WebAssembly SIMD (f64x2), y = (x - runningMean)·scale + bias; in place on wasm arrays',
  nchw: evalNchw,
  nhwc: evalNhwc,
};

// ---------------------------------------------------------------------------------------------------------
// Backward

function backwardNchw(
  dy: Float32Array, x: Float32Array, N: number, C: number, S: number,
  weight: Float32Array | null, mean: Float64Array, rstd: Float64Array,
  training: boolean, reluOutput: Float32Array | null, dx: Float32Array, dweight: Float32Array | null, dbias: Float32Array | null,
  ws: BatchNormWorkspace,
): void {
  const wasm = reluOutput === null ? batchNormWasm() : null;
  const h = wasm?.heap;
  const bytes = h === undefined ? 0
    : stagedBytes(h, dy) + stagedBytes(h, x) + stagedBytes(h, dx) + affineBytes(h, weight, C) + stagedBytes(h, mean) + stagedBytes(h, rstd) + 16 * C + 64;
  if (wasm === null || h === undefined || !beginStage(h, bytes)) {
    BN_BACKWARD_BLOCKED.nchw(dy, x, N, C, S, weight, mean, rstd, training, reluOutput, dx, dweight, dbias, ws);
    return;
  }
  const dya = stageIn(h, dy), xa = stageIn(h, x), dxa = stageOut(h, dx), wa = stageAffine(h, weight, C, 1);
  const ma = stageIn(h, mean), ra = stageIn(h, rstd), dwa = stageBytes(8 * C), dba = stageBytes(8 * C);
  wasm.fn.nchwBackward(dya, xa, dxa, N, C, S, wa, ma, ra, training ? 1 : 0, dwa, dba);
  finishOut(h, dx, dxa);
  const f64 = h.f64;
  if (dweight !== null) for (let c = 0; c < C; c++) dweight[c] = f64[(dwa >> 3) + c]!;
  if (dbias !== null) for (let c = 0; c < C; c++) dbias[c] = f64[(dba >> 3) + c]!;
}

function backwardNhwc(
  dy: Float32Array, x: Float32Array, M: number, C: number,
  weight: Float32Array | null, mean: Float64Array, rstd: Float64Array,
  training: boolean, reluOutput: Float32Array | null, dx: Float32Array, dweight: Float32Array | null, dbias: Float32Array | null,
  ws: BatchNormWorkspace,
): void {
  const wasm = reluOutput === null ? batchNormWasm() : null;
  const h = wasm?.heap;
  const bytes = h === undefined ? 0 : stagedBytes(h, dy) + stagedBytes(h, x) + stagedBytes(h, dx) + tableBytes(C, 4);
  if (wasm === null || h === undefined || !beginStage(h, bytes)) {
    BN_BACKWARD_BLOCKED.nhwc(dy, x, M, C, weight, mean, rstd, training, reluOutput, dx, dweight, dbias, ws);
    return;
  }
  const dya = stageIn(h, dy), xa = stageIn(h, x), dxa = stageOut(h, dx), table = stageBytes(tableBytes(C, 4));
  // reductions: Σ dy and Σ dy·(x - mean), table [mean, a1, a2]
  putField(h, table, 3, 0, mean, C);
  fillField(h, table, 3, 1, 0, C);
  fillField(h, table, 3, 2, 0, C);
  wasm.fn.nhwcBSums(dya, xa, M, C, table);
  getField(h, table, 3, 1, ws.sum1, C);
  getField(h, table, 3, 2, ws.sum2, C);
  backwardConstantsNhwc(M, C, weight, rstd, training, dweight, dbias, ws);
  // dx = scale·dy - k0 - (x - mean)·k1, table [mean, scale, k0, k1]
  putField(h, table, 4, 0, mean, C);
  putField(h, table, 4, 1, ws.scale, C);
  putField(h, table, 4, 2, ws.k0, C);
  putField(h, table, 4, 3, ws.k1, C);
  wasm.fn.nhwcBdx(dya, xa, dxa, M, C, table);
  finishOut(h, dx, dxa);
}

export const BN_BACKWARD_WASM: BatchNormBackwardVersion = {
  name: 'wasm',
  description: 'blocked, loops in WebAssembly SIMD (f64x2), NCHW one call channel by channel; in place on wasm arrays',
  nchw: backwardNchw,
  nhwc: backwardNhwc,
};
