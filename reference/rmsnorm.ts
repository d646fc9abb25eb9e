/**
 * Root Mean Square Layer Normalization, float64, with PyTorch's semantics (torch.nn.RMSNorm and
 * torch.nn.functional.rms_norm, PyTorch ≥ 2.4; ATen native/layer_norm.cpp `rms_norm`).
 *
 * Sizes: x has shape (...outer, ...normalized_shape); D = product of normalized_shape (the values normalised
 * together), R = product of the outer dimensions (the rows). Row r is the contiguous block [r·D, r·D + D).
 *
 * Forward, per row (the same in training and eval: no running statistics, no mean subtracted, no bias):
 *   ms   = (1/D) Σ x²                  the mean square, not a variance
 *   rstd = 1 / sqrt(ms + eps)          eps inside the square root
 *   x̂    = x · rstd
 *   y    = x̂ · weight                  weight has shape normalized_shape (elementwise_affine)
 * eps = None (the default) is std::numeric_limits<opmath_t>::epsilon() in ATen, where opmath_t is float32
 * for float16, bfloat16 and float32 inputs and float64 for float64: 2⁻²³ for the first three, 2⁻⁵²
 * (Number.EPSILON) for float64. The docs' "torch.finfo(x.dtype).eps" agrees except for float16 and bfloat16,
 * whose own eps (2⁻¹⁰, 2⁻⁷) ATen used only before pytorch#142848 (January 2025). `rmsNormDefaultEps` gives the
 * current values; this float64 reference takes null as float64's.
 *
 * Backward. x̂_i = x_i · rstd, and rstd depends on every x of the row: ∂ms/∂x_j = 2x_j/D and
 * ∂rstd/∂ms = -rstd³/2, so ∂rstd/∂x_j = -rstd³·x_j/D = -rstd²·x̂_j/D and
 *   ∂x̂_i/∂x_j = rstd·[i = j] + x_i·∂rstd/∂x_j = rstd·([i = j] - x̂_i·x̂_j/D)
 * With g = dy · weight, the gradient with respect to x̂,
 *   dx_j = Σ_i g_i·∂x̂_i/∂x_j = rstd · ( g_j - x̂_j · mean(g · x̂) )          mean over the D values of the row
 * LayerNorm's formula without the mean(g) term: there is no mean to subtract, so Σ dx ≠ 0 in general, and the
 * output is not shift invariant. It is scale invariant up to eps: Σ dx·x̂ = rstd·eps/(ms + eps)·Σ g·x̂.
 *   dweight = Σ_rows dy · x̂     (weight is shared by every row)
 *
 * Not here: a bias (torch.nn.RMSNorm has none), mixed precision.
 */
import { checkArgs, checkArray, checkNumber, checkOptionalArray, ValueError, type ArgSpec } from './args.js';
import { layerNormDims } from './layernorm.js';
import { formatShape, type Shape } from './shape.js';

/** The eps PyTorch uses for eps=None, by input dtype (ATen's opmath epsilon; see the header). */
export function rmsNormDefaultEps(dtype: 'float16' | 'bfloat16' | 'float32' | 'float64'): number {
  if (dtype === 'float64') return Number.EPSILON; // 2⁻⁵²
  if (dtype === 'float16' || dtype === 'bfloat16' || dtype === 'float32') return 2 ** -23; // float32's
  throw new ValueError(`dtype: expected 'float16', 'bfloat16', 'float32' or 'float64', got ${JSON.stringify(dtype)}`);
}

export interface RmsNormArgs {
  x: ArrayLike<number>; // (...outer, ...normalizedShape)
  shape: Shape;
  normalizedShape: Shape;
  weight?: ArrayLike<number> | null; // normalizedShape; null when elementwise_affine = false
  /** Added to the mean square; null (the default) is PyTorch's eps=None, Number.EPSILON in float64. */
  eps?: number | null;
}

export interface RmsNormResult {
  y: Float64Array; // shape
  rstd: Float64Array; // (R) 1/sqrt(mean(x²) + eps)
}

const NO_BIAS = 'RMSNorm has no bias (torch.nn.RMSNorm has weight only)';

