/**
 * GroupNorm backward, float32 storage, float64 arithmetic. No argument checks: api.ts checks, then calls a
 * version. Sizes and layouts as forward_impl.ts.
 *
 * Within a group it is LayerNorm's algebra over the D values (reference/groupnorm.ts derives it), g = dy·w_c:
 *   dx = rstd·(g - mean(g) - x̂·mean(g·x̂)) = (w_c·rstd)·dy - k0 - (x - mean)·k1,
 *   k0 = rstd·Σg/D,  k1 = rstd³·Σg·(x - mean)/D,   Σg = Σ_c w_c·Σ_s dy,  Σg·(x - mean) = Σ_c w_c·Σ_s dy·(x - mean)
 * so the reductions are per channel (Σ dy, Σ dy·(x - mean) over the channel's positions in the group), which is
 * also what the parameter gradients need, accumulated over the samples in float64 (workspace) and rounded once:
 *   dweight_c = rstd·Σ_n Σ_s dy·(x - mean),   dbias_c = Σ_n Σ_s dy
 * With constant statistics (InstanceNorm's running ones, `inputStats` false) k0 = k1 = 0: dx = w_c·rstd·dy.
 *
 * Versions, one signature (`GroupNormBackwardVersion`, version.ts), listed in kernels/registry.ts:
 *   twoPass   per group: the per-channel reductions pass, then the dx pass
 *   wasm      the same passes in WebAssembly SIMD loops (wasm_impl.ts; the default)
 */
import type { GroupDims, GroupNormBackwardVersion } from './version.js';
import type { GroupNormWorkspace } from './workspace.js';

/** dweight, dbias from the workspace's float64 accumulators. */
export function finishParameterGradients(C: number, dweight: Float32Array | null, dbias: Float32Array | null, ws: GroupNormWorkspace): void {
  if (dweight !== null) for (let c = 0; c < C; c++) dweight[c] = ws.accWeight[c]!;
  if (dbias !== null) for (let c = 0; c < C; c++) dbias[c] = ws.accBias[c]!;
}

function twoPassNchw(
  dy: Float32Array, x: Float32Array, d: GroupDims, weight: Float32Array | null, mean: Float64Array, rstd: Float64Array,
  inputStats: boolean, dx: Float32Array, dweight: Float32Array | null, dbias: Float32Array | null, ws: GroupNormWorkspace,
): void {
  const { C, G, S } = d;
  const Cg = C / G;
  const D = Cg * S;
  const { accWeight, accBias } = ws;
  accWeight.fill(0);
  accBias.fill(0);
  for (let ng = 0, NG = d.N * G; ng < NG; ng++) {
    const base = ng * D;
    const c0 = (ng % G) * Cg;
    const m = mean[ng]!;
    const r = rstd[ng]!;
    // reductions per channel run: Σ dy, Σ dy·(x - mean); the group's Σg, Σg·(x - mean) with g = dy·w_c
    let sumG = 0;
    let sumGXc = 0;
    for (let j = 0; j < Cg; j++) {
      const c = c0 + j;
      let sDy = 0;
      let sDyXc = 0;
      for (let i = base + j * S, end = i + S; i < end; i++) {
        const g = dy[i]!;
        sDy += g;
        sDyXc += g * (x[i]! - m);
      }
      accWeight[c] = accWeight[c]! + r * sDyXc;
      accBias[c] = accBias[c]! + sDy;
      const w = weight !== null ? weight[c]! : 1;
      sumG += w * sDy;
      sumGXc += w * sDyXc;
    }
    // per-element terms: dx = (w·rstd)·dy - k0 - (x - mean)·k1
    const k0 = inputStats ? (r * sumG) / D : 0;
    const k1 = inputStats ? (r * r * r * sumGXc) / D : 0;
    for (let j = 0; j < Cg; j++) {
      const a = (weight !== null ? weight[c0 + j]! : 1) * r;
      for (let i = base + j * S, end = i + S; i < end; i++) dx[i] = a * dy[i]! - k0 - (x[i]! - m) * k1;
    }
  }
  finishParameterGradients(C, dweight, dbias, ws);
}

