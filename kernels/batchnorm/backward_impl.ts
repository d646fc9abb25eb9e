/**
 * BatchNorm backward kernels, float32 storage, float64 arithmetic; training and eval mode, with or without the
 * fused ReLU. No argument checks here (api.ts). Layouts and sizes as in forward_impl.ts.
 *
 * With g = dy·weight the gradient with respect to x̂ = (x - mean)·rstd (see reference/batchnorm.ts for the
 * derivation, which this file does not depend on):
 *   dbias   = Σ dy          dweight = Σ dy·x̂ = rstd·Σ dy·(x - mean)
 *   training: dx = rstd·(g - mean(g) - x̂·mean(g·x̂))
 *           = scale·dy - k0 - (x - mean)·k1,   scale = weight·rstd, k0 = scale·Σdy/M, k1 = scale·rstd·Σdy·x̂/M
 *   eval:     dx = scale·dy                        (mean and rstd are constants)
 * Two passes over (x, dy): the two reductions, then dx. Σ dy·(x - mean) is accumulated in float64 about the
 * saved float64 mean, so a large offset does not enter the sum.
 *
 * Fused ReLU (the forward was y = relu(BN(x))): dy is first masked by the forward's output, where y > 0, as
 * PyTorch's threshold_backward does. The mask is read from y rather than recomputed from x: a recomputation would
 * have to repeat the forward's float64 expression bit for bit to agree at y = 0.
 */
import { backwardDxBlocked, backwardSumsBlocked } from './nhwc_blocked_impl.js';
import type { BatchNormBackwardVersion } from './version.js';
import type { BatchNormWorkspace } from './workspace.js';

function twoPassNchw(
  dy: Float32Array, x: Float32Array, N: number, C: number, S: number,
  weight: Float32Array | null, mean: Float64Array, rstd: Float64Array,
  training: boolean, reluOutput: Float32Array | null, dx: Float32Array, dweight: Float32Array | null, dbias: Float32Array | null,
): void {
  const M = N * S;
  const CS = C * S;
  for (let c = 0; c < C; c++) {
    const m = mean[c]!;
    const r = rstd[c]!;
    const scale = (weight !== null ? weight[c]! : 1) * r;
    // reductions: Σ dy and Σ dy·(x - mean), dy masked by the ReLU when fused
    let sumDy = 0;
    let sumDyXc = 0;
    for (let n = 0; n < N; n++) {
      const base = n * CS + c * S;
      const end = base + S;
      if (reluOutput !== null) {
        for (let i = base; i < end; i++) {
          if (reluOutput[i]! > 0) {
            const g = dy[i]!;
            sumDy += g;
            sumDyXc += g * (x[i]! - m);
          }
        }
      } else {
        for (let i = base; i < end; i++) {
          const g = dy[i]!;
          sumDy += g;
          sumDyXc += g * (x[i]! - m);
        }
      }
    }
    const sumDyXhat = sumDyXc * r;
    if (dbias !== null) dbias[c] = sumDy;
    if (dweight !== null) dweight[c] = sumDyXhat;
    // per-element terms: dx = scale·dy - k0 - (x - mean)·k1
    const k0 = training ? (scale * sumDy) / M : 0;
    const k1 = training ? (scale * r * sumDyXhat) / M : 0;
    for (let n = 0; n < N; n++) {
      const base = n * CS + c * S;
      const end = base + S;
      if (reluOutput !== null) {
        for (let i = base; i < end; i++) {
          const g = reluOutput[i]! > 0 ? dy[i]! : 0;
          dx[i] = scale * g - k0 - (x[i]! - m) * k1;
        }
      } else {
        for (let i = base; i < end; i++) dx[i] = scale * dy[i]! - k0 - (x[i]! - m) * k1;
      }
    }
  }
}

