/**
 * Layer Normalization, float64, with PyTorch's semantics (torch.nn.LayerNorm, ATen native/layer_norm.cpp).
 *
 * Sizes: x has shape (...outer, ...normalized_shape); D = product of normalized_shape (the values
 * normalised together), R = product of the outer dimensions (the rows). Row r is the contiguous
 * block x[r·D .. r·D + D).
 *
 * Forward, per row (the same in training and eval: there are no running statistics):
 *   mean = (1/D) Σ x
 *   var  = (1/D) Σ (x - mean)²        biased, always
 *   rstd = 1 / sqrt(var + eps)
 *   x̂    = (x - mean) · rstd
 *   y    = weight · x̂ + bias          weight, bias have shape normalized_shape (elementwise_affine)
 *
 * Backward. It is BatchNorm's algebra on the other axis: g = dy · weight, then per row
 *   dx      = rstd · ( g - mean(g) - x̂ · mean(g · x̂) )        means over the D values of the row
 * and, summed over rows because weight is shared by every row,
 *   dweight = Σ_rows dy · x̂            dbias = Σ_rows dy
 *
 * Not here: RMSNorm (no mean), GroupNorm.
 */
import { checkArgs, checkArray, checkEps, checkFlag, checkOptionalArray, ShapeError, type ArgSpec } from './args.js';
import { checkShape, formatShape, sizeOf, type Shape } from './shape.js';

const FORWARD_ARGS: ArgSpec = {
  required: ['x', 'shape', 'normalizedShape'],
  optional: { weight: 'null, no weight', bias: 'null, no bias', eps: '1e-5' },
  misplaced: {
    hasBias: 'hasBias is an argument of layerNormBackward; the forward has a bias when bias is given',
    elementwiseAffine: 'pass weight and bias for elementwise_affine = true, or null for false',
    y: 'the reference returns new arrays and takes no output buffers',
  },
};

const BACKWARD_ARGS: ArgSpec = {
  required: ['dy', 'x', 'shape', 'normalizedShape', 'mean', 'rstd'],
  optional: { weight: 'null, no weight', hasBias: 'true exactly when weight is given' },
  misplaced: {
    bias: 'the backward takes hasBias: true or false (whether the forward had a bias), not the bias itself',
    eps: "the backward takes the forward's rstd, which already holds eps",
  },
};

/** Rows R and row length D, checking normalizedShape is a trailing run of shape. */
export function layerNormDims(shape: Shape, normalizedShape: Shape): { R: number; D: number } {
  checkShape('shape', shape, 1);
  checkShape('normalizedShape', normalizedShape, 1);
  const k = normalizedShape.length;
  const tail = shape.slice(shape.length - k);
  if (k > shape.length || tail.some((d, i) => d !== normalizedShape[i])) {
    throw new ShapeError(
      `normalizedShape: expected the trailing dimensions of x's shape ${formatShape(shape)}, got ${formatShape(normalizedShape)}`,
    );
  }
  return { R: sizeOf(shape.slice(0, shape.length - k)), D: sizeOf(normalizedShape) };
}

export interface LayerNormArgs {
  x: ArrayLike<number>; // (...outer, ...normalizedShape)
  shape: Shape;
  normalizedShape: Shape;
  weight?: ArrayLike<number> | null; // normalizedShape; null when elementwise_affine = false
  bias?: ArrayLike<number> | null; // normalizedShape; null without bias
  eps?: number;
}

export interface LayerNormResult {
  y: Float64Array; // shape
  mean: Float64Array; // (R)
  rstd: Float64Array; // (R)
}

function checkAffine(weight: unknown, bias: unknown, normalizedShape: Shape, D: number): void {
  checkOptionalArray('weight', weight, D, `a weight of shape normalizedShape ${formatShape(normalizedShape)}`);
  checkOptionalArray('bias', bias, D, `a bias of shape normalizedShape ${formatShape(normalizedShape)}`);
}

