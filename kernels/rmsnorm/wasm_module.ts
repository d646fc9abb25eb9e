/**
 * The WebAssembly SIMD loops of the RMSNorm "wasm" versions (wasm_impl.ts), assembled by shared/wasm_asm.ts with
 * the lanes and loops of shared/wasm_loops.ts (float64 arithmetic in the TypeScript versions' expressions, float32
 * storage, tails in wasm). A whole call is one function, row by row: a row of (4096, 768) is 3 kB, so its
 * second pass reads it from L1. w and accW are float64 arrays of D.
 *
 *   rmsForward(x, y, R, D, w, eps, rstd)
 *     per row: Σx² (four pair accumulators), rstd = 1/sqrt(Σx²/D + eps), then y = (x·rstd)·w
 *   rmsBackward(dy, x, dx, R, D, w, rstd, accW)
 *     per row: Σ (dy·w)·x; k1 = rstd³·Σ/D; then dx = rstd·(dy·w) - x·k1,  accW += (dy·x)·rstd
 */
import { F64, Func, I32 } from '../shared/wasm_asm.js';
import { PAIR, runLoop, type Lane } from '../shared/wasm_loops.js';
import { wasmModule } from '../shared/wasm_runtime.js';
import {
  acc, accumulate, both, forRange, getBoth, runLocals, setBoth, setLane, teeLane, total, wide, zeroAcc,
} from '../shared/wasm_steps.js';

function rmsForward(): Func<'rmsForward'> {
  const f = new Func('rmsForward', { x: I32, y: I32, R: I32, D: I32, w: I32, eps: F64, rstd: I32 });
  const P = f.params;
  const row = f.local(I32), p = f.local(I32), q = f.local(I32), pw = f.local(I32), rowBytes = f.local(I32);
  const L = runLocals(f);
  const Df = f.local(F64);
  const RS = both(f), v = both(f);
  const A = acc(f);
  f.get(P.D).i32(2).shl().set(rowBytes);
  f.get(P.D).f64FromU32().set(Df);
  forRange(f, row, P.R, () => {
    // Σx²
    zeroAcc(f, A);
    const square = (lane: Lane, o: number, j: number): void => {
      f.get(p);
      lane.loadF32(f, o);
      teeLane(f, v, lane);
      getBoth(f, v, lane);
      lane.mul(f);
      accumulate(f, A, lane, j);
    };
    f.get(row).get(rowBytes).mul().get(P.x).add().set(p);
    runLoop(f, p, P.D, [], L, (offsets) => offsets.forEach((o, j) => square(PAIR, o, j)), (lane) => square(lane, 0, 0));
    // rstd
    f.get(row).i32(3).shl().get(P.rstd).add();
    f.f64(1);
    total(f, A);
    f.get(Df).f64Div().get(P.eps).f64Add().f64Sqrt().f64Div();
    setBoth(f, RS);
    f.get(RS.s).f64Store();
    // y = (x·rstd)·w
    const scale = (lane: Lane, o: number): void => {
      f.get(q).get(p);
      lane.loadF32(f, o);
      getBoth(f, RS, lane);
      lane.mul(f);
      f.get(pw);
      lane.loadF64(f, wide(o));
      lane.mul(f);
      lane.storeF32(f, o);
    };
    f.get(row).get(rowBytes).mul().tee(p).get(P.y).add().set(q);
    f.get(p).get(P.x).add().set(p);
    f.get(P.w).set(pw);
    runLoop(f, p, P.D, [[q, 4], [pw, 8]], L, (offsets) => offsets.forEach((o) => scale(PAIR, o)), (lane) => scale(lane, 0));
  });
  return f;
}

function rmsBackward(): Func<'rmsBackward'> {
  const f = new Func('rmsBackward', { dy: I32, x: I32, dx: I32, R: I32, D: I32, w: I32, rstd: I32, accW: I32 });
  const P = f.params;
  const row = f.local(I32), pg = f.local(I32), px = f.local(I32), po = f.local(I32), pw = f.local(I32), pa = f.local(I32), rowBytes = f.local(I32);
  const L = runLocals(f);
  const Df = f.local(F64), r = f.local(F64);
  const RS = both(f), K1 = both(f), dd = both(f), xv = both(f);
  const A = acc(f);
  f.get(P.D).i32(2).shl().set(rowBytes);
  f.get(P.D).f64FromU32().set(Df);
  const rowStart = (): void => {
    f.get(row).get(rowBytes).mul().tee(pg).get(P.x).add().set(px);
    f.get(pg).get(P.dx).add().set(po);
    f.get(pg).get(P.dy).add().set(pg);
    f.get(P.w).set(pw);
    f.get(P.accW).set(pa);
  };
  forRange(f, row, P.R, () => {
    f.get(row).i32(3).shl().get(P.rstd).add().f64Load().tee(r);
    setBoth(f, RS);
    // Σ (dy·w)·x
    zeroAcc(f, A);
    const reduce = (lane: Lane, o: number, j: number): void => {
      f.get(pg);
      lane.loadF32(f, o);
      f.get(pw);
      lane.loadF64(f, wide(o));
      lane.mul(f);
      f.get(px);
      lane.loadF32(f, o);
      lane.mul(f);
      accumulate(f, A, lane, j);
    };
    rowStart();
    runLoop(f, pg, P.D, [[px, 4], [pw, 8]], L, (offsets) => offsets.forEach((o, j) => reduce(PAIR, o, j)), (lane) => reduce(lane, 0, 0));
    // k1 = rstd³·Σ/D
    f.get(r).get(r).f64Mul().get(r).f64Mul();
    total(f, A);
    f.f64Mul().get(Df).f64Div();
    setBoth(f, K1);
    // dx = rstd·(dy·w) - x·k1; accW += (dy·x)·rstd
    const dxStep = (lane: Lane, o: number): void => {
      f.get(pg);
      lane.loadF32(f, o);
      setLane(f, dd, lane);
      f.get(px);
      lane.loadF32(f, o);
      setLane(f, xv, lane);
      f.get(po);
      getBoth(f, RS, lane);
      getBoth(f, dd, lane);
      f.get(pw);
      lane.loadF64(f, wide(o));
      lane.mul(f);
      lane.mul(f);
      getBoth(f, xv, lane);
      getBoth(f, K1, lane);
      lane.mul(f);
      lane.sub(f);
      lane.storeF32(f, o);
      f.get(pa).get(pa);
      lane.loadF64(f, wide(o));
      getBoth(f, dd, lane);
      getBoth(f, xv, lane);
      lane.mul(f);
      getBoth(f, RS, lane);
      lane.mul(f);
      lane.add(f);
      lane.storeF64(f, wide(o));
    };
    rowStart();
    runLoop(f, pg, P.D, [[px, 4], [po, 4], [pw, 8], [pa, 8]], L, (offsets) => offsets.forEach((o) => dxStep(PAIR, o)), (lane) => dxStep(lane, 0));
  });
  return f;
}

/** The module: the functions of the header, exported by name, on the kernels' memory. */
export const rmsNormWasm = wasmModule(() => [rmsForward(), rmsBackward()]);
