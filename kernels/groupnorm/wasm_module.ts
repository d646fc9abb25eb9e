/**
 * The WebAssembly SIMD loops of the GroupNorm "wasm" versions (wasm_impl.ts), assembled by shared/wasm_asm.ts with
 * the lanes and loops of shared/wasm_loops.ts: float64 arithmetic in the TypeScript versions' expressions, float32
 * storage, tails in wasm. Addresses are byte offsets into the kernels' memory; w, b and the tables are float64
 * arrays of C (the caller passes ones and zeros for affine = false).
 *
 * NCHW, a whole call in one function, group by group: a group is D = Cg·S contiguous values (25 kB for the
 * benchmark's (16, 64, 56, 56) with G = 32, 50 kB of x and dy in the backward), so its second pass reads it back
 * from L1/L2. Both functions are software-pipelined over groups as BatchNorm's NCHW ones are over channels: one
 * loop per channel run j reads run j of group ng from memory for its sums while it writes y (dx) of run j of group
 * ng - 1, so the read of the next group and the write of the last stream together instead of taking turns.
 *   gnForwardNchw(x, y, NG, G, Cg, S, w, b, eps, mean, rstd, variance)
 *     shifted sums Σ(x - K), Σ(x - K)² over the group (K its first value), the one-pass variance with the
 *     cancellation test of shared/one_pass.ts (else the exact pass Σ((x - K) - dm)²), mean, rstd, variance, then
 *     per channel run  y = (x - m1)·scale + t,  m1 = fl32(mean), scale = w·rstd, t = b - ((K - m1) + dm)·scale
 *   gnBackwardNchw(dy, x, dx, NG, G, Cg, S, w, mean, rstd, inputStats, accW, accB)
 *     per channel run Σ dy, Σ dy·(x - mean) → accW += rstd·Σ dy·(x - mean), accB += Σ dy, the group's Σg, Σg·(x - mean);
 *     k0, k1 (0 without inputStats); per channel run  dx = (w·rstd)·dy - k0 - (x - mean)·k1   (backward_impl.ts's)
 *
 * The forward centres on m1 = fl32(mean), as batchnorm/wasm_module.ts does, so the normalisation is one
 * subtraction, not two: x - m1 is a difference of two float32, exact in float64, and the rest of the mean,
 * (K - m1) + dm (K - m1 exact, then one rounding), moves into the per-channel constant t. The result differs from
 * forward_impl.ts's ((x - K) - dm)·scale + b by a few float64 roundings of terms no larger than
 * |scale·(x - mean)| + |b|, far inside the forward bound (a few 2⁻⁵³ against the float32 rounding's 2⁻²⁴).
 *
 * NHWC, (rows, C) row-major, one sample's S rows per call (the group statistics between the calls are C values
 * of JavaScript): each row visits every channel, so the per-channel values are float64 tables of C, read and
 * written in L1 while x streams.
 *   nhwcSums(x, rows, C, shift, a1, a2)                    a1 += x - shift, a2 += (x - shift)²
 *   nhwcNorm(x, y, rows, C, shift, dm, scale, off)         y = ((x - shift) - dm)·scale + off
 *   nhwcBSums(dy, x, rows, C, mean, a1, a2)                a1 += dy, a2 += dy·(x - mean)
 *   nhwcBdx(dy, x, dx, rows, C, mean, scale, k0, k1)       dx = scale·dy - k0 - (x - mean)·k1
 */
import { F64, Func, I32 } from '../shared/wasm_asm.js';
import { PAIR, runLoop, type Lane } from '../shared/wasm_loops.js';
import { wasmModule } from '../shared/wasm_runtime.js';
import {
  acc, accumulate, both, forRange, getBoth, pushGamma, runLocals, setBoth, setLane, teeLane, total, wide, zeroAcc,
} from '../shared/wasm_steps.js';

/** local c0 += Cg, back to 0 when it reaches C: the first channel of the next group (groups run n-major). */
function nextGroup(f: Func, c0: number, Cg: number, C: number): void {
  f.get(c0).get(Cg).add().tee(c0).get(C).eq().ifElse();
  f.i32(0).set(c0);
  f.end();
}

