/**
 * The WebAssembly SIMD loops of BatchNorm version "wasm" (wasm_impl.ts), assembled by shared/wasm_asm.ts with the
 * lanes and loops of shared/wasm_loops.ts (float64 arithmetic in the TypeScript versions' expressions, float32
 * storage, tails in wasm). Addresses are byte offsets into the kernels' memory.
 *
 * NCHW, a whole call in one function: for each channel c, its N runs of S floats at stride C·S (401 KB for the
 * benchmark's (32, 64, 56, 56): the second pass over a channel reads it from L2, not from DRAM; the training
 * forward runs the second pass of channel c - 1 in the same loop as the first pass of channel c).
 *   nchwForward(x, y, N, C, S, w, b, eps, mean, rstd, variance)            (nchwForwardRelu: then max(·, 0))
 *     shifted sums Σ(x - K), Σ(x - K)² (K = the channel's first value), the one-pass variance with the
 *     cancellation test of shared/one_pass.ts (else the exact pass Σ((x - K) - dm)²), mean, rstd, variance, then
 *     y = (x - m1)·scale + t,  m1 = fl32(mean), scale = w·rstd, t = b - ((K - m1) + dm)·scale
 *   nchwEval(x, y, N, C, S, w, b, rm, rv, eps, mean, rstd)                 (nchwEvalRelu)
 *     y = (x - rm)·scale + b,  scale = w/sqrt(rv + eps)
 *   nchwBackward(dy, x, dx, N, C, S, w, mean, rstd, training, dw, db)
 *     Σ dy, Σ dy·(x - mean) → db, dw (float64), then dx = scale·dy - k0 - (x - mean)·k1, in the same loop as the
 *     next channel's sums
 * w, b, rm, rv are float32 arrays of C (the caller passes ones and zeros for affine = false); mean, rstd, variance,
 * dw, db float64 arrays of C.
 *
 * NHWC, (M, C) row-major: each row visits every channel, so the per-channel values live in a small table of
 * float64 fields, one 16-byte slot per channel pair (two lanes; an odd last channel uses lane 0 of its slot),
 * `fields` slots per pair. The reductions (sums, sqDev, bSums) stream x in blocks of a few rows; within a block
 * the channels go by groups of four pairs whose fields sit in locals for the block's rows (overBlocks), so the
 * accumulators are loaded and stored once per group and block, not per element. The elementwise passes (norm,
 * dx) only read their constants and go row by row, so their stores fill each line in order, the rows of the two
 * halves of the array side by side (overRows):
 *   nhwcSums(x, M, C, table)        table [shift, a1, a2]:  a1 += x - shift, a2 += (x - shift)²
 *   nhwcSqDev(x, M, C, table)       table [shift, dm, a2]:  a2 += ((x - shift) - dm)²
 *   nhwcNorm(x, y, M, C, table)     table [m1, scale, t]:   y = (x - m1)·scale + t        (nhwcNormRelu)
 *   nhwcBSums(dy, x, M, C, table)   table [mean, a1, a2]:   a1 += dy, a2 += dy·(x - mean)
 *   nhwcBdx(dy, x, dx, M, C, table) table [mean, scale, k0, k1]: dx = scale·dy - k0 - (x - mean)·k1
 *
 * The normalisation centres on m1 = fl32(mean) instead of the float64 mean so it is one subtraction, not two:
 * x - m1 is a difference of two float32, exact in float64, and the rest of the mean, (K - m1) + dm (exact K - m1,
 * then one rounding), moves into the constant t. The result differs from ((x - K) - dm)·scale + b by a few float64
 * roundings of terms no larger than |scale·(x - mean)| + |b|, far inside the forward bound.
 */
import { F64, Func, I32, V128 } from '../shared/wasm_asm.js';
import { laneSum, PAIR, runLoop, SINGLE, type Lane } from '../shared/wasm_loops.js';
import { wasmModule } from '../shared/wasm_runtime.js';

const U64 = 2 ** -53;

/** for (i = 0; i < n; i++) body() with i an i32 local */
function forRange(f: Func, i: number, n: number, body: () => void): void {
  f.i32(0).set(i);
  f.block().loop();
  f.get(i).get(n).geU().brIf(1);
  body();
  f.get(i).i32(1).add().set(i);
  f.br(0).end().end();
}

/** Accumulators of one reduction: four pairs for the main loop, one scalar for the odd tails. */
interface Acc {
  v: readonly [number, number, number, number];
  s: number;
}