export function layerNormForward(args: LayerNormArgs): LayerNormResult {
  checkArgs('layerNormForward', args, FORWARD_ARGS);
  const { x, shape, normalizedShape, weight = null, bias = null, eps = 1e-5 } = args;
  const { R, D } = layerNormDims(shape, normalizedShape);
  checkArray('x', x, R * D, `an input of shape ${formatShape(shape)}`);
  checkAffine(weight, bias, normalizedShape, D);
  checkEps(eps);

  const y = new Float64Array(R * D);
  const mean = new Float64Array(R);
  const rstd = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    const base = r * D;
    // mean
    let sum = 0;
    for (let i = 0; i < D; i++) sum += x[base + i]!;
    const m = sum / D;
    // variance, biased
    let sq = 0;
    for (let i = 0; i < D; i++) {
      const d = x[base + i]! - m;
      sq += d * d;
    }
    // rstd
    const rstdR = 1 / Math.sqrt(sq / D + eps);
    // normalise, scale and shift
    for (let i = 0; i < D; i++) {
      const xhat = (x[base + i]! - m) * rstdR;
      y[base + i] = (weight != null ? weight[i]! : 1) * xhat + (bias != null ? bias[i]! : 0);
    }
    mean[r] = m;
    rstd[r] = rstdR;
  }
  return { y, mean, rstd };
}

export interface LayerNormBackwardArgs {
  dy: ArrayLike<number>; // shape
  x: ArrayLike<number>; // shape
  shape: Shape;
  normalizedShape: Shape;
  weight?: ArrayLike<number> | null; // normalizedShape
  /** Whether the forward had a bias: decides whether dbias is returned. Default: same as weight. */
  hasBias?: boolean;
  mean: ArrayLike<number>; // (R), from the forward
  rstd: ArrayLike<number>; // (R), from the forward
}

export interface LayerNormGrads {
  dx: Float64Array; // shape
  dweight: Float64Array | null; // normalizedShape
  dbias: Float64Array | null; // normalizedShape
}

export function layerNormBackward(args: LayerNormBackwardArgs): LayerNormGrads {
  checkArgs('layerNormBackward', args, BACKWARD_ARGS);
  const { dy, x, shape, normalizedShape, weight = null, mean, rstd } = args;
  const hasBias = args.hasBias ?? weight != null;
  checkFlag('hasBias', hasBias, 'whether the forward had a bias');
  const { R, D } = layerNormDims(shape, normalizedShape);
  checkArray('dy', dy, R * D, `a gradient of shape ${formatShape(shape)}`);
  checkArray('x', x, R * D, `an input of shape ${formatShape(shape)}`);
  checkOptionalArray('weight', weight, D, `a weight of shape normalizedShape ${formatShape(normalizedShape)}`);
  checkArray('mean', mean, R, `one mean per row, shape (${R},)`);
  checkArray('rstd', rstd, R, `one rstd per row, shape (${R},)`);

  const dx = new Float64Array(R * D);
  const dweight = weight != null ? new Float64Array(D) : null;
  const dbias = hasBias ? new Float64Array(D) : null;
  for (let r = 0; r < R; r++) {
    const base = r * D;
    const m = mean[r]!;
    const rstdR = rstd[r]!; // rstd of row r
    // reductions over the row: mean(g) and mean(g·x̂), g = dy·weight
    let sumG = 0;
    let sumGXhat = 0;
    for (let i = 0; i < D; i++) {
      const xhat = (x[base + i]! - m) * rstdR;
      const g = dy[base + i]! * (weight != null ? weight[i]! : 1);
      sumG += g;
      sumGXhat += g * xhat;
    }
    const meanG = sumG / D;
    const meanGXhat = sumGXhat / D;
    // per-element terms, and the parameter gradients accumulated across rows
    for (let i = 0; i < D; i++) {
      const xhat = (x[base + i]! - m) * rstdR;
      const g = dy[base + i]! * (weight != null ? weight[i]! : 1);
      dx[base + i] = rstdR * (g - meanG - xhat * meanGXhat);
      if (dweight) dweight[i] = dweight[i]! + dy[base + i]! * xhat;
      if (dbias) dbias[i] = dbias[i]! + dy[base + i]!;
    }
  }
  return { dx, dweight, dbias };
}
