/**
 * Shapes shared by every reference op.
 *
 * Arrays are dense, row-major (C order), exactly as `torch.Tensor.contiguous()` lays them out.
 * A shape is a list of positive integers; its size is their product. A shape that is not one throws a
 * `ShapeError` (args.ts) naming the argument.
 */
import { describe, ShapeError } from './args.js';

export type Shape = readonly number[];

/** Number of elements of a shape (1 for the scalar shape `[]`). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function formatShape(shape: Shape): string {
  return `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
}

/** `shape` must be a list of positive integers. */
export function checkShape(name: string, shape: Shape, minRank = 0, maxRank = Infinity): void {
  if (!Array.isArray(shape)) throw new ShapeError(`${name}: expected an array of dimension sizes, got ${describe(shape)}`);
  if (shape.length < minRank || shape.length > maxRank) {
    const want = maxRank === Infinity ? `at least ${minRank}` : minRank === maxRank ? `${minRank}` : `${minRank} to ${maxRank}`;
    throw new ShapeError(`${name}: expected ${want} dimensions, got ${shape.length} ${formatShape(shape)}`);
  }
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (!Number.isInteger(d) || d! < 1) {
      throw new ShapeError(`${name}: every dimension must be a positive integer, got ${describe(d)} at index ${i} of ${formatShape(shape)}`);
    }
  }
}