function acc(f: Func): Acc {
  return { v: [f.local(V128), f.local(V128), f.local(V128), f.local(V128)], s: f.local(F64) };
}

function zeroAcc(f: Func, a: Acc): void {
  for (const v of a.v) f.v128Zero().set(v);
  f.f64(0).set(a.s);
}

/** a.v[j] (or a.s for a single) += the step value on the stack */
function accumulate(f: Func, a: Acc, lane: Lane, j: number): void {
  const target = lane === SINGLE ? a.s : a.v[j]!;
  f.get(target);
  lane.add(f);
  f.set(target);
}

/** Pushes the total: ((v0 + v1) + (v2 + v3)) summed over its lanes, plus the scalar part. */
function total(f: Func, a: Acc): void {
  f.get(a.v[0]).get(a.v[1]).f64x2Add().get(a.v[2]).get(a.v[3]).f64x2Add().f64x2Add().set(a.v[0]);
  laneSum(f, a.v[0]);
  f.get(a.s).f64Add();
}

/** A float64 constant in both lane kinds: the scalar local and its splat. */
interface Const {
  s: number;
  v: number;
}

function constant(f: Func): Const {
  return { s: f.local(F64), v: f.local(V128) };
}

/** Sets both forms of `k` from the f64 on the stack. */
function setConst(f: Func, k: Const): void {
  f.tee(k.s).f64x2Splat().set(k.v);
}

const get = (f: Func, k: Const, lane: Lane): void => void f.get(lane === SINGLE ? k.s : k.v);

/** Per-step temporaries of both kinds. */
const temp = constant;

/** The i32 locals of a channel's run loops. */
function runLocals(f: Func) {
  return { run: f.local(I32), n: f.local(I32), end: f.local(I32), end8: f.local(I32), end2: f.local(I32) };
}

/**
 * for each of the N runs of channel c (starts base + n·stride, for every array in `arrays`): run the S values
 * through runLoop with `step(lane, offset)`. `arrays` are [pointer local, base local]; pointer 0 drives the loop.
 */
function overRuns(
  f: Func, N: number, S: number, stride: number, arrays: readonly (readonly [number, number])[], L: ReturnType<typeof runLocals>,
  step: (lane: Lane, offset: number, j: number) => void,
): void {
  f.i32(0).set(L.n);
  f.block().loop();
  f.get(L.n).get(N).geU().brIf(1);
  f.get(L.n).get(stride).mul().set(L.run);
  for (const [p, base] of arrays) f.get(base).get(L.run).add().set(p);
  runLoop(f, arrays[0]![0], S, arrays.slice(1).map(([p]) => [p, 4] as const), L, (offsets) => offsets.forEach((o, j) => step(PAIR, o, j)), (lane) => step(lane, 0, 0));
  f.get(L.n).i32(1).add().set(L.n);
  f.br(0).end().end();
}

