/**
 * RMSNorm, as torch.nn.RMSNorm(normalized_shape, eps=None, elementwise_affine=True) (PyTorch ≥ 2.4):
 * y = x / sqrt(mean(x²) + eps) · weight over the last len(normalizedShape) dimensions. No mean subtraction and
 * no bias, so shift invariance, Σdx = 0 and dbias do not exist for it; scale invariance does, and its
 * infinitesimal form Σ dx·x̂ = rstd·eps/(ms + eps)·Σ g·x̂ (ms = mean(x²)). eps = None is the machine epsilon
 * of the type the arithmetic runs in (ATen: float's for float16 and float32, double's for float64).
 * Its own error model: error_model_rms.ts. Layout-free. Capabilities rmsForward, rmsBackward.
 */
import type { RmsNormArgs, RmsNormBackwardArgs } from '../adapter.js';
import { propertyCheck } from '../check.js';
import { compare, type Comparison } from '../compare.js';
import { tensor, type Fixture } from '../fixture_reader.js';
import { lnGrouping, roundoffs } from '../error_model.js';
import { rmsBackwardBounds, rmsForwardBounds, rmsGroupStats } from '../error_model_rms.js';
import { caseWhere, describeCase, withTag, lnShapes, multiAxisLnShapes, normCase } from '../generators.js';
import {
  callAdapter, checkGrads, checkOutput, checkResultObject, fmtShape as fmtAdapterShape, optionalOutput, param, provides, type CheckContext,
  type GradsOutput,
} from '../invoke.js';
import { PRECISIONS, toAdapterArray } from '../precision.js';
import { lowPrecisionRmsForward } from '../reference_lowp.js';
import { rmsNormBackward, rmsNormDefaultEps, rmsNormForward } from '../../reference/index.js';
import { fixtureRounding, fmtShape, rowDims, unrepresentable } from './common.js';
import type { EdgeSpec, Geometry, HygieneCall, NormCase, NormSpec } from './spec.js';
import { realisticLnShapes } from '../accuracy/realistic.js';

// ---------------------------------------------------------------------------------------------------------
// The capabilities, in the normal form

export interface RmsInput {
  shape: readonly number[];
  normalizedShape: readonly number[];
  x: Float64Array;
  weight: Float64Array | null;
  /** null: PyTorch's eps=None */
  eps: number | null;
}

export interface RmsOutput {
  y: Float64Array;
  rstd: Float64Array | null;
}

export function rmsArgs(ctx: CheckContext, d: RmsInput): RmsNormArgs {
  return { x: toAdapterArray(ctx.precision, d.x), shape: [...d.shape], normalizedShape: [...d.normalizedShape], weight: param(ctx, d.weight), eps: d.eps };
}

export async function rmsForward(ctx: CheckContext, d: RmsInput): Promise<RmsOutput> {
  const cap = 'rmsForward';
  const { R } = rowDims({ shape: [...d.shape], normalizedShape: [...d.normalizedShape] });
  const res = checkResultObject(cap, await callAdapter(ctx, cap, rmsArgs(ctx, d)));
  const y = checkOutput(ctx, cap, 'y', res.y, d.x.length, `the input's ${fmtAdapterShape(d.shape)}`);
  return { y: Float64Array.from(y), rstd: optionalOutput(ctx, cap, 'rstd', res.rstd, R, 'one per row') };
}

export function rmsBackwardArgs(ctx: CheckContext, d: RmsInput & { dy: Float64Array }): RmsNormBackwardArgs {
  return { ...rmsArgs(ctx, d), dy: toAdapterArray(ctx.precision, d.dy) };
}

export async function rmsBackward(ctx: CheckContext, d: RmsInput & { dy: Float64Array }): Promise<GradsOutput> {
  const cap = 'rmsBackward';
  const D = d.normalizedShape.reduce((a, b) => a * b, 1);
  const res = checkResultObject(cap, await callAdapter(ctx, cap, rmsBackwardArgs(ctx, d)));
  const g = checkGrads(ctx, cap, res, d.x.length, `the input's ${fmtAdapterShape(d.shape)}`, D, d.weight != null, false);
  return { dx: Float64Array.from(g.dx), dweight: g.dweight, dbias: null };
}

// ---------------------------------------------------------------------------------------------------------

function grouping(g: Geometry) {
  const { R, D } = rowDims(g);
  return lnGrouping(R, D);
}


const rmsInput = (c: NormCase, eps: number | null, x = c.x): RmsInput => ({ shape: c.shape, normalizedShape: c.normalizedShape!, x, weight: c.weight, eps });

/** PyTorch's eps=None for an adapter of this precision: the arithmetic type's epsilon (float16 computes in float). */
export const defaultEps = (ctx: CheckContext): number => rmsNormDefaultEps(ctx.precision);

