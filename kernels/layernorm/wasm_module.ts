/**
 * The WebAssembly SIMD loops of the LayerNorm "wasm" versions (wasm_impl.ts), assembled by shared/wasm_asm.ts
 * with the lanes and loops of shared/wasm_loops.ts (float64 arithmetic in the TypeScript versions' expressions,
 * float32 storage, tails in wasm). A whole call is one function, row by row: a row of the benchmark's
 * (4096, 768) is 3 kB, so its second pass reads it from L1. The forward's w, b are float64 arrays of D, so a
 * pair of them is one v128.load; the backward's w, accW, accB are one interleaved float64 table (SLOT below).
 *
 *   lnForward(x, y, R, D, w, b, eps, mean, rstd)
 *     per row: shifted sums Σ(x - K), Σ(x - K)² (K = the row's first value), the one-pass variance with the
 *     cancellation test of shared/one_pass.ts (else the exact pass), mean, rstd, then
 *     y = (((x - K) - dm)·rstd)·w + b                                       (forward_impl.ts's expression)
 *     in the same loop as the next row's sums
 *   lnBackward(dy, x, dx, R, D, table, mean, rstd, rows)
 *     per row, one pass over dy, x (llm.c's layernorm_backward, with the column sums in the same pass):
 *     g = dy·w, xc = x - mean (kept in float64 in `rows`), Σg, Σg·xc, accW += dy·xc·rstd, accB += dy;
 *     k0 = rstd·Σg/D, k1 = rstd³·Σg·xc/D; then from the kept row
 *     dx = rstd·g - k0 - xc·k1                                              (backward_impl.ts's expression)
 *     in chunks between the next row's pass. R ≥ 1 (api.ts checks).
 */
import { F64, Func, I32, V128 } from '../shared/wasm_asm.js';
import { laneSum, PAIR, runLoop, SINGLE, type Lane } from '../shared/wasm_loops.js';
import { wasmModule } from '../shared/wasm_runtime.js';

const U64 = 2 ** -53;

/** columns per chunk of the pipelined backward: a multiple of runLoop's 8-value step */
const CHUNK = 128;
/**
 * The backward's column table: per pair of columns, [w, w'][accW, accW'][accB, accB'] (float64), so one pointer
 * reaches all three; SLOT bytes per column, an odd last column in lane 0 of its slot. slot(o, k) is field k of
 * the column at float32 byte offset o in a row.
 */
export const SLOT = 24;
const slot = (o: number, k: number): number => 6 * o + 16 * k;
/** The backward's float64 rows, per pair of columns [g, g'][xc, xc']: SCRATCH_ROW bytes per column. */
export const SCRATCH_ROW = 16;
const scratch = (o: number, k: number): number => 4 * o + 16 * k;

/** A value in both lane kinds: a scalar f64 local and a v128 one. */
interface Both {
  s: number;
  v: number;
}

function both(f: Func): Both {
  return { s: f.local(F64), v: f.local(V128) };
}

/** Sets both forms from the f64 on the stack. */
function setBoth(f: Func, k: Both): void {
  f.tee(k.s).f64x2Splat().set(k.v);
}

const get = (f: Func, k: Both, lane: Lane): void => void f.get(lane === SINGLE ? k.s : k.v);
const tee = (f: Func, k: Both, lane: Lane): void => void f.tee(lane === SINGLE ? k.s : k.v);

/** Four pair accumulators and a scalar one. */
interface Acc {
  v: readonly number[];
  s: number;
}

function acc(f: Func): Acc {
  return { v: [f.local(V128), f.local(V128), f.local(V128), f.local(V128)], s: f.local(F64) };
}

function zeroAcc(f: Func, a: Acc): void {
  for (const v of a.v) f.v128Zero().set(v);
  f.f64(0).set(a.s);
}

function accumulate(f: Func, a: Acc, lane: Lane, j: number): void {
  const target = lane === SINGLE ? a.s : a.v[j]!;
  f.get(target);
  lane.add(f);
  f.set(target);
}

function total(f: Func, a: Acc): void {
  f.get(a.v[0]!).get(a.v[1]!).f64x2Add().get(a.v[2]!).get(a.v[3]!).f64x2Add().f64x2Add().set(a.v[0]!);
  laneSum(f, a.v[0]!);
  f.get(a.s).f64Add();
}

/** for (i = 0; i < n; i++) body() */
function forRange(f: Func, i: number, n: number, body: () => void): void {
  f.i32(0).set(i);
  f.block().loop();
  f.get(i).get(n).geU().brIf(1);
  body();
  f.get(i).i32(1).add().set(i);
  f.br(0).end().end();
}

