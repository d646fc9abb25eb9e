/**
 * Shapes and argument checks shared by every reference op.
 *
 * Arrays are dense, row-major (C order), exactly as `torch.Tensor.contiguous()` lays them out.
 * A shape is a list of positive integers; its size is their product.
 *
 * Every check throws a `ShapeError` whose message names the argument and what was expected,
 * so a caller who passes the wrong thing learns which thing and why, not an index out of range
 * three loops later.
 */

export type Shape = readonly number[];

/** An invalid argument: wrong shape, wrong length, value out of range. */
export class ShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShapeError';
  }
}

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
  if (!Array.isArray(shape)) throw new ShapeError(`${name}: expected an array of dimension sizes, got ${typeof shape}`);
  if (shape.length < minRank || shape.length > maxRank) {
    const want = maxRank === Infinity ? `at least ${minRank}` : minRank === maxRank ? `${minRank}` : `${minRank} to ${maxRank}`;
    throw new ShapeError(`${name}: expected ${want} dimensions, got ${shape.length} ${formatShape(shape)}`);
  }
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 1) {
      throw new ShapeError(`${name}: every dimension must be a positive integer, got ${formatShape(shape)}`);
    }
  }
}

/** `data` must be an array-like of exactly `length` elements. */
export function checkLength(name: string, data: ArrayLike<number> | null | undefined, length: number, what: string): void {
  if (data == null) throw new ShapeError(`${name}: expected ${what} (${length} values), got ${data}`);
  if (typeof data.length !== 'number') throw new ShapeError(`${name}: expected a typed array of ${what}, got ${typeof data}`);
  if (data.length !== length) throw new ShapeError(`${name}: expected ${what} (${length} values), got ${data.length} values`);
}

/** eps must be a finite positive number: it is what keeps `1/sqrt(var + eps)` finite. */
export function checkEps(eps: number): void {
  if (typeof eps !== 'number' || !(eps > 0) || !Number.isFinite(eps)) {
    throw new ShapeError(`eps: expected a finite number > 0, got ${typeof eps === 'number' ? eps : `${typeof eps} ${JSON.stringify(eps)}`}`);
  }
}