function gnForwardNchw(): Func<'gnForwardNchw'> {
  const f = new Func('gnForwardNchw', {
    x: I32, y: I32, NG: I32, G: I32, Cg: I32, S: I32, w: I32, b: I32, eps: F64, mean: I32, rstd: I32, variance: I32,
  });
  const P = f.params;
  // c0, xg: group ng's first channel and first value; pc0: the first channel of group ng - 1 (being normalised)
  const ng = f.local(I32), j = f.local(I32), c = f.local(I32), c0 = f.local(I32), pc0 = f.local(I32), C = f.local(I32), D = f.local(I32);
  const p = f.local(I32), pp = f.local(I32), q = f.local(I32), xg = f.local(I32), off = f.local(I32), groupBytes = f.local(I32), runBytes = f.local(I32);
  const L = runLocals(f);
  const Df = f.local(F64), gamma = f.local(F64), s1 = f.local(F64), s2 = f.local(F64), dm = f.local(F64), meanSq = f.local(F64);
  const v = f.local(F64), r = f.local(F64), mean = f.local(F64), pr = f.local(F64), prest = f.local(F64);
  const K = both(f), DM = both(f), M1 = both(f), SC = both(f), T = both(f), dev = both(f);
  const A = acc(f), Q = acc(f);
  f.get(P.G).get(P.Cg).mul().set(C);
  f.get(P.Cg).get(P.S).mul().tee(D).i32(2).shl().set(groupBytes);
  f.get(P.S).i32(2).shl().set(runBytes);
  f.get(D).f64FromU32().set(Df);
  pushGamma(f, Df);
  f.set(gamma);
  f.i32(0).set(c0);

  // Σ(x - K), Σ(x - K)² of group ng, at pointer p
  const shifted = (lane: Lane, o: number, k: number): void => {
    f.get(p);
    lane.loadF32(f, o);
    getBoth(f, K, lane);
    lane.sub(f);
    teeLane(f, dev, lane);
    accumulate(f, A, lane, k);
    getBoth(f, dev, lane);
    getBoth(f, dev, lane);
    lane.mul(f);
    accumulate(f, Q, lane, k);
  };
  // y = (x - m1)·scale + t of group ng - 1, from pointer pp into q
  const normalize = (lane: Lane, o: number): void => {
    f.get(q).get(pp);
    lane.loadF32(f, o);
    getBoth(f, M1, lane);
    lane.sub(f);
    getBoth(f, SC, lane);
    lane.mul(f);
    getBoth(f, T, lane);
    lane.add(f);
    lane.storeF32(f, o);
  };
  // group ng: its shift K = its first value, the accumulators zeroed
  const startGroup = (): void => {
    f.get(ng).get(groupBytes).mul().get(P.x).add().tee(xg);
    f.f32Load().f64Promote();
    setBoth(f, K);
    zeroAcc(f, A);
    zeroAcc(f, Q);
  };
  // channel run j of group ng (for its sums)
  const sumsRun = (): void => {
    f.get(j).get(runBytes).mul().get(xg).add().set(p);
  };
  // channel run j of group ng - 1 (to normalise): pp, q, and its constants scale = w·rstd, t = b - rest·scale
  const normRun = (): void => {
    f.get(ng).i32(1).sub().get(groupBytes).mul().get(j).get(runBytes).mul().add().set(off);
    f.get(off).get(P.x).add().set(pp);
    f.get(off).get(P.y).add().set(q);
    f.get(pc0).get(j).add().i32(3).shl().set(c);
    f.get(c).get(P.w).add().f64Load().get(pr).f64Mul();
    setBoth(f, SC);
    f.get(c).get(P.b).add().f64Load().get(prest).get(SC.s).f64Mul().f64Sub();
    setBoth(f, T);
  };
  // group ng's statistics from its sums; it becomes the group to normalise
  const finishGroup = (): void => {
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
    const deviations = (lane: Lane, o: number, k: number): void => {
      f.get(p);
      lane.loadF32(f, o);
      getBoth(f, K, lane);
      lane.sub(f);
      getBoth(f, DM, lane);
      lane.sub(f);
      teeLane(f, dev, lane);
      getBoth(f, dev, lane);
      lane.mul(f);
      accumulate(f, Q, lane, k);
    };
    f.get(xg).set(p);
    runLoop(f, p, D, [], L, (offsets) => offsets.forEach((o, k) => deviations(PAIR, o, k)), (lane) => deviations(lane, 0, 0));
    total(f, Q);
    f.get(Df).f64Div().set(v);
    f.end();
    // mean, rstd, variance
    f.get(K.s).get(dm).f64Add().set(mean);
    f.get(ng).i32(3).shl().get(P.mean).add().get(mean).f64Store();
    f.f64(1).get(v).get(P.eps).f64Add().f64Sqrt().f64Div().set(r);
    f.get(ng).i32(3).shl().get(P.rstd).add().get(r).f64Store();
    f.get(ng).i32(3).shl().get(P.variance).add().get(v).f64Store();
    // group ng is the next to normalise: m1 = fl32(mean), rest = (K - m1) + dm, rstd
    f.get(mean).f32Demote().f64Promote();
    setBoth(f, M1);
    f.get(K.s).get(M1.s).f64Sub().get(dm).f64Add().set(prest);
    f.get(r).set(pr);
    f.get(c0).set(pc0);
    nextGroup(f, c0, P.Cg, C);
  };

  // Software-pipelined over groups, as BatchNorm's NCHW forward over channels: channel run j of group ng is read
  // for the sums (from memory) in the same loop that normalises run j of group ng - 1 (read back from L1/L2, its
  // D values read by the loop before) into y, so the read of the next group and the write of the last stream
  // together. A group's sums accumulate run by run into the same accumulators, in the order of one loop over
  // the group whenever S is a multiple of 8 (runLoop's block), another order of the same D terms otherwise:
  // the same recursive-sum bound γ_D either way.
  f.i32(0).set(ng);
  startGroup();
  forRange(f, j, P.Cg, () => {
    sumsRun();
    runLoop(f, p, P.S, [], L, (offsets) => offsets.forEach((o, k) => shifted(PAIR, o, k)), (lane) => shifted(lane, 0, 0));
  });
  finishGroup();
  f.i32(1).set(ng);
  f.block().loop();
  f.get(ng).get(P.NG).geU().brIf(1);
  startGroup();
  forRange(f, j, P.Cg, () => {
    sumsRun();
    normRun();
    runLoop(f, p, P.S, [[pp, 4], [q, 4]], L, (offsets) => offsets.forEach((o, k) => {
      shifted(PAIR, o, k);
      normalize(PAIR, o);
    }), (lane) => {
      shifted(lane, 0, 0);
      normalize(lane, 0);
    });
  });
  finishGroup();
  f.get(ng).i32(1).add().set(ng);
  f.br(0).end().end();
  // the last group's normalisation (ng = NG)
  forRange(f, j, P.Cg, () => {
    normRun();
    runLoop(f, pp, P.S, [[q, 4]], L, (offsets) => offsets.forEach((o) => normalize(PAIR, o)), (lane) => normalize(lane, 0));
  });
  return f;
}

