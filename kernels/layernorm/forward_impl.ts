/**
 * LayerNorm forward versions over the trailing dimensions, float32 storage, float64 arithmetic. No argument
 * checks: api.ts checks, then calls a version.
 *
 * Sizes: R rows, D values normalised together; row r is x[r·D .. r·D + D). weight, bias have D values.
 *
 * Forward, per row, with the shift K = the row's first value (as in batchnorm/forward_impl.ts, whose accuracy
 * argument this repeats with M = D):
 *   mean = K + Σ(x - K)/D
 *   var  = Σ(x - mean)²/D   (two-pass)   or   Σ(x - K)²/D - (Σ(x - K)/D)²   (one-pass, checked: exact second
 *                                            pass when 3·γ_D·E[(x - K)²] > 2⁻³⁰·var, shared/one_pass.ts)
 *   rstd = 1/sqrt(var + eps),   y = (((x - K) - dm)·rstd)·weight + bias,   dm = Σ(x - K)/D
 * A row is 768 values = 3 kB for the benchmark's (4096, 768): the second pass over a row reads it from L1.
 *
 * Versions, one signature (`LayerNormForwardVersion`, version.ts), listed in kernels/registry.ts:
 *   twoPass   shifted mean pass, squared-deviation pass, normalise pass per row
 *   onePass   shifted sums Σ(x-K), Σ(x-K)² in one pass (checked), then normalise
 *   wasm      onePass with WebAssembly SIMD element loops (wasm_impl.ts; the default)
 */
import { onePassVarianceIsAccurate } from '../shared/one_pass.js';
import type { LayerNormForwardVersion } from './version.js';

/** y = (((x - K) - dm)·r)·weight + bias over one row (centred about the shift: see batchnorm/forward_impl.ts). */
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
    // even and odd elements apart: no add waits on the previous one. The same loop as batchnorm/forward_impl.ts's
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
