/**
 * ReLU, float64: y = max(x, 0).
 * Backward: dx = dy where x > 0, else 0. At x = 0 the derivative is taken as 0, as PyTorch does
 * (its threshold_backward passes the gradient only where the output is > 0).
 */
import { checkArray } from './args.js';

export function reluForward(x: ArrayLike<number>): Float64Array {
  checkArray('x', x, null, 'an array of numbers');
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = x[i]! > 0 ? x[i]! : 0;
  return y;
}

export function reluBackward(dy: ArrayLike<number>, x: ArrayLike<number>): Float64Array {
  checkArray('x', x, null, 'an array of numbers');
  checkArray('dy', dy, x.length, 'a gradient the size of x');
  const dx = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) dx[i] = x[i]! > 0 ? dy[i]! : 0;
  return dx;
}
