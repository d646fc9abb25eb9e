/**
 * Argument checks for the GEMM kernels and the network built on them.
 *
 * Kernels take Float32Array only (one element type keeps V8's loops monomorphic) and caller-supplied
 * output buffers of exactly the size of the result. Every check throws a `KernelArgError` whose message
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

/** Sizes of one Linear layer in PyTorch's layout: N rows (batch), I input features, O output features. */
export interface GemmDims {
  N: number;
  I: number;
  O: number;
}

const DIM_KEYS = ['N', 'I', 'O'] as const;

export function checkDims(dims: GemmDims): void {
  if (dims == null || typeof dims !== 'object') throw new KernelArgError(`dims: expected { N, I, O }, got ${dims}`);
  for (const key of DIM_KEYS) {
    const d = dims[key];
    if (!Number.isInteger(d) || d < 1) throw new KernelArgError(`dims.${key}: expected a positive integer, got ${d}`);
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
