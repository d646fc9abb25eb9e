/**
 * GroupNorm forward, float32 storage, float64 arithmetic. No argument checks: api.ts checks, then calls a version.
 *
 * Sizes: N batch, C channels, G groups, Cg = C/G channels per group, S spatial positions, D = Cg·S values per
 * group; group (n, g) holds channels g·Cg .. g·Cg + Cg - 1 of sample n.
 *   NCHW  element (n, c, s) at (n·C + c)·S + s: group (n, g) is the contiguous block [(n·G + g)·D, +D), channel
 *         by channel (Cg runs of S values)
 *   NHWC  element (n, s, c) at (n·S + s)·C + c: group (n, g) is S runs of Cg values, one per position, stride C
 *
 * Per group, with the shift K = the group's first value (element (n, s = 0, c = g·Cg), the same element in both
 * layouts), as in batchnorm/forward_impl.ts, whose accuracy argument this repeats with M = D:
 *   mean = K + dm,  dm = Σ(x - K)/D
 *   var  = Σ((x - K) - dm)²/D            (two-pass)   or   Σ(x - K)²/D - dm²   (one-pass, checked: the exact
 *                                        second pass when 3·γ_D·E[(x - K)²] > 2⁻³⁰·var, shared/one_pass.ts)
 *   rstd = 1/sqrt(var + eps)
 *   y    = ((x - K) - dm)·scale_c + bias_c,   scale_c = weight_c·rstd   (c the element's own channel)
 * x - K is exact or nearly so in float64 and of the order of the spread, so no sum sees the offset, and y is
 * within a small fraction of an ulp of the float32 rounding of the exact result at any offset.
 *
 * NHWC visits every channel of a position at once: the per-channel sums Σ(x - K_g(c)) (and squares) of one
 * sample gather in the workspace (C float64 each), and a group's sums are the sums of its Cg channels'.
 *
 * Versions, one signature (`GroupNormForwardVersion`, version.ts), listed in kernels/registry.ts:
 *   twoPass   shifted mean pass, squared-deviation pass, normalise pass per group (NHWC: per sample)
 *   wasm      one-pass shifted sums with the cancellation check, WebAssembly SIMD loops (wasm_impl.ts; the default)
 */
import type { GroupDims, GroupNormForwardVersion } from './version.js';
import type { GroupNormWorkspace } from './workspace.js';

/** y = ((x - K) - dm)·(w·rstd) + b over the Cg channel runs of NCHW group ng, starting at `base`. */
export function normalizeGroupNchw(
  x: Float32Array, y: Float32Array, base: number, c0: number, Cg: number, S: number, K: number, dm: number, r: number,
  weight: Float32Array | null, bias: Float32Array | null,
): void {
  for (let j = 0; j < Cg; j++) {
    const c = c0 + j;
    const scale = (weight !== null ? weight[c]! : 1) * r;
    const b = bias !== null ? bias[c]! : 0;
    for (let i = base + j * S, end = i + S; i < end; i++) y[i] = (x[i]! - K - dm) * scale + b;
  }
}

function twoPassNchw(
  x: Float32Array, d: GroupDims, weight: Float32Array | null, bias: Float32Array | null, eps: number,
  y: Float32Array, mean: Float64Array, rstd: Float64Array, variance: Float64Array | null,
): void {
  const { C, G, S } = d;
  const Cg = C / G;
  const D = Cg * S;
  for (let ng = 0, NG = d.N * G; ng < NG; ng++) {
    const base = ng * D;
    // mean, about the shift K
    const K = x[base]!;
    let sum = 0;
    for (let i = base, end = base + D; i < end; i++) sum += x[i]! - K;
    const dm = sum / D;
    // variance, biased, about the mean; rstd
    let sq = 0;
    for (let i = base, end = base + D; i < end; i++) {
      const dev = x[i]! - K - dm;
      sq += dev * dev;
    }
    const v = sq / D;
    const r = 1 / Math.sqrt(v + eps);
    mean[ng] = K + dm;
    rstd[ng] = r;
    if (variance !== null) variance[ng] = v;
    // normalise, then each channel's scale and shift
    normalizeGroupNchw(x, y, base, (ng % G) * Cg, Cg, S, K, dm, r, weight, bias);
  }
}

/** ws.shift[c] = the first value of channel c's group in sample n (NHWC). */
export function groupShiftsNhwc(x: Float32Array, n: number, d: GroupDims, shift: Float64Array): void {
  const { C, G, S } = d;
  const Cg = C / G;
  const row0 = n * S * C;
  for (let g = 0; g < G; g++) {
    const K = x[row0 + g * Cg]!;
    for (let c = g * Cg; c < (g + 1) * Cg; c++) shift[c] = K;
  }
}

