/**
 * GroupNorm versions "wasm": the loops of forward_impl.ts and backward_impl.ts in WebAssembly SIMD (wasm_module.ts),
 * two float64 lanes per instruction, the same expressions; only the order of the sums differs, the forward's
 * variance is the checked one-pass one (shared/one_pass.ts) instead of the two-pass one, and the NCHW forward
 * normalises about fl32(mean) (wasm_module.ts says why that is as accurate).
 *   NCHW  one wasm call over all groups, group by group, software-pipelined (each group's reading pass beside the
 *         previous group's writing pass).
 *   NHWC  per sample: a wasm pass gathers per-channel sums, JavaScript turns the C channel sums into G groups'
 *         statistics and per-channel constants (and, in the rare case the one-pass variance may have cancelled,
 *         runs the group's exact second pass), a second wasm pass normalises (or writes dx).
 * weight and bias go in as float64 arrays of C (ones and zeros when absent); the tables are float64 arrays of C.
 *
 * Operands that live in the kernels' memory (shared/wasm_arrays.ts) are used in place; any other array is copied
 * into the scratch block and outputs copied back (shared/stage.ts). Falls back to the twoPass versions where
 * WebAssembly SIMD is unavailable or the memory cannot grow.
 */
import { onePassVarianceIsAccurate } from '../shared/one_pass.js';
import { beginStage, finishOut, finishOut64, stagedBytes, stageIn, stageOut } from '../shared/stage.js';
import { paramSlot, stageParams, stageTable } from '../shared/stage_params.js';
import { finishParameterGradients, finishSampleNhwc, GN_BACKWARD_TWO_PASS, groupMeansNhwc } from './backward_impl.js';
import { finishGroupNhwc, GN_FORWARD_TWO_PASS, groupShiftsNhwc, groupSqDevNhwc } from './forward_impl.js';
import type { GroupDims, GroupNormBackwardVersion, GroupNormForwardVersion } from './version.js';
import { groupNormWasm } from './wasm_module.js';
import type { GroupNormWorkspace } from './workspace.js';

function forwardNchw(
  x: Float32Array, d: GroupDims, weight: Float32Array | null, bias: Float32Array | null, eps: number,
  y: Float32Array, mean: Float64Array, rstd: Float64Array, variance: Float64Array | null, ws: GroupNormWorkspace,
): void {
  const wasm = groupNormWasm();
  const h = wasm?.heap;
  const NG = d.N * d.G;
  const bytes = h === undefined ? 0
    : stagedBytes(h, x) + stagedBytes(h, y) + 2 * paramSlot(d.C) + stagedBytes(h, mean) + stagedBytes(h, rstd) + paramSlot(NG);
  if (wasm === null || h === undefined || !beginStage(h, bytes)) {
    GN_FORWARD_TWO_PASS.nchw(x, d, weight, bias, eps, y, mean, rstd, variance, ws);
    return;
  }
  const xa = stageIn(h, x), ya = stageOut(h, y), wa = stageParams(h, weight, d.C, 1), ba = stageParams(h, bias, d.C, 0);
  const ma = stageOut(h, mean), ra = stageOut(h, rstd), va = stageTable(NG);
  wasm.fn.gnForwardNchw(xa, ya, NG, d.G, d.C / d.G, d.S, wa, ba, eps, ma, ra, va);
  finishOut(h, y, ya);
  finishOut64(h, mean, ma);
  finishOut64(h, rstd, ra);
  if (variance !== null) for (let i = 0; i < NG; i++) variance[i] = h.f64[(va >> 3) + i]!;
}

function forwardNhwc(
  x: Float32Array, d: GroupDims, weight: Float32Array | null, bias: Float32Array | null, eps: number,
  y: Float32Array, mean: Float64Array, rstd: Float64Array, variance: Float64Array | null, ws: GroupNormWorkspace,
): void {
  const wasm = groupNormWasm();
  const h = wasm?.heap;
  const { N, C, G, S } = d;
  const bytes = h === undefined ? 0 : stagedBytes(h, x) + stagedBytes(h, y) + 6 * paramSlot(C);
  if (wasm === null || h === undefined || !beginStage(h, bytes)) {
    GN_FORWARD_TWO_PASS.nhwc(x, d, weight, bias, eps, y, mean, rstd, variance, ws);
    return;
  }
  const xa = stageIn(h, x), ya = stageOut(h, y);
  const shiftT = stageTable(C), a1 = stageTable(C), a2 = stageTable(C), dmT = stageTable(C), scaleT = stageTable(C), offT = stageTable(C);
  const f64 = h.f64;
  const Cg = C / G;
  const D = Cg * S;
  const sampleBytes = 4 * S * C;
  for (let n = 0; n < N; n++) {
    // per channel Σ(x - K), Σ(x - K)², K the first value of its group
    groupShiftsNhwc(x, n, d, ws.shift);
    f64.set(ws.shift, shiftT >> 3);
    f64.fill(0, a1 >> 3, (a1 >> 3) + C);
    f64.fill(0, a2 >> 3, (a2 >> 3) + C);
    wasm.fn.nhwcSums(xa + n * sampleBytes, S, C, shiftT, a1, a2);
    // per group: the one-pass variance (the exact pass where it may have cancelled), mean, rstd, constants
    for (let g = 0; g < G; g++) {
      const c0 = g * Cg;
      let s1 = 0;
      let s2 = 0;
      for (let c = c0; c < c0 + Cg; c++) {
        s1 += f64[(a1 >> 3) + c]!;
        s2 += f64[(a2 >> 3) + c]!;
      }
      const K = ws.shift[c0]!;
      const dm = s1 / D;
      const meanSq = s2 / D;
      let v = meanSq - dm * dm;
      if (!onePassVarianceIsAccurate(v, meanSq, D)) v = groupSqDevNhwc(x, n, g, d, K, dm) / D;
      finishGroupNhwc(n, g, d, K, dm, v, eps, weight, bias, mean, rstd, variance, ws.dm, ws.scale, ws.offset);
    }
    // y = ((x - K) - dm)·(w·rstd) + b
    f64.set(ws.dm, dmT >> 3);
    f64.set(ws.scale, scaleT >> 3);
    f64.set(ws.offset, offT >> 3);
    wasm.fn.nhwcNorm(xa + n * sampleBytes, ya + n * sampleBytes, S, C, shiftT, dmT, scaleT, offT);
  }
  finishOut(h, y, ya);
}

