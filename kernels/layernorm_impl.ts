/**
 * LayerNorm kernels over the trailing dimensions, float32 storage, float64 arithmetic. No argument checks:
 * layernorm.ts checks, then calls a version.
 *
 * Sizes: R rows, D values normalised together; row r is x[r·D .. r·D + D). weight, bias have D values.
 *
 * Forward, per row, with the shift K = the row's first value (as in batchnorm_forward.ts, whose accuracy argument
 * this repeats with M = D):
 *   mean = K + Σ(x - K)/D
 *   var  = Σ(x - mean)²/D   (two-pass)   or   Σ(x - K)²/D - (Σ(x - K)/D)²   (one-pass, checked: exact second
 *                                            pass when 3·γ_D·E[(x - K)²] > 2⁻³⁰·var)
 *   rstd = 1/sqrt(var + eps),   y = (((x - K) - dm)·rstd)·weight + bias,   dm = Σ(x - K)/D
 * Backward, per row, g = dy·weight:
 *   dx = rstd·(g - mean(g) - x̂·mean(g·x̂)) = rstd·g - k0 - (x - mean)·k1,  k0 = rstd·Σg/D, k1 = rstd³·Σg·(x-mean)/D
 * and across rows, in float64 accumulators of the workspace, rounded once at the end:
 *   dweight = Σ_rows dy·x̂,   dbias = Σ_rows dy
 * A row is 768 values = 3 kB for the benchmark's (4096, 768): the second pass over a row reads it from L1.
 *
 * Versions, one signature (`LayerNormForwardVersion`), listed in kernels/registry.ts:
 *   twoPass   shifted mean pass, squared-deviation pass, normalise pass per row
 *   onePass   shifted sums Σ(x-K), Σ(x-K)² in one pass (checked), then normalise
 *   wasm      onePass with WebAssembly SIMD element loops (layernorm_wasm.ts; the default)
 * Backward versions (`LayerNormBackwardVersion`): rowByRow, fourRows (below), wasm (layernorm_wasm.ts; the default).
 */
import { onePassVarianceIsAccurate } from './batchnorm_forward.js';

export interface LayerNormForwardVersion {
  name: string;
  /** one line: what this version changes */
  description: string;
  /** Writes y (R·D), mean and rstd (R). weight/bias null mean 1/0. */
  forward(
    x: Float32Array, R: number, D: number, weight: Float32Array | null, bias: Float32Array | null, eps: number,
    y: Float32Array, mean: Float64Array, rstd: Float64Array,
  ): void;
}

/** y = (((x - K) - dm)·r)·weight + bias over one row (centred about the shift: see batchnorm_forward.ts). */
function normalizeRow(
  x: Float32Array, y: Float32Array, base: number, D: number, K: number, dm: number, r: number,
  weight: Float32Array | null, bias: Float32Array | null,
): void {
  if (weight !== null && bias !== null) {
    for (let i = 0; i < D; i++) y[base + i] = (x[base + i]! - K - dm) * r * weight[i]! + bias[i]!;
  } else {
    for (let i = 0; i < D; i++) {
      const w = weight !== null ? weight[i]! : 1;
      const b = bias !== null ? bias[i]! : 0;
      y[base + i] = (x[base + i]! - K - dm) * r * w + b;
    }
  }
}

/** Σ((x - K) - dm)² over one row: the exact second pass. */
function sumSquaredDeviations(x: Float32Array, base: number, D: number, K: number, dm: number): number {
  let sq = 0;
  for (let i = base, end = base + D; i < end; i++) {
    const d = x[i]! - K - dm;
    sq += d * d;
  }
  return sq;
}

/**
 * Row `row`'s statistics from its shifted sums s1 = Σ(x - K), s2 = Σ(x - K)²: the one-pass biased variance,
 * replaced by the exact second pass when it may have cancelled; writes mean[row] = K + dm and rstd[row]
 * (dm = s1/D, which the caller recomputes for the normalise step).
 */
export function onePassStatisticsRow(
  x: Float32Array, base: number, D: number, K: number, s1: number, s2: number, eps: number,
  row: number, mean: Float64Array, rstd: Float64Array,
): void {
  const dm = s1 / D;
  let v = s2 / D - dm * dm;
  if (!onePassVarianceIsAccurate(v, s2 / D, D)) v = sumSquaredDeviations(x, base, D, K, dm) / D;
  mean[row] = K + dm;
  rstd[row] = 1 / Math.sqrt(v + eps);
}

function twoPassForward(
  x: Float32Array, R: number, D: number, weight: Float32Array | null, bias: Float32Array | null, eps: number,
  y: Float32Array, mean: Float64Array, rstd: Float64Array,
): void {
  for (let row = 0; row < R; row++) {
    const base = row * D;
    // mean, about the shift K
    const K = x[base]!;
    let sum = 0;
    for (let i = base, end = base + D; i < end; i++) sum += x[i]! - K;
    const dm = sum / D;
    // variance, biased, about the mean; rstd
    const r = 1 / Math.sqrt(sumSquaredDeviations(x, base, D, K, dm) / D + eps);
    mean[row] = K + dm;
    rstd[row] = r;
    // normalise, scale and shift
    normalizeRow(x, y, base, D, K, dm, r, weight, bias);
  }
}

function onePassForward(
  x: Float32Array, R: number, D: number, weight: Float32Array | null, bias: Float32Array | null, eps: number,
  y: Float32Array, mean: Float64Array, rstd: Float64Array,
): void {
  for (let row = 0; row < R; row++) {
    const base = row * D;
    // Σ(x - K), Σ(x - K)²
    const K = x[base]!;
    // even and odd elements apart: no add waits on the previous one. The same loop as batchnorm_forward.ts's
    // blockedNchw, kept inline in both: it is the hot loop, and a call per run would cost a call per S values there
    let a1 = 0, a2 = 0, b1 = 0, b2 = 0;
    const end = base + D;
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
    const s1 = a1 + b1;
    const s2 = a2 + b2;
    // variance, biased (the exact second pass when the shifted formula may have cancelled); rstd
    onePassStatisticsRow(x, base, D, K, s1, s2, eps, row, mean, rstd);
    // normalise, scale and shift
    normalizeRow(x, y, base, D, K, s1 / D, rstd[row]!, weight, bias);
  }
}

export const LN_FORWARD_TWO_PASS: LayerNormForwardVersion = {
  name: 'twoPass',
  description: 'per row: shifted mean pass, squared-deviation pass, normalise pass',
  forward: twoPassForward,
};

export const LN_FORWARD_ONE_PASS: LayerNormForwardVersion = {
  name: 'onePass',
  description: 'per row: shifted sums Σ(x-K), Σ(x-K)² in one pass with a checked cancellation bound, then normalise',
  forward: onePassForward,
};

export interface LayerNormBackwardVersion {
  name: string;
  /** one line: what this version changes */
  description: string;
  /**
   * Writes dx (R·D) and, when given, dweight and dbias (D), accumulating them across rows in the float64
   * `accWeight`, `accBias` (D each, from the workspace). `weight` is never null here: layernorm.ts passes the
   * workspace's array of ones for elementwise_affine = false, so the loops have one shape.
   */
  backward(
    dy: Float32Array, x: Float32Array, R: number, D: number, weight: Float32Array,
    mean: Float64Array, rstd: Float64Array, dx: Float32Array, dweight: Float32Array | null, dbias: Float32Array | null,
    accWeight: Float64Array, accBias: Float64Array,
  ): void;
}

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
