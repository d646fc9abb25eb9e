/**
 * RMSNorm versions "wasm": the rowByRow forward (forward_impl.ts) and backward (backward_impl.ts) with their
 * loops in WebAssembly SIMD (wasm_module.ts), two float64 lanes per instruction, the same expressions; only the
 * order of the sums differs. A call is one wasm function over all rows; the weight goes in as a float64 array of
 * D (converted here), dweight accumulates in a float64 array of the memory.
 *
 * Operands that live in the kernels' memory (shared/wasm_arrays.ts) are used in place; any other array is copied
 * into the scratch block and outputs copied back (shared/stage.ts). Falls back to the rowByRow versions where
 * WebAssembly SIMD is unavailable or the memory cannot grow.
 */
import { beginStage, finishOut, finishOut64, stagedBytes, stageIn, stageOut } from '../shared/stage.js';
import { paramSlot, stageParams } from '../shared/stage_params.js';
import { RMS_BACKWARD_ROW_BY_ROW } from './backward_impl.js';
import { RMS_FORWARD_ROW_BY_ROW } from './forward_impl.js';
import type { RmsNormBackwardVersion, RmsNormForwardVersion } from './version.js';
import { rmsNormWasm } from './wasm_module.js';

function forward(x: Float32Array, R: number, D: number, weight: Float32Array | null, eps: number, y: Float32Array, rstd: Float64Array): void {
  const wasm = rmsNormWasm();
  const h = wasm?.heap;
  const bytes = h === undefined ? 0 : stagedBytes(h, x) + stagedBytes(h, y) + paramSlot(D) + stagedBytes(h, rstd);
  if (wasm === null || h === undefined || !beginStage(h, bytes)) {
    RMS_FORWARD_ROW_BY_ROW.forward(x, R, D, weight, eps, y, rstd);
    return;
  }
  const xa = stageIn(h, x), ya = stageOut(h, y), wa = stageParams(h, weight, D, 1), ra = stageOut(h, rstd);
  wasm.fn.rmsForward(xa, ya, R, D, wa, eps, ra);
  finishOut(h, y, ya);
  finishOut64(h, rstd, ra);
}

export const RMS_FORWARD_WASM: RmsNormForwardVersion = {
  name: 'wasm',
  description: 'rowByRow, all rows in one WebAssembly SIMD (f64x2) call; in place on wasm arrays',
  forward,
};

function backward(
  dy: Float32Array, x: Float32Array, R: number, D: number, weight: Float32Array, rstd: Float64Array,
  dx: Float32Array, dweight: Float32Array | null, accWeight: Float64Array,
): void {
  const wasm = rmsNormWasm();
  const h = wasm?.heap;
  const bytes = h === undefined ? 0 : stagedBytes(h, dy) + stagedBytes(h, x) + stagedBytes(h, dx) + 2 * paramSlot(D) + stagedBytes(h, rstd);
  if (wasm === null || h === undefined || !beginStage(h, bytes)) {
    RMS_BACKWARD_ROW_BY_ROW.backward(dy, x, R, D, weight, rstd, dx, dweight, accWeight);
    return;
  }
  const dya = stageIn(h, dy), xa = stageIn(h, x), dxa = stageOut(h, dx), wa = stageParams(h, weight, D, 1);
  const ra = stageIn(h, rstd), awa = stageParams(h, null, D, 0);
  wasm.fn.rmsBackward(dya, xa, dxa, R, D, wa, ra, awa);
  finishOut(h, dx, dxa);
  const f64 = h.f64;
  for (let i = 0; i < D; i++) accWeight[i] = f64[(awa >> 3) + i]!;
  if (dweight !== null) for (let i = 0; i < D; i++) dweight[i] = accWeight[i]!;
}

export const RMS_BACKWARD_WASM: RmsNormBackwardVersion = {
  name: 'wasm',
  description: 'rowByRow, all rows in one WebAssembly SIMD (f64x2) call, dweight in float64; in place on wasm arrays',
  backward,
};