/** ws.shift[c] = the mean of channel c's group in sample n. */
export function groupMeansNhwc(n: number, d: GroupDims, mean: Float64Array, table: Float64Array): void {
  const Cg = d.C / d.G;
  for (let g = 0; g < d.G; g++) {
    const m = mean[n * d.G + g]!;
    for (let c = g * Cg; c < (g + 1) * Cg; c++) table[c] = m;
  }
}

/**
 * From sample n's per-channel Σ dy (ws.sum1) and Σ dy·(x - mean) (ws.sum2): adds its share of dweight, dbias and
 * writes the dx constants of each channel, ws.scale = w·rstd, ws.offset = k0, ws.k1 = k1.
 */
export function finishSampleNhwc(n: number, d: GroupDims, weight: Float32Array | null, rstd: Float64Array, inputStats: boolean, ws: GroupNormWorkspace): void {
  const { C, G, S } = d;
  const Cg = C / G;
  const D = Cg * S;
  const { sum1, sum2, accWeight, accBias, scale, offset, k1: k1s } = ws;
  for (let g = 0; g < G; g++) {
    const r = rstd[n * G + g]!;
    let sumG = 0;
    let sumGXc = 0;
    for (let c = g * Cg; c < (g + 1) * Cg; c++) {
      const w = weight !== null ? weight[c]! : 1;
      sumG += w * sum1[c]!;
      sumGXc += w * sum2[c]!;
      accWeight[c] = accWeight[c]! + r * sum2[c]!;
      accBias[c] = accBias[c]! + sum1[c]!;
    }
    const k0 = inputStats ? (r * sumG) / D : 0;
    const k1 = inputStats ? (r * r * r * sumGXc) / D : 0;
    for (let c = g * Cg; c < (g + 1) * Cg; c++) {
      scale[c] = (weight !== null ? weight[c]! : 1) * r;
      offset[c] = k0;
      k1s[c] = k1;
    }
  }
}

function twoPassNhwc(
  dy: Float32Array, x: Float32Array, d: GroupDims, weight: Float32Array | null, mean: Float64Array, rstd: Float64Array,
  inputStats: boolean, dx: Float32Array, dweight: Float32Array | null, dbias: Float32Array | null, ws: GroupNormWorkspace,
): void {
  const { N, C, S } = d;
  const { shift: means, sum1, sum2, scale, offset, k1 } = ws;
  ws.accWeight.fill(0);
  ws.accBias.fill(0);
  for (let n = 0; n < N; n++) {
    const base = n * S * C;
    // reductions per channel: Σ dy, Σ dy·(x - mean)
    groupMeansNhwc(n, d, mean, means);
    sum1.fill(0);
    sum2.fill(0);
    for (let s = 0, i = base; s < S; s++) {
      for (let c = 0; c < C; c++, i++) {
        const g = dy[i]!;
        sum1[c] = sum1[c]! + g;
        sum2[c] = sum2[c]! + g * (x[i]! - means[c]!);
      }
    }
    finishSampleNhwc(n, d, weight, rstd, inputStats, ws);
    // per-element terms: dx = scale·dy - k0 - (x - mean)·k1
    for (let s = 0, i = base; s < S; s++) {
      for (let c = 0; c < C; c++, i++) dx[i] = scale[c]! * dy[i]! - offset[c]! - (x[i]! - means[c]!) * k1[c]!;
    }
  }
  finishParameterGradients(C, dweight, dbias, ws);
}

export const GN_BACKWARD_TWO_PASS: GroupNormBackwardVersion = {
  name: 'twoPass',
  description: 'per group: per-channel reductions Σdy, Σdy·(x - mean), then dx (NHWC: per sample)',
  nchw: twoPassNchw,
  nhwc: twoPassNhwc,
};
