/**
 * The three precisions an adapter can declare, and what each means for the suite:
 * the unit roundoff u (half the distance from 1 to the next number), the mantissa bits p (u = 2^-p),
 * the largest finite value, how to round a float64 to it, and which typed array carries it.
 *
 * float16 data travels in Float32Array (JavaScript has no Float16Array in Node 20); every value the suite
 * passes to a float16 adapter is exactly representable in half precision (`roundTo('float16', x)`).
 */
import type { FloatArray, Precision } from './adapter.js';

export interface PrecisionInfo {
  /** unit roundoff: 2^-p */
  u: number;
  /** mantissa bits including the implicit one */
  p: number;
  /** largest finite value */
  max: number;
  /** smallest positive normal value */
  minNormal: number;
}

export const PRECISIONS: Record<Precision, PrecisionInfo> = {
  float16: { u: 2 ** -11, p: 11, max: 65504, minNormal: 2 ** -14 },
  float32: { u: 2 ** -24, p: 24, max: 3.4028234663852886e38, minNormal: 2 ** -126 },
  float64: { u: 2 ** -53, p: 53, max: Number.MAX_VALUE, minNormal: 2 ** -1022 },
};

/**
 * Round a number to the nearest float16 (ties to even), returned as a float64, in one step from the float64
 * value (no double rounding through float32). Overflow gives ±Infinity, NaN stays NaN, subnormals are kept.
 */
export function roundToFloat16(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const a = Math.abs(x);
  if (a >= 65520) return x > 0 ? Infinity : -Infinity; // 65520 = max + half an ulp: rounds to infinity
  // Quantum at a's binade: 2^(e - 10) for normals, 2^-24 for subnormals. Rounding to a multiple of the
  // quantum with Math.round-to-even in float64 is exact here because a/quantum < 2^12.
  const e = Math.max(Math.floor(Math.log2(a)), -14);
  // log2 may be off by one near powers of two; fix the binade exactly.
  let exp = e;
  if (2 ** exp > a) exp -= 1;
  else if (2 ** (exp + 1) <= a) exp += 1;
  exp = Math.max(exp, -14);
  const quantum = 2 ** (exp - 10);
  const q = a / quantum; // exact: scaling by a power of two
  let r = Math.floor(q);
  const frac = q - r;
  if (frac > 0.5 || (frac === 0.5 && r % 2 === 1)) r += 1;
  return Math.sign(x) * r * quantum;
}

/** Round a float64 to the adapter's precision (identity for float64). */
export function roundTo(precision: Precision, x: number): number {
  if (precision === 'float64') return x;
  if (precision === 'float32') return Math.fround(x);
  return roundToFloat16(x);
}

/** A copy of `values` rounded to `precision`, still as float64 numbers (what the reference runs on). */
export function roundArray(precision: Precision, values: ArrayLike<number>): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = roundTo(precision, values[i]!);
  return out;
}

/** The typed array an adapter of this precision receives and must return. */
export function toAdapterArray(precision: Precision, values: ArrayLike<number>): FloatArray {
  return precision === 'float64' ? Float64Array.from(values) : Float32Array.from(values);
}

export function expectedArrayType(precision: Precision): 'Float32Array' | 'Float64Array' {
  return precision === 'float64' ? 'Float64Array' : 'Float32Array';
}

/** Distance between |t| and the next representable number of the precision (an ulp), for reporting errors in ulps. */
export function ulp(precision: Precision, t: number): number {
  const { p, minNormal } = PRECISIONS[precision];
  const a = Math.max(Math.abs(t), minNormal);
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e -= 1;
  return 2 ** (e - (p - 1));
}