const edges: EdgeSpec[] = [
  { id: 'rms.forward.odd_sizes', description: 'row lengths and row counts not divisible by 4 or 8', geometry: (q) => lnShapes(q, true), kind: 'typical' },
  { id: 'rms.forward.multi_axis', description: 'normalizedShape of 2–3 axes, each longer than 1: the mean square runs over all of them, not the last axis', geometry: multiAxisLnShapes, kind: 'typical', features: ['multi_axis'] },
  { id: 'rms.forward.zero_rows', description: 'all-zero rows among ordinary ones normalise to 0 (mean(x²) = 0, eps keeps rstd finite), not NaN', geometry: (q) => lnShapes(q), kind: 'zero_or_typical' },
  {
    id: 'rms.forward.huge_values', description: 'rows of |x| up to 1e30 (3e4 in float16), whose squares overflow the precision: the output is still x/rms(x), not 0 or NaN (scale, or accumulate wider)',
    geometry: (q) => lnShapes(q), kind: 'huge',
  },
  { id: 'rms.forward.small_values', description: 'mean squares 1e-12…1e-4 around eps: eps inside the square root, added once', geometry: (q) => lnShapes(q), kind: 'small' },
  { id: 'rms.forward.offset_1e4', description: 'rows offset by 1e4× their spread: nothing is subtracted, so the error stays a few ulps (no conditioning factor)', geometry: (q) => lnShapes(q), kind: { offset: 1e4 } },
  { id: 'rms.forward.nonfinite_confined', description: 'a NaN (and ±Inf, where the rows leave one clean) stays in its row', geometry: (q) => lnShapes(q), kind: 'typical', poison: true },
];

/**
 * eps = null must be PyTorch's None: ATen's rms_norm takes numeric_limits<opmath_t>::epsilon(), 2^-23 for float32
 * and for float16 (which it computes in float), 2^-52 for float64 (the docs' finfo(x.dtype).eps differs for
 * float16). Rows whose mean square is near it show a default of 1e-5 (LayerNorm's) by a factor of up to ~9.
 */
const epsDefault = propertyCheck<NormCase>({
  id: 'rms.forward.eps_default', category: 'edge', norm: 'rms', describe: describeCase, where: caseWhere,
  description: 'eps = null is PyTorch\'s None: the epsilon of the arithmetic type (2^-23 for float32 and float16, 2^-52 for float64), shown on rows whose mean square is near it',
  needs: ['rmsForward'], features: ['small_values', 'eps_default'],
  arbitrary: (ctx) => withTag(normCase(RMSNORM, ctx, lnShapes(ctx.quick), { label: 'rms_eps_default', kind: 'small', affine: 'random' }), 'eps_default'),
  property: async (ctx, c) => {
    const eps = defaultEps(ctx);
    const out = await rmsForward(ctx, rmsInput(c, null));
    const ref = rmsNormForward({ x: c.x, shape: c.shape, normalizedShape: c.normalizedShape!, weight: c.weight, eps });
    const b = rmsForwardBounds(roundoffs(ctx.precision), c.x, grouping(c), c.weight, null, eps);
    const comps = [compare(`y (eps = null: ${eps.toExponential(3)})`, out.y, ref.y, b.y, ctx.precision)];
    if (out.rstd) comps.push(compare('rstd', out.rstd, ref.rstd, b.rstd, ctx.precision));
    return comps;
  },
});

/**
 * One RMSNorm forward and backward computed by torch ops in float64 (torch 1.13 has no RMSNorm module; see
 * fixtures/README.md). Fixtures made with eps = None hold float64's epsilon: a float64 adapter gets null (its
 * own default must be that), a float32 or float16 one the value itself (its default is float's, 2^-23).
 */
async function judgeFixture(ctx: CheckContext, fx: Fixture): Promise<Comparison[] | string> {
  const skip = unrepresentable(ctx, fx);
  if (skip) return skip;
  const s = fx.settings as { shape: number[]; normalized_shape: number[]; eps: number | null; eps_value: number; elementwise_affine: boolean };
  const x64 = tensor(fx, 'x');
  const tiny = PRECISIONS[ctx.precision].minNormal;
  if (x64.some((v) => v !== 0 && Math.abs(v) < tiny)) return `x holds values below ${ctx.precision}'s normal range`;
  const { us, round } = fixtureRounding(ctx);
  const p = ctx.precision;
  const g = { shape: s.shape, normalizedShape: s.normalized_shape };
  const groups = grouping(g);
  const weight = s.elementwise_affine ? round(tensor(fx, 'weight')) : null;
  const x = round(x64);
  const eps = s.eps === null && ctx.precision === 'float64' ? null : s.eps_value;
  const d: RmsInput = { shape: s.shape, normalizedShape: s.normalized_shape, x, weight, eps };
  const out = await rmsForward(ctx, d);
  const b = rmsForwardBounds(us, x, groups, weight, null, s.eps_value);
  const comps = [compare('y', out.y, tensor(fx, 'y'), b.y, p)];
  if (out.rstd) comps.push(compare('rstd', out.rstd, tensor(fx, 'rstd'), b.rstd, p));
  if (provides(ctx, 'rmsBackward')) {
    const dy = round(tensor(fx, 'dy'));
    const grads = await rmsBackward(ctx, { ...d, dy });
    const gb = rmsBackwardBounds(us, x, dy, groups, weight, s.eps_value);
    comps.push(compare('dx', grads.dx, tensor(fx, 'dx'), gb.dx, p));
    if (weight) comps.push(compare('dweight', grads.dweight!, tensor(fx, 'dweight'), gb.dweight, p));
  }
  return comps;
}