function gnBackwardNchw(): Func<'gnBackwardNchw'> {
  const f = new Func('gnBackwardNchw', {
    dy: I32, x: I32, dx: I32, NG: I32, G: I32, Cg: I32, S: I32, w: I32, mean: I32, rstd: I32, inputStats: I32, accW: I32, accB: I32,
  });
  const P = f.params;
  // c0: group ng's first channel (being reduced); pc0: group ng - 1's (getting its dx)
  const ng = f.local(I32), j = f.local(I32), c = f.local(I32), c0 = f.local(I32), pc0 = f.local(I32), C = f.local(I32);
  const pg = f.local(I32), px = f.local(I32), qg = f.local(I32), qx = f.local(I32), qo = f.local(I32), off = f.local(I32);
  const groupBytes = f.local(I32), runBytes = f.local(I32);
  const L = runLocals(f);
  const Df = f.local(F64), r = f.local(F64), pr = f.local(F64), wc = f.local(F64), sDy = f.local(F64), sDyXc = f.local(F64);
  const sumG = f.local(F64), sumGXc = f.local(F64);
  const MEAN = both(f), PMEAN = both(f), SC = both(f), K0 = both(f), K1 = both(f), xc = both(f);
  const A = acc(f), H = acc(f);
  f.get(P.G).get(P.Cg).mul().set(C);
  f.get(P.Cg).get(P.S).mul().tee(off).i32(2).shl().set(groupBytes);
  f.get(off).f64FromU32().set(Df);
  f.get(P.S).i32(2).shl().set(runBytes);
  f.i32(0).set(c0);

  // Σ dy, Σ dy·(x - mean) of a channel run of group ng, at pg, px
  const reduce = (lane: Lane, o: number, k: number): void => {
    f.get(pg);
    lane.loadF32(f, o);
    teeLane(f, xc, lane); // dy, briefly
    accumulate(f, A, lane, k);
    getBoth(f, xc, lane);
    f.get(px);
    lane.loadF32(f, o);
    getBoth(f, MEAN, lane);
    lane.sub(f);
    lane.mul(f);
    accumulate(f, H, lane, k);
  };
  // dx = (w·rstd)·dy - k0 - (x - mean)·k1 of a channel run of group ng - 1, at qg, qx into qo
  const dxStep = (lane: Lane, o: number): void => {
    f.get(qo);
    getBoth(f, SC, lane);
    f.get(qg);
    lane.loadF32(f, o);
    lane.mul(f);
    getBoth(f, K0, lane);
    lane.sub(f);
    f.get(qx);
    lane.loadF32(f, o);
    getBoth(f, PMEAN, lane);
    lane.sub(f);
    getBoth(f, K1, lane);
    lane.mul(f);
    lane.sub(f);
    lane.storeF32(f, o);
  };
  // group ng: its mean and rstd, the group sums zeroed
  const startGroup = (): void => {
    f.get(ng).i32(3).shl().get(P.mean).add().f64Load();
    setBoth(f, MEAN);
    f.get(ng).i32(3).shl().get(P.rstd).add().f64Load().set(r);
    f.f64(0).set(sumG);
    f.f64(0).set(sumGXc);
  };
  // channel run j of group ng: pg, px, the run's accumulators zeroed
  const reduceRun = (): void => {
    f.get(ng).get(groupBytes).mul().get(j).get(runBytes).mul().add().set(off);
    f.get(off).get(P.dy).add().set(pg);
    f.get(off).get(P.x).add().set(px);
    zeroAcc(f, A);
    zeroAcc(f, H);
  };
  // the run's sums: parameter gradients, and the group's Σg, Σg·(x - mean) (g = w·dy)
  const finishReduceRun = (): void => {
    total(f, A);
    f.set(sDy);
    total(f, H);
    f.set(sDyXc);
    f.get(c0).get(j).add().i32(3).shl().set(c);
    f.get(c).get(P.accW).add().get(c).get(P.accW).add().f64Load().get(r).get(sDyXc).f64Mul().f64Add().f64Store();
    f.get(c).get(P.accB).add().get(c).get(P.accB).add().f64Load().get(sDy).f64Add().f64Store();
    f.get(c).get(P.w).add().f64Load().set(wc);
    f.get(sumG).get(wc).get(sDy).f64Mul().f64Add().set(sumG);
    f.get(sumGXc).get(wc).get(sDyXc).f64Mul().f64Add().set(sumGXc);
  };
  // channel run j of group ng - 1: qg, qx, qo and its slope w·rstd
  const dxRun = (): void => {
    f.get(ng).i32(1).sub().get(groupBytes).mul().get(j).get(runBytes).mul().add().set(off);
    f.get(off).get(P.dy).add().set(qg);
    f.get(off).get(P.x).add().set(qx);
    f.get(off).get(P.dx).add().set(qo);
    f.get(pc0).get(j).add().i32(3).shl().get(P.w).add().f64Load().get(pr).f64Mul();
    setBoth(f, SC);
  };
  // group ng's k0 = rstd·Σg/D, k1 = rstd³·Σg·(x - mean)/D (0 and 0 for constant statistics); it gets its dx next
  const finishGroup = (): void => {
    f.f64(0);
    setBoth(f, K0);
    f.f64(0);
    setBoth(f, K1);
    f.get(P.inputStats).ifElse();
    f.get(r).get(sumG).f64Mul().get(Df).f64Div();
    setBoth(f, K0);
    f.get(r).get(r).f64Mul().get(r).f64Mul().get(sumGXc).f64Mul().get(Df).f64Div();
    setBoth(f, K1);
    f.end();
    f.get(MEAN.s);
    setBoth(f, PMEAN);
    f.get(r).set(pr);
    f.get(c0).set(pc0);
    nextGroup(f, c0, P.Cg, C);
  };

  // Software-pipelined over groups, as BatchNorm's NCHW backward over channels: the reductions of channel run j
  // of group ng (dy and x from memory) in the same loop as dx of run j of group ng - 1 (dy, x back from L1/L2).
  // Each run's sums see the same values in the same order and accumulators as in a loop of their own.
  f.i32(0).set(ng);
  startGroup();
  forRange(f, j, P.Cg, () => {
    reduceRun();
    runLoop(f, pg, P.S, [[px, 4]], L, (offsets) => offsets.forEach((o, k) => reduce(PAIR, o, k)), (lane) => reduce(lane, 0, 0));
    finishReduceRun();
  });
  finishGroup();
  f.i32(1).set(ng);
  f.block().loop();
  f.get(ng).get(P.NG).geU().brIf(1);
  startGroup();
  forRange(f, j, P.Cg, () => {
    reduceRun();
    dxRun();
    runLoop(f, pg, P.S, [[px, 4], [qg, 4], [qx, 4], [qo, 4]], L, (offsets) => offsets.forEach((o, k) => {
      reduce(PAIR, o, k);
      dxStep(PAIR, o);
    }), (lane) => {
      reduce(lane, 0, 0);
      dxStep(lane, 0);
    });
    finishReduceRun();
  });
  finishGroup();
  f.get(ng).i32(1).add().set(ng);
  f.br(0).end().end();
  // the last group's dx (ng = NG)
  forRange(f, j, P.Cg, () => {
    dxRun();
    runLoop(f, qg, P.S, [[qx, 4], [qo, 4]], L, (offsets) => offsets.forEach((o) => dxStep(PAIR, o)), (lane) => dxStep(lane, 0));
  });
  return f;
}

