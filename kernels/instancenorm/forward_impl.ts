/**
 * InstanceNorm forward versions, float32 storage, float64 arithmetic. No argument checks: api.ts checks, then
 * calls a version. Sizes: N batch, C channels, S spatial positions; instance (n, c) is channel c of sample n.
 *   NCHW  element (n, c, s) at (n·C + c)·S + s: instance (n, c) is the contiguous block [(n·C + c)·S, +S)
 *   NHWC  element (n, s, c) at (n·S + s)·C + c
 *
 * With the input's statistics an instance is a GroupNorm group of one channel: the versions run GroupNorm's
 * (groupnorm/forward_impl.ts has the accuracy argument, with D = S). With given statistics (eval with the running
 * ones, mean = running_mean[c], rstd = 1/sqrt(running_var[c] + eps), repeated per sample):
 *   y = (x - mean)·scale + b,   scale = w·rstd
 * x - mean is a difference of two float32 values (the running mean is one), exact in float64 unless their
 * exponents are 29 or more apart, so y is the float32 rounding of the exact value up to a few float64 roundings.
 *
 * Versions, one signature (`InstanceNormForwardVersion`, version.ts), listed in kernels/registry.ts:
 *   twoPass   GroupNorm twoPass with G = C; the eval path in TypeScript loops
 *   wasm      GroupNorm wasm with G = C; the eval path in WebAssembly SIMD (wasm_impl.ts; the default)
 */
import { normalizeRowsNhwc, GN_FORWARD_TWO_PASS } from '../groupnorm/forward_impl.js';
import type { GroupNormWorkspace } from '../groupnorm/workspace.js';
import type { InstanceDims, InstanceNormForwardVersion } from './version.js';

function applyNchw(
  x: Float32Array, d: InstanceDims, weight: Float32Array | null, bias: Float32Array | null,
  mean: Float64Array, rstd: Float64Array, y: Float32Array,
): void {
  const { N, C, S } = d;
  for (let nc = 0, c = 0; nc < N * C; nc++, c = c + 1 === C ? 0 : c + 1) {
    const m = mean[nc]!;
    const scale = (weight !== null ? weight[c]! : 1) * rstd[nc]!;
    const b = bias !== null ? bias[c]! : 0;
    for (let i = nc * S, end = i + S; i < end; i++) y[i] = (x[i]! - m) * scale + b;
  }
}

/** Sample n's per-channel constants of the eval path: shift = mean, dm = 0, scale = w·rstd, offset = b. */
export function applyTablesNhwc(n: number, C: number, weight: Float32Array | null, bias: Float32Array | null, mean: Float64Array, rstd: Float64Array, ws: GroupNormWorkspace): void {
  for (let c = 0; c < C; c++) {
    ws.shift[c] = mean[n * C + c]!;
    ws.dm[c] = 0;
    ws.scale[c] = (weight !== null ? weight[c]! : 1) * rstd[n * C + c]!;
    ws.offset[c] = bias !== null ? bias[c]! : 0;
  }
}

function applyNhwc(
  x: Float32Array, d: InstanceDims, weight: Float32Array | null, bias: Float32Array | null,
  mean: Float64Array, rstd: Float64Array, y: Float32Array, ws: GroupNormWorkspace,
): void {
  const { N, C, S } = d;
  for (let n = 0; n < N; n++) {
    applyTablesNhwc(n, C, weight, bias, mean, rstd, ws);
    // ((x - mean) - 0)·scale + b: subtracting the zero dm is exact
    normalizeRowsNhwc(x, y, n * S * C, S, C, ws.shift, ws.dm, ws.scale, ws.offset);
  }
}

export const IN_FORWARD_TWO_PASS: InstanceNormForwardVersion = {
  name: 'twoPass',
  description: 'GroupNorm twoPass with one channel per group; eval normalisation in TypeScript loops',
  groups: GN_FORWARD_TWO_PASS,
  applyNchw: (x, d, weight, bias, mean, rstd, y) => applyNchw(x, d, weight, bias, mean, rstd, y),
  applyNhwc,
};
