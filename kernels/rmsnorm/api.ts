/**
 * Float32 RMSNorm kernels with PyTorch's semantics (torch.nn.RMSNorm(normalized_shape, eps=None,
 * elementwise_affine=True), F.rms_norm, PyTorch ≥ 2.4): forward and backward on R rows of D values.
 *   y = x / sqrt(mean(x²) + eps) · weight      no mean subtracted, no bias
 * The math and the accuracy argument are in forward_impl.ts (y is correctly rounded up to a few millionths of
 * an ulp, at any scale) and backward_impl.ts.
 *
 * Sizes: R rows (product of the leading dimensions), D values normalised together (product of normalized_shape);
 * row r is x[r·D .. r·D + D). weight has shape normalized_shape, D values.
 *
 * eps: null or omitted is PyTorch's eps=None, std::numeric_limits<float>::epsilon() = 2⁻²³ for a float32 input
 * (ATen's rms_norm: `eps.value_or(numeric_limits<opmath_t>::epsilon())`, opmath float for float32, and for
 * float16/bfloat16 too since pytorch#142848; the docs' finfo(x.dtype).eps agrees for float32). RMSNORM_DEFAULT_EPS.
 *
 * Conventions (as layernorm/api.ts): Float32Array data, float64 arithmetic; the saved rstd is a Float64Array (R);
 * outputs are caller-supplied, written whole, never overlapping an input or each other; inputs are never
 * modified; the backward's float64 accumulator for dweight lives in an `RmsNormWorkspace` (one per D), so nothing
 * allocates per call; argument objects are closed (an unknown key or an optional key given as undefined is an
 * error); bad arguments throw KernelShapeError or KernelValueError (shared/args.ts) naming the argument.
 *
 * Versions (version.ts, listed in kernels/registry.ts): forward rowByRow, wasm; backward rowByRow, wasm (the defaults).
 */
import { RMSNORM_BACKWARD_DEFAULT, RMSNORM_FORWARD_DEFAULT } from '../registry.js';
import {
  argSpec, checkArgs, checkF32, checkF64, checkNoOverlap, checkNumber, checkPositiveInts, describe, KernelShapeError, KernelValueError,
} from '../shared/args.js';
import type { RmsNormBackwardVersion, RmsNormForwardVersion } from './version.js';
import { RmsNormWorkspace } from './workspace.js';

export type { RmsNormBackwardVersion, RmsNormForwardVersion } from './version.js';
export { RmsNormWorkspace } from './workspace.js';

/** PyTorch's eps=None for float32 input: FLT_EPSILON = 2⁻²³ (see the header). */
export const RMSNORM_DEFAULT_EPS = 2 ** -23;

/** R rows, D values per row (normalised together). */
export interface RmsNormDims {
  R: number;
  D: number;
}

const DIM_KEYS = ['R', 'D'] as const;

const NO_BIAS = 'RMSNorm has no bias (torch.nn.RMSNorm has a weight only)';
const MISPLACED = {
  bias: NO_BIAS,
  shape: 'the kernels take dims: { R, D } (rows, values per row)',
  normalizedShape: 'the kernels take dims: { R, D }, D the product of normalized_shape',
  elementwiseAffine: 'pass weight for elementwise_affine = true, or null for false',
} as const;

function checkWeight(weight: Float32Array | null, D: number): void {
  if (weight !== null) checkF32('weight', weight, D, `a weight of normalized_shape, ${D} values`);
}

export interface RmsNormForwardArgs {
  /** input (R, D) */
  x: Float32Array;
  dims: RmsNormDims;
  /** (D) or null (elementwise_affine = false) */
  weight?: Float32Array | null;
  /** added to the mean square; null or omitted: PyTorch's eps=None, RMSNORM_DEFAULT_EPS = 2⁻²³ */
  eps?: number | null;
  /** OUTPUT (R, D) */
  y: Float32Array;
  /** OUTPUT (R): 1/sqrt(mean(x²) + eps), saved for the backward */
  rstd: Float64Array;
  /** default: RMSNORM_FORWARD_DEFAULT (kernels/registry.ts) */
  version?: RmsNormForwardVersion;
}

const FORWARD_ARGS = argSpec('rmsNormForward', ['x', 'dims', 'y', 'rstd'], {
  weight: 'null, no weight', eps: "null, PyTorch's eps=None (2^-23)", version: 'RMSNORM_FORWARD_DEFAULT',
}, { ...MISPLACED, mean: 'RMSNorm subtracts no mean: the forward saves rstd only' });

