/**
 * BatchNorm forward kernels, float32 storage, float64 arithmetic. No argument checks: api.ts checks, then
 * calls a version. Sizes: N batch, C channels, S spatial positions, M = N·S values per channel.
 *   NCHW  element (n, c, s) at (n·C + c)·S + s   — a channel is N contiguous runs of S values
 *   NHWC  element (m, c)    at m·C + c           — channels-last, a row-major (M, C) matrix
 *
 * Statistics, per channel, with a shift K = the channel's first value (x - K is exact or nearly so in float64,
 * and |x - K| is of the order of the spread, not of the offset, so no sum below sees the offset):
 *   mean = K + Σ(x - K)/M
 *   var  = Σ(x - mean)²/M                       (two-pass)        or
 *   var  = Σ(x - K)²/M - (Σ(x - K)/M)²          (one-pass, shifted; checked, see below)
 *   rstd = 1/sqrt(var + eps)
 * Normalise, scale, shift (and ReLU), centring about the shift too:
 *   y = fl32(((x - K) - dm)·scale + bias),   dm = Σ(x - K)/M,  scale = weight·rstd   (ReLU: 0 where that is ≤ 0)
 * x - mean computed as x - (K + dm) would carry the rounding of the float64 mean, u64·|mean| ≈ 1e-10 at an offset
 * of 1e6: invisible next to a unit output, but many ulps of an output near 0. (x - K) - dm errs by
 * u64·|x - mean| plus the error of dm, which is of the order of the spread times γ_M, not of the offset.
 *
 * The one-pass variance cancels when K sits far out in the channel's distribution. Recursive float64 sums of
 * M terms err by at most γ_M = M·u64/(1 - M·u64), u64 = 2⁻⁵³, so
 *   |δvar| ≤ 3·γ_M·E[(x - K)²]       (|Σ(x-K)/M| ≤ sqrt(E[(x-K)²]) bounds the cross term)
 * Whenever that bound exceeds 2⁻³⁰·var the channel is recomputed with the exact second pass. Past that test the
 * variance is good to 2⁻³⁰, rstd to 2⁻³¹, and y to a small fraction of its last float32 bit (ulp = 2⁻²³·|y|).
 * Because K is one of the values, (mean - K)² ≤ (M - 1)·var (Samuelson), so E[(x - K)²] ≤ M·var and the
 * relative error is at most 3·M·γ_M — the check fires only for M in the thousands with an outlying first value,
 * and even then the one-pass value is usually fine (the bound is worst-case); the second pass makes it certain.
 *
 * Versions, one signature (`BatchNormForwardVersion`, version.ts), listed in kernels/registry.ts:
 *   twoPass   mean pass, squared-deviation pass, normalise pass: three reads of x, always exact
 *   onePass   Σ(x-K) and Σ(x-K)² in one pass, checked cancellation (rarely a second pass), normalise: two reads
 *   blocked   onePass with the loops restructured for speed: NHWC in four-channel blocks with the sums in locals
 *             (nhwc_blocked_impl.ts), NCHW sums over two interleaved accumulator sets (no add waits on the
 *             previous one)
 *   wasm      blocked with WebAssembly SIMD element loops (wasm_impl.ts; the default)
 * Backward versions (backward_impl.ts): twoPass, blocked, wasm (wasm_impl.ts; the default).
 */
import { onePassVarianceIsAccurate } from '../shared/one_pass.js';
import { columnSumsBlocked, normalizeBlocked } from './nhwc_blocked_impl.js';
import type { BatchNormEvalVersion, BatchNormForwardVersion } from './version.js';
import type { BatchNormWorkspace } from './workspace.js';

// ---------------------------------------------------------------------------------------------------------
// Shared pieces

/** Σ((x - K) - dm)² over channel c of NCHW data: the exact second pass. */
export function sumSquaredDeviationsNchw(x: Float32Array, N: number, C: number, S: number, c: number, K: number, dm: number): number {
  const CS = C * S;
  let sq = 0;
  for (let n = 0; n < N; n++) {
    const base = n * CS + c * S;
    const end = base + S;
    for (let i = base; i < end; i++) {
      const d = x[i]! - K - dm;
      sq += d * d;
    }
  }
  return sq;
}

