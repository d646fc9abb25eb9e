/**
 * The gallery's one correct implementation: BatchNorm (training, eval, backward) and LayerNorm (forward,
 * backward) in EMULATED low precision, written as named parts so that every mutant is this implementation
 * with one part replaced (mutants_*.ts) and every correct variant is it with a different, equally correct
 * part (variants.ts).
 *
 * Emulation: every arithmetic result is rounded with `R` (Math.fround for float32), the way stdlib-js's
 * float32 functions emulate single precision, so an algorithm here loses exactly the digits it would lose
 * in plain float32 code (the one-pass variance at offset 1e4 loses all of them). Results are stored with
 * `store` (float32, or float16 for the half-precision variant, which computes in float32 like PyTorch's half
 * kernels do). It is written independently of reference/ and kernels/: the suite must judge it, not agree
 * with it by construction.
 *
 * Sizes: N batch, C channels, S spatial positions, M = N·S values per channel (BatchNorm); R rows of
 * D = prod(normalizedShape) values (LayerNorm). A "group" is a BN channel or an LN row, held as the list of
 * its flat indices; the layout only decides which indices form a group.
 *
 * The math (g = dy·weight, x̂ = (x - mean)·rstd, rstd = 1/sqrt(var + eps), var biased):
 *   forward     y = weight·x̂ + bias
 *   running     new = (1 - f)·old + f·batch, f = momentum or 1/(n+1) (PyTorch's momentum = None),
 *               the running variance takes the unbiased var·M/(M - 1)
 *   backward    dx = rstd·(g - mean(g) - x̂·mean(g·x̂))   (training: the statistics depend on x)
 *               dx = rstd·g                             (eval: running statistics are constants)
 *               dweight = Σ dy·x̂, dbias = Σ dy          (over every element that shares the parameter)
 * LayerNorm returns no saved statistics unless built with lnSavedStatistics (optional in the contract);
 * BatchNorm returns mean and rstd.
 */
import type { Adapter, FloatArray, Layout, Precision, ProfileName } from '../adapter.js';
import { twoPassMoments, type Moments, type Round } from '../lowp_moments.js';
import { roundToFloat16 } from '../precision.js';

export { twoPassMoments, type Moments, type Round };

/** A partition of a flat array into normalisation groups, and the parameter index of every element. */
export interface Groups {
  groups: Int32Array[];
  /** weight/bias index of element i: its channel (BN) or its position in the row (LN) */
  param: Int32Array;
}

/** Terms of one dx element (see the header). */
export interface DxTerms {
  g: number;
  xhat: number;
  meanG: number;
  meanGXhat: number;
  rstd: number;
}

/** The replaceable parts; DEFAULT_PARTS is the correct implementation. */
export interface Parts {
  /** mean and biased variance of one group */
  moments(x: ArrayLike<number>, idx: Int32Array, R: Round): Moments;
  /** 1/sqrt(var + eps) */
  rstd(variance: number, eps: number, R: Round): number;
  /** the variance BatchNorm normalises with, from the biased one (identity) */
  bnVariance(variance: number, M: number, R: Round): number;
  /** the variance LayerNorm normalises with, from the biased one (identity) */
  lnVariance(variance: number, D: number, R: Round): number;
  /** the elements of each channel, in the adapter's layout */
  bnGroups(shape: readonly number[], layout: Layout): Groups;
  /** the elements of each row: the last normalizedShape.length dimensions */
  lnGroups(shape: readonly number[], normalizedShape: readonly number[]): Groups;
  /** fraction of the batch statistic in the new running value */
  runningFraction(momentum: number | null, numBatchesTracked: number): number;
  /** new running value from the old one and the batch's, f the batch fraction */
  blend(old: number, batch: number, f: number, R: Round): number;
  /** the batch variance that enters the running variance (PyTorch: unbiased) */
  runningVariance(variance: number, M: number, R: Round): number;
  /** which statistics the training forward normalises with */
  trainingStatistics: 'batch' | 'running';
  /** which statistics the eval forward normalises with */
  evalStatistics: 'running' | 'batch';
  /** which statistics the eval-mode backward differentiates through */
  evalBackward: 'running' | 'batch';
  /** dx of a training-mode backward */
  dx(t: DxTerms, R: Round): number;
  /** one element's contribution to dweight */
  dweightTerm(dy: number, xhat: number, x: number, R: Round): number;
  /** one element's contribution to dbias */
  dbiasTerm(dy: number, weight: number, R: Round): number;
  /** adds one contribution to a parameter gradient */
  accumulate(sum: number, term: number, R: Round): number;
  /** the rstd the training forward saves for the backward */
  savedRstd(rstd: number, R: Round): number;
  /** the buffer the forward writes y into */
  outputBuffer(x: FloatArray, length: number, precision: Precision): FloatArray;
}

