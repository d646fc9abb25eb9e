/**
 * WebAssembly loops more than one family's module includes (each module assembles its own copy; the memory is
 * shared, the code is not). Conventions as batchnorm/wasm_module.ts: float32 loaded two at a time and widened
 * exactly to float64, f64x2 arithmetic in the TypeScript versions' order, counts in quadruples of floats.
 *
 *   sums(x, n4, K, out)    out[0] = Σ(x - K), out[1] = Σ(x - K)² over 4·n4 contiguous floats (float64 at out)
 */
import { Code, F64, Func, I32, V128 } from './wasm_asm.js';

/** for (; n > 0; n--) { body } with the counter in local `n` */
export function countedLoop(f: Code, n: number, body: () => void): void {
  f.block().loop();
  f.get(n).eqz().brIf(1);
  body();
  f.get(n).i32(1).sub().set(n);
  f.br(0).end().end();
}

/** local += step (i32) */
export function bump(f: Code, local: number, step: number): void {
  f.get(local).i32(step).add().set(local);
}

/** Stores lane0 + lane1 of v128 local `v` as float64 at address local `out` + offset. */
export function storeLaneSum(f: Code, out: number, v: number, offset: number): void {
  f.get(out).get(v).f64x2ExtractLane(0).get(v).f64x2ExtractLane(1).f64Add().f64Store(offset);
}

/** Shifted sums of a contiguous run, on two accumulator pairs (no add waits on the previous one). */
export function sums(): Func<'sums'> {
  const f = new Func('sums', { x: I32, n4: I32, K: F64, out: I32 });
  const { x, n4, K, out } = f.params;
  const kk = f.local(V128), d = f.local(V128);
  const a1 = f.local(V128), a2 = f.local(V128), b1 = f.local(V128), b2 = f.local(V128);
  f.get(K).f64x2Splat().set(kk);
  for (const a of [a1, a2, b1, b2]) f.v128Zero().set(a);
  countedLoop(f, n4, () => {
    for (const [off, s1, s2] of [[0, a1, a2], [8, b1, b2]] as const) {
      f.get(x).load64Zero(off).promoteLow().get(kk).f64x2Sub().tee(d).get(s1).f64x2Add().set(s1);
      f.get(d).get(d).f64x2Mul().get(s2).f64x2Add().set(s2);
    }
    bump(f, x, 16);
  });
  f.get(a1).get(b1).f64x2Add().set(a1);
  f.get(a2).get(b2).f64x2Add().set(a2);
  storeLaneSum(f, out, a1, 0);
  storeLaneSum(f, out, a2, 8);
  return f;
}
