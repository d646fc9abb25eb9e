/**
 * The gallery's one correct implementation: BatchNorm (training, eval, backward), LayerNorm, GroupNorm,
 * InstanceNorm (own and running statistics) and RMSNorm (forward, backward) in EMULATED low precision,
 * written as named parts so that every mutant is this implementation with one part replaced (the norm files
 * next to this one) and every correct variant is it with a different, equally correct part (variants.ts).
 *
 * Emulation: every arithmetic result is rounded with `R` (Math.fround for float32), the way stdlib-js's
 * float32 functions emulate single precision, so an algorithm here loses exactly the digits it would lose
 * in plain float32 code (the one-pass variance at offset 1e4 loses all of them). Results are stored with
 * `store` (float32, or float16 for the half-precision variant, which computes in float32 like PyTorch's half
 * kernels do). It is written independently of reference/ and kernels/: the suite must judge it, not agree
 * with it by construction.
 *
 * Sizes: N batch, C channels, S spatial positions, M = N·S values per channel (BatchNorm); R rows of
 * D = prod(normalizedShape) values (LayerNorm, RMSNorm); G groups of C/G consecutive channels (GroupNorm).
 * A "group" is what one mean/rstd is computed over — a BN channel, an LN row, a GN (sample, group), an IN
 * (sample, channel) — held as the list of its flat indices; the layout only decides which indices form a group.
 *
 * The math (g = dy·weight, x̂ = (x - mean)·rstd, rstd = 1/sqrt(var + eps), var biased):
 *   forward     y = weight·x̂ + bias
 *   running     new = (1 - f)·old + f·batch, f = momentum or 1/(n+1) (PyTorch's momentum = None),
 *               the running variance takes the unbiased var·M/(M - 1)
 *   backward    dx = rstd·(g - mean(g) - x̂·mean(g·x̂))   (training: the statistics depend on x)
 *               dx = rstd·g                             (eval: running statistics are constants)
 *               dweight = Σ dy·x̂, dbias = Σ dy          (over every element that shares the parameter)
 *   RMSNorm     y = weight·x·rstd, rstd = 1/sqrt(mean(x²) + eps), no mean, no bias;
 *               dx = rstd·(g - x̂·mean(g·x̂)), x̂ = x·rstd
 *   InstanceNorm's running buffers: each instance blends its statistic into the old value, the batch average is kept
 * LayerNorm returns no saved statistics unless built with lnSavedStatistics (optional in the contract);
 * BatchNorm, GroupNorm, InstanceNorm and RMSNorm return theirs.
 */
import { CAPABILITIES, type Adapter, type FloatArray, type Layout, type Precision, type ProfileName } from '../adapter.js';
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
  /** GroupNorm: the elements of each (sample, group), groups of C/G consecutive channels */
  gnGroups(shape: readonly number[], layout: Layout, numGroups: number): Groups;
  /** InstanceNorm with its own statistics: per instance, or (a bug) per channel over the batch */
  inStatistics: 'instance' | 'batch';
  /** RMSNorm: the mean of squares of one row, as scale²·ms */
  rmsMeanSquare(x: ArrayLike<number>, idx: Int32Array, R: Round): { scale: number; ms: number };
  /** RMSNorm: 1/sqrt(ms + eps) */
  rmsRstd(meanSquare: number, eps: number, R: Round): number;
  /** RMSNorm: eps when the caller passes null (PyTorch's None) */
  rmsDefaultEps(precision: Precision): number;
  /** RMSNorm: what is normalised: x itself; (bugs) x - mean, or weight·x */
  rmsInput: 'x' | 'centred' | 'weighted';
  /** RMSNorm: dx of one element, rstd·(g - x̂·mean(g·x̂)) */
  rmsDx(g: number, xhat: number, meanGXhat: number, rstd: number, R: Round): number;
  /** GroupNorm: refuse a numGroups that does not divide C */
  gnCheckGroups(C: number, numGroups: number): void;
  /** InstanceNorm: refuse one spatial value per instance when using its own statistics */
  inCheckSpatial(S: number, shape: readonly number[]): void;
  /** InstanceNorm: the variance that enters the running variance (PyTorch: unbiased, S/(S-1)) */
  inRunningVariance(variance: number, S: number, R: Round): number;
  /** InstanceNorm with useInputStats false normalises with the running statistics (or, a bug, the instance's) */
  inEvalStatistics: 'running' | 'instance';
  /**
   * InstanceNorm's running update: the batch average of the instances' statistics (PyTorch), or (a bug)
   * BatchNorm's update from each channel's statistics pooled over the batch
   */
  inRunningStatistics: 'instances' | 'pooled';
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