function runLocals(f: Func) {
  return { end: f.local(I32), end8: f.local(I32), end2: f.local(I32) };
}

/** float64 offset of the element at float32 byte offset o (w, b, accW, accB beside x) */
const wide = (o: number): number => 2 * o;

function lnForward(): Func<'lnForward'> {
  const f = new Func('lnForward', { x: I32, y: I32, R: I32, D: I32, w: I32, b: I32, eps: F64, mean: I32, rstd: I32 });
  const P = f.params;
  const row = f.local(I32), p = f.local(I32), pp = f.local(I32), q = f.local(I32), pw = f.local(I32), pb = f.local(I32), rowBytes = f.local(I32);
  // the row being normalised (the one before `row`) and its constants
  const nrow = f.local(I32);
  const L = runLocals(f);
  const Df = f.local(F64), gamma = f.local(F64), s1 = f.local(F64), s2 = f.local(F64), dm = f.local(F64), meanSq = f.local(F64), v = f.local(F64);
  const K = both(f), DM = both(f), RS = both(f), d = both(f);
  const NK = both(f), NDM = both(f), NRS = both(f);
  const A = acc(f), Q = acc(f);
  f.get(P.D).i32(2).shl().set(rowBytes);
  f.get(P.D).f64FromU32().set(Df);
  f.get(Df).f64(U64).f64Mul().f64(1).get(Df).f64(U64).f64Mul().f64Sub().f64Div().set(gamma);
  const rowStart = (): void => {
    f.get(row).get(rowBytes).mul().get(P.x).add().set(p);
  };
  // pointers of the row being normalised: pp into x, q into y, pw and pb at w and b
  const normStart = (): void => {
    f.get(nrow).get(rowBytes).mul().tee(pp).get(P.y).add().set(q);
    f.get(pp).get(P.x).add().set(pp);
    f.get(P.w).set(pw);
    f.get(P.b).set(pb);
  };
  // Σ(x - K), Σ(x - K)² of `row`, at p
  const shifted = (lane: Lane, o: number, j: number): void => {
    f.get(p);
    lane.loadF32(f, o);
    get(f, K, lane);
    lane.sub(f);
    tee(f, d, lane);
    accumulate(f, A, lane, j);
    get(f, d, lane);
    get(f, d, lane);
    lane.mul(f);
    accumulate(f, Q, lane, j);
  };
  // y = (((x - K) - dm)·rstd)·w + b of `nrow`, from pp into q
  const normalize = (lane: Lane, o: number): void => {
    f.get(q).get(pp);
    lane.loadF32(f, o);
    get(f, NK, lane);
    lane.sub(f);
    get(f, NDM, lane);
    lane.sub(f);
    get(f, NRS, lane);
    lane.mul(f);
    f.get(pw);
    lane.loadF64(f, wide(o));
    lane.mul(f);
    f.get(pb);
    lane.loadF64(f, wide(o));
    lane.add(f);
    lane.storeF32(f, o);
  };
  // `row`'s shift K = its first value, the accumulators zeroed
  const startRow = (): void => {
    rowStart();
    f.get(p).f32Load().f64Promote();
    setBoth(f, K);
    zeroAcc(f, A);
    zeroAcc(f, Q);
  };
  // `row`'s statistics from its sums; they become the constants of the next row normalised
  const finishRow = (): void => {
    total(f, A);
    f.set(s1);
    total(f, Q);
    f.set(s2);
    // variance, biased; the exact second pass when the shifted formula may have cancelled
    f.get(s1).get(Df).f64Div().set(dm);
    f.get(s2).get(Df).f64Div().set(meanSq);
    f.get(meanSq).get(dm).get(dm).f64Mul().f64Sub().set(v);
    f.get(v).f64(0).f64Ge();
    f.f64(3).get(gamma).f64Mul().get(meanSq).f64Mul().f64(2 ** -30).get(v).f64Mul().f64Le();
    f.and().eqz().ifElse();
    f.get(dm);
    setBoth(f, DM);
    zeroAcc(f, Q);
    rowStart();
    const deviations = (lane: Lane, o: number, j: number): void => {
      f.get(p);
      lane.loadF32(f, o);
      get(f, K, lane);
      lane.sub(f);
      get(f, DM, lane);
      lane.sub(f);
      tee(f, d, lane);
      get(f, d, lane);
      lane.mul(f);
      accumulate(f, Q, lane, j);
    };
    runLoop(f, p, P.D, [], L, (offsets) => offsets.forEach((o, j) => deviations(PAIR, o, j)), (lane) => deviations(lane, 0, 0));
    total(f, Q);
    f.get(Df).f64Div().set(v);
    f.end();
    // mean, rstd
    f.get(row).i32(3).shl().get(P.mean).add().get(K.s).get(dm).f64Add().f64Store();
    f.get(row).i32(3).shl().get(P.rstd).add().f64(1).get(v).get(P.eps).f64Add().f64Sqrt().f64Div();
    f.tee(NRS.s).f64Store();
    f.get(NRS.s).f64x2Splat().set(NRS.v);
    f.get(dm);
    setBoth(f, NDM);
    f.get(K.s);
    setBoth(f, NK);
    f.get(row).set(nrow);
  };

  // Software-pipelined over rows: one loop reads row r for its sums (from memory) while it normalises row r - 1
  // (from L1) into y, so the read stream and the write stream run together instead of taking turns. The sums of
  // each row see the same values in the same order and accumulators as in a loop of their own.
  f.i32(0).set(row);
  startRow();
  runLoop(f, p, P.D, [], L, (offsets) => offsets.forEach((o, j) => shifted(PAIR, o, j)), (lane) => shifted(lane, 0, 0));
  finishRow();
  f.i32(1).set(row);
  f.block().loop();
  f.get(row).get(P.R).geU().brIf(1);
  startRow();
  normStart();
  runLoop(f, p, P.D, [[pp, 4], [q, 4], [pw, 8], [pb, 8]], L, (offsets) => offsets.forEach((o, j) => {
    shifted(PAIR, o, j);
    normalize(PAIR, o);
  }), (lane) => {
    shifted(lane, 0, 0);
    normalize(lane, 0);
  });
  finishRow();
  f.get(row).i32(1).add().set(row);
  f.br(0).end().end();
  // the last row's normalisation
  normStart();
  runLoop(f, pp, P.D, [[q, 4], [pw, 8], [pb, 8]], L, (offsets) => offsets.forEach((o) => normalize(PAIR, o)), (lane) => normalize(lane, 0));
  return f;
}

