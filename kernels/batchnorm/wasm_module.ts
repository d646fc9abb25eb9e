/**
 * The WebAssembly SIMD loops of BatchNorm version "wasm" (wasm_impl.ts), assembled by shared/wasm_asm.ts.
 *
 * Float32 values are loaded two at a time (v128.load64_zero), widened exactly to float64 (f64x2.promote_low) and
 * computed in f64x2 lanes with the same operations, in the same order, as the TypeScript versions — wasm does not
 * contract a·b + c into a fused multiply-add, so each lane's result is bit for bit what the JS expression gives;
 * outputs are rounded to float32 by f32x4.demote_f64x2_zero (round to nearest even, as a Float32Array store).
 * Only the order of the sums differs (two or four interleaved partial sums), which the float64 error model covers.
 * Addresses are byte offsets into the shared memory; counts are in quadruples (n4) of floats (channels-last:
 * rows M and channel pairs C2), the caller handles the remainder. Per-channel arrays (channels-last) are float64,
 * 16-byte aligned, C even.
 *
 *   sums(x, n4, K, out)                      out[0] = Σ(x - K), out[1] = Σ(x - K)²   (shared/wasm_loops.ts)
 *   norm(x, y, n4, K, dm, scale, b)          y = ((x - K) - dm)·scale + b          (normRelu: then max(·, 0))
 *   bsums(dy, x, n4, m, out)                 out[0] = Σ dy, out[1] = Σ dy·(x - m)
 *   bdx(dy, x, dx, n4, m, scale, k0, k1)     dx = scale·dy - k0 - (x - m)·k1
 *   colsums(x, M, C2, shift, dm, a1, a2)     per channel c of (M, 2·C2): a1 += Σ(x - shift), a2 += Σ(x - shift - dm)²
 *   colnorm(x, y, M, C2, shift, dm, scale, offset)                                 (colnormRelu: then max(·, 0))
 *   colbsums(dy, x, M, C2, mean, a1, a2)     a1 += Σ dy, a2 += Σ dy·(x - mean)
 *   colbdx(dy, x, dx, M, C2, mean, scale, k0, k1)
 */
import { Code, F64, Func, I32, V128 } from '../shared/wasm_asm.js';
import { bump, countedLoop, storeLaneSum, sums } from '../shared/wasm_loops.js';
import { wasmModule } from '../shared/wasm_runtime.js';

/**
 * ReLU on the f64x2 value on the stack, kept in local `v`: v & (v > 0), which is v where v > 0 and +0 elsewhere
 * (also for -0 and NaN) — the JS versions' `v > 0 ? v : 0`.
 */
export function relu(f: Code, v: number, zero: number): void {
  f.tee(v).get(v).get(zero).f64x2Gt().v128And();
}

function norm<N extends 'norm' | 'normRelu'>(name: N): Func<N> {
  const f = new Func(name, { x: I32, y: I32, n4: I32, K: F64, dm: F64, scale: F64, b: F64 });
  const { x, y, n4, K, dm, scale, b } = f.params;
  const kk = f.local(V128), ee = f.local(V128), ss = f.local(V128), bb = f.local(V128), v = f.local(V128), zero = f.local(V128);
  f.get(K).f64x2Splat().set(kk).get(dm).f64x2Splat().set(ee).get(scale).f64x2Splat().set(ss).get(b).f64x2Splat().set(bb);
  f.v128Zero().set(zero);
  countedLoop(f, n4, () => {
    for (const off of [0, 8]) {
      f.get(y).get(x).load64Zero(off).promoteLow().get(kk).f64x2Sub().get(ee).f64x2Sub().get(ss).f64x2Mul().get(bb).f64x2Add();
      if (name === 'normRelu') relu(f, v, zero);
      f.demoteZero().store64Lane0(off);
    }
    bump(f, x, 16);
    bump(f, y, 16);
  });
  return f;
}

function bsums(): Func<'bsums'> {
  const f = new Func('bsums', { dy: I32, x: I32, n4: I32, m: F64, out: I32 });
  const { dy, x, n4, m, out } = f.params;
  const mm = f.local(V128), g = f.local(V128);
  const a1 = f.local(V128), h1 = f.local(V128), a2 = f.local(V128), h2 = f.local(V128);
  f.get(m).f64x2Splat().set(mm);
  for (const a of [a1, h1, a2, h2]) f.v128Zero().set(a);
  countedLoop(f, n4, () => {
    for (const [off, a, h] of [[0, a1, h1], [8, a2, h2]] as const) {
      f.get(dy).load64Zero(off).promoteLow().tee(g).get(a).f64x2Add().set(a);
      f.get(g).get(x).load64Zero(off).promoteLow().get(mm).f64x2Sub().f64x2Mul().get(h).f64x2Add().set(h);
    }
    bump(f, dy, 16);
    bump(f, x, 16);
  });
  f.get(a1).get(a2).f64x2Add().set(a1);
  f.get(h1).get(h2).f64x2Add().set(h1);
  storeLaneSum(f, out, a1, 0);
  storeLaneSum(f, out, h1, 8);
  return f;
}

