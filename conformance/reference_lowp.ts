/**
 * The second reference: what plain arithmetic in the adapter's precision reaches. A two-pass normalisation
 * (mean; variance of x - mean; rstd; normalise, scale, shift) that rounds after every operation, as
 * stdlib-js's float32 functions do with float64ToFloat32: float32 arithmetic for float32 and float16
 * adapters (half-precision kernels accumulate in float32), results stored in the adapter's precision.
 *
 * The float64 reference says what the math is; this one says what an honest implementation in the precision
 * gets. A failure report quotes how far this one lands from the float64 reference under the same bound, so
 * the reader can tell an algorithmic error (the honest two-pass is well inside the bound, the adapter is not)
 * from a bound that is simply tight there.
 */
import type { Precision } from './adapter.js';
import type { Grouping } from './error_model.js';
import { twoPassMoments } from './lowp_moments.js';
import { roundTo } from './precision.js';

export function lowPrecisionNormForward(
  precision: Precision, x: ArrayLike<number>, grouping: Grouping, weight: ArrayLike<number> | null, bias: ArrayLike<number> | null, eps: number,
): Float64Array {
  const R = precision === 'float64' ? (v: number) => v : Math.fround;
  const store = (v: number) => roundTo(precision, v);
  const y = new Float64Array(x.length);
  for (const idx of grouping.groups) {
    // mean, then the biased variance of the deviations from the rounded mean
    const { mean, var: variance } = twoPassMoments(x, idx, R);
    // rstd
    const rstd = R(1 / R(Math.sqrt(R(variance + R(eps)))));
    // normalise, scale and shift
    for (const i of idx) {
      const p = grouping.param[i]!;
      const xhat = R(R(x[i]! - mean) * rstd);
      y[i] = store(R(R(xhat * (weight ? weight[p]! : 1)) + (bias ? bias[p]! : 0)));
    }
  }
  return y;
}

/**
 * RMSNorm the honest way in the precision: the row's mean of squares of x/scale (scale = max|x|, so x²
 * cannot overflow the arithmetic), rstd = (1/scale)·1/sqrt(ms + eps/scale²), then y = x·rstd·weight; every
 * result rounded as above.
 */
export function lowPrecisionRmsForward(
  precision: Precision, x: ArrayLike<number>, grouping: Grouping, weight: ArrayLike<number> | null, _bias: ArrayLike<number> | null, eps: number,
): Float64Array {
  const R = precision === 'float64' ? (v: number) => v : Math.fround;
  const store = (v: number) => roundTo(precision, v);
  const y = new Float64Array(x.length);
  for (const idx of grouping.groups) {
    // mean of squares of x/scale
    let scale = 0;
    for (const i of idx) scale = Math.max(scale, Math.abs(x[i]!));
    if (!(scale > 0) || !Number.isFinite(scale)) scale = 1;
    let sq = 0;
    for (const i of idx) {
      const t = R(x[i]! / scale);
      sq = R(sq + R(t * t));
    }
    const ms = R(sq / idx.length);
    // rstd, then normalise and scale
    const rstd = R(R(1 / R(Math.sqrt(R(ms + R(eps / (scale * scale)))))) / scale);
    for (const i of idx) y[i] = store(R(R(x[i]! * rstd) * (weight ? weight[grouping.param[i]!]! : 1)));
  }
  return y;
}
