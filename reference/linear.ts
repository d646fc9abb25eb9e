/**
 * Linear (fully connected) layer, float64, PyTorch's layout (torch.nn.Linear): weight is (out, in).
 *
 * Sizes: N batch, I input features, O output features.
 *   y[n, o] = Σ_i x[n, i] · weight[o, i] + bias[o]            y = x·Wᵀ + b
 * Backward, from y's gradient dy (N, O):
 *   dx[n, i]      = Σ_o dy[n, o] · weight[o, i]                  dx = dy·W
 *   dweight[o, i] = Σ_n dy[n, o] · x[n, i]                       dW = dyᵀ·x
 *   dbias[o]      = Σ_n dy[n, o]                                 every row of the batch adds to b
 */
import { checkLength, checkShape } from './shape.js';

export interface LinearDims {
  N: number;
  I: number;
  O: number;
}

function checkDims({ N, I, O }: LinearDims): void {
  checkShape('dims (N, I, O)', [N, I, O], 3, 3);
}

export function linearForward(
  x: ArrayLike<number>, // (N, I)
  weight: ArrayLike<number>, // (O, I)
  bias: ArrayLike<number> | null, // (O)
  dims: LinearDims,
): Float64Array {
  checkDims(dims);
  const { N, I, O } = dims;
  checkLength('x', x, N * I, `an input of shape (${N}, ${I})`);
  checkLength('weight', weight, O * I, `a weight of shape (out, in) = (${O}, ${I})`);
  if (bias != null) checkLength('bias', bias, O, `a bias of shape (${O},)`);
  const y = new Float64Array(N * O);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      let acc = bias != null ? bias[o]! : 0;
      for (let i = 0; i < I; i++) acc += x[n * I + i]! * weight[o * I + i]!;
      y[n * O + o] = acc;
    }
  }
  return y;
}

export function linearBackward(
  dy: ArrayLike<number>, // (N, O)
  x: ArrayLike<number>, // (N, I)
  weight: ArrayLike<number>, // (O, I)
  dims: LinearDims,
  hasBias = true,
): { dx: Float64Array; dweight: Float64Array; dbias: Float64Array | null } {
  checkDims(dims);
  const { N, I, O } = dims;
  checkLength('dy', dy, N * O, `a gradient of shape (${N}, ${O})`);
  checkLength('x', x, N * I, `an input of shape (${N}, ${I})`);
  checkLength('weight', weight, O * I, `a weight of shape (out, in) = (${O}, ${I})`);
  // dx = dy·W
  const dx = new Float64Array(N * I);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      const g = dy[n * O + o]!;
      for (let i = 0; i < I; i++) dx[n * I + i] = dx[n * I + i]! + g * weight[o * I + i]!;
    }
  }
  // dW = dyᵀ·x
  const dweight = new Float64Array(O * I);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      const g = dy[n * O + o]!;
      for (let i = 0; i < I; i++) dweight[o * I + i] = dweight[o * I + i]! + g * x[n * I + i]!;
    }
  }
  // db = Σ_n dy
  let dbias: Float64Array | null = null;
  if (hasBias) {
    dbias = new Float64Array(O);
    for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) dbias[o] = dbias[o]! + dy[n * O + o]!;
  }
  return { dx, dweight, dbias };
}

