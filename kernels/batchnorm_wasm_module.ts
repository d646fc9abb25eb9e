/**
 * The WebAssembly SIMD loops of BatchNorm version "wasm" (batchnorm_wasm.ts), assembled by wasm_asm.ts.
 *
 * Float32 values are loaded two at a time (v128.load64_zero), widened exactly to float64 (f64x2.promote_low) and
 * computed in f64x2 lanes with the same operations, in the same order, as the TypeScript versions — wasm does not
 * contract a·b + c into a fused multiply-add, so each lane's result is bit for bit what the JS expression gives;
 * outputs are rounded to float32 by f32x4.demote_f64x2_zero (round to nearest even, as a Float32Array store).
 * Only the order of the sums differs (two or four interleaved partial sums), which the float64 error model covers.
 * Addresses are byte offsets into the module's memory; counts are in quadruples (n4) of floats (channels-last:
 * rows M and channel pairs C2), the caller handles the remainder. Per-channel arrays (channels-last) are float64, 16-byte aligned, C even.
 *
 *   sums(x, n4, K, out)                      out[0] = Σ(x - K), out[1] = Σ(x - K)²          (float64 at out)
 *   norm(x, y, n4, K, dm, scale, b)          y = ((x - K) - dm)·scale + b          (normRelu: then max(·, 0))
 *   bsums(dy, x, n4, m, out)                 out[0] = Σ dy, out[1] = Σ dy·(x - m)
 *   bdx(dy, x, dx, n4, m, scale, k0, k1)     dx = scale·dy - k0 - (x - m)·k1
 *   colsums(x, M, C2, shift, dm, a1, a2)     per channel c of (M, 2·C2): a1 += Σ(x - shift), a2 += Σ(x - shift - dm)²
 *   colnorm(x, y, M, C2, shift, dm, scale, offset)                                 (colnormRelu: then max(·, 0))
 *   colbsums(dy, x, M, C2, mean, a1, a2)     a1 += Σ dy, a2 += Σ dy·(x - mean)
 *   colbdx(dy, x, dx, M, C2, mean, scale, k0, k1)
 * LayerNorm rows (layernorm_wasm.ts), weight w and bias b float32 arrays of the row's length, accW, accB float64:
 *   lnnorm(x, y, w, b, n4, K, dm, r)                   y = (((x - K) - dm)·r)·w + b
 *   lnbsums(dy, x, w, n4, m, out)                      out[0] = Σ g, out[1] = Σ g·(x - m),  g = dy·w
 *   lnbdx(dy, x, w, dx, accW, accB, n4, m, r, k0, k1)  dx = r·(dy·w) - k0 - (x - m)·k1,
 *                                                      accW += dy·(x - m)·r, accB += dy
 */
import { Code, F64, I32, moduleBytes, V128, type WasmFunction } from './wasm_asm.js';

/** for (; n > 0; n--) { body } with the counter in local `n` */
function countedLoop(f: Code, n: number, body: () => void): void {
  f.block().loop();
  f.get(n).eqz().brIf(1);
  body();
  f.get(n).i32(1).sub().set(n);
  f.br(0).end().end();
}

/** local += step (i32) */
function bump(f: Code, local: number, step: number): void {
  f.get(local).i32(step).add().set(local);
}

/** Stores lane0 + lane1 of v128 local `v` as float64 at address local `out` + offset. */
function storeLaneSum(f: Code, out: number, v: number, offset: number): void {
  f.get(out).get(v).f64x2ExtractLane(0).get(v).f64x2ExtractLane(1).f64Add().f64Store(offset);
}

function sums(): WasmFunction {
  const x = 0, n4 = 1, K = 2, out = 3;
  const kk = 4, a1 = 5, a2 = 6, b1 = 7, b2 = 8, d = 9;
  const f = new Code();
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
  return { name: 'sums', params: [I32, I32, F64, I32], locals: [[6, V128]], body: f };
}

/**
 * ReLU on the f64x2 value on the stack, kept in local `v`: v & (v > 0), which is v where v > 0 and +0 elsewhere
 * (also for -0 and NaN) — the JS versions' `v > 0 ? v : 0`.
 */
function relu(f: Code, v: number, zero: number): void {
  f.tee(v).get(v).get(zero).f64x2Gt().v128And();
}