function nchwForward<N extends 'nchwForward' | 'nchwForwardRelu'>(name: N): Func<N> {
  const f = new Func(name, { x: I32, y: I32, N: I32, C: I32, S: I32, w: I32, b: I32, eps: F64, mean: I32, rstd: I32, variance: I32 });
  const P = f.params;
  const relu = name === 'nchwForwardRelu';
  // xb: channel c's first run; pb, yb: channel c - 1's first run in x and y (the channel being normalised)
  const c = f.local(I32), stride = f.local(I32), xb = f.local(I32), pb = f.local(I32), yb = f.local(I32);
  const p = f.local(I32), pp = f.local(I32), q = f.local(I32);
  const L = runLocals(f);
  const Mf = f.local(F64), gamma = f.local(F64), s1 = f.local(F64), s2 = f.local(F64), dm = f.local(F64), meanSq = f.local(F64);
  const v = f.local(F64), r = f.local(F64), mean = f.local(F64);
  const K = constant(f), DM = constant(f), M1 = constant(f), SC = constant(f), T = constant(f), d = temp(f), zero = constant(f);
  const A = acc(f), Q = acc(f);
  f.get(P.C).get(P.S).mul().i32(2).shl().set(stride);
  f.get(P.N).get(P.S).mul().f64FromU32().set(Mf);
  // γ_M = M·u64/(1 - M·u64), for the cancellation test
  f.get(Mf).f64(U64).f64Mul().f64(1).get(Mf).f64(U64).f64Mul().f64Sub().f64Div().set(gamma);
  f.f64(0);
  setConst(f, zero);

  // Σ(x - K), Σ(x - K)² of channel c, at pointer p
  const sumsStep = (lane: Lane, o: number, j: number): void => {
    f.get(p);
    lane.loadF32(f, o);
    get(f, K, lane);
    lane.sub(f);
    f.tee(lane === SINGLE ? d.s : d.v);
    accumulate(f, A, lane, j);
    get(f, d, lane);
    get(f, d, lane);
    lane.mul(f);
    accumulate(f, Q, lane, j);
  };
  // y = (x - m1)·scale + t of the channel whose constants are set, from pointer pp into q
  const normStep = (lane: Lane, o: number): void => {
    f.get(q).get(pp);
    lane.loadF32(f, o);
    get(f, M1, lane);
    lane.sub(f);
    get(f, SC, lane);
    lane.mul(f);
    get(f, T, lane);
    lane.add(f);
    if (relu) lane.relu(f, lane === SINGLE ? d.s : d.v, lane === SINGLE ? zero.s : zero.v);
    lane.storeF32(f, o);
  };
  // channel c's shift K = its first value, the accumulators zeroed
  const startChannel = (): void => {
    f.get(c).get(P.S).mul().i32(2).shl().get(P.x).add().tee(xb);
    f.f32Load().f64Promote();
    setConst(f, K);
    zeroAcc(f, A);
    zeroAcc(f, Q);
  };
  // channel c's statistics from its sums, then its normalisation constants M1, SC, T
  const finishChannel = (): void => {
    total(f, A);
    f.set(s1);
    total(f, Q);
    f.set(s2);
    // the one-pass variance, biased; the exact second pass when it may have cancelled (shared/one_pass.ts)
    f.get(s1).get(Mf).f64Div().set(dm);
    f.get(s2).get(Mf).f64Div().set(meanSq);
    f.get(meanSq).get(dm).get(dm).f64Mul().f64Sub().set(v);
    f.get(v).f64(0).f64Ge();
    f.f64(3).get(gamma).f64Mul().get(meanSq).f64Mul().f64(2 ** -30).get(v).f64Mul().f64Le();
    f.and().eqz().ifElse();
    f.get(dm);
    setConst(f, DM);
    zeroAcc(f, Q);
    overRuns(f, P.N, P.S, stride, [[p, xb]], L, (lane, o, j) => {
      f.get(p);
      lane.loadF32(f, o);
      get(f, K, lane);
      lane.sub(f);
      get(f, DM, lane);
      lane.sub(f);
      f.tee(lane === SINGLE ? d.s : d.v);
      get(f, d, lane);
      lane.mul(f);
      accumulate(f, Q, lane, j);
    });
    total(f, Q);
    f.get(Mf).f64Div().set(v);
    f.end();
    // mean, rstd, variance
    f.get(K.s).get(dm).f64Add().set(mean);
    f.get(c).i32(3).shl().get(P.mean).add().get(mean).f64Store();
    f.f64(1).get(v).get(P.eps).f64Add().f64Sqrt().f64Div().set(r);
    f.get(c).i32(3).shl().get(P.rstd).add().get(r).f64Store();
    f.get(c).i32(3).shl().get(P.variance).add().get(v).f64Store();
    // scale = w·rstd, m1 = fl32(mean), t = b - ((K - m1) + dm)·scale
    f.get(c).i32(2).shl().get(P.w).add().f32Load().f64Promote().get(r).f64Mul();
    setConst(f, SC);
    f.get(mean).f32Demote().f64Promote();
    setConst(f, M1);
    f.get(c).i32(2).shl().get(P.b).add().f32Load().f64Promote();
    f.get(K.s).get(M1.s).f64Sub().get(dm).f64Add().get(SC.s).f64Mul().f64Sub();
    setConst(f, T);
    // channel c is the next to normalise
    f.get(xb).set(pb);
    f.get(c).get(P.S).mul().i32(2).shl().get(P.y).add().set(yb);
  };

  // Software-pipelined over channels: one loop reads channel c for its sums (from memory) while it normalises
  // channel c - 1 (from L2, its 401 kB read by the loop before) into y, so reads and writes stream together as
  // in a memcpy instead of a read-only pass and a write pass taking turns. Each channel's sums see the same
  // values in the same order and accumulators as in a loop of their own, so the results are those of the plain
  // two-pass order.
  f.i32(0).set(c);
  startChannel();
  overRuns(f, P.N, P.S, stride, [[p, xb]], L, sumsStep);
  finishChannel();
  f.i32(1).set(c);
  f.block().loop();
  f.get(c).get(P.C).geU().brIf(1);
  startChannel();
  overRuns(f, P.N, P.S, stride, [[p, xb], [pp, pb], [q, yb]], L, (lane, o, j) => {
    sumsStep(lane, o, j);
    normStep(lane, o);
  });
  finishChannel();
  f.get(c).i32(1).add().set(c);
  f.br(0).end().end();
  // the last channel's normalisation
  overRuns(f, P.N, P.S, stride, [[pp, pb], [q, yb]], L, (lane, o) => normStep(lane, o));
  return f;
}