/** RMSNorm forward over rows of D: writes y, rstd. */
export function rmsNormForward(args: RmsNormForwardArgs): void {
  checkArgs(FORWARD_ARGS, args);
  const { x, dims, weight = null, eps = null, y, rstd, version = RMSNORM_FORWARD_DEFAULT } = args;
  checkPositiveInts('dims', dims, DIM_KEYS);
  const { R, D } = dims;
  checkF32('x', x, R * D, `an input of shape (R, D) = (${R}, ${D})`);
  checkWeight(weight, D);
  if (eps !== null) checkNumber('eps', eps, (v) => v > 0 && Number.isFinite(v), "a finite number > 0, or null for PyTorch's eps=None");
  checkF32('y', y, R * D, `an output of shape (R, D) = (${R}, ${D})`);
  checkF64('rstd', rstd, R, `an output: one rstd per row, shape (${R},)`);
  checkNoOverlap('y', y, 'x', x);
  checkNoOverlap('y', y, 'weight', weight);
  checkNoOverlap('rstd', rstd, 'x', x);
  checkNoOverlap('rstd', rstd, 'weight', weight);
  checkNoOverlap('y', y, 'rstd', rstd);
  version.forward(x, R, D, weight, eps ?? RMSNORM_DEFAULT_EPS, y, rstd);
}

export interface RmsNormBackwardArgs {
  /** upstream gradient (R, D) */
  dy: Float32Array;
  /** the forward's input (R, D) */
  x: Float32Array;
  dims: RmsNormDims;
  /** (D) or null, as in the forward */
  weight?: Float32Array | null;
  /** (R) the forward's saved rstd */
  rstd: Float64Array;
  /** OUTPUT (R, D) */
  dx: Float32Array;
  /** OUTPUT (D) or null: Σ_rows dy·x̂ */
  dweight?: Float32Array | null;
  workspace: RmsNormWorkspace;
  /** default: RMSNORM_BACKWARD_DEFAULT (kernels/registry.ts) */
  version?: RmsNormBackwardVersion;
}

const BACKWARD_ARGS = argSpec('rmsNormBackward', ['dy', 'x', 'dims', 'rstd', 'dx', 'workspace'], {
  weight: 'null, no weight', dweight: 'null, not computed', version: 'RMSNORM_BACKWARD_DEFAULT',
}, {
  ...MISPLACED,
  dbias: NO_BIAS,
  mean: 'RMSNorm subtracts no mean: the backward takes rstd only',
  eps: "the backward takes the forward's rstd, which already holds eps",
});

/** One backward output against every input of the backward. */
function checkGradientOverlaps(name: string, out: Float32Array, dy: Float32Array, x: Float32Array, weight: Float32Array | null, rstd: Float64Array): void {
  checkNoOverlap(name, out, 'dy', dy);
  checkNoOverlap(name, out, 'x', x);
  checkNoOverlap(name, out, 'weight', weight);
  checkNoOverlap(name, out, 'rstd', rstd);
}

/** RMSNorm backward: writes dx, and dweight when given. */
export function rmsNormBackward(args: RmsNormBackwardArgs): void {
  checkArgs(BACKWARD_ARGS, args);
  const { dy, x, dims, weight = null, rstd, dx, dweight = null, workspace, version = RMSNORM_BACKWARD_DEFAULT } = args;
  checkPositiveInts('dims', dims, DIM_KEYS);
  const { R, D } = dims;
  checkF32('dy', dy, R * D, `a gradient of shape (R, D) = (${R}, ${D})`);
  checkF32('x', x, R * D, `an input of shape (R, D) = (${R}, ${D})`);
  checkWeight(weight, D);
  checkF64('rstd', rstd, R, `the forward's saved rstd, one per row, shape (${R},)`);
  checkF32('dx', dx, R * D, `an input gradient of shape (R, D) = (${R}, ${D})`);
  if (dweight !== null) checkF32('dweight', dweight, D, `a weight gradient of ${D} values`);
  if (!(workspace instanceof RmsNormWorkspace) || workspace.D !== D) {
    const ok = workspace instanceof RmsNormWorkspace;
    const Err = ok ? KernelShapeError : KernelValueError;
    throw new Err(`workspace: expected an RmsNormWorkspace for D = ${D} (new RmsNormWorkspace(${D})), got ${ok ? `one for D = ${workspace.D}` : describe(workspace)}`);
  }
  checkGradientOverlaps('dx', dx, dy, x, weight, rstd);
  if (dweight !== null) {
    checkGradientOverlaps('dweight', dweight, dy, x, weight, rstd);
    checkNoOverlap('dx', dx, 'dweight', dweight);
  }
  version.backward(dy, x, R, D, weight ?? workspace.ones, rstd, dx, dweight, workspace.accWeight);
}