function norm(withRelu: boolean): WasmFunction {
  const x = 0, y = 1, n4 = 2, K = 3, dm = 4, sc = 5, b = 6;
  const kk = 7, ee = 8, ss = 9, bb = 10, v = 11, zero = 12;
  const f = new Code();
  f.get(K).f64x2Splat().set(kk).get(dm).f64x2Splat().set(ee).get(sc).f64x2Splat().set(ss).get(b).f64x2Splat().set(bb);
  f.v128Zero().set(zero);
  countedLoop(f, n4, () => {
    for (const off of [0, 8]) {
      f.get(y).get(x).load64Zero(off).promoteLow().get(kk).f64x2Sub().get(ee).f64x2Sub().get(ss).f64x2Mul().get(bb).f64x2Add();
      if (withRelu) relu(f, v, zero);
      f.demoteZero().store64Lane0(off);
    }
    bump(f, x, 16);
    bump(f, y, 16);
  });
  return { name: withRelu ? 'normRelu' : 'norm', params: [I32, I32, I32, F64, F64, F64, F64], locals: [[6, V128]], body: f };
}

function bsums(): WasmFunction {
  const dy = 0, x = 1, n4 = 2, m = 3, out = 4;
  const mm = 5, a1 = 6, h1 = 7, a2 = 8, h2 = 9, g = 10;
  const f = new Code();
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
  return { name: 'bsums', params: [I32, I32, I32, F64, I32], locals: [[6, V128]], body: f };
}

function bdx(): WasmFunction {
  const dy = 0, x = 1, dx = 2, n4 = 3, m = 4, sc = 5, k0 = 6, k1 = 7;
  const mm = 8, ss = 9, p0 = 10, p1 = 11;
  const f = new Code();
  f.get(m).f64x2Splat().set(mm).get(sc).f64x2Splat().set(ss).get(k0).f64x2Splat().set(p0).get(k1).f64x2Splat().set(p1);
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
  return { name: 'bdx', params: [I32, I32, I32, I32, F64, F64, F64, F64], locals: [[4, V128]], body: f };
}

/**
 * Channels-last loops: rows outer, channel pairs inner, per-channel float64 arrays addressed by the byte offset
 * p = 16·(pair index). `inner` emits the body for one pair given the locals q (float32 address of the pair in
 * the first array), p, and however many other float32 addresses advance with q.
 */
function columnLoop(f: Code, M: number, C2: number, rowPtrs: number[], p: number, cnt: number, q: number[], inner: () => void): void {
  countedLoop(f, M, () => {
    f.i32(0).set(p);
    f.get(C2).set(cnt);
    rowPtrs.forEach((r, i) => f.get(r).set(q[i]!));
    countedLoop(f, cnt, () => {
      inner();
      for (const qi of q) bump(f, qi, 8);
      bump(f, p, 16);
    });
    // next row: the row pointers advance by the 8·C2 bytes the pair loop walked
    rowPtrs.forEach((r, i) => f.get(q[i]!).set(r));
  });
}

function colsums(): WasmFunction {
  const x = 0, M = 1, C2 = 2, shift = 3, dm = 4, a1 = 5, a2 = 6;
  const p = 7, cnt = 8, q = 9, t = 10, d = 11, e = 12;
  const f = new Code();
  columnLoop(f, M, C2, [x], p, cnt, [q], () => {
    f.get(q).load64Zero().promoteLow().get(shift).get(p).add().v128Load().f64x2Sub().set(d);
    f.get(a1).get(p).add().tee(t).get(t).v128Load().get(d).f64x2Add().v128Store();
    f.get(d).get(dm).get(p).add().v128Load().f64x2Sub().set(e);
    f.get(a2).get(p).add().tee(t).get(t).v128Load().get(e).get(e).f64x2Mul().f64x2Add().v128Store();
  });
  return { name: 'colsums', params: [I32, I32, I32, I32, I32, I32, I32], locals: [[4, I32], [2, V128]], body: f };
}

function colnorm(withRelu: boolean): WasmFunction {
  const x = 0, y = 1, M = 2, C2 = 3, shift = 4, dm = 5, scale = 6, offset = 7;
  const p = 8, cnt = 9, qx = 10, qy = 11, v = 12, zero = 13;
  const f = new Code();
  f.v128Zero().set(zero);
  columnLoop(f, M, C2, [x, y], p, cnt, [qx, qy], () => {
    f.get(qy);
    f.get(qx).load64Zero().promoteLow().get(shift).get(p).add().v128Load().f64x2Sub();
    f.get(dm).get(p).add().v128Load().f64x2Sub();
    f.get(scale).get(p).add().v128Load().f64x2Mul();
    f.get(offset).get(p).add().v128Load().f64x2Add();
    if (withRelu) relu(f, v, zero);
    f.demoteZero().store64Lane0();
  });
  return { name: withRelu ? 'colnormRelu' : 'colnorm', params: [I32, I32, I32, I32, I32, I32, I32, I32], locals: [[4, I32], [2, V128]], body: f };
}

