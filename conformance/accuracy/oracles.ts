/**
 * Honest-algorithm oracles: what plain arithmetic in the adapter's precision reaches ON THE SAME CASE, for
 * every output a normalisation returns (y, the saved mean and rstd, the running buffers, dx, dweight, dbias),
 * over any grouping of values into statistics groups (error_model.ts `Grouping`: BatchNorm channels,
 * LayerNorm rows, GroupNorm (sample, group) blocks, InstanceNorm (sample, channel) planes, RMSNorm rows).
 *
 * The float64 reference says what the math is; these say what an honest implementation in the precision gets,
 * so an adapter's error can be read against them (grade.ts): as accurate as an honest algorithm, or worse by ×N.
 * Arithmetic: float32 (Math.fround after every operation) for float32 and float16 adapters — half-precision
 * kernels accumulate in float32 — and float64 for float64 adapters; results are stored in the adapter's
 * precision. Written independently of the mutant gallery and of kernels/: the suite judges both.
 *
 * Sizes: a group holds M values; `centred: false` is RMSNorm (no mean subtracted, x̂ = x·rstd).
 * The math, g = dy·w:
 *   forward   x̂ = (x - mean)·rstd, rstd = 1/sqrt(var + eps), y = w·x̂ + b
 *   running   new = (1 - f)·old + f·batch; the running variance takes var·M/(M - 1) when unbiased
 *   backward  dx = rstd·(g - mean(g) - x̂·mean(g·x̂))  (RMSNorm: dx = rstd·(g - x̂·mean(g·x̂)); eval: dx = rstd·g)
 *             dweight = Σ dy·x̂, dbias = Σ dy over the elements sharing the parameter
 */
import type { Precision } from '../adapter.js';
import type { Grouping } from '../error_model.js';
import { roundTo } from '../precision.js';
import {
  float64MeanSquare, float64Moments, pairwiseMeanSquare, pairwiseMoments, recursiveMeanSquare, shiftedMoments, twoPassMoments,
  welfordMoments, type MeanSquareAlgorithm, type MomentsAlgorithm, type Round,
} from './moments.js';

/** How the gradient and parameter reductions are summed. */
export type Summation = 'recursive' | 'pairwise' | 'float64';

export interface HonestAlgorithm {
  name: string;
  moments: MomentsAlgorithm;
  /** RMSNorm's mean of squares in the same summation order */
  meanSquare: MeanSquareAlgorithm;
  summation: Summation;
}

/** The honest family. RMSNorm has no mean, so two-pass, Welford and shifted coincide there (recursive Σx²). */
export const HONEST_ALGORITHMS: readonly HonestAlgorithm[] = [
  { name: 'two-pass', moments: twoPassMoments, meanSquare: recursiveMeanSquare, summation: 'recursive' },
  { name: 'welford', moments: welfordMoments, meanSquare: recursiveMeanSquare, summation: 'recursive' },
  { name: 'shifted', moments: shiftedMoments, meanSquare: recursiveMeanSquare, summation: 'recursive' },
  { name: 'pairwise', moments: pairwiseMoments, meanSquare: pairwiseMeanSquare, summation: 'pairwise' },
  { name: 'float64-accumulate', moments: float64Moments, meanSquare: float64MeanSquare, summation: 'float64' },
];

/** The algorithms that differ for a norm: all five, or the three distinct mean-of-squares orders for RMSNorm. */
export function honestAlgorithms(centred: boolean): readonly HonestAlgorithm[] {
  return centred ? HONEST_ALGORITHMS : HONEST_ALGORITHMS.filter((a) => a.name !== 'welford' && a.name !== 'shifted');
}

/** The rounding of the working arithmetic: float64 for float64 adapters, float32 otherwise. */
export function arithmetic(precision: Precision): Round {
  return precision === 'float64' ? (v) => v : Math.fround;
}

