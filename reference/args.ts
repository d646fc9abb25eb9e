/**
 * Argument checks shared by every reference op, and the errors they throw.
 *
 * Two kinds of bad input, two classes, one base:
 *   ShapeError  a shape or a length does not fit (x has 29 values for shape (3, 2, 5), a rank-1 shape)
 *   ValueError  a value or a type does not fit (eps 0, momentum "0.1", a string inside x, relu: 'false',
 *               an unknown or misplaced key, a key given as undefined)
 * Both extend ArgumentError, so `catch (e) { if (e instanceof ArgumentError) … }` catches any bad input.
 * Every message starts with the argument as the caller spelled it (`running.runningVar:`, `eps:`) and says
 * what was expected and what came instead, with a string shown as a string: `got string "1e-5"`, never
 * `got 1e-5`.
 *
 * Argument objects are closed: a key the function does not take is an error, because a typo
 * (`runingMean`, `weight_decay`) must not silently change the answer. A key present with the value
 * undefined is an error too: omitting the key is how one asks for a default, and `momentum: undefined`
 * (0.1) is too close to `momentum: null` (cumulative average) to be left to chance.
 */

/** Any invalid argument. */
export class ArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArgumentError';
  }
}

/** A shape that is not a list of positive integers, or an array whose length does not match its shape. */
export class ShapeError extends ArgumentError {
  constructor(message: string) {
    super(message);
    this.name = 'ShapeError';
  }
}

/** A value of the wrong type or out of range, or a key the function does not take. */
export class ValueError extends ArgumentError {
  constructor(message: string) {
    super(message);
    this.name = 'ValueError';
  }
}

/** How a value reads in a message: numbers as numbers, strings quoted and labelled, the rest by kind. */
export function describe(value: unknown): string {
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'string') return `string ${JSON.stringify(value)}`;
  if (value === null || value === undefined || typeof value === 'boolean') return String(value);
  if (typeof value === 'bigint') return `bigint ${value}n`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (typeof value === 'function') return 'a function';
  return typeof value === 'object' ? 'an object' : typeof value;
}

export interface ArgSpec {
  /** Keys the function needs; their own checks report a missing or undefined one. */
  required: readonly string[];
  /** Keys with a default, each with the default described for the "given as undefined" message. */
  optional: Readonly<Record<string, string>>;
  /** Keys the function does not take but a caller could plausibly pass, with where they belong instead. */
  misplaced?: Readonly<Record<string, string>>;
}

const flatten = (key: string): string => key.replace(/_/g, '').toLowerCase();

/**
 * `args` must be an object holding only keys of `spec`, and no optional key given as undefined.
 * `fn` names the function in messages; `prefix` is prepended to key names (`running.`) for nested objects.
 */
export function checkArgs(fn: string, args: unknown, spec: ArgSpec, prefix = ''): void {
  const what = prefix ? prefix.slice(0, -1) : 'arguments';
  if (args === null || typeof args !== 'object' || Array.isArray(args) || ArrayBuffer.isView(args)) {
    throw new ValueError(`${what}: ${fn} expected an object { ${[...spec.required, ...Object.keys(spec.optional)].join(', ')} }, got ${describe(args)}`);
  }
  const known = [...spec.required, ...Object.keys(spec.optional)];
  for (const key of Object.keys(args)) {
    const value = (args as Record<string, unknown>)[key];
    if (known.includes(key)) {
      if (value === undefined && key in spec.optional) {
        throw new ValueError(`${prefix}${key}: got undefined; omit the key for the default (${spec.optional[key]})`);
      }
      continue;
    }
    const hint = spec.misplaced?.[key];
    if (hint !== undefined) throw new ValueError(`${prefix}${key}: not an argument of ${fn}; ${hint}`);
    const near = known.find((k) => flatten(k) === flatten(key));
    throw new ValueError(
      `${prefix}${key}: not an argument of ${fn}${near ? `; did you mean ${prefix}${near}?` : ''} (it takes ${known.join(', ')})`,
    );
  }
}

/**
 * `data` must be an array or typed array of numbers, without holes, of exactly `length` elements
 * (any length when `length` is null). `what` describes the expected contents for the length message.
 * A missing or non-numeric array is a ValueError; a wrong length is a ShapeError.
 */
export function checkArray(name: string, data: unknown, length: number | null, what: string): asserts data is ArrayLike<number> {
  const expected = length === null ? what : `${what} (${length} values)`;
  if (data === null || data === undefined || typeof data !== 'object') {
    throw new ValueError(`${name}: expected ${expected}, got ${describe(data)}`);
  }
  if (ArrayBuffer.isView(data)) {
    if (data instanceof DataView || data instanceof BigInt64Array || data instanceof BigUint64Array) {
      throw new ValueError(`${name}: expected ${expected} as numbers, got ${describe(data)}`);
    }
  } else {
    const a = data as { length?: unknown } & Record<number, unknown>;
    if (typeof a.length !== 'number') throw new ValueError(`${name}: expected ${expected}, got ${describe(data)}`);
    // one pass over a plain array: a hole reads as undefined and a string would be concatenated, not added
    for (let i = 0; i < a.length; i++) {
      if (!(i in a)) throw new ValueError(`${name}: expected ${expected}, got a sparse array (no element at index ${i})`);
      if (typeof a[i] !== 'number') throw new ValueError(`${name}: expected ${expected} as numbers, got ${describe(a[i])} at index ${i}`);
    }
  }
  const n = (data as ArrayLike<number>).length;
  if (length !== null && n !== length) throw new ShapeError(`${name}: expected ${expected}, got ${n} values`);
}

/** An optional array: null means absent; anything else is checked as by checkArray. */
export function checkOptionalArray(name: string, data: unknown, length: number, what: string): void {
  if (data !== null) checkArray(name, data, length, what);
}

/** `value` must be true or false: a string 'false' is truthy, so it would turn the option on. */
export function checkFlag(name: string, value: unknown, meaning = ''): asserts value is boolean {
  if (typeof value !== 'boolean') throw new ValueError(`${name}: expected true or false${meaning ? ` (${meaning})` : ''}, got ${describe(value)}`);
}

/** `value` must be a number for which `ok` holds; `expected` completes "expected …". */
export function checkNumber(name: string, value: unknown, ok: (v: number) => boolean, expected: string): asserts value is number {
  if (typeof value !== 'number' || !ok(value)) throw new ValueError(`${name}: expected ${expected}, got ${describe(value)}`);
}

/** eps must be a finite positive number: it is what keeps `1/sqrt(var + eps)` finite. */
export function checkEps(eps: unknown, name = 'eps'): asserts eps is number {
  checkNumber(name, eps, (v) => v > 0 && Number.isFinite(v), 'a finite number > 0');
}

/** momentum is a fraction in [0, 1], or null for the cumulative moving average. */
export function checkMomentum(momentum: unknown, name = 'momentum'): asserts momentum is number | null {
  if (momentum === null) return;
  checkNumber(name, momentum, (v) => v >= 0 && v <= 1, 'a number in [0, 1] or null (cumulative average)');
}

/** A count such as num_batches_tracked: a non-negative integer. */
export function checkCount(name: string, value: unknown): asserts value is number {
  checkNumber(name, value, (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer');
}