const FORWARD_ARGS: ArgSpec = {
  required: ['x', 'shape', 'normalizedShape'],
  optional: { weight: 'null, no weight', eps: "null, PyTorch's eps=None" },
  misplaced: {
    bias: NO_BIAS,
    elementwiseAffine: 'pass weight for elementwise_affine = true, or null for false',
    y: 'the reference returns new arrays and takes no output buffers',
  },
};

const BACKWARD_ARGS: ArgSpec = {
  required: ['dy', 'x', 'shape', 'normalizedShape', 'rstd'],
  optional: { weight: 'null, no weight' },
  misplaced: {
    bias: NO_BIAS, hasBias: NO_BIAS,
    eps: "the backward takes the forward's rstd, which already holds eps",
    mean: 'RMSNorm subtracts no mean: the backward takes rstd only',
  },
};

export function rmsNormForward(args: RmsNormArgs): RmsNormResult {
  checkArgs('rmsNormForward', args, FORWARD_ARGS);
  const { x, shape, normalizedShape, weight = null, eps: epsArg = null } = args;
  const { R, D } = layerNormDims(shape, normalizedShape);
  checkArray('x', x, R * D, `an input of shape ${formatShape(shape)}`);
  checkOptionalArray('weight', weight, D, `a weight of shape normalizedShape ${formatShape(normalizedShape)}`);
  if (epsArg !== null) checkNumber('eps', epsArg, (v) => v > 0 && Number.isFinite(v), "a finite number > 0, or null for PyTorch's eps=None");
  const eps = epsArg ?? Number.EPSILON;

  const y = new Float64Array(R * D);
  const rstd = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    const base = r * D;
    // mean square
    let sq = 0;
    for (let i = 0; i < D; i++) sq += x[base + i]! * x[base + i]!;
    // rstd
    const rstdR = 1 / Math.sqrt(sq / D + eps);
    // normalise, then scale
    for (let i = 0; i < D; i++) y[base + i] = x[base + i]! * rstdR * (weight != null ? weight[i]! : 1);
    rstd[r] = rstdR;
  }
  return { y, rstd };
}

export interface RmsNormBackwardArgs {
  dy: ArrayLike<number>; // shape
  x: ArrayLike<number>; // shape
  shape: Shape;
  normalizedShape: Shape;
  weight?: ArrayLike<number> | null; // normalizedShape
  rstd: ArrayLike<number>; // (R), from the forward
}

export interface RmsNormGrads {
  dx: Float64Array; // shape
  dweight: Float64Array | null; // normalizedShape, null without a weight
}

export function rmsNormBackward(args: RmsNormBackwardArgs): RmsNormGrads {
  checkArgs('rmsNormBackward', args, BACKWARD_ARGS);
  const { dy, x, shape, normalizedShape, weight = null, rstd } = args;
  const { R, D } = layerNormDims(shape, normalizedShape);
  checkArray('dy', dy, R * D, `a gradient of shape ${formatShape(shape)}`);
  checkArray('x', x, R * D, `an input of shape ${formatShape(shape)}`);
  checkOptionalArray('weight', weight, D, `a weight of shape normalizedShape ${formatShape(normalizedShape)}`);
  checkArray('rstd', rstd, R, `one rstd per row, shape (${R},)`);

  const dx = new Float64Array(R * D);
  const dweight = weight != null ? new Float64Array(D) : null;
  for (let r = 0; r < R; r++) {
    const base = r * D;
    const rstdR = rstd[r]!;
    // reduction over the row: mean(g·x̂), g = dy·weight
    let sumGXhat = 0;
    for (let i = 0; i < D; i++) {
      const g = dy[base + i]! * (weight != null ? weight[i]! : 1);
      sumGXhat += g * (x[base + i]! * rstdR);
    }
    const meanGXhat = sumGXhat / D;
    // per-element terms, and the weight gradient accumulated across rows
    for (let i = 0; i < D; i++) {
      const xhat = x[base + i]! * rstdR;
      const g = dy[base + i]! * (weight != null ? weight[i]! : 1);
      dx[base + i] = rstdR * (g - xhat * meanGXhat);
      if (dweight) dweight[i] = dweight[i]! + dy[base + i]! * xhat;
    }
  }
  return { dx, dweight };
}