/** The row loop of the NHWC functions: for each of `rows` rows, `tables` (f64 arrays of C) restart at their bases. */
function overRows(
  f: Func, rows: number, C: number, streams: readonly (readonly [number, number])[], tables: readonly (readonly [number, number])[],
  L: ReturnType<typeof runLocals>, step: (lane: Lane, o: number) => void,
): void {
  const row = f.local(I32);
  forRange(f, row, rows, () => {
    for (const [p, base] of tables) f.get(base).set(p);
    runLoop(
      f, streams[0]![0], C, [...streams.slice(1).map(([p]) => [p, 4] as const), ...tables.map(([p]) => [p, 8] as const)], L,
      (offsets) => offsets.forEach((o) => step(PAIR, o)), (lane) => step(lane, 0),
    );
  });
}

/** a[p] += the step value on the stack, a float64 table at pointer local p. */
function addInto(f: Func, p: number, lane: Lane, o: number, push: () => void): void {
  f.get(p).get(p);
  lane.loadF64(f, wide(o));
  push();
  lane.add(f);
  lane.storeF64(f, wide(o));
}

function nhwcSums(): Func<'nhwcSums'> {
  const f = new Func('nhwcSums', { x: I32, rows: I32, C: I32, shift: I32, a1: I32, a2: I32 });
  const P = f.params;
  const ps = f.local(I32), p1 = f.local(I32), p2 = f.local(I32);
  const L = runLocals(f);
  const dev = both(f);
  overRows(f, P.rows, P.C, [[P.x, 0]], [[ps, P.shift], [p1, P.a1], [p2, P.a2]], L, (lane, o) => {
    f.get(P.x);
    lane.loadF32(f, o);
    f.get(ps);
    lane.loadF64(f, wide(o));
    lane.sub(f);
    setLane(f, dev, lane);
    addInto(f, p1, lane, o, () => getBoth(f, dev, lane));
    addInto(f, p2, lane, o, () => {
      getBoth(f, dev, lane);
      getBoth(f, dev, lane);
      lane.mul(f);
    });
  });
  return f;
}

