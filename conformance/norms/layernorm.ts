/**
 * LayerNorm, as torch.nn.LayerNorm(normalized_shape, eps, elementwise_affine): statistics per row over the
 * last len(normalizedShape) dimensions, biased variance, per-element weight and bias of normalizedShape.
 * Layout-free. Capabilities lnForward, lnBackward.
 */
import type { LayerNormArgs, LayerNormBackwardArgs } from '../adapter.js';
import { compare, type Comparison } from '../compare.js';
import { groupStats, lnGrouping, normBackwardBounds, normForwardBounds } from '../error_model.js';
import { tensor, type Fixture } from '../fixture_reader.js';
import { lnShapes, multiAxisLnShapes } from '../generators.js';
import {
  callAdapter, checkGrads, checkOutput, checkResultObject, fmtShape as fmtAdapterShape, optionalOutput, param, provides, type CheckContext,
  type GradsOutput,
} from '../invoke.js';
import { toAdapterArray } from '../precision.js';
import { lowPrecisionNormForward } from '../reference_lowp.js';
import { layerNormBackward, layerNormForward } from '../../reference/index.js';
import { fixtureRounding, fmtShape, rowDims, unrepresentable } from './common.js';
import type { EdgeSpec, Geometry, HygieneCall, NormSpec } from './spec.js';
import { realisticLnShapes } from '../accuracy/realistic.js';

// ---------------------------------------------------------------------------------------------------------
// The capabilities, in the normal form

export interface LnInput {
  shape: readonly number[];
  normalizedShape: readonly number[];
  x: Float64Array;
  weight: Float64Array | null;
  bias: Float64Array | null;
  eps: number;
}

export interface LnOutput {
  y: Float64Array;
  mean: Float64Array | null;
  rstd: Float64Array | null;
}

export function lnArgs(ctx: CheckContext, d: LnInput): LayerNormArgs {
  return {
    x: toAdapterArray(ctx.precision, d.x), shape: [...d.shape], normalizedShape: [...d.normalizedShape],
    weight: param(ctx, d.weight), bias: param(ctx, d.bias), eps: d.eps,
  };
}

export async function lnForward(ctx: CheckContext, d: LnInput): Promise<LnOutput> {
  const cap = 'lnForward';
  const { R } = rowDims({ shape: [...d.shape], normalizedShape: [...d.normalizedShape] });
  const res = checkResultObject(cap, await callAdapter(ctx, cap, lnArgs(ctx, d)));
  const y = checkOutput(ctx, cap, 'y', res.y, d.x.length, `the input's ${fmtAdapterShape(d.shape)}`);
  return {
    y: Float64Array.from(y),
    mean: optionalOutput(ctx, cap, 'mean', res.mean, R, 'one per row'), rstd: optionalOutput(ctx, cap, 'rstd', res.rstd, R, 'one per row'),
  };
}

export interface LnBackwardInput extends LnInput {
  dy: Float64Array;
}

export function lnBackwardArgs(ctx: CheckContext, d: LnBackwardInput): LayerNormBackwardArgs {
  return { ...lnArgs(ctx, d), dy: toAdapterArray(ctx.precision, d.dy) };
}

export async function lnBackward(ctx: CheckContext, d: LnBackwardInput): Promise<GradsOutput> {
  const cap = 'lnBackward';
  const D = d.normalizedShape.reduce((a, b) => a * b, 1);
  const res = checkResultObject(cap, await callAdapter(ctx, cap, lnBackwardArgs(ctx, d)));
  const g = checkGrads(ctx, cap, res, d.x.length, `the input's ${fmtAdapterShape(d.shape)}`, D, d.weight != null, d.bias != null);
  return { dx: Float64Array.from(g.dx), dweight: g.dweight, dbias: g.dbias };
}

// ---------------------------------------------------------------------------------------------------------

function grouping(g: Geometry) {
  const { R, D } = rowDims(g);
  return lnGrouping(R, D);
}


/** The case's LayerNorm arguments, with its own or the given x. */
const lnInput = (c: Geometry & { x: Float64Array; weight: Float64Array | null; bias: Float64Array | null }, eps: number, x = c.x): LnInput => ({
  shape: c.shape, normalizedShape: c.normalizedShape!, x, weight: c.weight, bias: c.bias, eps,
});

async function judgeFixture(ctx: CheckContext, fx: Fixture): Promise<Comparison[] | string> {
  const skip = unrepresentable(ctx, fx);
  if (skip) return skip;
  const s = fx.settings as { shape: number[]; normalized_shape: number[]; eps: number; elementwise_affine: boolean };
  const { us, round } = fixtureRounding(ctx);
  const p = ctx.precision;
  const groups = grouping({ shape: s.shape, normalizedShape: s.normalized_shape });
  const weight = s.elementwise_affine ? round(tensor(fx, 'weight')) : null;
  const bias = s.elementwise_affine ? round(tensor(fx, 'bias')) : null;
  const x = round(tensor(fx, 'x'));
  const d = { shape: s.shape, normalizedShape: s.normalized_shape, x, weight, bias, eps: s.eps };
  const out = await lnForward(ctx, d);
  const b = normForwardBounds(us, x, groups, weight, bias, s.eps);
  const comps = [compare('y', out.y, tensor(fx, 'y'), b.y, p)];
  if (out.mean) comps.push(compare('mean', out.mean, tensor(fx, 'mean'), b.mean, p));
  if (out.rstd) comps.push(compare('rstd', out.rstd, tensor(fx, 'rstd'), b.rstd, p));
  if (provides(ctx, 'lnBackward')) {
    const dy = round(tensor(fx, 'dy'));
    const g = await lnBackward(ctx, { ...d, dy });
    const gb = normBackwardBounds(us, x, dy, groups, weight, s.eps);
    comps.push(compare('dx', g.dx, tensor(fx, 'dx'), gb.dx, p));
    if (weight) comps.push(compare('dweight', g.dweight!, tensor(fx, 'dweight'), gb.dweight, p));
    if (bias) comps.push(compare('dbias', g.dbias!, tensor(fx, 'dbias'), gb.dbias, p));
  }
  return comps;
}