/** y = ((x - K) - dm)·scale + b over channel c of NCHW data, then ReLU if asked. */
export function normalizeChannelNchw(
  x: Float32Array, y: Float32Array, N: number, C: number, S: number, c: number,
  K: number, dm: number, scale: number, b: number, relu: boolean,
): void {
  const CS = C * S;
  for (let n = 0; n < N; n++) {
    const base = n * CS + c * S;
    const end = base + S;
    if (relu) {
      for (let i = base; i < end; i++) {
        const v = (x[i]! - K - dm) * scale + b;
        y[i] = v > 0 ? v : 0;
      }
    } else {
      for (let i = base; i < end; i++) y[i] = (x[i]! - K - dm) * scale + b;
    }
  }
}

/** y = ((x - shift[c]) - dm[c])·scale[c] + offset[c] over (M, C) channels-last data, then ReLU if asked. */
export function normalizeNhwc(
  x: Float32Array, y: Float32Array, M: number, C: number,
  shift: Float64Array, dm: Float64Array, scale: Float64Array, offset: Float64Array, relu: boolean,
): void {
  for (let row = 0, i = 0; row < M; row++) {
    if (relu) {
      for (let c = 0; c < C; c++, i++) {
        const v = (x[i]! - shift[c]! - dm[c]!) * scale[c]! + offset[c]!;
        y[i] = v > 0 ? v : 0;
      }
    } else {
      for (let c = 0; c < C; c++, i++) y[i] = (x[i]! - shift[c]! - dm[c]!) * scale[c]! + offset[c]!;
    }
  }
}

/** Σ((x - shift[c]) - dm[c])² per channel into out, over (M, C) channels-last data. */
function sumSquaredDeviationsNhwc(x: Float32Array, M: number, C: number, shift: Float64Array, dm: Float64Array, out: Float64Array): void {
  out.fill(0);
  for (let row = 0, i = 0; row < M; row++) {
    for (let c = 0; c < C; c++, i++) {
      const d = x[i]! - shift[c]! - dm[c]!;
      out[c] = out[c]! + d * d;
    }
  }
}

/** Σ(x - shift[c]) into sum1 and, if sum2 is given, Σ(x - shift[c])² into it, over (M, C) channels-last data. */
function shiftedSumsNhwc(x: Float32Array, M: number, C: number, shift: Float64Array, sum1: Float64Array, sum2: Float64Array | null): void {
  sum1.fill(0);
  if (sum2 === null) {
    for (let row = 0, i = 0; row < M; row++) {
      for (let c = 0; c < C; c++, i++) sum1[c] = sum1[c]! + (x[i]! - shift[c]!);
    }
    return;
  }
  sum2.fill(0);
  for (let row = 0, i = 0; row < M; row++) {
    for (let c = 0; c < C; c++, i++) {
      const d = x[i]! - shift[c]!;
      sum1[c] = sum1[c]! + d;
      sum2[c] = sum2[c]! + d * d;
    }
  }
}

/**
 * Channel c's statistics from its shifted sums s1 = Σ(x - K), s2 = Σ(x - K)² over the M = N·S values: the
 * one-pass biased variance, replaced by the exact second pass when it may have cancelled; writes mean[c] = K + dm,
 * rstd[c] and ws.variance[c] (dm = s1/M, which the caller recomputes for the normalise step).
 */
export function onePassStatisticsNchw(
  x: Float32Array, N: number, C: number, S: number, c: number, K: number, s1: number, s2: number,
  eps: number, mean: Float64Array, rstd: Float64Array, ws: BatchNormWorkspace,
): void {
  const M = N * S;
  const dm = s1 / M;
  let v = s2 / M - dm * dm;
  if (!onePassVarianceIsAccurate(v, s2 / M, M)) v = sumSquaredDeviationsNchw(x, N, C, S, c, K, dm) / M;
  mean[c] = K + dm;
  rstd[c] = 1 / Math.sqrt(v + eps);
  ws.variance[c] = v;
}

/**
 * Channels-last statistics from the shifted sums ws.sum1 = Σ(x - K), ws.sum2 = Σ(x - K)² (K = ws.shift): turns
 * ws.sum1 into dm = Σ(x - K)/M in place, writes mean and the one-pass biased variance into ws.variance, and returns
 * true when some channel may have cancelled (the caller then runs its exact second pass for every channel).
 */