/** Σ over channels c0 .. c0 + Cg - 1 of a per-channel array. */
export function groupSum(a: Float64Array, c0: number, Cg: number): number {
  let s = 0;
  for (let c = c0; c < c0 + Cg; c++) s += a[c]!;
  return s;
}

/** Σ((x - K) - dm)² over group g of sample n (NHWC): the exact second pass of one group. */
export function groupSqDevNhwc(x: Float32Array, n: number, g: number, d: GroupDims, K: number, dm: number): number {
  const { C, G, S } = d;
  const Cg = C / G;
  let sq = 0;
  for (let s = 0; s < S; s++) {
    const start = (n * S + s) * C + g * Cg;
    for (let i = start; i < start + Cg; i++) {
      const dev = x[i]! - K - dm;
      sq += dev * dev;
    }
  }
  return sq;
}

/** y = ((x - shift[c]) - dm[c])·scale[c] + offset[c] over `rows` positions of C channels starting at `base` (NHWC). */
export function normalizeRowsNhwc(
  x: Float32Array, y: Float32Array, base: number, rows: number, C: number,
  shift: Float64Array, dm: Float64Array, scale: Float64Array, offset: Float64Array,
): void {
  for (let row = 0, i = base; row < rows; row++) {
    for (let c = 0; c < C; c++, i++) y[i] = (x[i]! - shift[c]! - dm[c]!) * scale[c]! + offset[c]!;
  }
}

/** Group g of sample n from its K, dm and variance: writes mean, rstd, variance and its channels' normalise constants. */
export function finishGroupNhwc(
  n: number, g: number, d: GroupDims, K: number, dm: number, v: number, eps: number,
  weight: Float32Array | null, bias: Float32Array | null, mean: Float64Array, rstd: Float64Array, variance: Float64Array | null,
  dmTable: Float64Array, scale: Float64Array, offset: Float64Array,
): void {
  const Cg = d.C / d.G;
  const r = 1 / Math.sqrt(v + eps);
  const ng = n * d.G + g;
  mean[ng] = K + dm;
  rstd[ng] = r;
  if (variance !== null) variance[ng] = v;
  for (let c = g * Cg; c < (g + 1) * Cg; c++) {
    dmTable[c] = dm;
    scale[c] = (weight !== null ? weight[c]! : 1) * r;
    offset[c] = bias !== null ? bias[c]! : 0;
  }
}

function twoPassNhwc(
  x: Float32Array, d: GroupDims, weight: Float32Array | null, bias: Float32Array | null, eps: number,
  y: Float32Array, mean: Float64Array, rstd: Float64Array, variance: Float64Array | null, ws: GroupNormWorkspace,
): void {
  const { N, C, G, S } = d;
  const Cg = C / G;
  const D = Cg * S;
  const { shift, sum1, sum2, dm, scale, offset } = ws;
  for (let n = 0; n < N; n++) {
    const base = n * S * C;
    // per channel Σ(x - K) with K its group's first value; dm per group
    groupShiftsNhwc(x, n, d, shift);
    sum1.fill(0);
    for (let s = 0, i = base; s < S; s++) {
      for (let c = 0; c < C; c++, i++) sum1[c] = sum1[c]! + (x[i]! - shift[c]!);
    }
    for (let g = 0; g < G; g++) {
      const m = groupSum(sum1, g * Cg, Cg) / D;
      for (let c = g * Cg; c < (g + 1) * Cg; c++) dm[c] = m;
    }
    // per channel Σ((x - K) - dm)²; variance per group, biased
    sum2.fill(0);
    for (let s = 0, i = base; s < S; s++) {
      for (let c = 0; c < C; c++, i++) {
        const dev = x[i]! - shift[c]! - dm[c]!;
        sum2[c] = sum2[c]! + dev * dev;
      }
    }
    for (let g = 0; g < G; g++) {
      const c0 = g * Cg;
      finishGroupNhwc(n, g, d, shift[c0]!, dm[c0]!, groupSum(sum2, c0, Cg) / D, eps, weight, bias, mean, rstd, variance, dm, scale, offset);
    }
    // normalise, scale and shift
    normalizeRowsNhwc(x, y, base, S, C, shift, dm, scale, offset);
  }
}

export const GN_FORWARD_TWO_PASS: GroupNormForwardVersion = {
  name: 'twoPass',
  description: 'per group: shifted mean pass, squared-deviation pass, normalise pass (NHWC: per-channel sums per sample)',
  nchw: (x, d, weight, bias, eps, y, mean, rstd, variance) => twoPassNchw(x, d, weight, bias, eps, y, mean, rstd, variance),
  nhwc: twoPassNhwc,
};