/**
 * Groups of C/G consecutive channels, one per (sample, group), in n-major order (n·G + g), each holding its
 * channels' positions in the adapter's layout; weight index = the channel.
 */
export function channelBlockGroups(shape: readonly number[], layout: Layout, numGroups: number): Groups {
  const N = shape[0]!;
  const C = layout === 'NCHW' ? shape[1]! : shape[shape.length - 1]!;
  const S = shape.reduce((a, b) => a * b, 1) / (N * C);
  const K = C / numGroups;
  const groups: Int32Array[] = [];
  const param = new Int32Array(N * C * S);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < numGroups; g++) {
      const idx = new Int32Array(K * S);
      let k = 0;
      for (let c = g * K; c < (g + 1) * K; c++) {
        for (let s = 0; s < S; s++) {
          const i = layout === 'NCHW' ? (n * C + c) * S + s : (n * S + s) * C + c;
          idx[k++] = i;
          param[i] = c;
        }
      }
      groups.push(idx);
    }
  }
  return { groups, param };
}

/**
 * RMSNorm's mean of squares as scale²·ms: scale is 1 for ordinary rows and a power of two near max|x| when
 * x² would overflow (or underflow) float32, so ms = mean((x/scale)²) is exact in its scaling and never ∞.
 */
export function scaledMeanSquare(x: ArrayLike<number>, idx: Int32Array, R: Round): { scale: number; ms: number } {
  let m = 0;
  for (const i of idx) m = Math.max(m, Math.abs(x[i]!));
  const scale = Number.isFinite(m) && (m > 2 ** 60 || (m > 0 && m < 2 ** -60)) ? 2 ** Math.floor(Math.log2(m)) : 1;
  let sq = 0;
  for (const i of idx) {
    const t = scale === 1 ? x[i]! : R(x[i]! / scale);
    sq = R(sq + R(t * t));
  }
  return { scale, ms: R(sq / idx.length) };
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
  gnGroups: channelBlockGroups,
  inStatistics: 'instance',
  rmsMeanSquare: scaledMeanSquare,
  rmsRstd: (ms, eps, R) => R(1 / R(Math.sqrt(R(ms + eps)))),
  // ATen: numeric_limits<opmath_t>::epsilon(), float's for float16 and float32
  rmsDefaultEps: (precision) => (precision === 'float64' ? 2 ** -52 : 2 ** -23),
  rmsInput: 'x',
  rmsDx: (g, xhat, meanGXhat, rstd, R) => R(rstd * R(g - R(xhat * meanGXhat))),
  gnCheckGroups: (C, G) => {
    if (!Number.isInteger(G) || G < 1 || C % G !== 0) throw new Error(`numGroups: expected a positive divisor of the channel count ${C}, got ${G}`);
  },
  inCheckSpatial: (S, shape) => {
    if (S === 1) throw new Error(`x: expected more than 1 spatial value per instance when using its own statistics, got shape (${shape.join(', ')})`);
  },
  inRunningVariance: (v, S, R) => R(R(v * S) / (S - 1)),
  inEvalStatistics: 'running',
  inRunningStatistics: 'instances',
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

  /** N, C, S of a layout-aware shape in the adapter's layout */
  const dimsOf = (shape: readonly number[]) => {
    const N = shape[0]!;
    const C = b.layout === 'NHWC' ? shape[shape.length - 1]! : shape[1]!;
    return { N, C, S: shape.reduce((a, c) => a * c, 1) / (N * C) };
  };

  /** the saved statistics of each group, stored in the precision */
  const saved = (stats: Stats[]) => {
    const mean = newArray(precision, stats.length);
    const rstd = newArray(precision, stats.length);
    stats.forEach((s, k) => {
      mean[k] = store(s.mean);
      rstd[k] = store(p.savedRstd(s.rstd, R));
    });
    return { mean, rstd };
  };

  function groupsOfGn(shape: readonly number[], numGroups: number): Groups {
    p.gnCheckGroups(dimsOf(shape).C, numGroups);
    return p.gnGroups(shape, b.layout ?? 'NCHW', numGroups);
  }

  /** InstanceNorm's statistics per instance n·C + c: its own (or, a bug, its channel's over the batch), or the running ones */
  function instanceStats(x: ArrayLike<number>, shape: readonly number[], useInputStats: boolean, runningMean: ArrayLike<number> | null,
    runningVar: ArrayLike<number> | null, eps: number): Stats[] {
    const { N, C, S } = dimsOf(shape);
    if (useInputStats || p.inEvalStatistics === 'instance') {
      p.inCheckSpatial(S, shape);
      if (p.inStatistics === 'instance') return batchStats(x, channelBlockGroups(shape, b.layout ?? 'NCHW', C), eps, (v) => v);
      const perChannel = batchStats(x, p.bnGroups(shape, b.layout ?? 'NCHW'), eps, (v) => v);
      return Array.from({ length: N * C }, (_, k) => perChannel[k % C]!);
    }
    if (!runningMean || !runningVar) throw new Error('runningMean, runningVar: required when useInputStats is false');
    const running = runningStats(runningMean, runningVar, eps);
    return Array.from({ length: N * C }, (_, k) => running[k % C]!);
  }

  /** 1/sqrt(scale²·ms + eps) = (1/scale)·1/sqrt(ms + eps/scale²) */
  function rmsRstdOf(u: ArrayLike<number>, idx: Int32Array, eps: number): number {
    const { scale, ms } = p.rmsMeanSquare(u, idx, R);
    return scale === 1 ? p.rmsRstd(ms, eps, R) : R(p.rmsRstd(ms, R(eps / (scale * scale)), R) / scale);
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
      const C = batch.length;
      // no running buffers (track_running_stats = False): a mutant that normalises with them reads PyTorch's initial ones
      const tracking = runningMean !== null && runningVar !== null;
      const oldMean = runningMean ?? new Float64Array(C);
      const oldVar = runningVar ?? new Float64Array(C).fill(1);
      const used = p.trainingStatistics === 'batch' ? batch : runningStats(oldMean, oldVar, eps);
      const y = normalise(x, groups, used, weight, bias);
      const f = p.runningFraction(momentum, numBatchesTracked);
      const out = { y, runningMean: newArray(precision, C), runningVar: newArray(precision, C), mean: newArray(precision, C), rstd: newArray(precision, C) };
      batch.forEach((s, c) => {
        const M = groups.groups[c]!.length;
        out.runningMean[c] = store(p.blend(oldMean[c]!, s.mean, f, R));
        out.runningVar[c] = store(p.blend(oldVar[c]!, p.runningVariance(s.var, M, R), f, R));
        out.mean[c] = store(s.mean);
        out.rstd[c] = store(p.savedRstd(s.rstd, R));
      });
      return tracking ? out : { y, mean: out.mean, rstd: out.rstd };
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

    gnForward({ x, shape, numGroups, weight, bias, eps }) {
      const groups = groupsOfGn(shape, numGroups);
      const stats = batchStats(x, groups, eps, (v) => v);
      return { y: normalise(x, groups, stats, weight, bias), ...saved(stats) };
    },

    gnBackward({ dy, x, shape, numGroups, weight, bias, eps }) {
      const groups = groupsOfGn(shape, numGroups);
      return backward(x, dy, groups, batchStats(x, groups, eps, (v) => v), weight, bias != null, dimsOf(shape).C, true);
    },

    inForward({ x, shape, weight, bias, runningMean, runningVar, useInputStats, momentum, eps }) {
      const { N, C, S } = dimsOf(shape);
      const instances = channelBlockGroups(shape, adapter.layout, C);
      const stats = instanceStats(x, shape, useInputStats, runningMean, runningVar, eps);
      const y = normalise(x, instances, stats, weight, bias);
      if (!useInputStats || !runningMean || !runningVar) return { y, ...saved(stats) };
      // each instance blends its statistic into the old buffer (unbiased variance, S/(S-1)); the batch average is kept
      const rm = newArray(precision, C);
      const rv = newArray(precision, C);
      if (p.inRunningStatistics === 'pooled') {
        const perChannel = batchStats(x, p.bnGroups(shape, b.layout ?? 'NCHW'), eps, (v) => v);
        for (let c = 0; c < C; c++) {
          rm[c] = store(p.blend(runningMean[c]!, perChannel[c]!.mean, momentum, R));
          rv[c] = store(p.blend(runningVar[c]!, p.inRunningVariance(perChannel[c]!.var, N * S, R), momentum, R));
        }
        return { y, runningMean: rm, runningVar: rv, ...saved(stats) };
      }
      for (let c = 0; c < C; c++) {
        let sumMean = 0;
        let sumVar = 0;
        for (let n = 0; n < N; n++) {
          const s = stats[n * C + c]!;
          sumMean = R(sumMean + p.blend(runningMean[c]!, s.mean, momentum, R));
          sumVar = R(sumVar + p.blend(runningVar[c]!, p.inRunningVariance(s.var, S, R), momentum, R));
        }
        rm[c] = store(R(sumMean / N));
        rv[c] = store(R(sumVar / N));
      }
      return { y, runningMean: rm, runningVar: rv, ...saved(stats) };
    },

    inBackward({ dy, x, shape, weight, bias, useInputStats, runningMean, runningVar, eps }) {
      const { C } = dimsOf(shape);
      const instances = channelBlockGroups(shape, adapter.layout, C);
      const stats = instanceStats(x, shape, useInputStats, runningMean, runningVar, eps);
      return backward(x, dy, instances, stats, weight, bias != null, C, useInputStats);
    },

    rmsForward({ x, shape, normalizedShape, weight, eps }) {
      const groups = rowGroups(shape, normalizedShape);
      const e = eps ?? p.rmsDefaultEps(precision);
      // what is normalised: x (correct), or what a buggy implementation takes for it
      const u = Float64Array.from(x);
      groups.groups.forEach((idx) => {
        if (p.rmsInput === 'centred') {
          const { mean } = p.moments(x, idx, R);
          for (const i of idx) u[i] = R(x[i]! - mean);
        } else if (p.rmsInput === 'weighted' && weight) {
          for (const i of idx) u[i] = R(x[i]! * weight[groups.param[i]!]!);
        }
      });
      const y = p.outputBuffer(x, x.length, precision);
      const rstd = newArray(precision, groups.groups.length);
      groups.groups.forEach((idx, r) => {
        const rs = rmsRstdOf(u, idx, e);
        rstd[r] = store(rs);
        for (const i of idx) {
          const w = weight && p.rmsInput !== 'weighted' ? weight[groups.param[i]!]! : 1;
          y[i] = store(R(R(u[i]! * rs) * w));
        }
      });
      return { y, rstd };
    },

    rmsBackward({ dy, x, shape, normalizedShape, weight, eps }) {
      const groups = rowGroups(shape, normalizedShape);
      const D = normalizedShape.reduce((a, c) => a * c, 1);
      const e = eps ?? p.rmsDefaultEps(precision);
      const dx = newArray(precision, x.length);
      const dweight = weight ? new Float64Array(D) : null;
      for (const idx of groups.groups) {
        const rs = rmsRstdOf(x, idx, e);
        // the reduction first: mean(g·x̂), g = dy·weight, x̂ = x·rstd (and dweight)
        let sumGXhat = 0;
        for (const i of idx) {
          const j = groups.param[i]!;
          const xhat = R(x[i]! * rs);
          sumGXhat = R(sumGXhat + R(R(dy[i]! * (weight ? weight[j]! : 1)) * xhat));
          if (dweight) dweight[j] = p.accumulate(dweight[j]!, p.dweightTerm(dy[i]!, xhat, x[i]!, R), R);
        }
        const meanGXhat = R(sumGXhat / idx.length);
        // then dx = rstd·(g - x̂·mean(g·x̂))
        for (const i of idx) {
          const xhat = R(x[i]! * rs);
          const g = R(dy[i]! * (weight ? weight[groups.param[i]!]! : 1));
          dx[i] = store(p.rmsDx(g, xhat, meanGXhat, rs, R));
        }
      }
      return { dx, dweight: dweight && (precision === 'float64' ? dweight : Float32Array.from(dweight, store)), dbias: null };
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
  const out: Record<string, unknown> = { ...a };
  for (const cap of CAPABILITIES) {
    const fn = a[cap] as ((args: unknown) => unknown) | undefined;
    if (fn) out[cap] = (args: unknown) => later(() => fn.call(a, args));
  }
  return out as unknown as Adapter;
}
