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

function sumSquaredDeviations(x: Float32Array, base: number, D: number, K: number, dm: number): number {
  let sq = 0;
  for (let i = base, end = base + D; i < end; i++) {
    const d = x[i]! - K - dm;
    sq += d * d;
  }
  return sq;
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
    let s1 = 0;
    let s2 = 0;
    for (let i = base, end = base + D; i < end; i++) {
      const d = x[i]! - K;
      s1 += d;
      s2 += d * d;
    }
    const dm = s1 / D;
    // variance, biased; the exact second pass when the shifted formula may have cancelled
    let v = s2 / D - dm * dm;
    if (!onePassVarianceIsAccurate(v, s2 / D, D)) v = sumSquaredDeviations(x, base, D, K, dm) / D;
    const r = 1 / Math.sqrt(v + eps);
    mean[row] = K + dm;
    rstd[row] = r;
    // normalise, scale and shift
    normalizeRow(x, y, base, D, K, dm, r, weight, bias);
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

/**
 * LayerNorm backward. Writes dx (R·D) and, when given, dweight and dbias (D), accumulating them across rows in
 * the float64 `accWeight`, `accBias` (D each, from the workspace).
 */
export function layerNormBackwardRows(
  dy: Float32Array, x: Float32Array, R: number, D: number, weight: Float32Array | null,
  mean: Float64Array, rstd: Float64Array, dx: Float32Array, dweight: Float32Array | null, dbias: Float32Array | null,
  accWeight: Float64Array, accBias: Float64Array,
): void {
  accWeight.fill(0);
  accBias.fill(0);
  for (let row = 0; row < R; row++) {
    const base = row * D;
    const m = mean[row]!;
    const r = rstd[row]!;
    // reductions over the row: Σg and Σg·(x - mean), g = dy·weight; parameter gradients across rows
    let sumG = 0;
    let sumGXc = 0;
    for (let i = 0; i < D; i++) {
      const d = dy[base + i]!;
      const xc = x[base + i]! - m;
      const g = weight !== null ? d * weight[i]! : d;
      sumG += g;
      sumGXc += g * xc;
      accWeight[i] = accWeight[i]! + d * xc * r;
      accBias[i] = accBias[i]! + d;
    }
    // per-element terms: dx = rstd·g - k0 - (x - mean)·k1
    const k0 = (r * sumG) / D;
    const k1 = (r * r * r * sumGXc) / D;
    for (let i = 0; i < D; i++) {
      const d = dy[base + i]!;
      const g = weight !== null ? d * weight[i]! : d;
      dx[base + i] = r * g - k0 - (x[base + i]! - m) * k1;
    }
  }
  if (dweight !== null) for (let i = 0; i < D; i++) dweight[i] = accWeight[i]!;
  if (dbias !== null) for (let i = 0; i < D; i++) dbias[i] = accBias[i]!;
}
