/**
 * Emulated low-precision BatchNorm/LayerNorm adapters for testing the suite itself: every arithmetic result
 * is rounded with `R` (Math.fround for float32, roundToFloat16 for float16), so each is what plain
 * arithmetic in that precision computes, the way stdlib-js's float32 functions emulate float32.
 *
 * Honest variants (must pass everything): two-pass, Welford, shifted data, float64 accumulation, and a
 * float16 one. Broken variants (each must fail the check that names its bug) set one `bug`.
 */
import type { Adapter, FloatArray, Precision } from '../../conformance/adapter.js';
import { bnGrouping, lnGrouping, type Grouping } from '../../conformance/error_model.js';
import { roundToFloat16 } from '../../conformance/precision.js';

export type Variance = 'two-pass' | 'welford' | 'shifted' | 'float64-accumulate' | 'one-pass';
export type Bug =
  | 'none' | 'no-bessel' | 'eps-outside-sqrt' | 'momentum-kept' | 'backward-no-mean-terms' | 'eval-batch-stats' | 'mutates-input';

export interface EmulatedOptions {
  name?: string;
  variance?: Variance;
  precision?: Precision;
  /** rounding inside the arithmetic (default: the precision's; float16 accumulates in float32 unless set) */
  arithmetic?: 'float16' | 'float32' | 'float64';
  bug?: Bug;
  layout?: 'NCHW' | 'NHWC';
}

const id = (v: number) => v;
const rounder = (p: 'float16' | 'float32' | 'float64') => (p === 'float64' ? id : p === 'float32' ? Math.fround : roundToFloat16);

/** Group statistics (mean, biased variance) by one of the algorithms, rounding every operation with R. */
function moments(x: ArrayLike<number>, idx: Int32Array, variance: Variance, R: (v: number) => number): { mean: number; var: number } {
  const M = idx.length;
  switch (variance) {
    case 'two-pass': {
      let s = 0;
      for (const i of idx) s = R(s + x[i]!);
      const mean = R(s / M);
      let q = 0;
      for (const i of idx) {
        const d = R(x[i]! - mean);
        q = R(q + R(d * d));
      }
      return { mean, var: R(q / M) };
    }
    case 'welford': {
      let mean = 0;
      let m2 = 0;
      let k = 0;
      for (const i of idx) {
        k++;
        const delta = R(x[i]! - mean);
        mean = R(mean + R(delta / k));
        m2 = R(m2 + R(delta * R(x[i]! - mean)));
      }
      return { mean, var: R(m2 / M) };
    }
    case 'shifted': {
      const K = x[idx[0]!]!;
      let s1 = 0;
      let s2 = 0;
      for (const i of idx) {
        const d = R(x[i]! - K);
        s1 = R(s1 + d);
        s2 = R(s2 + R(d * d));
      }
      const m1 = R(s1 / M);
      return { mean: R(K + m1), var: Math.max(0, R(R(s2 / M) - R(m1 * m1))) };
    }
    case 'float64-accumulate': {
      let s = 0;
      for (const i of idx) s += x[i]!;
      const mean = s / M;
      let q = 0;
      for (const i of idx) q += (x[i]! - mean) ** 2;
      return { mean: R(mean), var: R(q / M) };
    }
    case 'one-pass': {
      let s1 = 0;
      let s2 = 0;
      for (const i of idx) {
        s1 = R(s1 + x[i]!);
        s2 = R(s2 + R(x[i]! * x[i]!));
      }
      const mean = R(s1 / M);
      return { mean, var: R(R(s2 / M) - R(mean * mean)) };
    }
  }
}

function nchwGrouping(shape: readonly number[], layout: 'NCHW' | 'NHWC'): Grouping {
  const N = shape[0]!;
  if (layout === 'NCHW') {
    const C = shape[1]!;
    const S = shape.slice(2).reduce((a, b) => a * b, 1);
    return bnGrouping(N, C, S);
  }
  // NHWC: (n·S + s)·C + c; group c
  const C = shape[shape.length - 1]!;
  const S = shape.slice(1, -1).reduce((a, b) => a * b, 1);
  const groups: Int32Array[] = [];
  const param = new Int32Array(N * S * C);
  for (let c = 0; c < C; c++) {
    const g = new Int32Array(N * S);
    let k = 0;
    for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) g[k++] = (n * S + s) * C + c;
    groups.push(g);
    for (const i of g) param[i] = c;
  }
  return { groups, param, numParams: C };
}