/**
 * Channels-last per-channel constants from the reductions ws.sum1 = Σg, ws.sum2 = Σg·(x - mean):
 *   dbias = Σg,  dweight = Σg·x̂ = rstd·Σg·(x - mean),
 *   scale = weight·rstd,  k0 = scale·Σg/M,  k1 = scale·rstd·Σg·x̂/M  (k0 = k1 = 0 outside training)
 * into dbias/dweight (when given) and ws.scale, ws.k0, ws.k1 for the dx pass.
 */
export function backwardConstantsNhwc(
  M: number, C: number, weight: Float32Array | null, rstd: Float64Array, training: boolean,
  dweight: Float32Array | null, dbias: Float32Array | null, ws: BatchNormWorkspace,
): void {
  const { scale, sum1: sumDy, sum2: sumDyXc, k0, k1 } = ws;
  for (let c = 0; c < C; c++) {
    scale[c] = (weight !== null ? weight[c]! : 1) * rstd[c]!;
    const sumDyXhat = sumDyXc[c]! * rstd[c]!;
    if (dbias !== null) dbias[c] = sumDy[c]!;
    if (dweight !== null) dweight[c] = sumDyXhat;
    k0[c] = training ? (scale[c]! * sumDy[c]!) / M : 0;
    k1[c] = training ? (scale[c]! * rstd[c]! * sumDyXhat) / M : 0;
  }
}

/** Channels-last: per-channel sums and constants live in the workspace. */
function twoPassNhwc(
  dy: Float32Array, x: Float32Array, M: number, C: number,
  weight: Float32Array | null, mean: Float64Array, rstd: Float64Array,
  training: boolean, reluOutput: Float32Array | null, dx: Float32Array, dweight: Float32Array | null, dbias: Float32Array | null,
  ws: BatchNormWorkspace,
): void {
  const { scale, sum1: sumDy, sum2: sumDyXc, k0, k1 } = ws;
  for (let c = 0; c < C; c++) scale[c] = (weight !== null ? weight[c]! : 1) * rstd[c]!;
  sumDy.fill(0);
  sumDyXc.fill(0);
  // reductions: Σ dy and Σ dy·(x - mean) per channel, dy masked by the ReLU when fused
  for (let row = 0, i = 0; row < M; row++) {
    if (reluOutput !== null) {
      for (let c = 0; c < C; c++, i++) {
        if (reluOutput[i]! > 0) {
          const g = dy[i]!;
          sumDy[c] = sumDy[c]! + g;
          sumDyXc[c] = sumDyXc[c]! + g * (x[i]! - mean[c]!);
        }
      }
    } else {
      for (let c = 0; c < C; c++, i++) {
        const g = dy[i]!;
        sumDy[c] = sumDy[c]! + g;
        sumDyXc[c] = sumDyXc[c]! + g * (x[i]! - mean[c]!);
      }
    }
  }
  // backwardConstantsNhwc's loop, written out: with the call this version measured ~3% slower
  // (bn_train_fwd_bwd_nhwc twoPass 68.5 → 71.6 ms)
  for (let c = 0; c < C; c++) {
    const sumDyXhat = sumDyXc[c]! * rstd[c]!;
    if (dbias !== null) dbias[c] = sumDy[c]!;
    if (dweight !== null) dweight[c] = sumDyXhat;
    k0[c] = training ? (scale[c]! * sumDy[c]!) / M : 0;
    k1[c] = training ? (scale[c]! * rstd[c]! * sumDyXhat) / M : 0;
  }
  // per-element terms: dx = scale·dy - k0 - (x - mean)·k1
  for (let row = 0, i = 0; row < M; row++) {
    if (reluOutput !== null) {
      for (let c = 0; c < C; c++, i++) {
        const g = reluOutput[i]! > 0 ? dy[i]! : 0;
        dx[i] = scale[c]! * g - k0[c]! - (x[i]! - mean[c]!) * k1[c]!;
      }
    } else {
      for (let c = 0; c < C; c++, i++) dx[i] = scale[c]! * dy[i]! - k0[c]! - (x[i]! - mean[c]!) * k1[c]!;
    }
  }
}