function nchwEval<N extends 'nchwEval' | 'nchwEvalRelu'>(name: N): Func<N> {
  const f = new Func(name, { x: I32, y: I32, N: I32, C: I32, S: I32, w: I32, b: I32, rm: I32, rv: I32, eps: F64, mean: I32, rstd: I32 });
  const P = f.params;
  const relu = name === 'nchwEvalRelu';
  const c = f.local(I32), stride = f.local(I32), xb = f.local(I32), yb = f.local(I32), p = f.local(I32), q = f.local(I32);
  const p2 = f.local(I32), q2 = f.local(I32), half = f.local(I32), halfBytes = f.local(I32);
  const L = runLocals(f);
  const r = f.local(F64);
  const M1 = constant(f), SC = constant(f), T = constant(f), d = temp(f), zero = constant(f);
  f.get(P.C).get(P.S).mul().i32(2).shl().set(stride);
  f.get(P.N).i32(1).shrU().tee(half).get(stride).mul().set(halfBytes);
  f.f64(0);
  setConst(f, zero);
  forRange(f, c, P.C, () => {
    f.get(c).get(P.S).mul().i32(2).shl().tee(xb).get(P.x).add().set(xb);
    f.get(c).get(P.S).mul().i32(2).shl().get(P.y).add().set(yb);
    // mean = running mean, rstd = 1/sqrt(running var + eps), scale = w·rstd, t = b
    f.get(c).i32(2).shl().get(P.rm).add().f32Load().f64Promote();
    setConst(f, M1);
    f.get(c).i32(3).shl().get(P.mean).add().get(M1.s).f64Store();
    f.f64(1).get(c).i32(2).shl().get(P.rv).add().f32Load().f64Promote().get(P.eps).f64Add().f64Sqrt().f64Div().set(r);
    f.get(c).i32(3).shl().get(P.rstd).add().get(r).f64Store();
    f.get(c).i32(2).shl().get(P.w).add().f32Load().f64Promote().get(r).f64Mul();
    setConst(f, SC);
    f.get(c).i32(2).shl().get(P.b).add().f32Load().f64Promote();
    setConst(f, T);
    // y = (x - rm)·scale + b (then ReLU) of the value(s) at `from` into `to`
    const step = (lane: Lane, o: number, from: number, to: number): void => {
      f.get(to).get(from);
      lane.loadF32(f, o);
      get(f, M1, lane);
      lane.sub(f);
      get(f, SC, lane);
      lane.mul(f);
      get(f, T, lane);
      lane.add(f);
      if (relu) lane.relu(f, lane === SINGLE ? d.s : d.v, lane === SINGLE ? zero.s : zero.v);
      lane.storeF32(f, o);
    };
    // Runs n and n + N/2 side by side (N odd: the last run after the loop), so x and y are each two streams of
    // misses instead of one; every element's result is independent of the order.
    f.i32(0).set(L.n);
    f.block().loop();
    f.get(L.n).get(half).geU().brIf(1);
    f.get(L.n).get(stride).mul().set(L.run);
    f.get(xb).get(L.run).add().tee(p).get(halfBytes).add().set(p2);
    f.get(yb).get(L.run).add().tee(q).get(halfBytes).add().set(q2);
    runLoop(f, p, P.S, [[q, 4], [p2, 4], [q2, 4]], L, (offsets) => offsets.forEach((o) => {
      step(PAIR, o, p, q);
      step(PAIR, o, p2, q2);
    }), (lane) => {
      step(lane, 0, p, q);
      step(lane, 0, p2, q2);
    });
    f.get(L.n).i32(1).add().set(L.n);
    f.br(0).end().end();
    f.get(P.N).i32(1).and().ifElse();
    f.get(P.N).i32(1).sub().get(stride).mul().set(L.run);
    f.get(xb).get(L.run).add().set(p);
    f.get(yb).get(L.run).add().set(q);
    runLoop(f, p, P.S, [[q, 4]], L, (offsets) => offsets.forEach((o) => step(PAIR, o, p, q)), (lane) => step(lane, 0, p, q));
    f.end();
  });
  return f;
}