export const GN_FORWARD_WASM: GroupNormForwardVersion = {
  name: 'wasm',
  description: 'one-pass shifted sums (checked), WebAssembly SIMD (f64x2): NCHW one call, pipelined over groups, NHWC per-channel tables per sample; in place on wasm arrays',
  nchw: forwardNchw,
  nhwc: forwardNhwc,
};

function backwardNchw(
  dy: Float32Array, x: Float32Array, d: GroupDims, weight: Float32Array | null, mean: Float64Array, rstd: Float64Array,
  inputStats: boolean, dx: Float32Array, dweight: Float32Array | null, dbias: Float32Array | null, ws: GroupNormWorkspace,
): void {
  const wasm = groupNormWasm();
  const h = wasm?.heap;
  const bytes = h === undefined ? 0
    : stagedBytes(h, dy) + stagedBytes(h, x) + stagedBytes(h, dx) + 3 * paramSlot(d.C) + stagedBytes(h, mean) + stagedBytes(h, rstd);
  if (wasm === null || h === undefined || !beginStage(h, bytes)) {
    GN_BACKWARD_TWO_PASS.nchw(dy, x, d, weight, mean, rstd, inputStats, dx, dweight, dbias, ws);
    return;
  }
  const dya = stageIn(h, dy), xa = stageIn(h, x), dxa = stageOut(h, dx), wa = stageParams(h, weight, d.C, 1);
  const ma = stageIn(h, mean), ra = stageIn(h, rstd), awa = stageParams(h, null, d.C, 0), aba = stageParams(h, null, d.C, 0);
  wasm.fn.gnBackwardNchw(dya, xa, dxa, d.N * d.G, d.G, d.C / d.G, d.S, wa, ma, ra, inputStats ? 1 : 0, awa, aba);
  finishOut(h, dx, dxa);
  const f64 = h.f64;
  for (let c = 0; c < d.C; c++) {
    ws.accWeight[c] = f64[(awa >> 3) + c]!;
    ws.accBias[c] = f64[(aba >> 3) + c]!;
  }
  finishParameterGradients(d.C, dweight, dbias, ws);
}

function backwardNhwc(
  dy: Float32Array, x: Float32Array, d: GroupDims, weight: Float32Array | null, mean: Float64Array, rstd: Float64Array,
  inputStats: boolean, dx: Float32Array, dweight: Float32Array | null, dbias: Float32Array | null, ws: GroupNormWorkspace,
): void {
  const wasm = groupNormWasm();
  const h = wasm?.heap;
  const { N, C, S } = d;
  const bytes = h === undefined ? 0 : stagedBytes(h, dy) + stagedBytes(h, x) + stagedBytes(h, dx) + 6 * paramSlot(C);
  if (wasm === null || h === undefined || !beginStage(h, bytes)) {
    GN_BACKWARD_TWO_PASS.nhwc(dy, x, d, weight, mean, rstd, inputStats, dx, dweight, dbias, ws);
    return;
  }
  const dya = stageIn(h, dy), xa = stageIn(h, x), dxa = stageOut(h, dx);
  const meanT = stageTable(C), a1 = stageTable(C), a2 = stageTable(C), scaleT = stageTable(C), k0T = stageTable(C), k1T = stageTable(C);
  const f64 = h.f64;
  const sampleBytes = 4 * S * C;
  ws.accWeight.fill(0);
  ws.accBias.fill(0);
  for (let n = 0; n < N; n++) {
    // per channel Σ dy, Σ dy·(x - mean)
    groupMeansNhwc(n, d, mean, ws.shift);
    f64.set(ws.shift, meanT >> 3);
    f64.fill(0, a1 >> 3, (a1 >> 3) + C);
    f64.fill(0, a2 >> 3, (a2 >> 3) + C);
    wasm.fn.nhwcBSums(dya + n * sampleBytes, xa + n * sampleBytes, S, C, meanT, a1, a2);
    for (let c = 0; c < C; c++) {
      ws.sum1[c] = f64[(a1 >> 3) + c]!;
      ws.sum2[c] = f64[(a2 >> 3) + c]!;
    }
    // parameter gradients, and dx = scale·dy - k0 - (x - mean)·k1
    finishSampleNhwc(n, d, weight, rstd, inputStats, ws);
    f64.set(ws.scale, scaleT >> 3);
    f64.set(ws.offset, k0T >> 3);
    f64.set(ws.k1, k1T >> 3);
    wasm.fn.nhwcBdx(dya + n * sampleBytes, xa + n * sampleBytes, dxa + n * sampleBytes, S, C, meanT, scaleT, k0T, k1T);
  }
  finishOut(h, dx, dxa);
  finishParameterGradients(C, dweight, dbias, ws);
}

export const GN_BACKWARD_WASM: GroupNormBackwardVersion = {
  name: 'wasm',
  description: 'per-channel reductions and dx in WebAssembly SIMD (f64x2): NCHW one call, pipelined over groups, NHWC per-channel tables per sample; in place on wasm arrays',
  nchw: backwardNchw,
  nhwc: backwardNhwc,
};