function bdx(): Func<'bdx'> {
  const f = new Func('bdx', { dy: I32, x: I32, dx: I32, n4: I32, m: F64, scale: F64, k0: F64, k1: F64 });
  const { dy, x, dx, n4, m, scale, k0, k1 } = f.params;
  const mm = f.local(V128), ss = f.local(V128), p0 = f.local(V128), p1 = f.local(V128);
  f.get(m).f64x2Splat().set(mm).get(scale).f64x2Splat().set(ss).get(k0).f64x2Splat().set(p0).get(k1).f64x2Splat().set(p1);
  countedLoop(f, n4, () => {
    for (const off of [0, 8]) {
      f.get(dx);
      f.get(ss).get(dy).load64Zero(off).promoteLow().f64x2Mul().get(p0).f64x2Sub();
      f.get(x).load64Zero(off).promoteLow().get(mm).f64x2Sub().get(p1).f64x2Mul().f64x2Sub();
      f.demoteZero().store64Lane0(off);
    }
    bump(f, dy, 16);
    bump(f, x, 16);
    bump(f, dx, 16);
  });
  return f;
}

/**
 * Channels-last loops: rows outer, channel pairs inner, per-channel float64 arrays addressed by the byte offset
 * p = 16·(pair index). `inner` emits the body for one pair given the locals q (float32 address of the pair in
 * each row array) and p; the row pointers advance with q.
 */
function columnLoop(f: Func, M: number, C2: number, rowPtrs: number[], inner: (q: number[], p: number) => void): void {
  const p = f.local(I32), cnt = f.local(I32);
  const q = rowPtrs.map(() => f.local(I32));
  countedLoop(f, M, () => {
    f.i32(0).set(p);
    f.get(C2).set(cnt);
    rowPtrs.forEach((r, i) => f.get(r).set(q[i]!));
    countedLoop(f, cnt, () => {
      inner(q, p);
      for (const qi of q) bump(f, qi, 8);
      bump(f, p, 16);
    });
    // next row: the row pointers advance by the 8·C2 bytes the pair loop walked
    rowPtrs.forEach((r, i) => f.get(q[i]!).set(r));
  });
}

function colsums(): Func<'colsums'> {
  const f = new Func('colsums', { x: I32, M: I32, C2: I32, shift: I32, dm: I32, a1: I32, a2: I32 });
  const { x, M, C2, shift, dm, a1, a2 } = f.params;
  const t = f.local(I32), d = f.local(V128), e = f.local(V128);
  columnLoop(f, M, C2, [x], ([q], p) => {
    f.get(q!).load64Zero().promoteLow().get(shift).get(p).add().v128Load().f64x2Sub().set(d);
    f.get(a1).get(p).add().tee(t).get(t).v128Load().get(d).f64x2Add().v128Store();
    f.get(d).get(dm).get(p).add().v128Load().f64x2Sub().set(e);
    f.get(a2).get(p).add().tee(t).get(t).v128Load().get(e).get(e).f64x2Mul().f64x2Add().v128Store();
  });
  return f;
}

function colnorm<N extends 'colnorm' | 'colnormRelu'>(name: N): Func<N> {
  const f = new Func(name, { x: I32, y: I32, M: I32, C2: I32, shift: I32, dm: I32, scale: I32, offset: I32 });
  const { x, y, M, C2, shift, dm, scale, offset } = f.params;
  const v = f.local(V128), zero = f.local(V128);
  f.v128Zero().set(zero);
  columnLoop(f, M, C2, [x, y], ([qx, qy], p) => {
    f.get(qy!);
    f.get(qx!).load64Zero().promoteLow().get(shift).get(p).add().v128Load().f64x2Sub();
    f.get(dm).get(p).add().v128Load().f64x2Sub();
    f.get(scale).get(p).add().v128Load().f64x2Mul();
    f.get(offset).get(p).add().v128Load().f64x2Add();
    if (name === 'colnormRelu') relu(f, v, zero);
    f.demoteZero().store64Lane0();
  });
  return f;
}

function colbsums(): Func<'colbsums'> {
  const f = new Func('colbsums', { dy: I32, x: I32, M: I32, C2: I32, mean: I32, a1: I32, a2: I32 });
  const { dy, x, M, C2, mean, a1, a2 } = f.params;
  const t = f.local(I32), g = f.local(V128);
  columnLoop(f, M, C2, [dy, x], ([qd, qx], p) => {
    f.get(qd!).load64Zero().promoteLow().set(g);
    f.get(a1).get(p).add().tee(t).get(t).v128Load().get(g).f64x2Add().v128Store();
    f.get(a2).get(p).add().tee(t).get(t).v128Load();
    f.get(g).get(qx!).load64Zero().promoteLow().get(mean).get(p).add().v128Load().f64x2Sub().f64x2Mul();
    f.f64x2Add().v128Store();
  });
  return f;
}

function colbdx(): Func<'colbdx'> {
  const f = new Func('colbdx', { dy: I32, x: I32, dx: I32, M: I32, C2: I32, mean: I32, scale: I32, k0: I32, k1: I32 });
  const { dy, x, dx, M, C2, mean, scale, k0, k1 } = f.params;
  columnLoop(f, M, C2, [dy, x, dx], ([qd, qx, qo], p) => {
    f.get(qo!);
    f.get(scale).get(p).add().v128Load().get(qd!).load64Zero().promoteLow().f64x2Mul();
    f.get(k0).get(p).add().v128Load().f64x2Sub();
    f.get(qx!).load64Zero().promoteLow().get(mean).get(p).add().v128Load().f64x2Sub();
    f.get(k1).get(p).add().v128Load().f64x2Mul().f64x2Sub();
    f.demoteZero().store64Lane0();
  });
  return f;
}

/** The module: the functions of the header, exported by name, on the shared memory. */
export const batchNormWasm = wasmModule(() => [
  sums(), norm('norm'), norm('normRelu'), bsums(), bdx(), colsums(), colnorm('colnorm'), colnorm('colnormRelu'), colbsums(), colbdx(),
]);
