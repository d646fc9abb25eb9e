/**
 * Building blocks of the normalisation families' WebAssembly loops (batchnorm/, layernorm/ wasm_module.ts).
 *
 * Arithmetic is float64, as in the TypeScript versions: float32 values are loaded two at a time
 * (v128.load64_zero), widened exactly (f64x2.promote_low_f32x4) and computed in f64x2 lanes with the same
 * operations in the same order — wasm does not contract a·b + c into a fused multiply-add, so each lane's result
 * is what the JavaScript expression gives — and rounded to float32 on store by f32x4.demote_f64x2_zero (round to
 * nearest even, as a Float32Array store does). A `Lane` emits one element step either for a pair of values
 * (f64x2) or for a single one (scalar f64), so a loop's tail runs in wasm with the same expressions as its body,
 * not in a JavaScript loop.
 *
 * Loops are do-while over a pointer with the end in a local; the main loops take 8 floats (four pairs) per
 * iteration into four independent accumulators, so no add waits on the previous one.
 */
import { Code, F64, Func, I32, V128, type ValType } from './wasm_asm.js';

/** One element step's instructions, for a pair of values (f64x2) or a single one (f64). */
export interface Lane {
  /** values per step: 2 or 1 */
  readonly width: 2 | 1;
  /** bytes of float32 per step */
  readonly f32Bytes: number;
  /** the type of a local holding a step's float64 value(s) */
  readonly type: ValType;
  /** pushes the float32 value(s) at [address on the stack] + offset, widened to float64 */
  loadF32(f: Code, offset: number): void;
  /** pushes the float64 value(s) at [address] + offset */
  loadF64(f: Code, offset: number): void;
  /** stores the float64 value(s) on the stack rounded to float32 at [address pushed before them] + offset */
  storeF32(f: Code, offset: number): void;
  storeF64(f: Code, offset: number): void;
  add(f: Code): void;
  sub(f: Code): void;
  mul(f: Code): void;
  /** pushes a zero */
  zero(f: Code): void;
  /** turns the scalar f64 on the stack into a step value (a splat for pairs) */
  splat(f: Code): void;
  /** ReLU of the value on the stack: v where v > 0, else +0 (also for -0 and NaN), as `v > 0 ? v : 0`; `tmp` a local of `type` */
  relu(f: Code, tmp: number, zero: number): void;
}

export const PAIR: Lane = {
  width: 2,
  f32Bytes: 8,
  type: V128,
  loadF32: (f, o) => void f.load64Zero(o).promoteLow(),
  loadF64: (f, o) => void f.v128Load(o),
  storeF32: (f, o) => void f.demoteZero().store64Lane0(o),
  storeF64: (f, o) => void f.v128Store(o),
  add: (f) => void f.f64x2Add(),
  sub: (f) => void f.f64x2Sub(),
  mul: (f) => void f.f64x2Mul(),
  zero: (f) => void f.v128Zero(),
  splat: (f) => void f.f64x2Splat(),
  relu: (f, tmp, zero) => void f.tee(tmp).get(tmp).get(zero).f64x2Gt().v128And(),
};

export const SINGLE: Lane = {
  width: 1,
  f32Bytes: 4,
  type: F64,
  loadF32: (f, o) => void f.f32Load(o).f64Promote(),
  loadF64: (f, o) => void f.f64Load(o),
  storeF32: (f, o) => void f.f32Demote().f32Store(o),
  storeF64: (f, o) => void f.f64Store(o),
  add: (f) => void f.f64Add(),
  sub: (f) => void f.f64Sub(),
  mul: (f) => void f.f64Mul(),
  zero: (f) => void f.f64(0),
  splat: () => undefined,
  relu: (f, tmp, zero) => void f.tee(tmp).get(zero).get(tmp).get(zero).f64Gt().select(),
};

/** for (; n > 0; n--) { body } with the counter in local `n` */
export function countedLoop(f: Code, n: number, body: () => void): void {
  f.block().loop();
  f.get(n).eqz().brIf(1);
  body();
  f.get(n).i32(1).sub().set(n);
  f.br(0).end().end();
}

/** while (p + step <= end) { body(); p += step for every pointer } — pointers[0] is compared with `end` */
export function stepLoop(f: Func, pointers: readonly (readonly [number, number])[], end: number, body: () => void): void {
  const [p, step] = pointers[0]!;
  f.block().loop();
  f.get(p).i32(step).add().get(end).gtU().brIf(1);
  body();
  for (const [q, s] of pointers) f.get(q).i32(s).add().set(q);
  f.br(0).end().end();
}

/** local += step (i32) */
export function bump(f: Code, local: number, step: number): void {
  f.get(local).i32(step).add().set(local);
}

/** Pushes lane0 + lane1 of the v128 local `v` as one f64. */
export function laneSum(f: Code, v: number): void {
  f.get(v).f64x2ExtractLane(0).get(v).f64x2ExtractLane(1).f64Add();
}

/** Stores lane0 + lane1 of v128 local `v` as float64 at address local `out` + offset. */
export function storeLaneSum(f: Code, out: number, v: number, offset: number): void {
  f.get(out);
  laneSum(f, v);
  f.f64Store(offset);
}

/**
 * One contiguous run of `count` float32 values at local `p` (advanced past the run): `body8` for each
 * 8 values (offsets 0, 8, 16, 24 bytes, four pairs), then `body(PAIR, 0)` per remaining pair, then
 * `body(SINGLE, 0)` for a last odd value. `pointers` are the other pointers that advance with p, with their byte
 * step per float32 (4 for float32 arrays beside x); `end`, `end8`, `end2` are scratch i32 locals.
 */