export const BN_BACKWARD_TWO_PASS: BatchNormBackwardVersion = {
  name: 'twoPass',
  description: 'reductions pass over (x, dy), then the dx pass (ReLU mask read from the forward output)',
  nchw: twoPassNchw,
  nhwc: twoPassNhwc,
};

/** NCHW: the reductions on two interleaved accumulator pairs (no add waits on the previous one); dx as twoPass. */
function blockedNchw(
  dy: Float32Array, x: Float32Array, N: number, C: number, S: number,
  weight: Float32Array | null, mean: Float64Array, rstd: Float64Array,
  training: boolean, reluOutput: Float32Array | null, dx: Float32Array, dweight: Float32Array | null, dbias: Float32Array | null,
): void {
  if (reluOutput !== null) {
    twoPassNchw(dy, x, N, C, S, weight, mean, rstd, training, reluOutput, dx, dweight, dbias);
    return;
  }
  const M = N * S;
  const CS = C * S;
  for (let c = 0; c < C; c++) {
    const m = mean[c]!;
    const r = rstd[c]!;
    const scale = (weight !== null ? weight[c]! : 1) * r;
    // reductions: Σ dy and Σ dy·(x - mean), even and odd elements apart
    let a0 = 0, a1 = 0, h0 = 0, h1 = 0;
    for (let n = 0; n < N; n++) {
      const base = n * CS + c * S;
      const end = base + S;
      let i = base;
      for (; i + 1 < end; i += 2) {
        const g0 = dy[i]!;
        const g1 = dy[i + 1]!;
        a0 += g0;
        a1 += g1;
        h0 += g0 * (x[i]! - m);
        h1 += g1 * (x[i + 1]! - m);
      }
      if (i < end) {
        a0 += dy[i]!;
        h0 += dy[i]! * (x[i]! - m);
      }
    }
    const sumDy = a0 + a1;
    const sumDyXhat = (h0 + h1) * r;
    if (dbias !== null) dbias[c] = sumDy;
    if (dweight !== null) dweight[c] = sumDyXhat;
    // per-element terms: dx = scale·dy - k0 - (x - mean)·k1
    const k0 = training ? (scale * sumDy) / M : 0;
    const k1 = training ? (scale * r * sumDyXhat) / M : 0;
    for (let n = 0; n < N; n++) {
      const base = n * CS + c * S;
      const end = base + S;
      for (let i = base; i < end; i++) dx[i] = scale * dy[i]! - k0 - (x[i]! - m) * k1;
    }
  }
}

/** Channels-last in four-channel blocks (nhwc_blocked_impl.ts). */
function blockedNhwc(
  dy: Float32Array, x: Float32Array, M: number, C: number,
  weight: Float32Array | null, mean: Float64Array, rstd: Float64Array,
  training: boolean, reluOutput: Float32Array | null, dx: Float32Array, dweight: Float32Array | null, dbias: Float32Array | null,
  ws: BatchNormWorkspace,
): void {
  // reductions: Σ dy and Σ dy·(x - mean) per channel
  backwardSumsBlocked(dy, x, M, C, mean, reluOutput, ws.sum1, ws.sum2);
  backwardConstantsNhwc(M, C, weight, rstd, training, dweight, dbias, ws);
  // per-element terms: dx = scale·dy - k0 - (x - mean)·k1
  backwardDxBlocked(dy, x, M, C, mean, reluOutput, dx, ws);
}

export const BN_BACKWARD_BLOCKED: BatchNormBackwardVersion = {
  name: 'blocked',
  description: 'twoPass; NHWC in four-channel blocks with sums and constants in locals over L1 row tiles, NCHW sums on two accumulator pairs',
  nchw: blockedNchw,
  nhwc: blockedNhwc,
};