/** Σ terms in the algorithm's order, rounded with R (float64: exact-ish, rounded once at the end). */
function reduce(terms: readonly number[], summation: Summation, R: Round): number {
  if (summation === 'float64') {
    let s = 0;
    for (const t of terms) s += t;
    return R(s);
  }
  if (summation === 'recursive') {
    let s = 0;
    for (const t of terms) s = R(s + t);
    return s;
  }
  const half = (lo: number, hi: number): number => {
    if (hi - lo <= 8) {
      let s = 0;
      for (let k = lo; k < hi; k++) s = R(s + terms[k]!);
      return s;
    }
    const mid = lo + ((hi - lo) >> 1);
    return R(half(lo, mid) + half(mid, hi));
  };
  return half(0, terms.length);
}

export interface ForwardProblem {
  x: ArrayLike<number>;
  grouping: Grouping;
  weight: ArrayLike<number> | null;
  bias: ArrayLike<number> | null;
  eps: number;
  /** false: RMSNorm (no mean subtracted); default true */
  centred?: boolean;
}

export interface HonestForward {
  y: Float64Array;
  /** per group, stored in the precision (RMSNorm: 0) */
  mean: Float64Array;
  rstd: Float64Array;
  /** per group, the biased variance (RMSNorm: the mean of squares) in the working precision, for the running buffers */
  var: Float64Array;
}

export function honestForward(alg: HonestAlgorithm, precision: Precision, p: ForwardProblem): HonestForward {
  const R = arithmetic(precision);
  const store = (v: number) => roundTo(precision, v);
  const centred = p.centred ?? true;
  const G = p.grouping.groups.length;
  const out: HonestForward = { y: new Float64Array(p.x.length), mean: new Float64Array(G), rstd: new Float64Array(G), var: new Float64Array(G) };
  const eps = R(p.eps);
  p.grouping.groups.forEach((idx, g) => {
    // statistics
    const { mean, var: v } = centred ? alg.moments(p.x, idx, R) : { mean: 0, var: alg.meanSquare(p.x, idx, R) };
    // rstd
    const rstd = R(1 / R(Math.sqrt(R(v + eps))));
    // normalise, scale and shift
    for (const i of idx) {
      const k = p.grouping.param[i]!;
      const xhat = centred ? R(R(p.x[i]! - mean) * rstd) : R(p.x[i]! * rstd);
      out.y[i] = store(R(R(xhat * (p.weight ? p.weight[k]! : 1)) + (p.bias ? p.bias[k]! : 0)));
    }
    out.mean[g] = store(mean);
    out.rstd[g] = store(rstd);
    out.var[g] = v;
  });
  return out;
}

export interface RunningProblem extends ForwardProblem {
  runningMean: ArrayLike<number>;
  runningVar: ArrayLike<number>;
  /** fraction of the batch statistic in the new value: momentum, or 1/(n+1) for the cumulative average */
  f: number;
  /** the running variance takes var·M/(M - 1) */
  unbiased: boolean;
}

/** One training step's running buffers (BatchNorm, InstanceNorm with track_running_stats), one entry per group. */
export function honestRunning(alg: HonestAlgorithm, precision: Precision, p: RunningProblem): { runningMean: Float64Array; runningVar: Float64Array } {
  const R = arithmetic(precision);
  const store = (v: number) => roundTo(precision, v);
  const G = p.grouping.groups.length;
  const runningMean = new Float64Array(G);
  const runningVar = new Float64Array(G);
  const blend = (old: number, batch: number) => R(R((1 - p.f) * old) + R(p.f * batch));
  p.grouping.groups.forEach((idx, g) => {
    const { mean, var: v } = alg.moments(p.x, idx, R);
    const M = idx.length;
    runningMean[g] = store(blend(p.runningMean[g]!, mean));
    runningVar[g] = store(blend(p.runningVar[g]!, p.unbiased ? R(R(v * M) / (M - 1)) : v));
  });
  return { runningMean, runningVar };
}

/**
 * Eval-mode forward from given statistics (BatchNorm eval, InstanceNorm with running statistics): no
 * reduction, so the honest forms are the two evaluation orders real kernels use.
 *   plain  y = w·((x - m)·r) + b
 *   fused  y = x·s + t, s = w·r, t = b - m·s   (PyTorch's and most kernels' eval path)
 * `stats[g]` are the group's mean and variance; r = 1/sqrt(var + eps).
 */
