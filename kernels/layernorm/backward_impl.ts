/**
 * LayerNorm backward versions, float32 storage, float64 arithmetic. No argument checks: api.ts checks, then
 * calls a version. Sizes as forward_impl.ts.
 *
 * Per row, g = dy·weight:
 *   dx = rstd·(g - mean(g) - x̂·mean(g·x̂)) = rstd·g - k0 - (x - mean)·k1,  k0 = rstd·Σg/D, k1 = rstd³·Σg·(x-mean)/D
 * and across rows, in float64 accumulators of the workspace, rounded once at the end:
 *   dweight = Σ_rows dy·x̂,   dbias = Σ_rows dy
 *
 * Versions, one signature (`LayerNormBackwardVersion`, version.ts), listed in kernels/registry.ts:
 *   rowByRow  per row: reductions, then dx and the row's dweight/dbias terms
 *   fourRows  four rows per loop (below)
 *   wasm      row by row with WebAssembly SIMD element loops (wasm_impl.ts; the default)
 */
import type { LayerNormBackwardVersion } from './version.js';

/** One row of the backward: its two reductions, then dx and the row's share of dweight, dbias. */
function backwardRow(
  dy: Float32Array, x: Float32Array, row: number, D: number, weight: Float32Array,
  m: number, r: number, dx: Float32Array, accWeight: Float64Array, accBias: Float64Array,
): void {
  const base = row * D;
  // reductions over the row: Σg and Σg·(x - mean), g = dy·weight
  let sumG = 0;
  let sumGXc = 0;
  for (let i = 0; i < D; i++) {
    const g = dy[base + i]! * weight[i]!;
    sumG += g;
    sumGXc += g * (x[base + i]! - m);
  }
  // per-element terms: dx = rstd·g - k0 - (x - mean)·k1; parameter gradients across rows
  const k0 = (r * sumG) / D;
  const k1 = (r * r * r * sumGXc) / D;
  for (let i = 0; i < D; i++) {
    const d = dy[base + i]!;
    const xc = x[base + i]! - m;
    dx[base + i] = r * (d * weight[i]!) - k0 - xc * k1;
    accWeight[i] = accWeight[i]! + d * xc * r;
    accBias[i] = accBias[i]! + d;
  }
}

function finishParameterGradients(D: number, dweight: Float32Array | null, dbias: Float32Array | null, accWeight: Float64Array, accBias: Float64Array): void {
  if (dweight !== null) for (let i = 0; i < D; i++) dweight[i] = accWeight[i]!;
  if (dbias !== null) for (let i = 0; i < D; i++) dbias[i] = accBias[i]!;
}

function rowByRowBackward(
  dy: Float32Array, x: Float32Array, R: number, D: number, weight: Float32Array,
  mean: Float64Array, rstd: Float64Array, dx: Float32Array, dweight: Float32Array | null, dbias: Float32Array | null,
  accWeight: Float64Array, accBias: Float64Array,
): void {
  accWeight.fill(0);
  accBias.fill(0);
  for (let row = 0; row < R; row++) backwardRow(dy, x, row, D, weight, mean[row]!, rstd[row]!, dx, accWeight, accBias);
  finishParameterGradients(D, dweight, dbias, accWeight, accBias);
}

/**
 * Four rows at a time: the reductions of four rows in one loop (eight independent float64 sums, so the adds do
 * not wait on each other), then one loop writing four rows of dx and adding the four rows' terms to dweight and
 * dbias at once — a quarter of the read-modify-writes of the float64 accumulators. Four rows of x and dy are
 * 24 kB at D = 768: the second loop reads them from L1.
 */
