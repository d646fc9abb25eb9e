/**
 * InstanceNorm version "wasm": with the input's statistics GroupNorm's wasm version with G = C; the eval path
 * (given statistics) in WebAssembly SIMD: NCHW one call over all instances (wasm_module.ts), NHWC one call per
 * sample of GroupNorm's nhwcNorm with dm = 0. The per-instance constants are computed here (N·C values).
 *
 * Operands that live in the kernels' memory (shared/wasm_arrays.ts) are used in place, others are staged
 * (shared/stage.ts). Falls back to the twoPass version's loops where WebAssembly SIMD is unavailable or the
 * memory cannot grow.
 */
import { GN_FORWARD_WASM } from '../groupnorm/wasm_impl.js';
import { groupNormWasm } from '../groupnorm/wasm_module.js';
import type { GroupNormWorkspace } from '../groupnorm/workspace.js';
import { beginStage, finishOut, stagedBytes, stageIn, stageOut } from '../shared/stage.js';
import { paramSlot, stageTable } from '../shared/stage_params.js';
import { applyTablesNhwc, IN_FORWARD_TWO_PASS } from './forward_impl.js';
import type { InstanceDims, InstanceNormForwardVersion } from './version.js';
import { instanceNormWasm } from './wasm_module.js';

function applyNchw(
  x: Float32Array, d: InstanceDims, weight: Float32Array | null, bias: Float32Array | null,
  mean: Float64Array, rstd: Float64Array, y: Float32Array, ws: GroupNormWorkspace,
): void {
  const wasm = instanceNormWasm();
  const h = wasm?.heap;
  const { N, C, S } = d;
  const NC = N * C;
  const bytes = h === undefined ? 0 : stagedBytes(h, x) + stagedBytes(h, y) + stagedBytes(h, mean) + 2 * paramSlot(NC);
  if (wasm === null || h === undefined || !beginStage(h, bytes)) {
    IN_FORWARD_TWO_PASS.applyNchw(x, d, weight, bias, mean, rstd, y, ws);
    return;
  }
  const xa = stageIn(h, x), ya = stageOut(h, y), ma = stageIn(h, mean), sa = stageTable(NC), oa = stageTable(NC);
  const f64 = h.f64;
  for (let nc = 0, c = 0; nc < NC; nc++, c = c + 1 === C ? 0 : c + 1) {
    f64[(sa >> 3) + nc] = (weight !== null ? weight[c]! : 1) * rstd[nc]!;
    f64[(oa >> 3) + nc] = bias !== null ? bias[c]! : 0;
  }
  wasm.fn.blockAffine(xa, ya, NC, S, ma, sa, oa);
  finishOut(h, y, ya);
}

function applyNhwc(
  x: Float32Array, d: InstanceDims, weight: Float32Array | null, bias: Float32Array | null,
  mean: Float64Array, rstd: Float64Array, y: Float32Array, ws: GroupNormWorkspace,
): void {
  const wasm = groupNormWasm();
  const h = wasm?.heap;
  const { N, C, S } = d;
  const bytes = h === undefined ? 0 : stagedBytes(h, x) + stagedBytes(h, y) + 4 * paramSlot(C);
  if (wasm === null || h === undefined || !beginStage(h, bytes)) {
    IN_FORWARD_TWO_PASS.applyNhwc(x, d, weight, bias, mean, rstd, y, ws);
    return;
  }
  const xa = stageIn(h, x), ya = stageOut(h, y);
  const shiftT = stageTable(C), dmT = stageTable(C), scaleT = stageTable(C), offT = stageTable(C);
  const f64 = h.f64;
  const sampleBytes = 4 * S * C;
  for (let n = 0; n < N; n++) {
    applyTablesNhwc(n, C, weight, bias, mean, rstd, ws);
    f64.set(ws.shift, shiftT >> 3);
    f64.set(ws.dm, dmT >> 3);
    f64.set(ws.scale, scaleT >> 3);
    f64.set(ws.offset, offT >> 3);
    wasm.fn.nhwcNorm(xa + n * sampleBytes, ya + n * sampleBytes, S, C, shiftT, dmT, scaleT, offT);
  }
  finishOut(h, y, ya);
}

export const IN_FORWARD_WASM: InstanceNormForwardVersion = {
  name: 'wasm',
  description: 'GroupNorm wasm with one channel per group; eval normalisation in WebAssembly SIMD (f64x2); in place on wasm arrays',
  groups: GN_FORWARD_WASM,
  applyNchw,
  applyNhwc,
};
