/**
 * Channels-last (M, C) BatchNorm loops in channel blocks: the per-channel sums and constants of four channels
 * at a time live in local variables instead of Float64Array slots, so the inner loop does one load of x (and
 * dy) per element instead of a load and a store of each float64 accumulator. The rows are walked in tiles of
 * 32 kB (L1): the four-channel column of a tile is read at stride C, and the next three blocks find the same
 * cache lines still in L1, so memory traffic stays one read per element per pass.
 * Same math, same expressions as forward_impl.ts / backward_impl.ts (outputs identical bit for bit to
 * the per-element versions except where sums are added in another order: tile by tile).
 */
import type { BatchNormWorkspace } from './workspace.js';

const TILE_BYTES = 32 * 1024;

function tileRows(C: number): number {
  return Math.max(1, Math.floor(TILE_BYTES / (4 * C)));
}

/** out[c .. c+3] += (v0, v1, v2, v3): a four-channel block's tile sums into the per-channel totals. */
function addBlock(out: Float64Array, c: number, v0: number, v1: number, v2: number, v3: number): void {
  out[c] = out[c]! + v0;
  out[c + 1] = out[c + 1]! + v1;
  out[c + 2] = out[c + 2]! + v2;
  out[c + 3] = out[c + 3]! + v3;
}

/** sum1[c] = Σ(x - shift[c]); sum2[c] = Σ(x - shift[c] - dm[c])² when `dm` is given, else Σ(x - shift[c])². */
export function columnSumsBlocked(
  x: Float32Array, M: number, C: number, shift: Float64Array, dm: Float64Array | null, sum1: Float64Array, sum2: Float64Array,
): void {
  sum1.fill(0);
  sum2.fill(0);
  const T = tileRows(C);
  for (let r0 = 0; r0 < M; r0 += T) {
    const end = Math.min(M, r0 + T) * C;
    let c = 0;
    for (; c + 3 < C; c += 4) {
      // with dm, the shift is K + dm (the mean) taken in two steps, as the exact second pass needs
      const K0 = shift[c]!, K1 = shift[c + 1]!, K2 = shift[c + 2]!, K3 = shift[c + 3]!;
      const e0 = dm !== null ? dm[c]! : 0, e1 = dm !== null ? dm[c + 1]! : 0, e2 = dm !== null ? dm[c + 2]! : 0, e3 = dm !== null ? dm[c + 3]! : 0;
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      let q0 = 0, q1 = 0, q2 = 0, q3 = 0;
      for (let i = r0 * C + c; i < end; i += C) {
        const d0 = x[i]! - K0;
        const d1 = x[i + 1]! - K1;
        const d2 = x[i + 2]! - K2;
        const d3 = x[i + 3]! - K3;
        a0 += d0;
        a1 += d1;
        a2 += d2;
        a3 += d3;
        const f0 = d0 - e0;
        const f1 = d1 - e1;
        const f2 = d2 - e2;
        const f3 = d3 - e3;
        q0 += f0 * f0;
        q1 += f1 * f1;
        q2 += f2 * f2;
        q3 += f3 * f3;
      }
      addBlock(sum1, c, a0, a1, a2, a3);
      addBlock(sum2, c, q0, q1, q2, q3);
    }
    for (; c < C; c++) {
      const K = shift[c]!;
      const e = dm !== null ? dm[c]! : 0;
      let a = 0;
      let q = 0;
      for (let i = r0 * C + c; i < end; i += C) {
        const d = x[i]! - K;
        a += d;
        const f = d - e;
        q += f * f;
      }
      sum1[c] = sum1[c]! + a;
      sum2[c] = sum2[c]! + q;
    }
  }
}