function fourRowsBackward(
  dy: Float32Array, x: Float32Array, R: number, D: number, weight: Float32Array,
  mean: Float64Array, rstd: Float64Array, dx: Float32Array, dweight: Float32Array | null, dbias: Float32Array | null,
  accWeight: Float64Array, accBias: Float64Array,
): void {
  accWeight.fill(0);
  accBias.fill(0);
  let row = 0;
  for (; row + 3 < R; row += 4) {
    const b0 = row * D;
    const b1 = b0 + D;
    const b2 = b1 + D;
    const b3 = b2 + D;
    const m0 = mean[row]!;
    const m1 = mean[row + 1]!;
    const m2 = mean[row + 2]!;
    const m3 = mean[row + 3]!;
    const r0 = rstd[row]!;
    const r1 = rstd[row + 1]!;
    const r2 = rstd[row + 2]!;
    const r3 = rstd[row + 3]!;
    // reductions: Σg and Σg·(x - mean) for each of the four rows
    let g0 = 0, g1 = 0, g2 = 0, g3 = 0;
    let h0 = 0, h1 = 0, h2 = 0, h3 = 0;
    for (let i = 0; i < D; i++) {
      const w = weight[i]!;
      const d0 = dy[b0 + i]! * w;
      const d1 = dy[b1 + i]! * w;
      const d2 = dy[b2 + i]! * w;
      const d3 = dy[b3 + i]! * w;
      g0 += d0;
      g1 += d1;
      g2 += d2;
      g3 += d3;
      h0 += d0 * (x[b0 + i]! - m0);
      h1 += d1 * (x[b1 + i]! - m1);
      h2 += d2 * (x[b2 + i]! - m2);
      h3 += d3 * (x[b3 + i]! - m3);
    }
    const k00 = (r0 * g0) / D, k10 = (r0 * r0 * r0 * h0) / D;
    const k01 = (r1 * g1) / D, k11 = (r1 * r1 * r1 * h1) / D;
    const k02 = (r2 * g2) / D, k12 = (r2 * r2 * r2 * h2) / D;
    const k03 = (r3 * g3) / D, k13 = (r3 * r3 * r3 * h3) / D;
    // dx = rstd·g - k0 - (x - mean)·k1 per row; dweight += Σ dy·x̂, dbias += Σ dy over the four rows
    for (let i = 0; i < D; i++) {
      const w = weight[i]!;
      const d0 = dy[b0 + i]!;
      const d1 = dy[b1 + i]!;
      const d2 = dy[b2 + i]!;
      const d3 = dy[b3 + i]!;
      const xc0 = x[b0 + i]! - m0;
      const xc1 = x[b1 + i]! - m1;
      const xc2 = x[b2 + i]! - m2;
      const xc3 = x[b3 + i]! - m3;
      dx[b0 + i] = r0 * (d0 * w) - k00 - xc0 * k10;
      dx[b1 + i] = r1 * (d1 * w) - k01 - xc1 * k11;
      dx[b2 + i] = r2 * (d2 * w) - k02 - xc2 * k12;
      dx[b3 + i] = r3 * (d3 * w) - k03 - xc3 * k13;
      accWeight[i] = accWeight[i]! + (d0 * xc0 * r0 + d1 * xc1 * r1 + d2 * xc2 * r2 + d3 * xc3 * r3);
      accBias[i] = accBias[i]! + (d0 + d1 + d2 + d3);
    }
  }
  for (; row < R; row++) backwardRow(dy, x, row, D, weight, mean[row]!, rstd[row]!, dx, accWeight, accBias);
  finishParameterGradients(D, dweight, dbias, accWeight, accBias);
}

export const LN_BACKWARD_ROW_BY_ROW: LayerNormBackwardVersion = {
  name: 'rowByRow',
  description: 'per row: reductions pass, then dx with a float64 read-modify-write of dweight, dbias per element',
  backward: rowByRowBackward,
};

export const LN_BACKWARD_FOUR_ROWS: LayerNormBackwardVersion = {
  name: 'fourRows',
  description: 'four rows per loop: eight independent sums, one dweight/dbias update per four elements',
  backward: fourRowsBackward,
};
