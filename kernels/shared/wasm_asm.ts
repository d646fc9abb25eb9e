/**
 * A minimal WebAssembly binary encoder for the kernels' SIMD modules (each family's wasm_module.ts): just the
 * instructions those loops use, each appended by one method. No wat2wasm in the toolchain; a few dozen
 * instructions per function do not need one. Opcodes from the WebAssembly 2.0 spec (SIMD: prefix 0xfd).
 *
 * A function is a `Func`: its parameters are declared by name (`new Func('sums', { x: I32, n4: I32, K: F64 })`,
 * then `f.params.x` is the index to `get`), its locals are allocated by `f.local(V128)`, so no index is ever
 * numbered by hand. Every module imports one memory, `env.memory` (wasm_runtime.ts creates it), so all the
 * kernels' modules read and write the same bytes.
 */

export const I32 = 0x7f;
export const F64 = 0x7c;
export const V128 = 0x7b;

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function name(s: string): number[] {
  return [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

/** Function body builder. */
export class Code {
  readonly bytes: number[] = [];
  private op(...b: number[]): this {
    this.bytes.push(...b);
    return this;
  }
  private simd(op: number, ...imm: number[]): this {
    return this.op(0xfd, ...uleb(op), ...imm);
  }
  // locals and constants
  get(i: number): this { return this.op(0x20, ...uleb(i)); }
  set(i: number): this { return this.op(0x21, ...uleb(i)); }
  tee(i: number): this { return this.op(0x22, ...uleb(i)); }
  i32(v: number): this { return this.op(0x41, ...sleb(v)); }
  f64(v: number): this {
    const b = new Uint8Array(new Float64Array([v]).buffer);
    return this.op(0x44, ...b);
  }
  drop(): this { return this.op(0x1a); }
  /** select: the first operand if the i32 on top is non-zero, else the second */
  select(): this { return this.op(0x1b); }
  // i32 arithmetic and tests
  add(): this { return this.op(0x6a); }
  sub(): this { return this.op(0x6b); }
  mul(): this { return this.op(0x6c); }
  and(): this { return this.op(0x71); }
  shl(): this { return this.op(0x74); }
  shrU(): this { return this.op(0x76); }
  eqz(): this { return this.op(0x45); }
  eq(): this { return this.op(0x46); }
  ne(): this { return this.op(0x47); }
  geU(): this { return this.op(0x4f); }
  ltU(): this { return this.op(0x49); }
  gtU(): this { return this.op(0x4b); }
  // f32 scalar
  /** f32.load, align 2², offset */
  f32Load(offset = 0): this { return this.op(0x2a, 2, ...uleb(offset)); }
  /** f32.store, align 2², offset */
  f32Store(offset = 0): this { return this.op(0x38, 2, ...uleb(offset)); }
  f32Zero(): this { return this.op(0x43, 0, 0, 0, 0); }
  f32Gt(): this { return this.op(0x5e); }
  /** f32.demote_f64: round to nearest even, as a Float32Array store does */
  f32Demote(): this { return this.op(0xb6); }
  // f64 scalar
  /** f64.load, align 2³, offset */
  f64Load(offset = 0): this { return this.op(0x2b, 3, ...uleb(offset)); }
  /** f64.store, align 2³, offset */
  f64Store(offset = 0): this { return this.op(0x39, 3, ...uleb(offset)); }
  f64Add(): this { return this.op(0xa0); }
  f64Sub(): this { return this.op(0xa1); }
  f64Mul(): this { return this.op(0xa2); }
  f64Div(): this { return this.op(0xa3); }
  f64Sqrt(): this { return this.op(0x9f); }
  f64Gt(): this { return this.op(0x64); }
  f64Le(): this { return this.op(0x65); }
  f64Ge(): this { return this.op(0x66); }
  /** f64.convert_i32_u */
  f64FromU32(): this { return this.op(0xb8); }
  /** f64.promote_f32: exact */
  f64Promote(): this { return this.op(0xbb); }
  // control
  block(): this { return this.op(0x02, 0x40); }
  loop(): this { return this.op(0x03, 0x40); }
  /** if (no result type); pair with else() and end() */
  ifElse(): this { return this.op(0x04, 0x40); }
  else(): this { return this.op(0x05); }
  end(): this { return this.op(0x0b); }
  br(depth: number): this { return this.op(0x0c, ...uleb(depth)); }
  brIf(depth: number): this { return this.op(0x0d, ...uleb(depth)); }
  // SIMD
  /** v128.load, align 2⁴ */
  v128Load(offset = 0): this { return this.simd(0x00, 4, ...uleb(offset)); }
  /** v128.store, align 2⁴ */
  v128Store(offset = 0): this { return this.simd(0x0b, 4, ...uleb(offset)); }
  /** v128.load32_splat: one float32 broadcast to four lanes, align 2² */
  load32Splat(offset = 0): this { return this.simd(0x09, 2, ...uleb(offset)); }
  v128Zero(): this { return this.simd(0x0c, ...new Array<number>(16).fill(0)); }
  /** v128.load64_zero: two float32 into the low half, align 2² (rows need not be 8-byte aligned) */
  load64Zero(offset = 0): this { return this.simd(0x5d, 2, ...uleb(offset)); }
  /** v128.store64_lane lane 0: the low two float32, align 2² */
  store64Lane0(offset = 0): this { return this.simd(0x5b, 2, ...uleb(offset), 0); }
  /** i8x16.shuffle: byte i of the result is byte lanes[i] of a ‖ b (0–15 from a, 16–31 from b) */
  shuffle(lanes: readonly number[]): this { return this.simd(0x0d, ...lanes); }
  f32x4Splat(): this { return this.simd(0x13); }
  f32x4Add(): this { return this.simd(0xe4); }
  f32x4Sub(): this { return this.simd(0xe5); }
  /** lane-wise a > b on float32: all ones or all zeros per lane (false for NaN) */
  f32x4Gt(): this { return this.simd(0x44); }
  f32x4Mul(): this { return this.simd(0xe6); }
  /** f32x4.relaxed_madd(a, b, c) = a·b + c, fused where the hardware has FMA (relaxed SIMD) */
  f32x4RelaxedMadd(): this { return this.simd(0x105); }
  f64x2Splat(): this { return this.simd(0x14); }
  f64x2ExtractLane(lane: number): this { return this.simd(0x21, lane); }
  f64x2Add(): this { return this.simd(0xf0); }
  f64x2Sub(): this { return this.simd(0xf1); }
  f64x2Mul(): this { return this.simd(0xf2); }
  /** lane-wise a > b: all ones or all zeros per lane (false for NaN) */
  f64x2Gt(): this { return this.simd(0x4a); }
  v128And(): this { return this.simd(0x4e); }
  /** v128.bitselect(a, b, mask): bits of a where mask is 1, of b where it is 0 */
  bitselect(): this { return this.simd(0x52); }
  /** the two low float32 lanes, widened exactly to float64 */
  promoteLow(): this { return this.simd(0x5f); }
  /** two float64 rounded (to nearest even, as a Float32Array store does) into the two low float32 lanes */
  demoteZero(): this { return this.simd(0x5e); }
}

export type ValType = typeof I32 | typeof F64 | typeof V128;

/**
 * One function: parameters by name (in declaration order), locals allocated on demand, the body as `Code`.
 * No results: the kernels write to memory.
 */
export class Func<Name extends string = string, P extends Record<string, ValType> = Record<string, ValType>> extends Code {
  readonly name: Name;
  /** parameter name → local index */
  readonly params: { readonly [K in keyof P]: number };
  readonly paramTypes: readonly ValType[];
  private readonly localTypes: ValType[] = [];

  constructor(name: Name, params: P) {
    super();
    this.name = name;
    this.paramTypes = Object.values(params);
    this.params = Object.fromEntries(Object.keys(params).map((k, i) => [k, i])) as { [K in keyof P]: number };
  }

  /** A fresh local of `type`; returns its index. */
  local(type: ValType): number {
    this.localTypes.push(type);
    return this.paramTypes.length + this.localTypes.length - 1;
  }

  /** The locals declaration: runs of [count, type] in index order. */
  localRuns(): [number, ValType][] {
    const runs: [number, ValType][] = [];
    for (const t of this.localTypes) {
      const last = runs[runs.length - 1];
      if (last !== undefined && last[1] === t) last[0]++;
      else runs.push([1, t]);
    }
    return runs;
  }
}

/** The imported memory: plain (grows by detaching its buffer) or shared (grows in place, views stay valid). */
export interface MemoryImport {
  shared: boolean;
}

/** Page limit of a shared memory: 65536 pages = 4 GiB, all of wasm32's address space. */
export const MAX_PAGES = 65536;

/**
 * A module importing its memory as `env.memory` (min 1 page; shared ones with max MAX_PAGES) and exporting the
 * given functions by their names.
 */
export function moduleBytes(functions: readonly Func[], memory: MemoryImport = { shared: false }): Uint8Array {
  const types = functions.flatMap((f) => [0x60, ...uleb(f.paramTypes.length), ...f.paramTypes, 0]);
  const codes = functions.flatMap((f) => {
    const runs = f.localRuns();
    const locals = [...uleb(runs.length), ...runs.flatMap(([n, t]) => [...uleb(n), t])];
    const body = [...locals, ...f.bytes, 0x0b];
    return [...uleb(body.length), ...body];
  });
  const limits = memory.shared ? [0x03, 1, ...uleb(MAX_PAGES)] : [0x00, 1];
  const imports = [1, ...name('env'), ...name('memory'), 0x02, ...limits];
  const exports = [...uleb(functions.length), ...functions.flatMap((f, i) => [...name(f.name), 0x00, ...uleb(i)])];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [...uleb(functions.length), ...types]),
    ...section(2, imports),
    ...section(3, [...uleb(functions.length), ...functions.map((_, i) => i)]),
    ...section(7, exports),
    ...section(10, [...uleb(functions.length), ...codes]),
  ]);
}