function lnBackward(): Func<'lnBackward'> {
  const f = new Func('lnBackward', { dy: I32, x: I32, dx: I32, R: I32, D: I32, table: I32, mean: I32, rstd: I32, rows: I32 });
  const P = f.params;
  // row `row` (read from memory): pg, px, its [g, xc] row at ps; row `row` - 1 (its dx written): po, its row at
  // nps; the [w, accW, accB] table at pt
  const row = f.local(I32), pg = f.local(I32), px = f.local(I32), pt = f.local(I32), ps = f.local(I32), po = f.local(I32), nps = f.local(I32);
  const rowBytes = f.local(I32), cur = f.local(I32), prev = f.local(I32), left = f.local(I32), count = f.local(I32);
  const L = runLocals(f);
  const Df = f.local(F64), r = f.local(F64), sumG = f.local(F64), sumGXc = f.local(F64);
  const MEAN = both(f), RS = both(f), g = both(f), dd = both(f), xc = both(f);
  const NRS = both(f), NK0 = both(f), NK1 = both(f);
  const A = acc(f), H = acc(f);
  f.get(P.D).i32(2).shl().set(rowBytes);
  f.get(P.D).f64FromU32().set(Df);
  // the two [g, xc] rows (SCRATCH_ROW bytes per value each, rounded up to a whole pair), swapped every row
  f.get(P.rows).set(cur);
  f.get(P.D).i32(1).add().i32(-2).and().i32(SCRATCH_ROW).mul().get(P.rows).add().set(prev);

  // `row`'s pointers, mean and rstd; the accumulators zeroed
  const startRow = (): void => {
    f.get(row).get(rowBytes).mul().tee(pg).get(P.x).add().set(px);
    f.get(pg).get(P.dy).add().set(pg);
    f.get(P.table).set(pt);
    f.get(cur).set(ps);
    f.get(row).i32(3).shl().get(P.mean).add().f64Load();
    setBoth(f, MEAN);
    f.get(row).i32(3).shl().get(P.rstd).add().f64Load().tee(r);
    f.f64x2Splat().set(RS.v);
    f.get(r).set(RS.s);
    zeroAcc(f, A);
    zeroAcc(f, H);
  };
  // pointers of the row whose dx is written (`row` - 1): po into dx, nps at its [g, xc] row
  const dxStart = (): void => {
    f.get(row).i32(1).sub().get(rowBytes).mul().get(P.dx).add().set(po);
    f.get(prev).set(nps);
  };
  // The one pass over `row` from memory: g = dy·w and xc = x - mean (kept in float64, in L1, for its dx), the
  // reductions Σg, Σg·xc, and the column sums accW += dy·xc·rstd, accB += dy.
  const reduce = (lane: Lane, o: number, j: number): void => {
    f.get(pg);
    lane.loadF32(f, o);
    f.set(lane === SINGLE ? dd.s : dd.v);
    f.get(ps);
    f.get(px);
    lane.loadF32(f, o);
    get(f, MEAN, lane);
    lane.sub(f);
    tee(f, xc, lane);
    lane.storeF64(f, scratch(o, 1));
    f.get(ps);
    get(f, dd, lane);
    f.get(pt);
    lane.loadF64(f, slot(o, 0));
    lane.mul(f);
    tee(f, g, lane);
    lane.storeF64(f, scratch(o, 0));
    get(f, g, lane);
    accumulate(f, A, lane, j);
    get(f, g, lane);
    get(f, xc, lane);
    lane.mul(f);
    accumulate(f, H, lane, j);
    f.get(pt).get(pt);
    lane.loadF64(f, slot(o, 1));
    get(f, dd, lane);
    get(f, xc, lane);
    lane.mul(f);
    get(f, RS, lane);
    lane.mul(f);
    lane.add(f);
    lane.storeF64(f, slot(o, 1));
    f.get(pt).get(pt);
    lane.loadF64(f, slot(o, 2));
    get(f, dd, lane);
    lane.add(f);
    lane.storeF64(f, slot(o, 2));
  };
  // dx = rstd·g - k0 - xc·k1 of the row whose constants are set, from its [g, xc] row
  const dxStep = (lane: Lane, o: number): void => {
    f.get(po);
    get(f, NRS, lane);
    f.get(nps);
    lane.loadF64(f, scratch(o, 0));
    lane.mul(f);
    get(f, NK0, lane);
    lane.sub(f);
    f.get(nps);
    lane.loadF64(f, scratch(o, 1));
    get(f, NK1, lane);
    lane.mul(f);
    lane.sub(f);
    lane.storeF32(f, o);
  };
  // `row`'s dx constants from its sums, k0 = rstd·Σg/D, k1 = rstd³·Σg·(x - mean)/D; its row becomes `prev`
  const finishRow = (): void => {
    total(f, A);
    f.set(sumG);
    total(f, H);
    f.set(sumGXc);
    f.get(r).get(sumG).f64Mul().get(Df).f64Div();
    setBoth(f, NK0);
    f.get(r).get(r).f64Mul().get(r).f64Mul().get(sumGXc).f64Mul().get(Df).f64Div();
    setBoth(f, NK1);
    f.get(r);
    setBoth(f, NRS);
    f.get(cur).get(prev).set(cur).set(prev);
  };
  const reduceRun = (n: number): void => runLoop(f, pg, n, [[px, 4], [pt, SLOT], [ps, SCRATCH_ROW]], L,
    (offsets) => offsets.forEach((o, j) => reduce(PAIR, o, j)), (lane) => reduce(lane, 0, 0));
  const dxRun = (n: number): void => runLoop(f, po, n, [[nps, SCRATCH_ROW]], L,
    (offsets) => offsets.forEach((o) => dxStep(PAIR, o)), (lane) => dxStep(lane, 0));

  // Software-pipelined over rows, as the forward, in chunks of CHUNK columns: row r's pass (dy, x from memory),
  // then row r - 1's dx over the same columns (from L1), so the read streams and the dx stream run together.
  // Chunks are whole multiples of the 8-value step, so each row's sums see the same values in the same
  // accumulators and order as one loop over the row, and each column's accW, accB add the rows in order.
  f.i32(0).set(row);
  startRow();
  reduceRun(P.D);
  finishRow();
  f.i32(1).set(row);
  f.block().loop();
  f.get(row).get(P.R).geU().brIf(1);
  startRow();
  dxStart();
  f.get(P.D).set(left);
  f.block().loop();
  f.get(left).eqz().brIf(1);
  f.i32(CHUNK).get(left).get(left).i32(CHUNK).gtU().select().set(count);
  reduceRun(count);
  dxRun(count);
  f.get(left).get(count).sub().set(left);
  f.br(0).end().end();
  finishRow();
  f.get(row).i32(1).add().set(row);
  f.br(0).end().end();
  // the last row's dx
  dxStart();
  dxRun(P.D);
  return f;
}

/** The module: the functions of the header, exported by name, on the kernels' memory. */
export const layerNormWasm = wasmModule(() => [lnForward(), lnBackward()]);