/** y = ((x - shift[c]) - dm[c])·scale[c] + offset[c], then ReLU if asked; the expression of normalizeNhwc. */
export function normalizeBlocked(
  x: Float32Array, y: Float32Array, M: number, C: number,
  shift: Float64Array, dm: Float64Array, scale: Float64Array, offset: Float64Array, relu: boolean,
): void {
  const T = tileRows(C);
  for (let r0 = 0; r0 < M; r0 += T) {
    const end = Math.min(M, r0 + T) * C;
    let c = 0;
    for (; c + 3 < C; c += 4) {
      const K0 = shift[c]!, K1 = shift[c + 1]!, K2 = shift[c + 2]!, K3 = shift[c + 3]!;
      const e0 = dm[c]!, e1 = dm[c + 1]!, e2 = dm[c + 2]!, e3 = dm[c + 3]!;
      const s0 = scale[c]!, s1 = scale[c + 1]!, s2 = scale[c + 2]!, s3 = scale[c + 3]!;
      const b0 = offset[c]!, b1 = offset[c + 1]!, b2 = offset[c + 2]!, b3 = offset[c + 3]!;
      // one loop per case: the ReLU test stays out of the hot loop when not fused
      if (relu) {
        for (let i = r0 * C + c; i < end; i += C) {
          const v0 = (x[i]! - K0 - e0) * s0 + b0;
          const v1 = (x[i + 1]! - K1 - e1) * s1 + b1;
          const v2 = (x[i + 2]! - K2 - e2) * s2 + b2;
          const v3 = (x[i + 3]! - K3 - e3) * s3 + b3;
          y[i] = v0 > 0 ? v0 : 0;
          y[i + 1] = v1 > 0 ? v1 : 0;
          y[i + 2] = v2 > 0 ? v2 : 0;
          y[i + 3] = v3 > 0 ? v3 : 0;
        }
      } else {
        for (let i = r0 * C + c; i < end; i += C) {
          y[i] = (x[i]! - K0 - e0) * s0 + b0;
          y[i + 1] = (x[i + 1]! - K1 - e1) * s1 + b1;
          y[i + 2] = (x[i + 2]! - K2 - e2) * s2 + b2;
          y[i + 3] = (x[i + 3]! - K3 - e3) * s3 + b3;
        }
      }
    }
    for (; c < C; c++) {
      const K = shift[c]!, e = dm[c]!, s = scale[c]!, b = offset[c]!;
      for (let i = r0 * C + c; i < end; i += C) {
        const v = (x[i]! - K - e) * s + b;
        y[i] = relu && !(v > 0) ? 0 : v;
      }
    }
  }
}

/** Backward reductions: sumDy[c] = Σ g, sumDyXc[c] = Σ g·(x - mean[c]), g = dy masked by reluOutput > 0. */
export function backwardSumsBlocked(
  dy: Float32Array, x: Float32Array, M: number, C: number, mean: Float64Array, reluOutput: Float32Array | null,
  sumDy: Float64Array, sumDyXc: Float64Array,
): void {
  sumDy.fill(0);
  sumDyXc.fill(0);
  const T = tileRows(C);
  for (let r0 = 0; r0 < M; r0 += T) {
    const end = Math.min(M, r0 + T) * C;
    let c = 0;
    for (; c + 3 < C; c += 4) {
      const m0 = mean[c]!, m1 = mean[c + 1]!, m2 = mean[c + 2]!, m3 = mean[c + 3]!;
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      let h0 = 0, h1 = 0, h2 = 0, h3 = 0;
      // one loop per case, alike but for the mask: the ReLU test stays out of the hot loop when not fused
      if (reluOutput === null) {
        for (let i = r0 * C + c; i < end; i += C) {
          const g0 = dy[i]!, g1 = dy[i + 1]!, g2 = dy[i + 2]!, g3 = dy[i + 3]!;
          a0 += g0;
          a1 += g1;
          a2 += g2;
          a3 += g3;
          h0 += g0 * (x[i]! - m0);
          h1 += g1 * (x[i + 1]! - m1);
          h2 += g2 * (x[i + 2]! - m2);
          h3 += g3 * (x[i + 3]! - m3);
        }
      } else {
        for (let i = r0 * C + c; i < end; i += C) {
          const g0 = reluOutput[i]! > 0 ? dy[i]! : 0;
          const g1 = reluOutput[i + 1]! > 0 ? dy[i + 1]! : 0;
          const g2 = reluOutput[i + 2]! > 0 ? dy[i + 2]! : 0;
          const g3 = reluOutput[i + 3]! > 0 ? dy[i + 3]! : 0;
          a0 += g0;
          a1 += g1;
          a2 += g2;
          a3 += g3;
          h0 += g0 * (x[i]! - m0);
          h1 += g1 * (x[i + 1]! - m1);
          h2 += g2 * (x[i + 2]! - m2);
          h3 += g3 * (x[i + 3]! - m3);
        }
      }
      addBlock(sumDy, c, a0, a1, a2, a3);
      addBlock(sumDyXc, c, h0, h1, h2, h3);
    }
    for (; c < C; c++) {
      const m = mean[c]!;
      let a = 0;
      let h = 0;
      for (let i = r0 * C + c; i < end; i += C) {
        const g = reluOutput === null || reluOutput[i]! > 0 ? dy[i]! : 0;
        a += g;
        h += g * (x[i]! - m);
      }
      sumDy[c] = sumDy[c]! + a;
      sumDyXc[c] = sumDyXc[c]! + h;
    }
  }
}

