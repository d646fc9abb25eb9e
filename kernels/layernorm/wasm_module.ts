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
 *     per pair of rows (r, r + floor(R/2)), in the same loop as the next pair's sums (an odd R's last row alone)
 *   lnBackward(dy, x, dx, R, D, table, mean, rstd, rows)
 *     per pair of rows (r, r + floor(R/2)), one pass over their dy, x (llm.c's layernorm_backward, with the
 *     column sums in the same pass): g = dy·w, xc = x - mean (kept in float64 in `rows`), Σg, Σg·xc,
 *     accW += dy·xc·rstd, accB += dy (one table load and store for both rows); k0 = rstd·Σg/D,
 *     k1 = rstd³·Σg·xc/D; then from the kept rows
 *     dx = rstd·g - k0 - xc·k1                                              (backward_impl.ts's expression)
 *     in chunks before the next pair's pass. R ≥ 1 (api.ts checks).
 */
import { F64, Func, I32 } from '../shared/wasm_asm.js';
import { PAIR, runLoop, SINGLE, type Lane } from '../shared/wasm_loops.js';
import { wasmModule } from '../shared/wasm_runtime.js';
import {
  acc, accumulate, both, forRange, getBoth, runLocals, setBoth, teeLane, total, wide, zeroAcc,
} from '../shared/wasm_steps.js';

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
/**
 * The backward's float64 rows of a pair of rows a, b: per pair of columns [g, g'][xc, xc'] of a, then of b,
 * PAIR_ROWS bytes per column; scratch(o, k) is field k (0, 1 of a; 2, 3 of b) at float32 byte offset o.
 */
export const PAIR_ROWS = 32;
const scratch = (o: number, k: number): number => 8 * o + 16 * k;

const get = getBoth;
const tee = teeLane;

/**
 * Accumulator pairs per row of the forward's sums: a pair of rows with four each (16 v128 accumulators beside the
 * shifts and constants) spills in V8's ~15 xmm registers; two each is the most that fits. Either is a fixed-order
 * float64 sum of D terms, within the γ_D of the cancellation test below.
 */
const FWD_ACC = 2;
function lnForward(): Func<'lnForward'> {
  const f = new Func('lnForward', { x: I32, y: I32, R: I32, D: I32, w: I32, b: I32, eps: F64, mean: I32, rstd: I32 });
  const P = f.params;
  // Rows go in pairs (r, r + H), H = floor(R/2), r < H; an odd R's last row alone after them. Rows r and r + 1
  // side by side would put two read streams of x (and two write streams of y) in one 4 kB page; rows H apart
  // keep each page to one stream (as the backward and the BatchNorm NCHW eval). One load of w and b serves both.
  const pw = f.local(I32), pb = f.local(I32), rowBytes = f.local(I32), H = f.local(I32), hb = f.local(I32);
  const L = runLocals(f);
  const Df = f.local(F64), gamma = f.local(F64), s1 = f.local(F64), s2 = f.local(F64), dm = f.local(F64), meanSq = f.local(F64), v = f.local(F64);
  const DM = both(f), d = both(f);
  // per row of a pair: `row` read for its sums at p; `nrow` normalised from pp into q with its constants N*
  const mk = () => ({
    row: f.local(I32), p: f.local(I32), nrow: f.local(I32), pp: f.local(I32), q: f.local(I32),
    K: both(f), NK: both(f), NDM: both(f), NRS: both(f), A: acc(f, FWD_ACC), Q: acc(f, FWD_ACC),
  });
  type Row = ReturnType<typeof mk>;
  const RA = mk(), RB = mk();
  f.get(P.D).i32(2).shl().set(rowBytes);
  f.get(P.D).f64FromU32().set(Df);
  f.get(Df).f64(U64).f64Mul().f64(1).get(Df).f64(U64).f64Mul().f64Sub().f64Div().set(gamma);
  f.get(P.R).i32(1).shrU().tee(H).get(rowBytes).mul().set(hb);
  const rowStart = (S: Row): void => {
    f.get(S.row).get(rowBytes).mul().get(P.x).add().set(S.p);
  };
  // pointers of the row being normalised: pp into x, q into y
  const normStart = (S: Row): void => {
    f.get(S.nrow).get(rowBytes).mul().tee(S.pp).get(P.y).add().set(S.q);
    f.get(S.pp).get(P.x).add().set(S.pp);
  };
  const wbStart = (): void => {
    f.get(P.w).set(pw);
    f.get(P.b).set(pb);
  };
  // Σ(x - K), Σ(x - K)² of S.row, at S.p
  const shifted = (S: Row, lane: Lane, o: number, j: number): void => {
    f.get(S.p);
    lane.loadF32(f, o);
    get(f, S.K, lane);
    lane.sub(f);
    tee(f, d, lane);
    accumulate(f, S.A, lane, j);
    get(f, d, lane);
    get(f, d, lane);
    lane.mul(f);
    accumulate(f, S.Q, lane, j);
  };
  // y = (((x - K) - dm)·rstd)·w + b of S.nrow, from S.pp into S.q
  const normalize = (S: Row, lane: Lane, o: number): void => {
    f.get(S.q).get(S.pp);
    lane.loadF32(f, o);
    get(f, S.NK, lane);
    lane.sub(f);
    get(f, S.NDM, lane);
    lane.sub(f);
    get(f, S.NRS, lane);
    lane.mul(f);
    f.get(pw);
    lane.loadF64(f, wide(o));
    lane.mul(f);
    f.get(pb);
    lane.loadF64(f, wide(o));
    lane.add(f);
    lane.storeF32(f, o);
  };
  // S.row's shift K = its first value, the accumulators zeroed
  const startRow = (S: Row): void => {
    rowStart(S);
    f.get(S.p).f32Load().f64Promote();
    setBoth(f, S.K);
    zeroAcc(f, S.A);
    zeroAcc(f, S.Q);
  };
  // S.row's statistics from its sums; they become the constants of the next row normalised
  const finishRow = (S: Row): void => {
    total(f, S.A);
    f.set(s1);
    total(f, S.Q);
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
    zeroAcc(f, S.Q);
    rowStart(S);
    const deviations = (lane: Lane, o: number, j: number): void => {
      f.get(S.p);
      lane.loadF32(f, o);
      get(f, S.K, lane);
      lane.sub(f);
      get(f, DM, lane);
      lane.sub(f);
      tee(f, d, lane);
      get(f, d, lane);
      lane.mul(f);
      accumulate(f, S.Q, lane, j);
    };
    runLoop(f, S.p, P.D, [], L, (offsets) => offsets.forEach((o, j) => deviations(PAIR, o, j)), (lane) => deviations(lane, 0, 0));
    total(f, S.Q);
    f.get(Df).f64Div().set(v);
    f.end();
    // mean, rstd
    f.get(S.row).i32(3).shl().get(P.mean).add().get(S.K.s).get(dm).f64Add().f64Store();
    f.get(S.row).i32(3).shl().get(P.rstd).add().f64(1).get(v).get(P.eps).f64Add().f64Sqrt().f64Div();
    f.tee(S.NRS.s).f64Store();
    f.get(S.NRS.s).f64x2Splat().set(S.NRS.v);
    f.get(dm);
    setBoth(f, S.NDM);
    f.get(S.K.s);
    setBoth(f, S.NK);
    f.get(S.row).set(S.nrow);
  };
  const setRows = (): void => {
    f.get(RA.row).get(H).add().set(RB.row);
  };

  // Software-pipelined over pairs: one loop reads pair r for its sums (from memory) while it normalises pair
  // r - 1 (from L1) into y, so the read streams and the write streams run together instead of taking turns. The
  // sums of each row see the same values in the same order and accumulators as in a loop of their own.
  f.get(H).ifElse();
  f.i32(0).set(RA.row);
  setRows();
  startRow(RA);
  startRow(RB);
  runLoop(f, RA.p, P.D, [[RB.p, 4]], L, (offsets) => offsets.forEach((o, j) => {
    shifted(RA, PAIR, o, j);
    shifted(RB, PAIR, o, j);
  }), (lane) => {
    shifted(RA, lane, 0, 0);
    shifted(RB, lane, 0, 0);
  });
  finishRow(RA);
  finishRow(RB);
  f.i32(1).set(RA.row);
  f.block().loop();
  f.get(RA.row).get(H).geU().brIf(1);
  setRows();
  startRow(RA);
  startRow(RB);
  normStart(RA);
  normStart(RB);
  wbStart();
  runLoop(f, RA.p, P.D, [[RB.p, 4], [RA.pp, 4], [RA.q, 4], [RB.pp, 4], [RB.q, 4], [pw, 8], [pb, 8]], L, (offsets) => offsets.forEach((o, j) => {
    shifted(RA, PAIR, o, j);
    shifted(RB, PAIR, o, j);
    normalize(RA, PAIR, o);
    normalize(RB, PAIR, o);
  }), (lane) => {
    shifted(RA, lane, 0, 0);
    shifted(RB, lane, 0, 0);
    normalize(RA, lane, 0);
    normalize(RB, lane, 0);
  });
  finishRow(RA);
  finishRow(RB);
  f.get(RA.row).i32(1).add().set(RA.row);
  f.br(0).end().end();
  // the last pair's normalisation
  normStart(RA);
  normStart(RB);
  wbStart();
  runLoop(f, RA.pp, P.D, [[RA.q, 4], [RB.pp, 4], [RB.q, 4], [pw, 8], [pb, 8]], L, (offsets) => offsets.forEach((o) => {
    normalize(RA, PAIR, o);
    normalize(RB, PAIR, o);
  }), (lane) => {
    normalize(RA, lane, 0);
    normalize(RB, lane, 0);
  });
  f.end();
  // an odd R's last row, 2H, alone
  f.get(P.R).i32(1).and().ifElse();
  f.get(H).i32(1).shl().set(RA.row);
  startRow(RA);
  runLoop(f, RA.p, P.D, [], L, (offsets) => offsets.forEach((o, j) => shifted(RA, PAIR, o, j)), (lane) => shifted(RA, lane, 0, 0));
  finishRow(RA);
  normStart(RA);
  wbStart();
  runLoop(f, RA.pp, P.D, [[RA.q, 4], [pw, 8], [pb, 8]], L, (offsets) => offsets.forEach((o) => normalize(RA, PAIR, o)), (lane) => normalize(RA, lane, 0));
  f.end();
  return f;
}

function lnBackward(): Func<'lnBackward'> {
  const f = new Func('lnBackward', { dy: I32, x: I32, dx: I32, R: I32, D: I32, table: I32, mean: I32, rstd: I32, rows: I32 });
  const P = f.params;
  // Rows go in pairs (a, b) = (row, row + H), H = floor(R/2), row < H; an odd R's last row alone after them. Rows
  // r and r + 1 side by side would put two read streams of each array in one 4 kB page; rows H apart keep each
  // page to one stream (as the BatchNorm NCHW eval's runs n, n + N/2). The pair read from memory: pg, pgb into dy,
  // px, pxb into x, its kept rows at ps; the pair whose dx is written (`last`): po, pob into dx, its kept rows at
  // nps (the same buffer: each chunk's dx reads the last pair's columns before the pass overwrites them); the
  // [w, accW, accB] table at pt.
  const row = f.local(I32), pg = f.local(I32), pgb = f.local(I32), px = f.local(I32), pxb = f.local(I32), pt = f.local(I32), ps = f.local(I32);
  const po = f.local(I32), pob = f.local(I32), nps = f.local(I32), havePrev = f.local(I32), H = f.local(I32), hb = f.local(I32), last = f.local(I32);
  const rowBytes = f.local(I32), left = f.local(I32), count = f.local(I32);
  const L = runLocals(f);
  const Df = f.local(F64), r = f.local(F64), sumG = f.local(F64), sumGXc = f.local(F64);
  const mk = () => ({ MEAN: both(f), RS: both(f), A: acc(f, 1), H: acc(f, 1), NRS: both(f), NK0: both(f), NK1: both(f), dd: both(f), t: both(f) });
  const RA = mk(), RB = mk();
  const g = both(f), xc = both(f), wv = both(f);
  f.get(P.D).i32(2).shl().set(rowBytes);
  f.get(P.D).f64FromU32().set(Df);
  f.i32(0).set(havePrev);
  f.get(P.R).i32(1).shrU().tee(H).get(rowBytes).mul().set(hb);

  // row `row` (b: `row` + H)'s mean and rstd into S, its accumulators zeroed
  const rowConsts = (S: typeof RA, b: boolean): void => {
    for (const [arr, both_] of [[P.mean, S.MEAN], [P.rstd, S.RS]] as const) {
      f.get(row).i32(3).shl().get(arr).add();
      if (b) f.get(H).i32(3).shl().add();
      f.f64Load();
      setBoth(f, both_);
    }
    zeroAcc(f, S.A);
    zeroAcc(f, S.H);
  };
  const start = (pair: boolean): void => {
    f.get(row).get(rowBytes).mul().tee(pg).get(P.x).add().tee(px).get(hb).add().set(pxb);
    f.get(pg).get(P.dy).add().tee(pg).get(hb).add().set(pgb);
    f.get(P.table).set(pt);
    f.get(P.rows).set(ps);
    rowConsts(RA, false);
    if (pair) rowConsts(RB, true);
  };
  // pointers of the pair whose dx is written (rows `last`, `last` + H)
  const dxStart = (): void => {
    f.get(last).get(rowBytes).mul().get(P.dx).add().tee(po).get(hb).add().set(pob);
    f.get(P.rows).set(nps);
  };
  // One row's part of the pass (llm.c's layernorm_backward, with the column sums in the same pass): g = dy·w and
  // xc = x - mean kept in float64 in fields kg, kg + 1 at ps (in L1, for its dx), Σg, Σg·xc (one accumulator
  // each: two rows' four sums in four registers, not sixteen, so nothing spills), and its column terms dy (left
  // in S.dd) and dy·xc·rstd (left in S.t). w is in wv.
  const rowPart = (S: typeof RA, lane: Lane, o: number, j: number, dyp: number, xp: number, kg: number): void => {
    f.get(dyp);
    lane.loadF32(f, o);
    f.set(lane === SINGLE ? S.dd.s : S.dd.v);
    f.get(ps);
    f.get(xp);
    lane.loadF32(f, o);
    get(f, S.MEAN, lane);
    lane.sub(f);
    tee(f, xc, lane);
    lane.storeF64(f, scratch(o, kg + 1));
    f.get(ps);
    get(f, S.dd, lane);
    get(f, wv, lane);
    lane.mul(f);
    tee(f, g, lane);
    lane.storeF64(f, scratch(o, kg));
    get(f, g, lane);
    accumulate(f, S.A, lane, j);
    get(f, g, lane);
    get(f, xc, lane);
    lane.mul(f);
    accumulate(f, S.H, lane, j);
    get(f, S.dd, lane);
    get(f, xc, lane);
    lane.mul(f);
    get(f, S.RS, lane);
    lane.mul(f);
    f.set(lane === SINGLE ? S.t.s : S.t.v);
  };
  // The pass over a pair (or the lone row): one load and one store of each table entry serve both rows. Each
  // column sum adds row a's term, then row b's: rows in the fixed order 0, H, 1, H + 1, …, H - 1, 2H - 1 (, 2H).
  const reduce = (pair: boolean, lane: Lane, o: number, j: number): void => {
    f.get(pt);
    lane.loadF64(f, slot(o, 0));
    f.set(lane === SINGLE ? wv.s : wv.v);
    rowPart(RA, lane, o, j, pg, px, 0);
    if (pair) rowPart(RB, lane, o, j, pgb, pxb, 2);
    // table field k += row A's term (+ row B's): k = 1 the dweight column sums (t), k = 2 the dbias ones (dd)
    for (const [k, term] of [[1, 't'], [2, 'dd']] as const) {
      f.get(pt).get(pt);
      lane.loadF64(f, slot(o, k));
      get(f, RA[term], lane);
      lane.add(f);
      if (pair) {
        get(f, RB[term], lane);
        lane.add(f);
      }
      lane.storeF64(f, slot(o, k));
    }
  };
  // dx = rstd·g - k0 - xc·k1 of one row (S's constants) of the pair at nps, from its fields kg, kg + 1, into `out`
  const dxStep = (S: typeof RA, out: number, lane: Lane, o: number, kg: number): void => {
    f.get(out);
    get(f, S.NRS, lane);
    f.get(nps);
    lane.loadF64(f, scratch(o, kg));
    lane.mul(f);
    get(f, S.NK0, lane);
    lane.sub(f);
    f.get(nps);
    lane.loadF64(f, scratch(o, kg + 1));
    get(f, S.NK1, lane);
    lane.mul(f);
    lane.sub(f);
    lane.storeF32(f, o);
  };
  // a row's dx constants from its sums, k0 = rstd·Σg/D, k1 = rstd³·Σg·(x - mean)/D
  const finish = (S: typeof RA): void => {
    total(f, S.A);
    f.set(sumG);
    total(f, S.H);
    f.set(sumGXc);
    f.get(S.RS.s).set(r);
    f.get(r).get(sumG).f64Mul().get(Df).f64Div();
    setBoth(f, S.NK0);
    f.get(r).get(r).f64Mul().get(r).f64Mul().get(sumGXc).f64Mul().get(Df).f64Div();
    setBoth(f, S.NK1);
    f.get(r);
    setBoth(f, S.NRS);
  };
  const reduceRun = (pair: boolean, n: number): void => runLoop(f, pg, n,
    pair ? [[pgb, 4], [px, 4], [pxb, 4], [pt, SLOT], [ps, PAIR_ROWS]] : [[px, 4], [pt, SLOT], [ps, PAIR_ROWS]], L,
    (offsets) => offsets.forEach((o, j) => reduce(pair, PAIR, o, j)), (lane) => reduce(pair, lane, 0, 0));
  const dxRun = (n: number): void => runLoop(f, po, n, [[pob, 4], [nps, PAIR_ROWS]], L,
    (offsets) => offsets.forEach((o) => {
      dxStep(RA, po, PAIR, o, 0);
      dxStep(RB, pob, PAIR, o, 2);
    }), (lane) => {
      dxStep(RA, po, lane, 0, 0);
      dxStep(RB, pob, lane, 0, 2);
    });
  // The pass over the pair (or lone row) at `row`, in chunks of CHUNK columns, each after the last pair's dx over
  // the same columns (from L1), so the read streams and the dx streams run together.
  const pass = (pair: boolean): void => {
    start(pair);
    dxStart();
    f.get(P.D).set(left);
    f.block().loop();
    f.get(left).eqz().brIf(1);
    f.i32(CHUNK).get(left).get(left).i32(CHUNK).gtU().select().set(count);
    f.get(havePrev).ifElse();
    dxRun(count);
    f.end();
    reduceRun(pair, count);
    f.get(left).get(count).sub().set(left);
    f.br(0).end().end();
    finish(RA);
    if (pair) finish(RB);
  };

  f.i32(0).set(row);
  f.block().loop();
  f.get(row).get(H).geU().brIf(1);
  pass(true);
  f.i32(1).set(havePrev);
  f.get(row).set(last);
  f.get(row).i32(1).add().set(row);
  f.br(0).end().end();
  // an odd R's last row alone (its kept row in fields 0, 1), then its dx; else the last pair's dx
  f.get(P.R).i32(1).and().ifElse();
  f.get(P.R).i32(1).sub().set(row);
  pass(false);
  f.get(row).get(rowBytes).mul().get(P.dx).add().set(po);
  f.get(P.rows).set(nps);
  runLoop(f, po, P.D, [[nps, PAIR_ROWS]], L, (offsets) => offsets.forEach((o) => dxStep(RA, po, PAIR, o, 0)), (lane) => dxStep(RA, po, lane, 0, 0));
  f.else();
  dxStart();
  dxRun(P.D);
  f.end();
  return f;
}

/** The module: the functions of the header, exported by name, on the kernels' memory. */
export const layerNormWasm = wasmModule(() => [lnForward(), lnBackward()]);
