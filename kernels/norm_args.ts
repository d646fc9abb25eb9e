/**
 * Argument checks for the BatchNorm and LayerNorm kernels.
 *
 * The error class, the typed-array checks and the overlap check are the GEMM kernels' (gemm_args.ts), so every
 * kernel fails the same way; this file adds what normalisation needs: the saved statistics are Float64Array
 * (see batchnorm.ts for why), and BatchNorm has dims { N, C, S } and a layout.
 */
import { checkF32, checkNoOverlap, checkTyped, KernelArgError } from './gemm_args.js';

export { checkF32, checkNoOverlap, KernelArgError };

/** `data` must be a Float64Array of exactly `length` elements; `what` describes the shape. */
export function checkF64(name: string, data: unknown, length: number, what: string): asserts data is Float64Array {
  checkTyped(Float64Array, name, data, length, what);
}

/** Each named entry of `dims` must be a positive integer. */
export function checkPositiveInts(argName: string, dims: object, keys: readonly string[]): void {
  if (dims == null || typeof dims !== 'object') throw new KernelArgError(`${argName}: expected { ${keys.join(', ')} }, got ${dims}`);
  for (const key of keys) {
    const d = (dims as Record<string, unknown>)[key];
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 1) {
      throw new KernelArgError(`${argName}.${key}: expected a positive integer, got ${String(d)}`);
    }
  }
}

/** eps keeps 1/sqrt(var + eps) finite when a group is constant; it must be finite and > 0. */
export function checkEps(eps: number): void {
  if (typeof eps !== 'number' || !(eps > 0) || !Number.isFinite(eps)) {
    throw new KernelArgError(`eps: expected a finite number > 0, got ${eps}`);
  }
}