export function honestEval(precision: Precision, form: 'plain' | 'fused', x: ArrayLike<number>, grouping: Grouping,
  weight: ArrayLike<number> | null, bias: ArrayLike<number> | null, stats: { mean: ArrayLike<number>; var: ArrayLike<number> }, eps: number): Float64Array {
  const R = arithmetic(precision);
  const y = new Float64Array(x.length);
  grouping.groups.forEach((idx, g) => {
    const m = stats.mean[g]!;
    const r = R(1 / R(Math.sqrt(R(stats.var[g]! + R(eps)))));
    for (const i of idx) {
      const k = grouping.param[i]!;
      const w = weight ? weight[k]! : 1;
      const b = bias ? bias[k]! : 0;
      if (form === 'plain') y[i] = roundTo(precision, R(R(w * R(R(x[i]! - m) * r)) + b));
      else {
        const s = R(w * r);
        y[i] = roundTo(precision, R(R(x[i]! * s) + R(b - R(m * s))));
      }
    }
  });
  return y;
}

export interface BackwardProblem extends ForwardProblem {
  dy: ArrayLike<number>;
  hasBias: boolean;
  /** eval mode: the statistics are constants (given per group); null: training, through the batch statistics */
  evalStats: { mean: ArrayLike<number>; var: ArrayLike<number> } | null;
}

export interface HonestGrads {
  dx: Float64Array;
  dweight: Float64Array | null;
  dbias: Float64Array | null;
}

export function honestBackward(alg: HonestAlgorithm, precision: Precision, p: BackwardProblem): HonestGrads {
  const R = arithmetic(precision);
  const store = (v: number) => roundTo(precision, v);
  const centred = p.centred ?? true;
  const eps = R(p.eps);
  const dx = new Float64Array(p.x.length);
  const P = p.grouping.numParams;
  const dwTerms: number[][] = Array.from({ length: P }, () => []);
  const dbTerms: number[][] = Array.from({ length: P }, () => []);
  p.grouping.groups.forEach((idx, g) => {
    const M = idx.length;
    let mean: number;
    let v: number;
    if (p.evalStats) ({ mean, v } = { mean: p.evalStats.mean[g]!, v: p.evalStats.var[g]! });
    else if (centred) ({ mean, var: v } = alg.moments(p.x, idx, R));
    else ({ mean, v } = { mean: 0, v: alg.meanSquare(p.x, idx, R) });
    const rstd = R(1 / R(Math.sqrt(R(v + eps))));
    const xhat = new Float64Array(M);
    const gArr = new Float64Array(M);
    idx.forEach((i, k) => {
      const j = p.grouping.param[i]!;
      xhat[k] = centred ? R(R(p.x[i]! - mean) * rstd) : R(p.x[i]! * rstd);
      gArr[k] = R(p.dy[i]! * (p.weight ? p.weight[j]! : 1));
      dwTerms[j]!.push(R(p.dy[i]! * xhat[k]!));
      dbTerms[j]!.push(p.dy[i]!);
    });
    if (p.evalStats) {
      idx.forEach((i, k) => (dx[i] = store(R(gArr[k]! * rstd))));
      return;
    }
    // the reductions first: mean(g), mean(g·x̂)
    const meanG = centred ? R(reduce(Array.from(gArr), alg.summation, R) / M) : 0;
    const meanGX = R(reduce(Array.from(gArr, (gv, k) => R(gv * xhat[k]!)), alg.summation, R) / M);
    // then the per-element terms
    idx.forEach((i, k) => (dx[i] = store(R(rstd * R(R(gArr[k]! - meanG) - R(xhat[k]! * meanGX))))));
  });
  const sums = (terms: number[][]) => Float64Array.from(terms, (t) => store(reduce(t, alg.summation, R)));
  return { dx, dweight: p.weight ? sums(dwTerms) : null, dbias: p.hasBias ? sums(dbTerms) : null };
}