function nchwBackward(): Func<'nchwBackward'> {
  const f = new Func('nchwBackward', {
    dy: I32, x: I32, dx: I32, N: I32, C: I32, S: I32, w: I32, mean: I32, rstd: I32, training: I32, dw: I32, db: I32,
  });
  const P = f.params;
  // channel c (reduced): gb, xb; channel c - 1 (its dx written): ngb, nxb, nob
  const c = f.local(I32), stride = f.local(I32), gb = f.local(I32), xb = f.local(I32);
  const ngb = f.local(I32), nxb = f.local(I32), nob = f.local(I32);
  const pg = f.local(I32), px = f.local(I32), npg = f.local(I32), npx = f.local(I32), npo = f.local(I32);
  const L = runLocals(f);
  const Mf = f.local(F64), r = f.local(F64), sumDy = f.local(F64), sumDyXhat = f.local(F64);
  const MEAN = constant(f), g = temp(f);
  const NMEAN = constant(f), NSC = constant(f), NK0 = constant(f), NK1 = constant(f);
  const A = acc(f), H = acc(f);
  f.get(P.C).get(P.S).mul().i32(2).shl().set(stride);
  f.get(P.N).get(P.S).mul().f64FromU32().set(Mf);

  // reductions of channel c: Σ dy and Σ dy·(x - mean), at pg, px
  const reduce = (lane: Lane, o: number, j: number): void => {
    f.get(pg);
    lane.loadF32(f, o);
    f.tee(lane === SINGLE ? g.s : g.v);
    accumulate(f, A, lane, j);
    get(f, g, lane);
    f.get(px);
    lane.loadF32(f, o);
    get(f, MEAN, lane);
    lane.sub(f);
    lane.mul(f);
    accumulate(f, H, lane, j);
  };
  // dx = scale·dy - k0 - (x - mean)·k1 of the channel whose constants are set, from npg, npx into npo
  const dxStep = (lane: Lane, o: number): void => {
    f.get(npo);
    get(f, NSC, lane);
    f.get(npg);
    lane.loadF32(f, o);
    lane.mul(f);
    get(f, NK0, lane);
    lane.sub(f);
    f.get(npx);
    lane.loadF32(f, o);
    get(f, NMEAN, lane);
    lane.sub(f);
    get(f, NK1, lane);
    lane.mul(f);
    lane.sub(f);
    lane.storeF32(f, o);
  };
  const startChannel = (): void => {
    f.get(c).get(P.S).mul().i32(2).shl().tee(gb).get(P.x).add().set(xb);
    f.get(gb).get(P.dy).add().set(gb);
    f.get(c).i32(3).shl().get(P.mean).add().f64Load();
    setConst(f, MEAN);
    zeroAcc(f, A);
    zeroAcc(f, H);
  };
  // channel c's dw, db, and the constants of its dx pass (the next one run)
  const finishChannel = (): void => {
    f.get(c).i32(3).shl().get(P.rstd).add().f64Load().set(r);
    f.get(c).i32(2).shl().get(P.w).add().f32Load().f64Promote().get(r).f64Mul();
    setConst(f, NSC);
    total(f, A);
    f.set(sumDy);
    total(f, H);
    f.get(r).f64Mul().set(sumDyXhat);
    f.get(c).i32(3).shl().get(P.db).add().get(sumDy).f64Store();
    f.get(c).i32(3).shl().get(P.dw).add().get(sumDyXhat).f64Store();
    // k0 = scale·Σdy/M, k1 = scale·rstd·Σdy·x̂/M in training; 0 in eval
    f.get(NSC.s).get(sumDy).f64Mul().get(Mf).f64Div().f64(0).get(P.training).select();
    setConst(f, NK0);
    f.get(NSC.s).get(r).f64Mul().get(sumDyXhat).f64Mul().get(Mf).f64Div().f64(0).get(P.training).select();
    setConst(f, NK1);
    f.get(MEAN.s);
    setConst(f, NMEAN);
    f.get(gb).set(ngb);
    f.get(xb).set(nxb);
    f.get(c).get(P.S).mul().i32(2).shl().get(P.dx).add().set(nob);
  };

  // Software-pipelined over channels as nchwForward: the reductions of channel c (reading dy, x from memory) in
  // the same loop as the dx of channel c - 1 (reading them back from L2), each channel's sums in their own order.
  f.i32(0).set(c);
  startChannel();
  overRuns(f, P.N, P.S, stride, [[pg, gb], [px, xb]], L, reduce);
  finishChannel();
  f.i32(1).set(c);
  f.block().loop();
  f.get(c).get(P.C).geU().brIf(1);
  startChannel();
  overRuns(f, P.N, P.S, stride, [[pg, gb], [px, xb], [npg, ngb], [npx, nxb], [npo, nob]], L, (lane, o, j) => {
    reduce(lane, o, j);
    dxStep(lane, o);
  });
  finishChannel();
  f.get(c).i32(1).add().set(c);
  f.br(0).end().end();
  // the last channel's dx
  overRuns(f, P.N, P.S, stride, [[npg, ngb], [npx, nxb], [npo, nob]], L, (lane, o) => dxStep(lane, o));
  return f;
}