export function onePassStatisticsNhwc(M: number, C: number, mean: Float64Array, ws: BatchNormWorkspace): boolean {
  const dm = ws.sum1;
  let recheck = false;
  for (let c = 0; c < C; c++) {
    dm[c] = dm[c]! / M;
    const meanSq = ws.sum2[c]! / M;
    const v = meanSq - dm[c]! * dm[c]!;
    mean[c] = ws.shift[c]! + dm[c]!;
    ws.variance[c] = v;
    if (!onePassVarianceIsAccurate(v, meanSq, M)) recheck = true;
  }
  return recheck;
}

/** From mean and var per channel: rstd, and the affine map's scale and offset in the workspace. */
export function finishStatistics(
  C: number, weight: Float32Array | null, bias: Float32Array | null, eps: number,
  variance: Float64Array, rstd: Float64Array, ws: BatchNormWorkspace,
): void {
  for (let c = 0; c < C; c++) {
    const r = 1 / Math.sqrt(variance[c]! + eps);
    rstd[c] = r;
    ws.scale[c] = (weight !== null ? weight[c]! : 1) * r;
    ws.offset[c] = bias !== null ? bias[c]! : 0;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Version 1: two-pass

function twoPassNchw(
  x: Float32Array, N: number, C: number, S: number, weight: Float32Array | null, bias: Float32Array | null,
  eps: number, relu: boolean, y: Float32Array, mean: Float64Array, rstd: Float64Array, ws: BatchNormWorkspace,
): void {
  const M = N * S;
  const CS = C * S;
  for (let c = 0; c < C; c++) {
    // mean, about the shift K = first value of the channel
    const K = x[c * S]!;
    let sum = 0;
    for (let n = 0; n < N; n++) {
      const base = n * CS + c * S;
      const end = base + S;
      for (let i = base; i < end; i++) sum += x[i]! - K;
    }
    const dm = sum / M;
    // variance, biased, about the mean
    const v = sumSquaredDeviationsNchw(x, N, C, S, c, K, dm) / M;
    // rstd; normalise, scale and shift
    const r = 1 / Math.sqrt(v + eps);
    mean[c] = K + dm;
    rstd[c] = r;
    ws.variance[c] = v;
    const scale = (weight !== null ? weight[c]! : 1) * r;
    normalizeChannelNchw(x, y, N, C, S, c, K, dm, scale, bias !== null ? bias[c]! : 0, relu);
  }
}

function twoPassNhwc(
  x: Float32Array, M: number, C: number, weight: Float32Array | null, bias: Float32Array | null,
  eps: number, relu: boolean, y: Float32Array, mean: Float64Array, rstd: Float64Array, ws: BatchNormWorkspace,
): void {
  // mean, about the shift K = row 0
  for (let c = 0; c < C; c++) ws.shift[c] = x[c]!;
  shiftedSumsNhwc(x, M, C, ws.shift, ws.sum1, null);
  const dm = ws.sum1;
  for (let c = 0; c < C; c++) {
    dm[c] = dm[c]! / M;
    mean[c] = ws.shift[c]! + dm[c]!;
  }
  // variance, biased, about the mean
  sumSquaredDeviationsNhwc(x, M, C, ws.shift, dm, ws.sum2);
  for (let c = 0; c < C; c++) ws.variance[c] = ws.sum2[c]! / M;
  // rstd; normalise, scale and shift
  finishStatistics(C, weight, bias, eps, ws.variance, rstd, ws);
  normalizeNhwc(x, y, M, C, ws.shift, dm, ws.scale, ws.offset, relu);
}

export const BN_FORWARD_TWO_PASS: BatchNormForwardVersion = {
  name: 'twoPass',
  description: 'shifted mean pass, squared-deviation pass, normalise pass (three reads of x)',
  nchw: twoPassNchw,
  nhwc: twoPassNhwc,
};

// ---------------------------------------------------------------------------------------------------------
// Version 2: one-pass shifted sums, checked

function onePassNchw(
  x: Float32Array, N: number, C: number, S: number, weight: Float32Array | null, bias: Float32Array | null,
  eps: number, relu: boolean, y: Float32Array, mean: Float64Array, rstd: Float64Array, ws: BatchNormWorkspace,
): void {
  const M = N * S;
  const CS = C * S;
  for (let c = 0; c < C; c++) {
    // Σ(x - K), Σ(x - K)², K = first value of the channel
    const K = x[c * S]!;
    let s1 = 0;
    let s2 = 0;
    for (let n = 0; n < N; n++) {
      const base = n * CS + c * S;
      const end = base + S;
      for (let i = base; i < end; i++) {
        const d = x[i]! - K;
        s1 += d;
        s2 += d * d;
      }
    }
    // variance, biased; the exact second pass when the shifted formula may have cancelled. Written out rather
    // than onePassStatisticsNchw: with the call, this loop measured ~10% slower (bn_train_fwd_nchw 12.9 → 14.2 ms)
    const dm = s1 / M;
    let v = s2 / M - dm * dm;
    if (!onePassVarianceIsAccurate(v, s2 / M, M)) v = sumSquaredDeviationsNchw(x, N, C, S, c, K, dm) / M;
    // rstd; normalise, scale and shift
    const r = 1 / Math.sqrt(v + eps);
    mean[c] = K + dm;
    rstd[c] = r;
    ws.variance[c] = v;
    const scale = (weight !== null ? weight[c]! : 1) * r;
    normalizeChannelNchw(x, y, N, C, S, c, K, dm, scale, bias !== null ? bias[c]! : 0, relu);
  }
}

function onePassNhwc(
  x: Float32Array, M: number, C: number, weight: Float32Array | null, bias: Float32Array | null,
  eps: number, relu: boolean, y: Float32Array, mean: Float64Array, rstd: Float64Array, ws: BatchNormWorkspace,
): void {
  // Σ(x - K), Σ(x - K)², K = row 0
  for (let c = 0; c < C; c++) ws.shift[c] = x[c]!;
  shiftedSumsNhwc(x, M, C, ws.shift, ws.sum1, ws.sum2);
  const recheck = onePassStatisticsNhwc(M, C, mean, ws);
  const dm = ws.sum1;
  // the exact second pass for every channel, if any channel may have cancelled (rare: K far out in its channel)
  if (recheck) {
    sumSquaredDeviationsNhwc(x, M, C, ws.shift, dm, ws.sum2);
    for (let c = 0; c < C; c++) ws.variance[c] = ws.sum2[c]! / M;
  }
  // rstd; normalise, scale and shift
  finishStatistics(C, weight, bias, eps, ws.variance, rstd, ws);
  normalizeNhwc(x, y, M, C, ws.shift, dm, ws.scale, ws.offset, relu);
}

export const BN_FORWARD_ONE_PASS: BatchNormForwardVersion = {
  name: 'onePass',
  description: 'one pass of shifted sums Σ(x-K), Σ(x-K)² with a checked cancellation bound, then normalise (two reads)',
  nchw: onePassNchw,
  nhwc: onePassNhwc,
};

// ---------------------------------------------------------------------------------------------------------
// Eval mode: a fixed affine map from the running statistics (one version)

/** Eval forward, NCHW: y = (x - runningMean)·weight·rstd + bias, rstd = 1/sqrt(runningVar + eps). Writes y, mean, rstd. */
export function evalForwardNchw(
  x: Float32Array, N: number, C: number, S: number, weight: Float32Array | null, bias: Float32Array | null,
  runningMean: Float32Array, runningVar: Float32Array, eps: number, relu: boolean,
  y: Float32Array, mean: Float64Array, rstd: Float64Array,
): void {
  for (let c = 0; c < C; c++) {
    const m = runningMean[c]!;
    const r = 1 / Math.sqrt(runningVar[c]! + eps);
    mean[c] = m;
    rstd[c] = r;
    normalizeChannelNchw(x, y, N, C, S, c, m, 0, (weight !== null ? weight[c]! : 1) * r, bias !== null ? bias[c]! : 0, relu);
  }
}

/** Eval forward, (M, C) channels-last. */
export function evalForwardNhwc(
  x: Float32Array, M: number, C: number, weight: Float32Array | null, bias: Float32Array | null,
  runningMean: Float32Array, runningVar: Float32Array, eps: number, relu: boolean,
  y: Float32Array, mean: Float64Array, rstd: Float64Array, ws: BatchNormWorkspace,
): void {
  // the running mean is float32, so x - runningMean is exact or nearly so: shift = runningMean, dm = 0
  for (let c = 0; c < C; c++) {
    mean[c] = runningMean[c]!;
    ws.shift[c] = runningMean[c]!;
    ws.sum1[c] = 0;
    ws.variance[c] = runningVar[c]!;
  }
  finishStatistics(C, weight, bias, eps, ws.variance, rstd, ws);
  normalizeNhwc(x, y, M, C, ws.shift, ws.sum1, ws.scale, ws.offset, relu);
}

export const BN_EVAL_BLOCKED: BatchNormEvalVersion = {
  name: 'blocked',
  description: 'one pass, y = (x - runningMean)·scale + bias; NHWC through per-channel workspace arrays',
  nchw: (x, N, C, S, weight, bias, runningMean, runningVar, eps, relu, y, mean, rstd) =>
    evalForwardNchw(x, N, C, S, weight, bias, runningMean, runningVar, eps, relu, y, mean, rstd),
  nhwc: evalForwardNhwc,
};

// ---------------------------------------------------------------------------------------------------------
// Version 3: onePass, loops blocked for speed

function blockedNchw(
  x: Float32Array, N: number, C: number, S: number, weight: Float32Array | null, bias: Float32Array | null,
  eps: number, relu: boolean, y: Float32Array, mean: Float64Array, rstd: Float64Array, ws: BatchNormWorkspace,
): void {
  const M = N * S;
  const CS = C * S;
  for (let c = 0; c < C; c++) {
    // Σ(x - K), Σ(x - K)², K = first value of the channel; even and odd elements in separate sums
    const K = x[c * S]!;
    let a1 = 0, a2 = 0, b1 = 0, b2 = 0;
    for (let n = 0; n < N; n++) {
      const base = n * CS + c * S;
      const end = base + S;
      let i = base;
      for (; i + 1 < end; i += 2) {
        const d0 = x[i]! - K;
        const d1 = x[i + 1]! - K;
        a1 += d0;
        a2 += d0 * d0;
        b1 += d1;
        b2 += d1 * d1;
      }
      if (i < end) {
        const d = x[i]! - K;
        a1 += d;
        a2 += d * d;
      }
    }
    const s1 = a1 + b1;
    const s2 = a2 + b2;
    // variance, biased (the exact second pass when the shifted formula may have cancelled); rstd
    onePassStatisticsNchw(x, N, C, S, c, K, s1, s2, eps, mean, rstd, ws);
    // normalise, scale and shift
    const scale = (weight !== null ? weight[c]! : 1) * rstd[c]!;
    normalizeChannelNchw(x, y, N, C, S, c, K, s1 / M, scale, bias !== null ? bias[c]! : 0, relu);
  }
}

function blockedNhwc(
  x: Float32Array, M: number, C: number, weight: Float32Array | null, bias: Float32Array | null,
  eps: number, relu: boolean, y: Float32Array, mean: Float64Array, rstd: Float64Array, ws: BatchNormWorkspace,
): void {
  // Σ(x - K), Σ(x - K)², K = row 0
  for (let c = 0; c < C; c++) ws.shift[c] = x[c]!;
  columnSumsBlocked(x, M, C, ws.shift, null, ws.sum1, ws.sum2);
  const recheck = onePassStatisticsNhwc(M, C, mean, ws);
  const dm = ws.sum1;
  // the exact second pass, Σ((x - K) - dm)², if any channel may have cancelled (k0 takes the unused Σ(x - K))
  if (recheck) {
    columnSumsBlocked(x, M, C, ws.shift, dm, ws.k0, ws.sum2);
    for (let c = 0; c < C; c++) ws.variance[c] = ws.sum2[c]! / M;
  }
  // rstd; normalise, scale and shift
  finishStatistics(C, weight, bias, eps, ws.variance, rstd, ws);
  normalizeBlocked(x, y, M, C, ws.shift, dm, ws.scale, ws.offset, relu);
}

export const BN_FORWARD_BLOCKED: BatchNormForwardVersion = {
  name: 'blocked',
  description: 'onePass; NHWC in four-channel blocks with sums in locals over L1 row tiles, NCHW sums on two accumulator sets',
  nchw: blockedNchw,
  nhwc: blockedNhwc,
};
