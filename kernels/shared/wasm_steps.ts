/**
 * Locals and loop shapes the normalisation families' WebAssembly modules share (groupnorm/, instancenorm/,
 * rmsnorm/ wasm_module.ts), on top of the lanes of wasm_loops.ts: a float64 constant held in both lane kinds,
 * a reduction over four pair accumulators and a scalar one, a counted loop, and the i32 locals runLoop needs.
 *
 * A reduction's total is ((v0 + v1) + (v2 + v3)) summed over its two lanes, plus the scalar tail: the same
 * recursive-sum error bound γ_n as a plain loop (each term passes through at most n additions), another order.
 */
import { F64, Func, I32, V128 } from './wasm_asm.js';
import { laneSum, SINGLE, type Lane } from './wasm_loops.js';

/** A float64 value in both lane kinds: a scalar f64 local and its splat in a v128 local. */
export interface Both {
  s: number;
  v: number;
}

export function both(f: Func): Both {
  return { s: f.local(F64), v: f.local(V128) };
}

/** Sets both forms from the f64 on the stack. */
export function setBoth(f: Func, k: Both): void {
  f.tee(k.s).f64x2Splat().set(k.v);
}

/** Pushes the form of `k` that `lane` computes with. */
export function getBoth(f: Func, k: Both, lane: Lane): void {
  f.get(lane === SINGLE ? k.s : k.v);
}

/** Pops the step value into the form of `k` that `lane` computes with. */
export function setLane(f: Func, k: Both, lane: Lane): void {
  f.set(lane === SINGLE ? k.s : k.v);
}

/** Like setLane, leaving the value on the stack. */
export function teeLane(f: Func, k: Both, lane: Lane): void {
  f.tee(lane === SINGLE ? k.s : k.v);
}

/**
 * The accumulators of one reduction: n pairs (four, one per pair of the 8-wide main loop; two or one where
 * registers are short, pair j then adds into pair j mod n) and one scalar for the odd tail.
 */
export interface Acc {
  v: readonly number[];
  s: number;
}

export function acc(f: Func, n: 1 | 2 | 4 = 4): Acc {
  return { v: Array.from({ length: n }, () => f.local(V128)), s: f.local(F64) };
}

export function zeroAcc(f: Func, a: Acc): void {
  for (const v of a.v) f.v128Zero().set(v);
  f.f64(0).set(a.s);
}

/** a.v[j] (a.s for a single value) += the step value on the stack. */
export function accumulate(f: Func, a: Acc, lane: Lane, j: number): void {
  const target = lane === SINGLE ? a.s : a.v[j % a.v.length]!;
  f.get(target);
  lane.add(f);
  f.set(target);
}

/** Pushes the reduction's total as one f64 (see the header for the order). */
export function total(f: Func, a: Acc): void {
  if (a.v.length === 4) f.get(a.v[0]!).get(a.v[1]!).f64x2Add().get(a.v[2]!).get(a.v[3]!).f64x2Add().f64x2Add().set(a.v[0]!);
  if (a.v.length === 2) f.get(a.v[0]!).get(a.v[1]!).f64x2Add().set(a.v[0]!);
  laneSum(f, a.v[0]!);
  f.get(a.s).f64Add();
}

/** for (i = 0; i < n; i++) body(), i and n i32 locals. */
export function forRange(f: Func, i: number, n: number, body: () => void): void {
  f.i32(0).set(i);
  f.block().loop();
  f.get(i).get(n).geU().brIf(1);
  body();
  f.get(i).i32(1).add().set(i);
  f.br(0).end().end();
}

/** The scratch i32 locals of runLoop. */
export function runLocals(f: Func): { end: number; end8: number; end2: number } {
  return { end: f.local(I32), end8: f.local(I32), end2: f.local(I32) };
}

/** The byte offset in a float64 array of the element at float32 byte offset `o` in a float32 array beside it. */
export const wide = (o: number): number => 2 * o;

/** γ_n = n·u64/(1 - n·u64) of the float64 in local `n` (f64), pushed: the cancellation test's factor. */
export function pushGamma(f: Func, n: number): void {
  const U64 = 2 ** -53;
  f.get(n).f64(U64).f64Mul().f64(1).get(n).f64(U64).f64Mul().f64Sub().f64Div();
}