const hygiene: HygieneCall[] = [
  {
    capability: 'rmsForward',
    rawArgs: (ctx, c) => rmsArgs(ctx, rmsInput(c, ctx.conventions.eps)),
    outputs: async (ctx, c) => ({ ...(await rmsForward(ctx, rmsInput(c, ctx.conventions.eps))) }),
  },
  {
    capability: 'rmsBackward',
    rawArgs: (ctx, c) => rmsBackwardArgs(ctx, { ...rmsInput(c, ctx.conventions.eps), dy: c.dy }),
    outputs: async (ctx, c) => ({ ...(await rmsBackward(ctx, { ...rmsInput(c, ctx.conventions.eps), dy: c.dy })) }),
  },
];

export const RMSNORM: NormSpec = {
  id: 'rms',
  name: 'RMSNorm',
  pytorch: 'torch.nn.RMSNorm',
  groupNoun: 'row',
  centred: false,
  hasBias: false,
  poison: 'element',
  runningStats: false,
  ids: { forwardPrefix: 'rms.forward', forward: 'rms.forward', backwardPrefix: 'rms.backward', backward: 'rms.backward' },
  descriptions: {
    forward: 'RMSNorm output y = x/sqrt(mean(x²) + eps)·weight (and the saved rstd if returned) matches the float64 reference',
    backward: 'RMSNorm backward: dx = rstd·(g - x̂·mean(g·x̂)) and dweight (summed over rows) match the reference; each case also without weight',
    sumDxXhat: 'RMSNorm backward: Σ dx·x̂ = rstd·eps/(ms+eps)·Σ g·x̂ per row, ms = mean(x²) (the gradient of a scale-invariant map)',
    gradcheck: 'RMSNorm backward agrees with central differences of the adapter\'s own forward',
  },
  capabilities: { forward: 'rmsForward', backward: 'rmsBackward' },
  backwardAffine: 'both',
  forwardAffine: 'both',

  grouping,
  describeGeometry: (g) => `${fmtShape(g.shape)}_normalized${fmtShape(g.normalizedShape!)}`,
  geometry: {
    typical: (quick) => lnShapes(quick),
    hygiene: () => lnShapes(true, true),
    realistic: (l) => realisticLnShapes(l),
  },

  async forward(ctx, c, o) {
    return { ...(await rmsForward(ctx, rmsInput(c, o.eps, o.x))), mean: null, running: null };
  },
  backward: (ctx, c, o) => rmsBackward(ctx, { ...rmsInput(c, o.eps), dy: o.dy ?? c.dy }),
  reference: {
    forward(_ctx, c, o) {
      const r = rmsNormForward({ x: o.x ?? c.x, shape: c.shape, normalizedShape: c.normalizedShape!, weight: c.weight, eps: o.eps });
      return { y: r.y, mean: null, rstd: r.rstd, running: null };
    },
    backward(_ctx, c, o) {
      const { rstd } = rmsNormForward({ x: c.x, shape: c.shape, normalizedShape: c.normalizedShape!, eps: o.eps });
      return { ...rmsNormBackward({ dy: o.dy ?? c.dy, x: c.x, shape: c.shape, normalizedShape: c.normalizedShape!, weight: c.weight, rstd }), dbias: null };
    },
  },
  bounds: { forward: rmsForwardBounds, backward: rmsBackwardBounds, stats: rmsGroupStats, lowPrecision: lowPrecisionRmsForward },

  permutation: {
    name: 'row_permutation', what: 'rows', label: 'rms_permute',
    description: 'permuting the rows permutes the output: rows are normalised independently',
    units: (g) => rowDims(g).R,
  },
  independence: {
    name: 'row_independence', label: 'rms_rows', plural: 'rows',
    description: 'changing one row\'s data leaves every other row\'s output unchanged',
  },
  edges,
  hygiene,
  fixtures: {
    id: 'fixtures.rmsnorm', kind: 'rmsnorm',
    description: 'golden RMSNorm cases from PyTorch float64 ops and autograd (one and two normalised dims, no weight, eps None, a zero row, offset 1e4)',
    judge: judgeFixture,
  },
  extra: [epsDefault],
};
