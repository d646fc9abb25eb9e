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
import { checkArgs, checkArray, checkFlag, checkOptionalArray } from './args.js';
import { checkShape } from './shape.js';

export interface LinearDims {
  N: number;
  I: number;
  O: number;
}

function checkDims(fn: string, dims: LinearDims): void {
  checkArgs(fn, dims, { required: ['N', 'I', 'O'], optional: {} }, 'dims.');
  const { N, I, O } = dims;
  checkShape('dims (N, I, O)', [N, I, O], 3, 3);
}

export function linearForward(
  x: ArrayLike<number>, // (N, I)
  weight: ArrayLike<number>, // (O, I)
  bias: ArrayLike<number> | null, // (O)
  dims: LinearDims,
): Float64Array {
  checkDims('linearForward', dims);
  const { N, I, O } = dims;
  checkArray('x', x, N * I, `an input of shape (${N}, ${I})`);
  checkArray('weight', weight, O * I, `a weight of shape (out, in) = (${O}, ${I})`);
  checkOptionalArray('bias', bias, O, `a bias of shape (${O},)`);
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
  checkDims('linearBackward', dims);
  const { N, I, O } = dims;
  checkArray('dy', dy, N * O, `a gradient of shape (${N}, ${O})`);
  checkArray('x', x, N * I, `an input of shape (${N}, ${I})`);
  checkArray('weight', weight, O * I, `a weight of shape (out, in) = (${O}, ${I})`);
  checkFlag('hasBias', hasBias, 'whether the forward had a bias');
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