// ---------------------------------------------------------------------------------------------------------
// NHWC: the reductions by blocks of rows with their table fields in locals, the elementwise passes row by row

/**
 * Rows per block of the reductions: 8 rows of 64 channels are 2 KB per array, so a block's later channel groups
 * read it from L1 while the array itself is read from memory once, in order.
 */
const BLOCK_ROWS = 8;

/** A table field a loop keeps in a local: read before each block's rows, stored back after them if `out`. */
interface FieldUse {
  k: number;
  out: boolean;
}

/**
 * For each block of `blockRows` rows (the last may be shorter), for each group of channels: `G` pairs at a time,
 * then single pairs, then an odd last channel (lane 0 of its slot). A group's `use`d table fields are loaded
 * into locals, its rows run through `step(lane, q, xOff, v)` (q the row pointers, xOff the pair's byte offset in
 * the row, v(k) the local holding field k of the pair), and the accumulating fields stored back. Every channel
 * still sees rows 0, 1, …, M - 1 in order with one accumulator each, so the sums are those of a row-by-row loop
 * over the table; only the loads and stores of the table leave the per-element steps. Reading a block once per
 * group costs L1 hits: each array is read from memory once per pass, in order.
 */
function overBlocks(
  f: Func, M: number, C: number, table: number, fields: number, rows: readonly number[], use: readonly FieldUse[], G: number, blockRows: number,
  step: (lane: Lane, q: readonly number[], xOff: number, v: (k: number) => number) => void,
): void {
  const slot = 16 * fields;
  const vec = Array.from({ length: G }, () => new Map(use.map((u) => [u.k, f.local(V128)] as const)));
  const sca = new Map(use.map((u) => [u.k, f.local(F64)] as const));
  const stride = f.local(I32), left = f.local(I32), blockBytes = f.local(I32), t = f.local(I32), co = f.local(I32);
  const cnt = f.local(I32), end = f.local(I32);
  const base = rows.map(() => f.local(I32)), q = rows.map(() => f.local(I32));
  const group = (lane: Lane, k: number): void => {
    const local = (j: number, key: number): number => (lane === SINGLE ? sca.get(key)! : vec[j]!.get(key)!);
    for (let j = 0; j < k; j++) for (const u of use) {
      f.get(t);
      lane.loadF64(f, j * slot + 16 * u.k);
      f.set(local(j, u.k));
    }
    base.forEach((b, i) => f.get(b).get(co).add().set(q[i]!));
    f.get(q[0]!).get(blockBytes).add().set(end);
    f.loop();
    for (let j = 0; j < k; j++) step(lane, q, 8 * j, (key) => local(j, key));
    for (const qi of q) f.get(qi).get(stride).add().set(qi);
    f.get(q[0]!).get(end).ltU().brIf(0);
    f.end();
    for (let j = 0; j < k; j++) for (const u of use) {
      if (!u.out) continue;
      f.get(t).get(local(j, u.k));
      lane.storeF64(f, j * slot + 16 * u.k);
    }
    f.get(t).i32(k * slot).add().set(t);
    f.get(co).i32(8 * k).add().set(co);
  };
  const groups = (count: () => void, lane: Lane, k: number): void => {
    count();
    f.set(cnt);
    f.block().loop();
    f.get(cnt).eqz().brIf(1);
    group(lane, k);
    f.get(cnt).i32(1).sub().set(cnt);
    f.br(0).end().end();
  };
  f.get(C).i32(2).shl().set(stride);
  rows.forEach((r, i) => f.get(r).set(base[i]!));
  f.get(M).set(left);
  f.block().loop();
  f.get(left).eqz().brIf(1);
  // this block's rows: min(left, blockRows)
  f.get(left).i32(blockRows).get(left).i32(blockRows).ltU().select().tee(cnt);
  f.get(stride).mul().set(blockBytes);
  f.get(left).get(cnt).sub().set(left);
  f.get(table).set(t);
  f.i32(0).set(co);
  groups(() => void f.get(C).i32(1).shrU().i32(Math.log2(G)).shrU(), PAIR, G);
  groups(() => void f.get(C).i32(1).shrU().i32(G - 1).and(), PAIR, 1);
  f.get(C).i32(1).and().ifElse();
  group(SINGLE, 1);
  f.end();
  for (const b of base) f.get(b).get(blockBytes).add().set(b);
  f.br(0).end().end();
}

