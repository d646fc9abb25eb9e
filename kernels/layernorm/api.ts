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
 * bad arguments throw `KernelArgError` naming the argument.
 */
import { LAYERNORM_BACKWARD_DEFAULT, LAYERNORM_FORWARD_DEFAULT } from '../registry.js';
import { checkEps, checkF32, checkF64, checkNoOverlap, checkPositiveInts, KernelArgError } from '../shared/args.js';
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

/** LayerNorm forward over rows of D: writes y, mean, rstd. */
export function layerNormForward(args: LayerNormForwardArgs): void {
  const { x, dims, weight = null, bias = null, eps = 1e-5, y, mean, rstd, version = LAYERNORM_FORWARD_DEFAULT } = args;
  checkPositiveInts('dims', dims, ['R', 'D']);
  const { R, D } = dims;
  checkF32('x', x, R * D, `an input of shape (R, D) = (${R}, ${D})`);
  checkAffine(weight, bias, D);
  checkEps(eps);
  checkF32('y', y, R * D, `an output of shape (R, D) = (${R}, ${D})`);
  checkF64('mean', mean, R, `an output: one mean per row, shape (${R},)`);
  checkF64('rstd', rstd, R, `an output: one rstd per row, shape (${R},)`);
  checkNoOverlap('y', y, 'x', x);
  checkNoOverlap('y', y, 'weight', weight);
  checkNoOverlap('y', y, 'bias', bias);
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

/** LayerNorm backward: writes dx, and dweight, dbias when given. */
export function layerNormBackward(args: LayerNormBackwardArgs): void {
  const { dy, x, dims, weight = null, mean, rstd, dx, dweight = null, dbias = null, workspace, version = LAYERNORM_BACKWARD_DEFAULT } = args;
  checkPositiveInts('dims', dims, ['R', 'D']);
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
    const got = workspace instanceof LayerNormWorkspace ? `one for D = ${workspace.D}` : String(workspace);
    throw new KernelArgError(`workspace: expected a LayerNormWorkspace for D = ${D} (new LayerNormWorkspace(${D})), got ${got}`);
  }
  checkNoOverlap('dx', dx, 'dy', dy);
  checkNoOverlap('dx', dx, 'x', x);
  if (dweight !== null) checkNoOverlap('dweight', dweight, 'dy', dy);
  if (dbias !== null) checkNoOverlap('dbias', dbias, 'dy', dy);
  version.backward(dy, x, R, D, weight ?? workspace.ones, mean, rstd, dx, dweight, dbias, workspace.accWeight, workspace.accBias);
}
