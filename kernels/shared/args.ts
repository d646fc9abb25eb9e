/**
 * Argument checks shared by every kernel family (batchnorm/, layernorm/, gemm/, network/), and the errors they throw.
 *
 * Two kinds of bad input, two classes, one base (the same split as reference/args.ts, written separately because
 * kernels/ never imports reference/):
 *   KernelShapeError  a size does not fit: x has 104 values for dims (3, 5, 7), dims.N is 0
 *   KernelValueError  a value or a type does not fit: eps "1e-5", relu 'false', a Float64Array where a
 *                     Float32Array goes, an unknown or misplaced key, a key given as undefined, an output that
 *                     overlaps an input
 * Both extend KernelArgError, so `catch (e) { if (e instanceof KernelArgError) … }` catches any bad input.
 * Every message starts with the argument as the caller spelled it (`running.runningVar:`, `eps:`) and says what
 * was expected and what came instead, a string shown as a string: `got string "1e-5"`, never `got 1e-5`.
 *
 * Argument objects are closed: a key a kernel does not take is an error, because a typo (`runingMean`,
 * `weight_decay`) must not silently change the answer; a key present with the value undefined is an error too,
 * since omitting it is how one asks for the default (`momentum: undefined` is too close to `momentum: null`).
 *
 * Kernels take Float32Array only (one element type keeps V8's loops monomorphic) and caller-supplied output
 * buffers of exactly the size of the result; the normalisation kernels' saved statistics are Float64Array (see
 * batchnorm/api.ts for why). The checks allocate nothing when they pass, so they can sit on the hot path.
 */

/** An invalid argument to a kernel; see KernelShapeError and KernelValueError for the two kinds. */
export class KernelArgError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KernelArgError';
  }
}

/** A size that does not fit: an array of the wrong length, a dimension that is not a positive integer. */
export class KernelShapeError extends KernelArgError {
  constructor(message: string) {
    super(message);
    this.name = 'KernelShapeError';
  }
}

/** A value of the wrong type or out of range, an unknown key, or an output that overlaps another buffer. */
export class KernelValueError extends KernelArgError {
  constructor(message: string) {
    super(message);
    this.name = 'KernelValueError';
  }
}

/** How a value reads in a message: numbers as numbers, strings quoted and labelled, the rest by kind. */
export function describe(value: unknown): string {
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'string') return `string ${JSON.stringify(value)}`;
  if (value === null || value === undefined || typeof value === 'boolean') return String(value);
  if (typeof value === 'bigint') return `bigint ${value}n`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  if (typeof value === 'function') return 'a function';
  return typeof value === 'object' ? `an object (${(value as object).constructor?.name ?? 'no prototype'})` : typeof value;
}

/** The keys an argument object may hold, made once per function (argSpec) so a check allocates nothing. */
export interface ArgSpec {
  readonly fn: string;
  /** every key the function takes */
  readonly known: ReadonlySet<string>;
  /** keys with a default, each with the default described for the "given as undefined" message */
  readonly optional: Readonly<Record<string, string>>;
  /** keys the function does not take but a caller could plausibly pass, with where they belong instead */
  readonly misplaced: Readonly<Record<string, string>>;
}

export function argSpec(
  fn: string, required: readonly string[], optional: Readonly<Record<string, string>>, misplaced: Readonly<Record<string, string>> = {},
): ArgSpec {
  return { fn, known: new Set([...required, ...Object.keys(optional)]), optional, misplaced };
}

const flatten = (key: string): string => key.replace(/_/g, '').toLowerCase();

/**
 * `args` must be an object holding only keys of `spec`, and no optional key given as undefined (required keys
 * are checked by their own checks). `prefix` is prepended to key names (`running.`) for nested objects.
 */
export function checkArgs(spec: ArgSpec, args: unknown, prefix = ''): void {
  if (args === null || typeof args !== 'object' || Array.isArray(args) || ArrayBuffer.isView(args)) {
    const what = prefix ? prefix.slice(0, -1) : 'arguments';
    throw new KernelValueError(`${what}: ${spec.fn} expected an object { ${[...spec.known].join(', ')} }, got ${describe(args)}`);
  }
  for (const key in args) {
    if (spec.known.has(key)) {
      if ((args as Record<string, unknown>)[key] === undefined && key in spec.optional) {
        throw new KernelValueError(`${prefix}${key}: got undefined; omit the key for the default (${spec.optional[key]})`);
      }
      continue;
    }
    const hint = spec.misplaced[key];
    if (hint !== undefined) throw new KernelValueError(`${prefix}${key}: not an argument of ${spec.fn}; ${hint}`);
    const near = [...spec.known].find((k) => flatten(k) === flatten(key));
    throw new KernelValueError(
      `${prefix}${key}: not an argument of ${spec.fn}${near ? `; did you mean ${prefix}${near}?` : ''} (it takes ${[...spec.known].join(', ')})`,
    );
  }
}

