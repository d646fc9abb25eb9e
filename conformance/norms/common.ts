/**
 * Pieces the norm specs share: the sizes of a layout-aware shape, and the fixtures' rounding rule.
 */
import type { CheckContext } from '../invoke.js';
import type { Fixture } from '../fixture_reader.js';
import { roundoffs } from '../error_model.js';
import { PRECISIONS, roundArray } from '../precision.js';
import { sizeOf, type Geometry } from './spec.js';

/** N, C and S = prod(spatial) of an NCHW shape. */
export function nchwDims(g: Geometry): { N: number; C: number; S: number } {
  const [N, C] = g.shape as [number, number];
  return { N, C, S: sizeOf(g.shape.slice(2)) };
}

/** R rows of D = prod(normalizedShape) values. */
export function rowDims(g: Geometry): { R: number; D: number } {
  const D = sizeOf(g.normalizedShape!);
  return { R: sizeOf(g.shape) / D, D };
}

export const fmtShape = (s: readonly number[]): string => `(${s.join(', ')}${s.length === 1 ? ',' : ''})`;

/**
 * The fixtures' inputs are float64. For a float32 or float16 adapter they are rounded first; that moves each
 * input by at most u relative, which perturbs the result by no more than one more rounding of every input
 * would — so the bound gets the adapter's u once more. PyTorch's own float64 error is the reference term of
 * the bound (roundoffs() in error_model.ts).
 */
export function fixtureRounding(ctx: CheckContext): { us: number[]; round: (a: Float64Array) => Float64Array } {
  const extra = ctx.precision === 'float64' ? [] : [PRECISIONS[ctx.precision].u];
  return { us: [...roundoffs(ctx.precision), ...extra], round: (a) => roundArray(ctx.precision, a) };
}

/**
 * A fixture whose values do not fit the adapter's precision (offset 1e6 or rstd 1e6 in float16) cannot be
 * posed to it: the reason, or null when every value fits.
 */
export function unrepresentable(ctx: CheckContext, fx: Fixture): string | null {
  const max = PRECISIONS[ctx.precision].max;
  for (const [name, t] of fx.tensors) {
    if (t.data.some((v) => Math.abs(v) > max / 2)) return `${name} holds values beyond ${ctx.precision}'s range`;
  }
  return null;
}