// ---------------------------------------------------------------------------------------------------------
// The correct parts

/** NCHW (n·C + c)·S + s or NHWC (n·S + s)·C + c: the channel is the second axis or the last. */
export function channelGroups(shape: readonly number[], layout: Layout): Groups {
  const N = shape[0]!;
  const C = layout === 'NCHW' ? shape[1]! : shape[shape.length - 1]!;
  const S = layout === 'NCHW' ? shape.slice(2).reduce((a, b) => a * b, 1) : shape.slice(1, -1).reduce((a, b) => a * b, 1);
  const groups: Int32Array[] = [];
  const param = new Int32Array(N * C * S);
  for (let c = 0; c < C; c++) {
    const idx = new Int32Array(N * S);
    let k = 0;
    for (let n = 0; n < N; n++) {
      for (let s = 0; s < S; s++) idx[k++] = layout === 'NCHW' ? (n * C + c) * S + s : (n * S + s) * C + c;
    }
    groups.push(idx);
    for (const i of idx) param[i] = c;
  }
  return { groups, param };
}

/** Rows of D = prod(normalizedShape) consecutive values; weight index = position in the row. */
export function rowGroups(shape: readonly number[], normalizedShape: readonly number[]): Groups {
  const total = shape.reduce((a, b) => a * b, 1);
  const D = normalizedShape.reduce((a, b) => a * b, 1);
  const groups: Int32Array[] = [];
  const param = new Int32Array(total);
  for (let r = 0; r < total / D; r++) {
    const idx = new Int32Array(D);
    for (let j = 0; j < D; j++) {
      idx[j] = r * D + j;
      param[r * D + j] = j;
    }
    groups.push(idx);
  }
  return { groups, param };
}

export function newArray(precision: Precision, length: number): FloatArray {
  return precision === 'float64' ? new Float64Array(length) : new Float32Array(length);
}

export const DEFAULT_PARTS: Parts = {
  moments: twoPassMoments,
  rstd: (v, eps, R) => R(1 / R(Math.sqrt(R(v + eps)))),
  bnVariance: (v) => v,
  lnVariance: (v) => v,
  bnGroups: channelGroups,
  lnGroups: rowGroups,
  runningFraction: (momentum, n) => momentum ?? 1 / (n + 1),
  blend: (old, batch, f, R) => R(R((1 - f) * old) + R(f * batch)),
  runningVariance: (v, M, R) => R(R(v * M) / (M - 1)),
  trainingStatistics: 'batch',
  evalStatistics: 'running',
  evalBackward: 'running',
  dx: ({ g, xhat, meanG, meanGXhat, rstd }, R) => R(rstd * R(R(g - meanG) - R(xhat * meanGXhat))),
  dweightTerm: (dy, xhat, _x, R) => R(dy * xhat),
  dbiasTerm: (dy) => dy,
  accumulate: (sum, term, R) => R(sum + term),
  savedRstd: (rstd) => rstd,
  outputBuffer: (_x, length, precision) => newArray(precision, length),
};

// ---------------------------------------------------------------------------------------------------------
// The adapter built from parts

export interface Build {
  name: string;
  description: string;
  /** what the adapter declares (float16 data travels in Float32Array) */
  precision?: Precision;
  layout?: Layout;
  profile?: ProfileName;
  /** rounding of every arithmetic result (default: float32) */
  arithmetic?: Round;
  /** return Promises that settle on a later turn of the event loop */
  async?: boolean;
  /** LayerNorm forward also returns its saved mean and rstd (optional in the contract; default: not) */
  lnSavedStatistics?: boolean;
  parts?: Partial<Parts>;
}