function nhwcNorm(): Func<'nhwcNorm'> {
  const f = new Func('nhwcNorm', { x: I32, y: I32, rows: I32, C: I32, shift: I32, dm: I32, scale: I32, off: I32 });
  const P = f.params;
  const ps = f.local(I32), pd = f.local(I32), pc = f.local(I32), po = f.local(I32);
  const L = runLocals(f);
  overRows(f, P.rows, P.C, [[P.x, 0], [P.y, 0]], [[ps, P.shift], [pd, P.dm], [pc, P.scale], [po, P.off]], L, (lane, o) => {
    f.get(P.y).get(P.x);
    lane.loadF32(f, o);
    f.get(ps);
    lane.loadF64(f, wide(o));
    lane.sub(f);
    f.get(pd);
    lane.loadF64(f, wide(o));
    lane.sub(f);
    f.get(pc);
    lane.loadF64(f, wide(o));
    lane.mul(f);
    f.get(po);
    lane.loadF64(f, wide(o));
    lane.add(f);
    lane.storeF32(f, o);
  });
  return f;
}

function nhwcBSums(): Func<'nhwcBSums'> {
  const f = new Func('nhwcBSums', { dy: I32, x: I32, rows: I32, C: I32, mean: I32, a1: I32, a2: I32 });
  const P = f.params;
  const pm = f.local(I32), p1 = f.local(I32), p2 = f.local(I32);
  const L = runLocals(f);
  const g = both(f);
  overRows(f, P.rows, P.C, [[P.dy, 0], [P.x, 0]], [[pm, P.mean], [p1, P.a1], [p2, P.a2]], L, (lane, o) => {
    f.get(P.dy);
    lane.loadF32(f, o);
    setLane(f, g, lane);
    addInto(f, p1, lane, o, () => getBoth(f, g, lane));
    addInto(f, p2, lane, o, () => {
      getBoth(f, g, lane);
      f.get(P.x);
      lane.loadF32(f, o);
      f.get(pm);
      lane.loadF64(f, wide(o));
      lane.sub(f);
      lane.mul(f);
    });
  });
  return f;
}