/**
 * The cheap test behind checkF32, for hot paths: `if (!isF32(x, n)) checkF32('x', x, n, \`…\`)` builds the
 * message only when it is needed, so a call that passes allocates nothing.
 */
export function isF32(data: unknown, length: number): boolean {
  return data instanceof Float32Array && data.length === length;
}

/**
 * `data` must be a `type` (Float32Array, Float64Array) of exactly `length` elements; `what` describes the shape.
 * The wrong type is a KernelValueError, the wrong length a KernelShapeError.
 */
export function checkTyped<T extends Float32Array | Float64Array>(
  type: new (n: number) => T, name: string, data: unknown, length: number, what: string,
): asserts data is T {
  if (!(data instanceof type)) {
    const got = data == null ? String(data) : (data as object).constructor?.name ?? typeof data;
    throw new KernelValueError(`${name}: expected a ${type.name} of ${what} (${length} values), got ${typeof data === 'string' ? describe(data) : got}`);
  }
  if (data.length !== length) {
    throw new KernelShapeError(`${name}: expected ${what} (${length} values), got ${data.length} values`);
  }
}

/** `data` must be a Float32Array of exactly `length` elements; `what` describes the shape. */
export function checkF32(name: string, data: unknown, length: number, what: string): asserts data is Float32Array {
  checkTyped(Float32Array, name, data, length, what);
}

/** `data` must be a Float64Array of exactly `length` elements; `what` describes the shape. */
export function checkF64(name: string, data: unknown, length: number, what: string): asserts data is Float64Array {
  checkTyped(Float64Array, name, data, length, what);
}

/**
 * An output may not share memory with another buffer of the call: the kernels read inputs after writing outputs,
 * and two outputs in the same memory would overwrite each other.
 */
export function checkNoOverlap(
  outName: string, out: ArrayBufferView, otherName: string, other: ArrayBufferView | null | undefined,
): void {
  if (other == null || out.buffer !== other.buffer) return;
  const a0 = out.byteOffset;
  const a1 = a0 + out.byteLength;
  const b0 = other.byteOffset;
  const b1 = b0 + other.byteLength;
  if (a0 < b1 && b0 < a1) throw new KernelValueError(`${outName}: must not overlap ${otherName} (kernels read inputs after writing outputs)`);
}

/** `dims` must be an object holding exactly `keys`, each a positive integer. */
export function checkPositiveInts(argName: string, dims: unknown, keys: readonly string[]): void {
  if (dims == null || typeof dims !== 'object') throw new KernelValueError(`${argName}: expected { ${keys.join(', ')} }, got ${describe(dims)}`);
  for (const key of keys) {
    const d = (dims as Record<string, unknown>)[key];
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 1) {
      throw new KernelShapeError(`${argName}.${key}: expected a positive integer, got ${describe(d)}`);
    }
  }
  for (const key in dims) {
    if (!keys.includes(key)) throw new KernelValueError(`${argName}.${key}: not a dimension (${argName} is { ${keys.join(', ')} })`);
  }
}

/** `value` must be a number for which `ok` holds; `expected` completes "expected …". */
export function checkNumber(name: string, value: unknown, ok: (v: number) => boolean, expected: string): asserts value is number {
  if (typeof value !== 'number' || !ok(value)) throw new KernelValueError(`${name}: expected ${expected}, got ${describe(value)}`);
}

/** eps keeps 1/sqrt(var + eps) finite when a group is constant; it must be finite and > 0. */
export function checkEps(eps: unknown, name = 'eps'): asserts eps is number {
  checkNumber(name, eps, (v) => v > 0 && Number.isFinite(v), 'a finite number > 0');
}

/** momentum is a fraction in [0, 1], or null for the cumulative moving average. */
export function checkMomentum(momentum: unknown, name = 'momentum'): asserts momentum is number | null {
  if (momentum !== null) checkNumber(name, momentum, (v) => v >= 0 && v <= 1, 'a number in [0, 1] or null (cumulative average)');
}

/** `value` must be true or false: a string 'false' is truthy, so it would turn the option on. */
export function checkFlag(name: string, value: unknown, meaning: string): asserts value is boolean {
  if (typeof value !== 'boolean') throw new KernelValueError(`${name}: expected true or false (${meaning}), got ${describe(value)}`);
}

/** A count such as num_batches_tracked: a non-negative integer. */
export function checkCount(name: string, value: unknown): asserts value is number {
  checkNumber(name, value, (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer');
}