interface Stats {
  mean: number;
  var: number;
  rstd: number;
}

const ROUND_TO: Record<Precision, Round> = { float16: roundToFloat16, float32: Math.fround, float64: (v) => v };

export function buildAdapter(b: Build): Adapter {
  const p: Parts = { ...DEFAULT_PARTS, ...b.parts };
  const precision = b.precision ?? 'float32';
  const R = b.arithmetic ?? Math.fround;
  const store = ROUND_TO[precision];

  const batchStats = (x: ArrayLike<number>, groups: Groups, eps: number, variance: (v: number, M: number) => number): Stats[] =>
    groups.groups.map((idx) => {
      const m = p.moments(x, idx, R);
      const v = variance(m.var, idx.length);
      return { mean: m.mean, var: m.var, rstd: p.rstd(v, eps, R) };
    });
  const runningStats = (runningMean: ArrayLike<number>, runningVar: ArrayLike<number>, eps: number): Stats[] =>
    Array.from(runningMean, (mean, c) => ({ mean, var: runningVar[c]!, rstd: p.rstd(runningVar[c]!, eps, R) }));

  /** y = weight·x̂ + bias, x̂ = (x - mean)·rstd, per group */
  function normalise(x: FloatArray, groups: Groups, stats: Stats[], weight: ArrayLike<number> | null, bias: ArrayLike<number> | null): FloatArray {
    const y = p.outputBuffer(x, x.length, precision);
    groups.groups.forEach((idx, k) => {
      const { mean, rstd } = stats[k]!;
      for (const i of idx) {
        const j = groups.param[i]!;
        const xhat = R(R(x[i]! - mean) * rstd);
        y[i] = store(R(R(xhat * (weight ? weight[j]! : 1)) + (bias ? bias[j]! : 0)));
      }
    });
    return y;
  }

  /** dx, dweight, dbias; `training` differentiates through the batch statistics */
  function backward(x: ArrayLike<number>, dy: ArrayLike<number>, groups: Groups, stats: Stats[], weight: ArrayLike<number> | null,
    hasBias: boolean, numParams: number, training: boolean) {
    const dx = newArray(precision, x.length);
    const dweight = weight ? new Float64Array(numParams) : null;
    const dbias = hasBias ? new Float64Array(numParams) : null;
    groups.groups.forEach((idx, k) => {
      const { mean, rstd } = stats[k]!;
      const M = idx.length;
      // the reductions first: Σg, Σg·x̂ (and the parameter gradients)
      let sumG = 0;
      let sumGXhat = 0;
      for (const i of idx) {
        const j = groups.param[i]!;
        const xhat = R(R(x[i]! - mean) * rstd);
        const g = R(dy[i]! * (weight ? weight[j]! : 1));
        sumG = R(sumG + g);
        sumGXhat = R(sumGXhat + R(g * xhat));
        if (dweight) dweight[j] = p.accumulate(dweight[j]!, p.dweightTerm(dy[i]!, xhat, x[i]!, R), R);
        if (dbias) dbias[j] = p.accumulate(dbias[j]!, p.dbiasTerm(dy[i]!, weight ? weight[j]! : 1, R), R);
      }
      const meanG = R(sumG / M);
      const meanGXhat = R(sumGXhat / M);
      // then the per-element terms
      for (const i of idx) {
        const j = groups.param[i]!;
        const xhat = R(R(x[i]! - mean) * rstd);
        const g = R(dy[i]! * (weight ? weight[j]! : 1));
        dx[i] = store(training ? p.dx({ g, xhat, meanG, meanGXhat, rstd }, R) : R(g * rstd));
      }
    });
    const toPrecision = (a: Float64Array | null) => (a ? Float32Array.from(a, store) : null);
    return precision === 'float64' ? { dx, dweight, dbias } : { dx, dweight: toPrecision(dweight), dbias: toPrecision(dbias) };
  }

  const rowsOf = (shape: readonly number[], normalizedShape: readonly number[]) => ({
    groups: p.lnGroups(shape, normalizedShape),
    D: normalizedShape.reduce((a, c) => a * c, 1),
  });

  const adapter: Adapter = {
    name: b.name,
    description: b.description,
    precision,
    layout: b.layout ?? 'NCHW',
    profile: b.profile ?? 'pytorch',

    bnTrainForward({ x, shape, weight, bias, runningMean, runningVar, numBatchesTracked, momentum, eps }) {
      const groups = p.bnGroups(shape, adapter.layout);
      const batch = batchStats(x, groups, eps, (v, M) => p.bnVariance(v, M, R));
      const used = p.trainingStatistics === 'batch' ? batch : runningStats(runningMean, runningVar, eps);
      const y = normalise(x, groups, used, weight, bias);
      const f = p.runningFraction(momentum, numBatchesTracked);
      const C = batch.length;
      const out = { y, runningMean: newArray(precision, C), runningVar: newArray(precision, C), mean: newArray(precision, C), rstd: newArray(precision, C) };
      batch.forEach((s, c) => {
        const M = groups.groups[c]!.length;
        out.runningMean[c] = store(p.blend(runningMean[c]!, s.mean, f, R));
        out.runningVar[c] = store(p.blend(runningVar[c]!, p.runningVariance(s.var, M, R), f, R));
        out.mean[c] = store(s.mean);
        out.rstd[c] = store(p.savedRstd(s.rstd, R));
      });
      return out;
    },

    bnEvalForward({ x, shape, weight, bias, runningMean, runningVar, eps }) {
      const groups = p.bnGroups(shape, adapter.layout);
      const stats = p.evalStatistics === 'running' ? runningStats(runningMean, runningVar, eps) : batchStats(x, groups, eps, (v) => v);
      return { y: normalise(x, groups, stats, weight, bias) };
    },

    bnBackward({ dy, x, shape, weight, bias, training, runningMean, runningVar, eps }) {
      const groups = p.bnGroups(shape, adapter.layout);
      const throughBatch = training || p.evalBackward === 'batch';
      if (!throughBatch && (!runningMean || !runningVar)) throw new Error('runningMean, runningVar: required for the eval-mode backward');
      const stats = throughBatch ? batchStats(x, groups, eps, (v, M) => p.bnVariance(v, M, R)) : runningStats(runningMean!, runningVar!, eps);
      return backward(x, dy, groups, stats, weight, bias != null, groups.groups.length, throughBatch);
    },

    lnForward({ x, shape, normalizedShape, weight, bias, eps }) {
      const { groups } = rowsOf(shape, normalizedShape);
      const stats = batchStats(x, groups, eps, (v, D) => p.lnVariance(v, D, R));
      const y = normalise(x, groups, stats, weight, bias);
      if (!b.lnSavedStatistics) return { y };
      const mean = newArray(precision, stats.length);
      const rstd = newArray(precision, stats.length);
      stats.forEach((s, r) => {
        mean[r] = store(s.mean);
        rstd[r] = store(s.rstd);
      });
      return { y, mean, rstd };
    },

    lnBackward({ dy, x, shape, normalizedShape, weight, bias, eps }) {
      const { groups, D } = rowsOf(shape, normalizedShape);
      return backward(x, dy, groups, batchStats(x, groups, eps, (v, n) => p.lnVariance(v, n, R)), weight, bias != null, D, true);
    },
  };
  return b.async ? asAsync(adapter) : adapter;
}

/** The same adapter, every capability answering through a Promise that settles on a later macrotask. */
function asAsync(a: Adapter): Adapter {
  const later = <T>(f: () => T | Promise<T>) => new Promise<T>((resolve, reject) => setImmediate(() => {
    try {
      resolve(f());
    } catch (e) {
      reject(e);
    }
  }));
  return {
    ...a,
    bnTrainForward: (args) => later(() => a.bnTrainForward!(args)),
    bnEvalForward: (args) => later(() => a.bnEvalForward!(args)),
    bnBackward: (args) => later(() => a.bnBackward!(args)),
    lnForward: (args) => later(() => a.lnForward!(args)),
    lnBackward: (args) => later(() => a.lnBackward!(args)),
  };
}
