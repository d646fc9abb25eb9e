/**
 * Float32 LayerNorm kernels over the trailing dimensions, PyTorch's semantics (torch.nn.LayerNorm): forward and
 * backward on R rows of D values. The math and the accuracy argument are in forward_impl.ts and backward_impl.ts.
 *
 * Sizes: R rows (product of the leading dimensions), D values normalised together (product of normalized_shape);
 * row r is x[r·D .. r·D + D). weight and bias have shape normalized_shape, D values.
 *
 * Conventions (as batchnorm/api.ts): x, y, dy, dx, weight, bias, dweight, dbias are Float32Array, arithmetic is float64;
 * the saved `mean` and `rstd` are Float64Array (R) so the backward sees the exact statistics; outputs are
 * caller-supplied, written whole, never overlapping an input; inputs are never modified; the backward's float64
 * accumulators for dweight and dbias live in a `LayerNormWorkspace` (one per D), so nothing allocates per call;
 * argument objects are closed (an unknown key or an optional key given as undefined is an error); bad arguments
 * throw KernelShapeError or KernelValueError (shared/args.ts) naming the argument.
 */
import { LAYERNORM_BACKWARD_DEFAULT, LAYERNORM_FORWARD_DEFAULT } from '../registry.js';
import {
  argSpec, checkArgs, checkEps, checkF32, checkF64, checkNoOverlap, checkPositiveInts, describe, KernelShapeError, KernelValueError,
} from '../shared/args.js';
import type { LayerNormBackwardVersion, LayerNormForwardVersion } from './version.js';
import { LayerNormWorkspace } from './workspace.js';

export type { LayerNormBackwardVersion, LayerNormForwardVersion } from './version.js';
export { LayerNormWorkspace } from './workspace.js';

/** R rows, D values per row (normalised together). */
export interface LayerNormDims {
  R: number;
  D: number;
}

function checkAffine(weight: Float32Array | null, bias: Float32Array | null, D: number): void {
  if (weight !== null) checkF32('weight', weight, D, `a weight of normalized_shape, ${D} values`);
  if (bias !== null) checkF32('bias', bias, D, `a bias of normalized_shape, ${D} values`);
}

const DIM_KEYS = ['R', 'D'] as const;

const MISPLACED = {
  shape: 'the kernels take dims: { R, D } (rows, values per row)',
  normalizedShape: 'the kernels take dims: { R, D }, D the product of normalized_shape',
} as const;

export interface LayerNormForwardArgs {
  /** input (R, D) */
  x: Float32Array;
  dims: LayerNormDims;
  /** (D) or null (elementwise_affine = false) */
  weight?: Float32Array | null;
  /** (D) or null (bias = false) */
  bias?: Float32Array | null;
  /** default 1e-5 */
  eps?: number;
  /** OUTPUT (R, D) */
  y: Float32Array;
  /** OUTPUT (R): row means, saved for the backward */
  mean: Float64Array;
  /** OUTPUT (R): 1/sqrt(var + eps), biased row variance, saved for the backward */
  rstd: Float64Array;
  /** default: LAYERNORM_FORWARD_DEFAULT (kernels/registry.ts) */
  version?: LayerNormForwardVersion;
}

const FORWARD_ARGS = argSpec('layerNormForward', ['x', 'dims', 'y', 'mean', 'rstd'], {
  weight: 'null, no weight', bias: 'null, no bias', eps: '1e-5', version: 'LAYERNORM_FORWARD_DEFAULT',
}, MISPLACED);

/** One forward output against the forward's inputs. */
function checkForwardOverlaps(name: string, out: ArrayBufferView, x: Float32Array, weight: Float32Array | null, bias: Float32Array | null): void {
  checkNoOverlap(name, out, 'x', x);
  checkNoOverlap(name, out, 'weight', weight);
  checkNoOverlap(name, out, 'bias', bias);
}

/** LayerNorm forward over rows of D: writes y, mean, rstd. */
export function layerNormForward(args: LayerNormForwardArgs): void {
  checkArgs(FORWARD_ARGS, args);
  const { x, dims, weight = null, bias = null, eps = 1e-5, y, mean, rstd, version = LAYERNORM_FORWARD_DEFAULT } = args;
  checkPositiveInts('dims', dims, DIM_KEYS);
  const { R, D } = dims;
  checkF32('x', x, R * D, `an input of shape (R, D) = (${R}, ${D})`);
  checkAffine(weight, bias, D);
  checkEps(eps);
  checkF32('y', y, R * D, `an output of shape (R, D) = (${R}, ${D})`);
  checkF64('mean', mean, R, `an output: one mean per row, shape (${R},)`);
  checkF64('rstd', rstd, R, `an output: one rstd per row, shape (${R},)`);
  checkForwardOverlaps('y', y, x, weight, bias);
  checkForwardOverlaps('mean', mean, x, weight, bias);
  checkForwardOverlaps('rstd', rstd, x, weight, bias);
  checkNoOverlap('y', y, 'mean', mean);
  checkNoOverlap('y', y, 'rstd', rstd);
  checkNoOverlap('mean', mean, 'rstd', rstd);
  version.forward(x, R, D, weight, bias, eps, y, mean, rstd);
}