export function runLoop(
  f: Func, p: number, count: number, pointers: readonly (readonly [number, number])[], locals: { end: number; end8: number; end2: number },
  body8: (offsets: readonly number[]) => void, body: (lane: Lane) => void,
): void {
  const { end, end8, end2 } = locals;
  const all = (k: number): (readonly [number, number])[] => [[p, 4 * k], ...pointers.map(([q, s]) => [q, s * k] as const)];
  f.get(p).get(count).i32(2).shl().add().set(end);
  f.get(p).get(count).i32(-8).and().i32(2).shl().add().set(end8);
  f.get(p).get(count).i32(-2).and().i32(2).shl().add().set(end2);
  stepLoop(f, all(8), end8, () => body8([0, 8, 16, 24]));
  stepLoop(f, all(2), end2, () => body(PAIR));
  f.get(p).get(end).ltU().ifElse();
  body(SINGLE);
  for (const [q, s] of all(1)) f.get(q).i32(s).add().set(q);
  f.end();
}

/**
 * Shifted sums of a contiguous run: out[0] = Σ(x - K), out[1] = Σ(x - K)² over n floats at x (float64 at out),
 * four accumulator pairs in the main loop. The LayerNorm family's forward and the BatchNorm tests use it.
 */
export function sums(): Func<'sums'> {
  const f = new Func('sums', { x: I32, n: I32, K: F64, out: I32 });
  const { x, n, K, out } = f.params;
  const loop = { end: f.local(I32), end8: f.local(I32), end2: f.local(I32) };
  const kk = f.local(V128), d = f.local(V128), ds = f.local(F64), s1 = f.local(F64), s2 = f.local(F64);
  const A = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const Q = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  f.get(K).f64x2Splat().set(kk);
  runLoop(f, x, n, [], loop, (offsets) => {
    offsets.forEach((o, j) => {
      f.get(x).load64Zero(o).promoteLow().get(kk).f64x2Sub().tee(d).get(A[j]!).f64x2Add().set(A[j]!);
      f.get(d).get(d).f64x2Mul().get(Q[j]!).f64x2Add().set(Q[j]!);
    });
  }, (lane) => {
    if (lane === PAIR) {
      f.get(x).load64Zero().promoteLow().get(kk).f64x2Sub().tee(d).get(A[0]!).f64x2Add().set(A[0]!);
      f.get(d).get(d).f64x2Mul().get(Q[0]!).f64x2Add().set(Q[0]!);
    } else {
      f.get(x).f32Load().f64Promote().get(K).f64Sub().tee(ds).get(s1).f64Add().set(s1);
      f.get(ds).get(ds).f64Mul().get(s2).f64Add().set(s2);
    }
  });
  for (const acc of [A, Q]) f.get(acc[0]!).get(acc[1]!).f64x2Add().get(acc[2]!).get(acc[3]!).f64x2Add().f64x2Add().set(acc[0]!);
  f.get(out);
  laneSum(f, A[0]!);
  f.get(s1).f64Add().f64Store(0);
  f.get(out);
  laneSum(f, Q[0]!);
  f.get(s2).f64Add().f64Store(8);
  return f;
}

/**
 * y = x·1.5 + 0.25 over n float32 (a multiple of 16), in f32x4: the cheapest streaming wasm loop that reads and
 * writes, for the benchmark's bandwidth table (what any wasm kernel's traffic can reach on the machine).
 */
export function F32X4_STREAM(): Func<'f32x4Stream'> {
  const f = new Func('f32x4Stream', { x: I32, y: I32, n: I32 });
  const { x, y, n } = f.params;
  const end = f.local(I32), s = f.local(V128), t = f.local(V128);
  f.f64(1.5).f32Demote().f32x4Splat().set(s);
  f.f64(0.25).f32Demote().f32x4Splat().set(t);
  f.get(x).get(n).i32(2).shl().add().set(end);
  f.loop();
  for (let j = 0; j < 4; j++) f.get(y).get(x).v128Load(16 * j).get(s).f32x4Mul().get(t).f32x4Add().v128Store(16 * j);
  f.get(x).i32(64).add().set(x).get(y).i32(64).add().set(y).get(x).get(end).ltU().brIf(0);
  f.end();
  return f;
}

/**
 * n iterations of acc_j = acc_j·0.5 + 0.5 on 12 independent f32x4 accumulators held in locals (registers): no
 * memory traffic, 96 flops per iteration, the accumulators converging to 1 (no overflow, no subnormals). The
 * benchmark's ceiling for a float32 compute-bound wasm loop (the GEMM cases): WebAssembly SIMD is 128 bits wide
 * and Node 20 has no fused multiply-add (relaxed SIMD is behind a flag), so a multiply and an add are two
 * instructions on four lanes, where a native BLAS issues 8- or 16-lane FMAs. Sums the accumulators into out.
 */
export function F32X4_PEAK(): Func<'f32x4Peak'> {
  const f = new Func('f32x4Peak', { n: I32, out: I32 });
  const { n, out } = f.params;
  const i = f.local(I32), s = f.local(V128);
  const acc = Array.from({ length: 12 }, () => f.local(V128));
  f.f64(0.5).f32Demote().f32x4Splat().set(s);
  for (const a of acc) f.get(s).set(a);
  f.i32(0).set(i);
  f.block().loop();
  f.get(i).get(n).geU().brIf(1);
  for (const a of acc) f.get(a).get(s).f32x4Mul().get(s).f32x4Add().set(a);
  f.get(i).i32(1).add().set(i);
  f.br(0).end().end();
  for (let j = 1; j < acc.length; j++) f.get(acc[0]!).get(acc[j]!).f32x4Add().set(acc[0]!);
  f.get(out).get(acc[0]!).v128Store(0);
  return f;
}