const edges: EdgeSpec[] = [
  { id: 'ln.forward.odd_sizes', description: 'row lengths and row counts not divisible by 4 or 8', geometry: (q) => lnShapes(q, true), kind: 'typical' },
  { id: 'ln.forward.multi_axis', description: 'normalizedShape of 2–3 axes, each longer than 1: the statistics run over all of them, not the last axis', geometry: multiAxisLnShapes, kind: 'typical', features: ['multi_axis'] },
  { id: 'ln.forward.constant_row', description: 'a constant row normalises to the bias, not NaN', geometry: (q) => lnShapes(q), kind: 'constant' },
  { id: 'ln.forward.offset_1e4', description: 'rows offset by 1e4× their spread', geometry: (q) => lnShapes(q), kind: { offset: 1e4 } },
  { id: 'ln.forward.tiny_variance', description: 'row variances 1e-12…1e-4 around eps', geometry: (q) => lnShapes(q), kind: 'tiny' },
  { id: 'ln.forward.nonfinite_confined', description: 'a NaN (and ±Inf, where the rows leave one clean) stays in its row', geometry: (q) => lnShapes(q), kind: 'typical', poison: true },
];

const hygiene: HygieneCall[] = [
  {
    capability: 'lnForward',
    rawArgs: (ctx, c) => lnArgs(ctx, lnInput(c, ctx.conventions.eps)),
    outputs: async (ctx, c) => ({ ...(await lnForward(ctx, lnInput(c, ctx.conventions.eps))) }),
  },
  {
    capability: 'lnBackward',
    rawArgs: (ctx, c) => lnBackwardArgs(ctx, { ...lnInput(c, ctx.conventions.eps), dy: c.dy }),
    outputs: async (ctx, c) => ({ ...(await lnBackward(ctx, { ...lnInput(c, ctx.conventions.eps), dy: c.dy })) }),
  },
];

export const LAYERNORM: NormSpec = {
  id: 'ln',
  name: 'LayerNorm',
  pytorch: 'torch.nn.LayerNorm',
  groupNoun: 'row',
  centred: true,
  hasBias: true,
  poison: 'group',
  runningStats: false,
  ids: { forwardPrefix: 'ln.forward', forward: 'ln.forward', backwardPrefix: 'ln.backward', backward: 'ln.backward' },
  labels: { forward: 'ln' },
  descriptions: {
    forward: 'LayerNorm output (and saved mean/rstd if returned) matches the float64 reference',
    backward: 'LayerNorm backward: dx, dweight, dbias (summed over rows) match the reference',
    sumDxZero: 'LayerNorm backward: Σ dx = 0 per row',
    sumDxXhat: 'LayerNorm backward: Σ dx·x̂ = rstd·eps/(var+eps)·Σ g·x̂ per row',
    dbiasSumDy: 'LayerNorm dbias = Σ dy over rows',
    gradcheck: 'LayerNorm backward agrees with central differences of the adapter\'s own forward',
  },
  capabilities: { forward: 'lnForward', backward: 'lnBackward' },
  backwardAffine: 'random',

  grouping,
  describeGeometry: (g) => `${fmtShape(g.shape)}_normalized${fmtShape(g.normalizedShape!)}`,
  geometry: {
    typical: (quick) => lnShapes(quick),
    hygiene: () => lnShapes(true, true),
    realistic: (l) => realisticLnShapes(l),
  },

  async forward(ctx, c, o) {
    return { ...(await lnForward(ctx, lnInput(c, o.eps, o.x))), running: null };
  },
  backward: (ctx, c, o) => lnBackward(ctx, { ...lnInput(c, o.eps), dy: o.dy ?? c.dy }),
  reference: {
    forward(_ctx, c, o) {
      return { ...layerNormForward({ x: o.x ?? c.x, shape: c.shape, normalizedShape: c.normalizedShape!, weight: c.weight, bias: c.bias, eps: o.eps }), running: null };
    },
    backward(_ctx, c, o) {
      const fwd = layerNormForward({ x: c.x, shape: c.shape, normalizedShape: c.normalizedShape!, eps: o.eps });
      return layerNormBackward({
        dy: o.dy ?? c.dy, x: c.x, shape: c.shape, normalizedShape: c.normalizedShape!, weight: c.weight, hasBias: c.bias != null, mean: fwd.mean, rstd: fwd.rstd,
      });
    },
  },
  bounds: { forward: normForwardBounds, backward: normBackwardBounds, stats: groupStats, lowPrecision: lowPrecisionNormForward },

  permutation: {
    name: 'row_permutation', what: 'rows', label: 'ln_permute',
    description: 'permuting the rows permutes the output: rows are normalised independently',
    units: (g) => rowDims(g).R,
  },
  independence: {
    name: 'row_independence', label: 'ln_rows', plural: 'rows',
    description: 'changing one row\'s data leaves every other row\'s output unchanged',
  },
  edges,
  hygiene,
  fixtures: {
    id: 'fixtures.layernorm', kind: 'layernorm',
    description: 'PyTorch golden LayerNorm cases (one and two normalised dims, no affine, eps 1e-12, offset 1e4)',
    judge: judgeFixture,
  },
};