function nhwcBdx(): Func<'nhwcBdx'> {
  const f = new Func('nhwcBdx', { dy: I32, x: I32, dx: I32, rows: I32, C: I32, mean: I32, scale: I32, k0: I32, k1: I32 });
  const P = f.params;
  const pm = f.local(I32), pc = f.local(I32), p0 = f.local(I32), p1 = f.local(I32);
  const L = runLocals(f);
  overRows(f, P.rows, P.C, [[P.dy, 0], [P.x, 0], [P.dx, 0]], [[pm, P.mean], [pc, P.scale], [p0, P.k0], [p1, P.k1]], L, (lane, o) => {
    f.get(P.dx);
    f.get(pc);
    lane.loadF64(f, wide(o));
    f.get(P.dy);
    lane.loadF32(f, o);
    lane.mul(f);
    f.get(p0);
    lane.loadF64(f, wide(o));
    lane.sub(f);
    f.get(P.x);
    lane.loadF32(f, o);
    f.get(pm);
    lane.loadF64(f, wide(o));
    lane.sub(f);
    f.get(p1);
    lane.loadF64(f, wide(o));
    lane.mul(f);
    lane.sub(f);
    lane.storeF32(f, o);
  });
  return f;
}

/** The module: the functions of the header, exported by name, on the kernels' memory. */
export const groupNormWasm = wasmModule(() => [gnForwardNchw(), gnBackwardNchw(), nhwcSums(), nhwcNorm(), nhwcBSums(), nhwcBdx()]);

