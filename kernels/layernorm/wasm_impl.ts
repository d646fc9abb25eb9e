/**
 * LayerNorm versions "wasm": the onePass forward (forward_impl.ts) and the row-by-row backward (backward_impl.ts)
 * with their loops in WebAssembly SIMD (wasm_module.ts), two float64 lanes per instruction, the same expressions;
 * only the order of the sums differs. A call is one wasm function over all rows; the forward's weight and bias go in
 * as float64 arrays of D, the backward's weight as lane 0/1 of a float64 table beside the float64 sums of dweight
 * and dbias (converted here, D values each).
 *
 * Operands that live in the kernels' memory (shared/wasm_arrays.ts) are used in place; any other array is copied
 * into the scratch block and outputs copied back (shared/stage.ts). Falls back to the TypeScript versions where
 * WebAssembly SIMD is unavailable or the memory cannot grow.
 */
import { beginStage, finishOut, finishOut64, stageBytes, stagedBytes, stageIn, stageOut } from '../shared/stage.js';
import type { WasmHeap } from '../shared/wasm_runtime.js';
import { LN_BACKWARD_FOUR_ROWS } from './backward_impl.js';
import { LN_FORWARD_ONE_PASS } from './forward_impl.js';
import type { LayerNormBackwardVersion, LayerNormForwardVersion } from './version.js';
import { layerNormWasm, PAIR_ROWS, SLOT } from './wasm_module.js';

/** D float64 values of `a` (or `fill` everywhere when a is null) at a fresh scratch slot; returns its address. */
function stageWide(h: WasmHeap, a: Float32Array | null, D: number, fill: number): number {
  const at = stageBytes(8 * D);
  const base = at >> 3;
  const f64 = h.f64;
  if (a === null) f64.fill(fill, base, base + D);
  else for (let i = 0; i < D; i++) f64[base + i] = a[i]!;
  return at;
}

function forward(
  x: Float32Array, R: number, D: number, weight: Float32Array | null, bias: Float32Array | null, eps: number,
  y: Float32Array, mean: Float64Array, rstd: Float64Array,
): void {
  const wasm = layerNormWasm();
  const h = wasm?.heap;
  const bytes = h === undefined ? 0 : stagedBytes(h, x) + stagedBytes(h, y) + 2 * (8 * D + 64) + stagedBytes(h, mean) + stagedBytes(h, rstd);
  if (wasm === null || h === undefined || !beginStage(h, bytes)) {
    LN_FORWARD_ONE_PASS.forward(x, R, D, weight, bias, eps, y, mean, rstd);
    return;
  }
  const xa = stageIn(h, x), ya = stageOut(h, y), wa = stageWide(h, weight, D, 1), ba = stageWide(h, bias, D, 0);
  const ma = stageOut(h, mean), ra = stageOut(h, rstd);
  wasm.fn.lnForward(xa, ya, R, D, wa, ba, eps, ma, ra);
  finishOut(h, y, ya);
  finishOut64(h, mean, ma);
  finishOut64(h, rstd, ra);
}

export const LN_FORWARD_WASM: LayerNormForwardVersion = {
  name: 'wasm',
  description: 'onePass, all rows in one WebAssembly SIMD (f64x2) call; in place on wasm arrays',
  forward,
};

/** float64 index, from the table's first, of field k (0 w, 1 accW, 2 accB) of column i (wasm_module.ts's SLOT) */
const field = (i: number, k: number): number => 6 * (i >> 1) + 2 * k + (i & 1);

function backward(
  dy: Float32Array, x: Float32Array, R: number, D: number, weight: Float32Array,
  mean: Float64Array, rstd: Float64Array, dx: Float32Array, dweight: Float32Array | null, dbias: Float32Array | null,
  accWeight: Float64Array, accBias: Float64Array,
): void {
  const wasm = layerNormWasm();
  const h = wasm?.heap;
  const tableBytes = 2 * SLOT * ((D + 1) >> 1), rowsBytes = 2 * PAIR_ROWS * ((D + 1) >> 1);
  const bytes = h === undefined ? 0
    : stagedBytes(h, dy) + stagedBytes(h, x) + stagedBytes(h, dx) + tableBytes + rowsBytes + 128 + stagedBytes(h, mean) + stagedBytes(h, rstd);
  if (wasm === null || h === undefined || !beginStage(h, bytes)) {
    LN_BACKWARD_FOUR_ROWS.backward(dy, x, R, D, weight, mean, rstd, dx, dweight, dbias, accWeight, accBias);
    return;
  }
  const dya = stageIn(h, dy), xa = stageIn(h, x), dxa = stageOut(h, dx);
  const ma = stageIn(h, mean), ra = stageIn(h, rstd);
  // the [w, accW, accB] table: w as float64, the column sums zeroed
  const ta = stageBytes(tableBytes), t = ta >> 3, f64 = h.f64;
  f64.fill(0, t, t + (tableBytes >> 3));
  for (let i = 0; i < D; i++) f64[t + field(i, 0)] = weight[i]!;
  wasm.fn.lnBackward(dya, xa, dxa, R, D, ta, ma, ra, stageBytes(rowsBytes));
  finishOut(h, dx, dxa);
  if (dweight !== null) for (let i = 0; i < D; i++) dweight[i] = f64[t + field(i, 1)]!;
  if (dbias !== null) for (let i = 0; i < D; i++) dbias[i] = f64[t + field(i, 2)]!;
}

export const LN_BACKWARD_WASM: LayerNormBackwardVersion = {
  name: 'wasm',
  description: 'one pass over dy, x per pair of rows (r, r + R/2) with the column sums, pipelined with the last pair\'s dx; all rows in one WebAssembly SIMD (f64x2) call; in place on wasm arrays',
  backward,
};

