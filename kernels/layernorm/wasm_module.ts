/**
 * The WebAssembly SIMD loops of the LayerNorm "wasm" versions (wasm_impl.ts), assembled by shared/wasm_asm.ts,
 * with the conventions of batchnorm/wasm_module.ts (float32 pairs widened exactly to float64, f64x2 arithmetic in
 * the TypeScript versions' order, demote to float32 on store, counts in quadruples of floats). Weight w and bias
 * b are float32 arrays of the row's length; accW, accB float64.
 *
 *   sums(x, n4, K, out)                                out[0] = Σ(x - K), out[1] = Σ(x - K)²  (shared/wasm_loops.ts)
 *   lnnorm(x, y, w, b, n4, K, dm, r)                   y = (((x - K) - dm)·r)·w + b
 *   lnbsums(dy, x, w, n4, m, out)                      out[0] = Σ g, out[1] = Σ g·(x - m),  g = dy·w
 *   lnbdx(dy, x, w, dx, accW, accB, n4, m, r, k0, k1)  dx = r·(dy·w) - k0 - (x - m)·k1,
 *                                                      accW += dy·(x - m)·r, accB += dy
 */
import { F64, Func, I32, V128 } from '../shared/wasm_asm.js';
import { bump, countedLoop, storeLaneSum, sums } from '../shared/wasm_loops.js';
import { wasmModule } from '../shared/wasm_runtime.js';

function lnnorm(): Func<'lnnorm'> {
  const f = new Func('lnnorm', { x: I32, y: I32, w: I32, b: I32, n4: I32, K: F64, dm: F64, r: F64 });
  const { x, y, w, b, n4, K, dm, r } = f.params;
  const kk = f.local(V128), ee = f.local(V128), rr = f.local(V128);
  f.get(K).f64x2Splat().set(kk).get(dm).f64x2Splat().set(ee).get(r).f64x2Splat().set(rr);
  countedLoop(f, n4, () => {
    for (const off of [0, 8]) {
      f.get(y).get(x).load64Zero(off).promoteLow().get(kk).f64x2Sub().get(ee).f64x2Sub().get(rr).f64x2Mul();
      f.get(w).load64Zero(off).promoteLow().f64x2Mul().get(b).load64Zero(off).promoteLow().f64x2Add();
      f.demoteZero().store64Lane0(off);
    }
    for (const p of [x, y, w, b]) bump(f, p, 16);
  });
  return f;
}

function lnbsums(): Func<'lnbsums'> {
  const f = new Func('lnbsums', { dy: I32, x: I32, w: I32, n4: I32, m: F64, out: I32 });
  const { dy, x, w, n4, m, out } = f.params;
  const mm = f.local(V128), g = f.local(V128);
  const a1 = f.local(V128), h1 = f.local(V128), a2 = f.local(V128), h2 = f.local(V128);
  f.get(m).f64x2Splat().set(mm);
  for (const a of [a1, h1, a2, h2]) f.v128Zero().set(a);
  countedLoop(f, n4, () => {
    for (const [off, a, h] of [[0, a1, h1], [8, a2, h2]] as const) {
      f.get(dy).load64Zero(off).promoteLow().get(w).load64Zero(off).promoteLow().f64x2Mul().tee(g).get(a).f64x2Add().set(a);
      f.get(g).get(x).load64Zero(off).promoteLow().get(mm).f64x2Sub().f64x2Mul().get(h).f64x2Add().set(h);
    }
    for (const p of [dy, x, w]) bump(f, p, 16);
  });
  f.get(a1).get(a2).f64x2Add().set(a1);
  f.get(h1).get(h2).f64x2Add().set(h1);
  storeLaneSum(f, out, a1, 0);
  storeLaneSum(f, out, h1, 8);
  return f;
}

function lnbdx(): Func<'lnbdx'> {
  const f = new Func('lnbdx', {
    dy: I32, x: I32, w: I32, dx: I32, accW: I32, accB: I32, n4: I32, m: F64, r: F64, k0: F64, k1: F64,
  });
  const { dy, x, w, dx, accW, accB, n4, m, r, k0, k1 } = f.params;
  const mm = f.local(V128), rr = f.local(V128), p0 = f.local(V128), p1 = f.local(V128), d = f.local(V128), xc = f.local(V128);
  f.get(m).f64x2Splat().set(mm).get(r).f64x2Splat().set(rr).get(k0).f64x2Splat().set(p0).get(k1).f64x2Splat().set(p1);
  countedLoop(f, n4, () => {
    for (const [off, accOff] of [[0, 0], [8, 16]] as const) {
      f.get(dy).load64Zero(off).promoteLow().set(d);
      f.get(x).load64Zero(off).promoteLow().get(mm).f64x2Sub().set(xc);
      // dx = r·(d·w) - k0 - xc·k1
      f.get(dx).get(rr).get(d).get(w).load64Zero(off).promoteLow().f64x2Mul().f64x2Mul().get(p0).f64x2Sub();
      f.get(xc).get(p1).f64x2Mul().f64x2Sub().demoteZero().store64Lane0(off);
      // accW += d·xc·r ; accB += d
      f.get(accW).get(accW).v128Load(accOff).get(d).get(xc).f64x2Mul().get(rr).f64x2Mul().f64x2Add().v128Store(accOff);
      f.get(accB).get(accB).v128Load(accOff).get(d).f64x2Add().v128Store(accOff);
    }
    for (const p of [dy, x, w, dx]) bump(f, p, 16);
    for (const p of [accW, accB]) bump(f, p, 32);
  });
  return f;
}

/** The module: the functions of the header, exported by name, on the shared memory. */
export const layerNormWasm = wasmModule(() => [sums(), lnnorm(), lnbsums(), lnbdx()]);