/** dx = scale[c]·g - k0[c] - (x - mean[c])·k1[c], g = dy masked by reluOutput > 0. */
export function backwardDxBlocked(
  dy: Float32Array, x: Float32Array, M: number, C: number, mean: Float64Array, reluOutput: Float32Array | null,
  dx: Float32Array, ws: BatchNormWorkspace,
): void {
  const { scale, k0, k1 } = ws;
  const T = tileRows(C);
  for (let r0 = 0; r0 < M; r0 += T) {
    const end = Math.min(M, r0 + T) * C;
    let c = 0;
    for (; c + 3 < C; c += 4) {
      const m0 = mean[c]!, m1 = mean[c + 1]!, m2 = mean[c + 2]!, m3 = mean[c + 3]!;
      const s0 = scale[c]!, s1 = scale[c + 1]!, s2 = scale[c + 2]!, s3 = scale[c + 3]!;
      const p0 = k0[c]!, p1 = k0[c + 1]!, p2 = k0[c + 2]!, p3 = k0[c + 3]!;
      const q0 = k1[c]!, q1 = k1[c + 1]!, q2 = k1[c + 2]!, q3 = k1[c + 3]!;
      // one loop per case, alike but for the mask: the ReLU test stays out of the hot loop when not fused
      if (reluOutput === null) {
        for (let i = r0 * C + c; i < end; i += C) {
          dx[i] = s0 * dy[i]! - p0 - (x[i]! - m0) * q0;
          dx[i + 1] = s1 * dy[i + 1]! - p1 - (x[i + 1]! - m1) * q1;
          dx[i + 2] = s2 * dy[i + 2]! - p2 - (x[i + 2]! - m2) * q2;
          dx[i + 3] = s3 * dy[i + 3]! - p3 - (x[i + 3]! - m3) * q3;
        }
      } else {
        for (let i = r0 * C + c; i < end; i += C) {
          dx[i] = s0 * (reluOutput[i]! > 0 ? dy[i]! : 0) - p0 - (x[i]! - m0) * q0;
          dx[i + 1] = s1 * (reluOutput[i + 1]! > 0 ? dy[i + 1]! : 0) - p1 - (x[i + 1]! - m1) * q1;
          dx[i + 2] = s2 * (reluOutput[i + 2]! > 0 ? dy[i + 2]! : 0) - p2 - (x[i + 2]! - m2) * q2;
          dx[i + 3] = s3 * (reluOutput[i + 3]! > 0 ? dy[i + 3]! : 0) - p3 - (x[i + 3]! - m3) * q3;
        }
      }
    }
    for (; c < C; c++) {
      const m = mean[c]!, s = scale[c]!, p = k0[c]!, q = k1[c]!;
      for (let i = r0 * C + c; i < end; i += C) {
        const g = reluOutput === null || reluOutput[i]! > 0 ? dy[i]! : 0;
        dx[i] = s * g - p - (x[i]! - m) * q;
      }
    }
  }
}