export function emulatedAdapter(o: EmulatedOptions = {}): Adapter {
  const precision = o.precision ?? 'float32';
  const variance = o.variance ?? 'two-pass';
  const bug = o.bug ?? 'none';
  const layout = o.layout ?? 'NCHW';
  const arith = o.arithmetic ?? (precision === 'float16' ? 'float32' : precision);
  const R = rounder(arith);
  const out = rounder(precision); // results are stored in the adapter's precision
  const arr = (n: number): FloatArray => (precision === 'float64' ? new Float64Array(n) : new Float32Array(n));
  const rstdOf = (v: number, eps: number) => (bug === 'eps-outside-sqrt' ? R(1 / R(R(Math.sqrt(Math.max(v, 0))) + eps)) : R(1 / R(Math.sqrt(R(v + eps)))));

  /** Normalise each group with its statistics; weight/bias by grouping.param. */
  function normalize(x: ArrayLike<number>, g: Grouping, stats: { mean: number; rstd: number }[], weight: ArrayLike<number> | null, bias: ArrayLike<number> | null): FloatArray {
    const y = arr(x.length);
    g.groups.forEach((idx, k) => {
      const { mean, rstd } = stats[k]!;
      for (const i of idx) {
        const p = g.param[i]!;
        const xhat = R(R(x[i]! - mean) * rstd);
        y[i] = out(R(R(xhat * (weight ? weight[p]! : 1)) + (bias ? bias[p]! : 0)));
      }
    });
    return y;
  }

  function backward(x: ArrayLike<number>, dy: ArrayLike<number>, g: Grouping, stats: { mean: number; rstd: number }[], weight: ArrayLike<number> | null, hasBias: boolean, training: boolean) {
    const dx = arr(x.length);
    const dweight = weight ? new Float64Array(g.numParams) : null;
    const dbias = hasBias ? new Float64Array(g.numParams) : null;
    g.groups.forEach((idx, k) => {
      const { mean, rstd } = stats[k]!;
      const M = idx.length;
      let sg = 0;
      let sgx = 0;
      for (const i of idx) {
        const p = g.param[i]!;
        const xhat = R(R(x[i]! - mean) * rstd);
        const gi = R(dy[i]! * (weight ? weight[p]! : 1));
        sg = R(sg + gi);
        sgx = R(sgx + R(gi * xhat));
        if (dweight) dweight[p] = R(dweight[p]! + R(dy[i]! * xhat));
        if (dbias) dbias[p] = R(dbias[p]! + dy[i]!);
      }
      const useMeans = training && bug !== 'backward-no-mean-terms';
      const mg = useMeans ? R(sg / M) : 0;
      const mgx = useMeans ? R(sgx / M) : 0;
      for (const i of idx) {
        const p = g.param[i]!;
        const xhat = R(R(x[i]! - mean) * rstd);
        const gi = R(dy[i]! * (weight ? weight[p]! : 1));
        dx[i] = out(R(rstd * R(R(gi - mg) - R(xhat * mgx))));
      }
    });
    const conv = (a: Float64Array | null) => {
      if (!a) return null;
      const r = arr(a.length);
      a.forEach((v, i) => (r[i] = out(v)));
      return r;
    };
    return { dx, dweight: conv(dweight), dbias: conv(dbias) };
  }

  const batchStats = (x: ArrayLike<number>, g: Grouping, eps: number) =>
    g.groups.map((idx) => {
      const m = moments(x, idx, variance, R);
      return { mean: m.mean, var: m.var, rstd: rstdOf(m.var, eps) };
    });

  return {
    name: o.name ?? `emulated-${precision}-${variance}${bug === 'none' ? '' : `-${bug}`}`,
    precision,
    layout,
    profile: 'pytorch',
    bnTrainForward({ x, shape, weight, bias, runningMean, runningVar, numBatchesTracked, momentum, eps }) {
      const g = nchwGrouping(shape, layout);
      const stats = batchStats(x, g, eps);
      const y = normalize(x, g, stats, weight, bias);
      if (bug === 'mutates-input') x[0] = 0;
      const f = momentum === null ? 1 / (numBatchesTracked + 1) : bug === 'momentum-kept' ? 1 - momentum : momentum;
      const rm = arr(stats.length);
      const rv = arr(stats.length);
      stats.forEach((s, c) => {
        const M = g.groups[c]!.length;
        const unbiased = bug === 'no-bessel' ? s.var : R(R(s.var * M) / (M - 1));
        rm[c] = out(R(R((1 - f) * runningMean[c]!) + R(f * s.mean)));
        rv[c] = out(R(R((1 - f) * runningVar[c]!) + R(f * unbiased)));
      });
      const mean = arr(stats.length);
      const rstd = arr(stats.length);
      stats.forEach((s, c) => {
        mean[c] = out(s.mean);
        rstd[c] = out(s.rstd);
      });
      return { y, runningMean: rm, runningVar: rv, mean, rstd };
    },
    bnEvalForward({ x, shape, weight, bias, runningMean, runningVar, eps }) {
      const g = nchwGrouping(shape, layout);
      const stats = bug === 'eval-batch-stats'
        ? batchStats(x, g, eps)
        : Array.from(runningMean, (m, c) => ({ mean: m, rstd: rstdOf(runningVar[c]!, eps) }));
      return { y: normalize(x, g, stats, weight, bias) };
    },
    bnBackward({ dy, x, shape, weight, bias, training, runningMean, runningVar, eps }) {
      const g = nchwGrouping(shape, layout);
      const stats = training ? batchStats(x, g, eps) : Array.from(runningMean!, (m, c) => ({ mean: m, rstd: rstdOf(runningVar![c]!, eps) }));
      return backward(x, dy, g, stats, weight, bias != null, training);
    },
    lnForward({ x, normalizedShape, weight, bias, eps }) {
      const D = normalizedShape.reduce((a, b) => a * b, 1);
      const g = lnGrouping(x.length / D, D);
      const stats = batchStats(x, g, eps);
      const mean = arr(stats.length);
      const rstd = arr(stats.length);
      stats.forEach((s, r) => {
        mean[r] = out(s.mean);
        rstd[r] = out(s.rstd);
      });
      return { y: normalize(x, g, stats, weight, bias), mean, rstd };
    },
    lnBackward({ dy, x, normalizedShape, weight, bias, eps }) {
      const D = normalizedShape.reduce((a, b) => a * b, 1);
      const g = lnGrouping(x.length / D, D);
      return backward(x, dy, g, batchStats(x, g, eps), weight, bias != null, true);
    },
  };
}