/**
 * For each of the M rows: each channel pair (unrolled by four), then an odd last channel, with `step(lane, q, t,
 * xOff, tOff)` given the row pointers q, the byte offsets of the pair in the row arrays and of its slot in the
 * table. `rows` are the arrays' first rows. The rows go as two halves side by side, row i of [0, M/2) then row i of
 * [M/2, M) (M odd: the last row after them): two streams per array instead of one, which the memory serves
 * concurrently; each element's step is independent of the others, so the order changes no result.
 */
function overRows(
  f: Func, M: number, C: number, table: number, fields: number, rows: readonly number[],
  step: (lane: Lane, q: readonly number[], t: number, xOff: number, tOff: number) => void,
): void {
  const slot = 16 * fields;
  const row = f.local(I32), half = f.local(I32), cnt = f.local(I32), t = f.local(I32), groups = f.local(I32), pairs = f.local(I32);
  const stride = f.local(I32);
  const q = rows.map(() => f.local(I32));
  const second = rows.map(() => f.local(I32));
  f.get(C).i32(3).shrU().set(groups);
  f.get(C).i32(1).shrU().i32(3).and().set(pairs);
  f.get(C).i32(2).shl().set(stride);
  f.get(M).i32(1).shrU().set(half);
  rows.forEach((r, i) => f.get(r).get(half).get(stride).mul().add().set(second[i]!));
  // one row at the pointers `at`, which then move on by a row
  const oneRow = (at: readonly number[]): void => {
    at.forEach((r, i) => f.get(r).set(q[i]!));
    f.get(table).set(t);
    // groups of four pairs
    f.get(groups).set(cnt);
    f.block().loop();
    f.get(cnt).eqz().brIf(1);
    for (let k = 0; k < 4; k++) step(PAIR, q, t, 8 * k, slot * k);
    for (const qi of q) f.get(qi).i32(32).add().set(qi);
    f.get(t).i32(4 * slot).add().set(t);
    f.get(cnt).i32(1).sub().set(cnt);
    f.br(0).end().end();
    // the remaining pairs
    f.get(pairs).set(cnt);
    f.block().loop();
    f.get(cnt).eqz().brIf(1);
    step(PAIR, q, t, 0, 0);
    for (const qi of q) f.get(qi).i32(8).add().set(qi);
    f.get(t).i32(slot).add().set(t);
    f.get(cnt).i32(1).sub().set(cnt);
    f.br(0).end().end();
    // an odd last channel: lane 0 of its slot
    f.get(C).i32(1).and().ifElse();
    step(SINGLE, q, t, 0, 0);
    f.end();
    for (const r of at) f.get(r).get(stride).add().set(r);
  };
  forRange(f, row, half, () => {
    oneRow(rows);
    oneRow(second);
  });
  f.get(M).i32(1).and().ifElse();
  oneRow(second);
  f.end();
}

/** field k of the table slot at local t + tOff, for the lane */
const field = (f: Func, lane: Lane, t: number, tOff: number, k: number): void => {
  f.get(t);
  lane.loadF64(f, tOff + 16 * k);
};

const tempOf = (lane: Lane, k: Const): number => (lane === SINGLE ? k.s : k.v);

/** local v += the value on the stack */
function addTo(f: Func, lane: Lane, v: number): void {
  f.get(v);
  lane.add(f);
  f.set(v);
}

function nhwcSums(): Func<'nhwcSums'> {
  const f = new Func('nhwcSums', { x: I32, M: I32, C: I32, table: I32 });
  const P = f.params;
  const d = temp(f);
  overBlocks(f, P.M, P.C, P.table, 3, [P.x], [{ k: 0, out: false }, { k: 1, out: true }, { k: 2, out: true }], 4, BLOCK_ROWS, (lane, [qx], xOff, v) => {
    f.get(qx!);
    lane.loadF32(f, xOff);
    f.get(v(0));
    lane.sub(f);
    f.tee(tempOf(lane, d));
    addTo(f, lane, v(1));
    get(f, d, lane);
    get(f, d, lane);
    lane.mul(f);
    addTo(f, lane, v(2));
  });
  return f;
}

