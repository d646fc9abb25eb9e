/**
 * Errors in ulps against the CORRECTLY ROUNDED result, with a unit that stays sane where the exact value is 0.
 *
 * ## The correctly rounded result
 * c = fl_p(e): the exact value e rounded to nearest in the adapter's precision p. For e the suite uses the
 * float64 reference on the same (already rounded) inputs. Its own error is a few u64 = 2^-53 relative per
 * operation, times the conditioning κ = max|x|/σ for x̂: at κ = 1e6 that is ~1e-10 relative, 2^-9 of a float32
 * half-ulp, so fl_p(e) is the correctly rounded result except where e lies that close to a midpoint between
 * two numbers of the precision. There a correctly rounded implementation may land one ulp from c; hence the
 * grade "correctly rounded" is ≤ 1 ulp, not ≤ 0.5. An e beyond the precision's largest finite number rounds to
 * the infinity of its sign; an infinite c matches only itself (0 ulp), NaN only NaN; anything else is ∞ ulp.
 *
 * ## The unit: ulps at the quantity's scale
 *   ulps_i = |a_i - c_i| / ulp_p(max(|c_i|, s_i))
 * ulp_p(t) is the spacing of the precision's numbers at |t| (precision.ts `ulp`), s_i ≥ 0 a scale per quantity.
 * Where |c_i| ≥ s_i this is the ordinary ulp error. It matters where the exact value is far below its scale,
 * 0 included: an output y = w·x̂ + b ≈ 0 is the cancellation of terms of size |w·x̂| and |b|, and its ordinary
 * ulp shrinks towards the subnormal spacing (2^-149 in float32) — an error of 1e-30 would count 1e15 ulps and
 * every element next to a zero would decide the grade. No algorithm that rounds its operands to the precision
 * resolves an output below a rounding of its operands, so the unit is floored at the size the quantity has
 * where its inputs are at their unit size:
 *   y (BN, LN, GN, IN, eval)   s = |w_p| + |b_p|           y at |x̂| = 1 (x̂ has unit spread); w = 1, b = 0 without affine
 *   y (RMSNorm)                s = |w_p|
 *   mean                       s = σ = sqrt(var + eps)      a mean error matters relative to the spread (centred data have mean ≈ 0)
 *   rstd                       s = 0                       rstd ≥ 1/sqrt(max x² + eps) is never 0
 *   running mean               s = (1 - f)·|old| + f·σ      the two blended terms, the batch mean at its spread
 *   running variance           s = (1 - f)·|old| + f·eps    what var + eps is resolved to
 *   dx                         s = rstd·rms(g), g = w·dy    dx at |x̂| = 1 with the mean terms small
 *   dweight, dbias             s = sqrt(Σ dy²)              a sum of dy·x̂ (or dy) of random signs at |x̂| = 1
 * The floor only coarsens the unit below the scale, so a correctly rounded result is ≤ 1 ulp in both, and an
 * error reads in ulps of the scale where the exact value is smaller (the grade then says "≤ 1 ulp of |w| + |b|").
 * Without a scale (s = 0) and c = 0 the unit is the ulp of the smallest normal number.
 */
import type { Precision } from '../adapter.js';
import { roundTo, ulp } from '../precision.js';

/** fl_p(e): the float64 reference rounded to the adapter's precision (±∞ beyond its range). */
export function correctlyRounded(precision: Precision, exact: number): number {
  return roundTo(precision, exact);
}

/** The error of one element in ulps at scale s (see the header). */
export function ulpError(precision: Precision, actual: number, exact: number, scale = 0): number {
  const c = correctlyRounded(precision, exact);
  if (!Number.isFinite(c) || !Number.isFinite(actual)) {
    return (Number.isNaN(c) ? Number.isNaN(actual) : actual === c) ? 0 : Infinity;
  }
  const d = Math.abs(actual - c);
  return d === 0 ? 0 : d / ulp(precision, Math.max(Math.abs(c), scale));
}

export interface UlpSummary {
  /** the largest error in ulps; 0 when nothing was compared */
  ulps: number;
  /** where it is, -1 when nothing was compared */
  index: number;
}

/** The worst element of an output in ulps; `scale[i]` per element (or one number), `mask` excludes elements. */
export function worstUlps(
  precision: Precision, actual: ArrayLike<number>, exact: ArrayLike<number>, scale: ArrayLike<number> | number = 0,
  mask?: (i: number) => boolean,
): UlpSummary {
  let worst: UlpSummary = { ulps: 0, index: -1 };
  for (let i = 0; i < exact.length; i++) {
    if (mask && !mask(i)) continue;
    const e = ulpError(precision, actual[i]!, exact[i]!, typeof scale === 'number' ? scale : scale[i]!);
    if (worst.index < 0 || e > worst.ulps || Number.isNaN(e)) worst = { ulps: e, index: i };
  }
  return worst;
}

// ---------------------------------------------------------------------------------------------------------
// The scales of the header, per quantity, from the case's data

export interface ScaleData {
  x: ArrayLike<number>;
  groups: readonly Int32Array[];
  param: Int32Array;
  weight: ArrayLike<number> | null;
  bias: ArrayLike<number> | null;
}

/** y's scale per element: |w_p| + |b_p| (RMSNorm has no bias). */
export function outputScale(d: Pick<ScaleData, 'param' | 'weight' | 'bias'>, length: number): Float64Array {
  const s = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    const p = d.param[i]!;
    s[i] = (d.weight ? Math.abs(d.weight[p]!) : 1) + (d.bias ? Math.abs(d.bias[p]!) : 0);
  }
  return s;
}

/** σ = sqrt(var + eps) per group, in float64 (two passes). */
export function groupSigma(x: ArrayLike<number>, groups: readonly Int32Array[], eps: number): Float64Array {
  return Float64Array.from(groups, (idx) => {
    let sum = 0;
    for (const i of idx) sum += x[i]!;
    const m = sum / idx.length;
    let sq = 0;
    for (const i of idx) sq += (x[i]! - m) ** 2;
    return Math.sqrt(sq / idx.length + eps);
  });
}

/** dx's scale per element: rstd_g·rms_g(w·dy). `rstd` per group. */
export function dxScale(d: Pick<ScaleData, 'groups' | 'param' | 'weight'>, dy: ArrayLike<number>, rstd: ArrayLike<number>): Float64Array {
  const s = new Float64Array(dy.length);
  d.groups.forEach((idx, g) => {
    let sq = 0;
    for (const i of idx) sq += (dy[i]! * (d.weight ? d.weight[d.param[i]!]! : 1)) ** 2;
    const v = rstd[g]! * Math.sqrt(sq / idx.length);
    for (const i of idx) s[i] = v;
  });
  return s;
}

/** dweight's and dbias's scale per parameter: sqrt(Σ dy²) over the elements sharing it. */
export function paramGradScale(param: Int32Array, numParams: number, dy: ArrayLike<number>): Float64Array {
  const s = new Float64Array(numParams);
  for (let i = 0; i < dy.length; i++) s[param[i]!]! += dy[i]! * dy[i]!;
  return s.map(Math.sqrt);
}