function colbsums(): WasmFunction {
  const dy = 0, x = 1, M = 2, C2 = 3, mean = 4, a1 = 5, a2 = 6;
  const p = 7, cnt = 8, qd = 9, qx = 10, t = 11, g = 12;
  const f = new Code();
  columnLoop(f, M, C2, [dy, x], p, cnt, [qd, qx], () => {
    f.get(qd).load64Zero().promoteLow().set(g);
    f.get(a1).get(p).add().tee(t).get(t).v128Load().get(g).f64x2Add().v128Store();
    f.get(a2).get(p).add().tee(t).get(t).v128Load();
    f.get(g).get(qx).load64Zero().promoteLow().get(mean).get(p).add().v128Load().f64x2Sub().f64x2Mul();
    f.f64x2Add().v128Store();
  });
  return { name: 'colbsums', params: [I32, I32, I32, I32, I32, I32, I32], locals: [[5, I32], [1, V128]], body: f };
}

function colbdx(): WasmFunction {
  const dy = 0, x = 1, dx = 2, M = 3, C2 = 4, mean = 5, scale = 6, k0 = 7, k1 = 8;
  const p = 9, cnt = 10, qd = 11, qx = 12, qo = 13;
  const f = new Code();
  columnLoop(f, M, C2, [dy, x, dx], p, cnt, [qd, qx, qo], () => {
    f.get(qo);
    f.get(scale).get(p).add().v128Load().get(qd).load64Zero().promoteLow().f64x2Mul();
    f.get(k0).get(p).add().v128Load().f64x2Sub();
    f.get(qx).load64Zero().promoteLow().get(mean).get(p).add().v128Load().f64x2Sub();
    f.get(k1).get(p).add().v128Load().f64x2Mul().f64x2Sub();
    f.demoteZero().store64Lane0();
  });
  return { name: 'colbdx', params: [I32, I32, I32, I32, I32, I32, I32, I32, I32], locals: [[5, I32]], body: f };
}

function lnnorm(): WasmFunction {
  const x = 0, y = 1, w = 2, b = 3, n4 = 4, K = 5, dm = 6, r = 7;
  const kk = 8, ee = 9, rr = 10;
  const f = new Code();
  f.get(K).f64x2Splat().set(kk).get(dm).f64x2Splat().set(ee).get(r).f64x2Splat().set(rr);
  countedLoop(f, n4, () => {
    for (const off of [0, 8]) {
      f.get(y).get(x).load64Zero(off).promoteLow().get(kk).f64x2Sub().get(ee).f64x2Sub().get(rr).f64x2Mul();
      f.get(w).load64Zero(off).promoteLow().f64x2Mul().get(b).load64Zero(off).promoteLow().f64x2Add();
      f.demoteZero().store64Lane0(off);
    }
    for (const p of [x, y, w, b]) bump(f, p, 16);
  });
  return { name: 'lnnorm', params: [I32, I32, I32, I32, I32, F64, F64, F64], locals: [[3, V128]], body: f };
}

function lnbsums(): WasmFunction {
  const dy = 0, x = 1, w = 2, n4 = 3, m = 4, out = 5;
  const mm = 6, a1 = 7, h1 = 8, a2 = 9, h2 = 10, g = 11;
  const f = new Code();
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
  return { name: 'lnbsums', params: [I32, I32, I32, I32, F64, I32], locals: [[6, V128]], body: f };
}

function lnbdx(): WasmFunction {
  const dy = 0, x = 1, w = 2, dx = 3, accW = 4, accB = 5, n4 = 6, m = 7, r = 8, k0 = 9, k1 = 10;
  const mm = 11, rr = 12, p0 = 13, p1 = 14, d = 15, xc = 16;
  const f = new Code();
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
  return { name: 'lnbdx', params: [I32, I32, I32, I32, I32, I32, I32, F64, F64, F64, F64], locals: [[6, V128]], body: f };
}

/** The module's bytes: memory "memory" and the functions of the header. */
export function batchNormWasmBytes(): Uint8Array {
  return moduleBytes([
    sums(), norm(false), norm(true), bsums(), bdx(), colsums(), colnorm(false), colnorm(true), colbsums(), colbdx(),
    lnnorm(), lnbsums(), lnbdx(),
  ]);
}
