/**
 * Emulated low-precision BatchNorm/LayerNorm adapters for testing the suite itself, built from the mutant
 * gallery's implementation (conformance/mutants/base.ts): every arithmetic result is rounded with `R`
 * (Math.fround for float32, roundToFloat16 for float16), so each is what plain arithmetic in that precision
 * computes, the way stdlib-js's float32 functions emulate float32.
 *
 * Honest variants (must pass everything): the gallery's two-pass, Welford, shifted-data and float64-accumulating
 * statistics, channels-last, and float16 storage. Broken variants (each must fail the check that names its
 * bug) set one `bug`, as one replaced part of base.ts (written here where it is not exactly a gallery mutant).
 * Unlike the gallery's adapters these also return LayerNorm's saved mean and rstd, so those are judged too.
 */
import type { Adapter, Precision } from '../../conformance/adapter.js';
import { buildAdapter, twoPassMoments, type Parts, type Round } from '../../conformance/mutants/base.js';
import { onePassMoments } from '../../conformance/mutants/bn_forward.js';
import { float64Moments, shiftedMoments, welfordMoments } from '../../conformance/mutants/variants.js';
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

const ROUNDING: Record<'float16' | 'float32' | 'float64', Round> = { float16: roundToFloat16, float32: Math.fround, float64: (v) => v };

const MOMENTS: Record<Variance, Parts['moments']> = {
  'two-pass': twoPassMoments,
  welford: welfordMoments,
  shifted: shiftedMoments,
  'float64-accumulate': float64Moments,
  'one-pass': onePassMoments,
};

/** The replaced part of each bug ('mutates-input' is a wrapper, below). */
const BUG_PARTS: Record<Bug, Partial<Parts>> = {
  none: {},
  'mutates-input': {},
  // the running variance takes the biased batch variance
  'no-bessel': { runningVariance: (v) => v },
  // 1/(sqrt(var) + eps) instead of 1/sqrt(var + eps)
  'eps-outside-sqrt': { rstd: (v, eps, R) => R(1 / R(R(Math.sqrt(Math.max(v, 0))) + eps)) },
  // momentum read as the fraction kept: f = 1 - momentum (momentum = None still averages cumulatively)
  'momentum-kept': { runningFraction: (momentum, n) => (momentum === null ? 1 / (n + 1) : 1 - momentum) },
  // dx = rstd·(g - 0 - x̂·0): both terms through the batch statistics dropped
  'backward-no-mean-terms': { dx: ({ g, xhat, rstd }, R) => R(rstd * R(R(g - 0) - R(xhat * 0))) },
  'eval-batch-stats': { evalStatistics: 'batch' },
};

export function emulatedAdapter(o: EmulatedOptions = {}): Adapter {
  const precision = o.precision ?? 'float32';
  const variance = o.variance ?? 'two-pass';
  const bug = o.bug ?? 'none';
  const name = o.name ?? `emulated-${precision}-${variance}${bug === 'none' ? '' : `-${bug}`}`;
  const adapter = buildAdapter({
    name,
    description: `emulated ${precision}, ${variance} statistics${bug === 'none' ? '' : `, bug: ${bug}`}`,
    precision,
    layout: o.layout ?? 'NCHW',
    arithmetic: ROUNDING[o.arithmetic ?? (precision === 'float16' ? 'float32' : precision)],
    lnSavedStatistics: true,
    parts: { moments: MOMENTS[variance], ...BUG_PARTS[bug] },
  });
  if (bug !== 'mutates-input') return adapter;
  // the training forward zeroes its input's first element after computing from it
  return {
    ...adapter,
    bnTrainForward(args) {
      const out = adapter.bnTrainForward!(args);
      args.x[0] = 0;
      return out;
    },
  };
}