export interface LayerNormBackwardArgs {
  /** upstream gradient (R, D) */
  dy: Float32Array;
  /** the forward's input (R, D) */
  x: Float32Array;
  dims: LayerNormDims;
  /** (D) or null, as in the forward */
  weight?: Float32Array | null;
  /** (R) the forward's saved mean */
  mean: Float64Array;
  /** (R) the forward's saved rstd */
  rstd: Float64Array;
  /** OUTPUT (R, D) */
  dx: Float32Array;
  /** OUTPUT (D) or null: Σ_rows dy·x̂ */
  dweight?: Float32Array | null;
  /** OUTPUT (D) or null: Σ_rows dy */
  dbias?: Float32Array | null;
  workspace: LayerNormWorkspace;
  /** default: LAYERNORM_BACKWARD_DEFAULT (kernels/registry.ts) */
  version?: LayerNormBackwardVersion;
}

const BACKWARD_ARGS = argSpec('layerNormBackward', ['dy', 'x', 'dims', 'mean', 'rstd', 'dx', 'workspace'], {
  weight: 'null, no weight', dweight: 'null, not computed', dbias: 'null, not computed', version: 'LAYERNORM_BACKWARD_DEFAULT',
}, {
  ...MISPLACED,
  bias: 'the backward does not read the bias; pass dbias for its gradient',
  eps: "the backward takes the forward's rstd, which already holds eps",
});

/** One backward output against every input of the backward. */
function checkGradientOverlaps(
  name: string, out: Float32Array, dy: Float32Array, x: Float32Array, weight: Float32Array | null, mean: Float64Array, rstd: Float64Array,
): void {
  checkNoOverlap(name, out, 'dy', dy);
  checkNoOverlap(name, out, 'x', x);
  checkNoOverlap(name, out, 'weight', weight);
  checkNoOverlap(name, out, 'mean', mean);
  checkNoOverlap(name, out, 'rstd', rstd);
}

/** LayerNorm backward: writes dx, and dweight, dbias when given. */
export function layerNormBackward(args: LayerNormBackwardArgs): void {
  checkArgs(BACKWARD_ARGS, args);
  const { dy, x, dims, weight = null, mean, rstd, dx, dweight = null, dbias = null, workspace, version = LAYERNORM_BACKWARD_DEFAULT } = args;
  checkPositiveInts('dims', dims, DIM_KEYS);
  const { R, D } = dims;
  checkF32('dy', dy, R * D, `a gradient of shape (R, D) = (${R}, ${D})`);
  checkF32('x', x, R * D, `an input of shape (R, D) = (${R}, ${D})`);
  if (weight !== null) checkF32('weight', weight, D, `a weight of normalized_shape, ${D} values`);
  checkF64('mean', mean, R, `the forward's saved mean, one per row, shape (${R},)`);
  checkF64('rstd', rstd, R, `the forward's saved rstd, one per row, shape (${R},)`);
  checkF32('dx', dx, R * D, `an input gradient of shape (R, D) = (${R}, ${D})`);
  if (dweight !== null) checkF32('dweight', dweight, D, `a weight gradient of ${D} values`);
  if (dbias !== null) checkF32('dbias', dbias, D, `a bias gradient of ${D} values`);
  if (!(workspace instanceof LayerNormWorkspace) || workspace.D !== D) {
    const got = workspace instanceof LayerNormWorkspace ? `one for D = ${workspace.D}` : describe(workspace);
    const Err = workspace instanceof LayerNormWorkspace ? KernelShapeError : KernelValueError;
    throw new Err(`workspace: expected a LayerNormWorkspace for D = ${D} (new LayerNormWorkspace(${D})), got ${got}`);
  }
  checkGradientOverlaps('dx', dx, dy, x, weight, mean, rstd);
  if (dweight !== null) checkGradientOverlaps('dweight', dweight, dy, x, weight, mean, rstd);
  if (dbias !== null) checkGradientOverlaps('dbias', dbias, dy, x, weight, mean, rstd);
  if (dweight !== null) checkNoOverlap('dx', dx, 'dweight', dweight);
  if (dbias !== null) checkNoOverlap('dx', dx, 'dbias', dbias);
  if (dweight !== null && dbias !== null) checkNoOverlap('dweight', dweight, 'dbias', dbias);
  version.backward(dy, x, R, D, weight ?? workspace.ones, mean, rstd, dx, dweight, dbias, workspace.accWeight, workspace.accBias);
}