function nhwcSqDev(): Func<'nhwcSqDev'> {
  const f = new Func('nhwcSqDev', { x: I32, M: I32, C: I32, table: I32 });
  const P = f.params;
  const d = temp(f);
  overBlocks(f, P.M, P.C, P.table, 3, [P.x], [{ k: 0, out: false }, { k: 1, out: false }, { k: 2, out: true }], 4, BLOCK_ROWS, (lane, [qx], xOff, v) => {
    f.get(qx!);
    lane.loadF32(f, xOff);
    f.get(v(0));
    lane.sub(f);
    f.get(v(1));
    lane.sub(f);
    f.tee(tempOf(lane, d));
    get(f, d, lane);
    lane.mul(f);
    addTo(f, lane, v(2));
  });
  return f;
}

function nhwcNorm<N extends 'nhwcNorm' | 'nhwcNormRelu'>(name: N): Func<N> {
  const f = new Func(name, { x: I32, y: I32, M: I32, C: I32, table: I32 });
  const P = f.params;
  const relu = name === 'nhwcNormRelu';
  const d = temp(f), zero = constant(f);
  f.f64(0);
  setConst(f, zero);
  overRows(f, P.M, P.C, P.table, 3, [P.x, P.y], (lane, [qx, qy], t, xOff, tOff) => {
    f.get(qy!).get(qx!);
    lane.loadF32(f, xOff);
    field(f, lane, t, tOff, 0);
    lane.sub(f);
    field(f, lane, t, tOff, 1);
    lane.mul(f);
    field(f, lane, t, tOff, 2);
    lane.add(f);
    if (relu) lane.relu(f, lane === SINGLE ? d.s : d.v, lane === SINGLE ? zero.s : zero.v);
    lane.storeF32(f, xOff);
  });
  return f;
}

function nhwcBSums(): Func<'nhwcBSums'> {
  const f = new Func('nhwcBSums', { dy: I32, x: I32, M: I32, C: I32, table: I32 });
  const P = f.params;
  const g = temp(f);
  overBlocks(f, P.M, P.C, P.table, 3, [P.dy, P.x], [{ k: 0, out: false }, { k: 1, out: true }, { k: 2, out: true }], 4, BLOCK_ROWS, (lane, [qg, qx], xOff, v) => {
    f.get(qg!);
    lane.loadF32(f, xOff);
    f.tee(tempOf(lane, g));
    addTo(f, lane, v(1));
    get(f, g, lane);
    f.get(qx!);
    lane.loadF32(f, xOff);
    f.get(v(0));
    lane.sub(f);
    lane.mul(f);
    addTo(f, lane, v(2));
  });
  return f;
}

function nhwcBdx(): Func<'nhwcBdx'> {
  const f = new Func('nhwcBdx', { dy: I32, x: I32, dx: I32, M: I32, C: I32, table: I32 });
  const P = f.params;
  overRows(f, P.M, P.C, P.table, 4, [P.dy, P.x, P.dx], (lane, [qg, qx, qo], t, xOff, tOff) => {
    f.get(qo!);
    field(f, lane, t, tOff, 1);
    f.get(qg!);
    lane.loadF32(f, xOff);
    lane.mul(f);
    field(f, lane, t, tOff, 2);
    lane.sub(f);
    f.get(qx!);
    lane.loadF32(f, xOff);
    field(f, lane, t, tOff, 0);
    lane.sub(f);
    field(f, lane, t, tOff, 3);
    lane.mul(f);
    lane.sub(f);
    lane.storeF32(f, xOff);
  });
  return f;
}

/** The functions of the header (scripts/bench/bandwidth.ts times nchwEval alone). */
export const batchNormFunctions = () => [
  nchwForward('nchwForward'), nchwForward('nchwForwardRelu'), nchwEval('nchwEval'), nchwEval('nchwEvalRelu'), nchwBackward(),
  nhwcSums(), nhwcSqDev(), nhwcNorm('nhwcNorm'), nhwcNorm('nhwcNormRelu'), nhwcBSums(), nhwcBdx(),
];

/** The module: those functions, exported by name, on the kernels' memory. */
export const batchNormWasm = wasmModule(batchNormFunctions);

