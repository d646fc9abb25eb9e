/**
 * Argument checks shared by every kernel family (batchnorm/, layernorm/, gemm/, network/).
 *
 * Kernels take Float32Array only (one element type keeps V8's loops monomorphic) and caller-supplied
 * output buffers of exactly the size of the result; the normalisation kernels' saved statistics are
 * Float64Array (see batchnorm/api.ts for why). Every check throws a `KernelArgError` whose message
 * names the argument and the expected shape, so a caller learns which buffer is wrong, not an index
 * out of range three loops later. Kept apart from reference/shape.ts on purpose: kernels do not import
 * the reference.
 */

/** An invalid argument to a kernel: wrong type, wrong length, overlapping buffers, dimension out of range. */
export class KernelArgError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KernelArgError';
  }
}

/**
 * The cheap test behind checkF32, for hot paths: `if (!isF32(x, n)) checkF32('x', x, n, \`…\`)` builds the
 * message only when it is needed, so a call that passes allocates nothing.
 */
export function isF32(data: unknown, length: number): boolean {
  return data instanceof Float32Array && data.length === length;
}

/** `data` must be a `type` (Float32Array, Float64Array) of exactly `length` elements; `what` describes the shape. */
export function checkTyped<T extends Float32Array | Float64Array>(
  type: new (n: number) => T, name: string, data: unknown, length: number, what: string,
): asserts data is T {
  if (!(data instanceof type)) {
    const got = data == null ? String(data) : (data as object).constructor?.name ?? typeof data;
    throw new KernelArgError(`${name}: expected a ${type.name} of ${what} (${length} values), got ${got}`);
  }
  if (data.length !== length) {
    throw new KernelArgError(`${name}: expected ${what} (${length} values), got ${data.length} values`);
  }
}

/** `data` must be a Float32Array of exactly `length` elements; `what` describes the shape. */
export function checkF32(name: string, data: unknown, length: number, what: string): asserts data is Float32Array {
  checkTyped(Float32Array, name, data, length, what);
}

/** An output may not share memory with an input: the kernels read inputs after writing outputs. */
export function checkNoOverlap(outName: string, out: Float32Array, inName: string, input: Float32Array | null | undefined): void {
  if (input == null || out.buffer !== input.buffer) return;
  const a0 = out.byteOffset;
  const a1 = a0 + out.byteLength;
  const b0 = input.byteOffset;
  const b1 = b0 + input.byteLength;
  if (a0 < b1 && b0 < a1) throw new KernelArgError(`${outName}: must not overlap ${inName} (kernels read inputs after writing outputs)`);
}

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
