/**
 * GroupNorm, as torch.nn.GroupNorm(num_groups, num_channels, eps=1e-5, affine=True): per sample, the C
 * channels split into G groups of C/G consecutive channels; statistics per (sample, group) over its channels
 * × spatial positions, biased variance; per-channel weight and bias; no running statistics, the same in
 * training and eval. C % G ≠ 0 is an error. G = 1 is LayerNorm over (C, ...spatial) followed by a per-channel
 * affine; G = C is InstanceNorm with its own statistics (affine included: both are per channel).
 * Capabilities gnForward, gnBackward.
 */
import fc from 'fast-check';
import type { GroupNormArgs, GroupNormBackwardArgs } from '../adapter.js';
import { propertyCheck } from '../check.js';
import { rejectionCheck } from '../checks/rejections.js';
import { compare, type Comparison } from '../compare.js';
import { tensor, type Fixture } from '../fixture_reader.js';
import { gnGrouping, groupStats, inGrouping, normBackwardBounds, normForwardBounds } from '../error_model.js';
import { describeCase, divisors, gnShapes, normCase, type GroupNormLimits } from '../generators.js';
import {
  adapterShape, callAdapter, checkGrads, checkOutput, checkResultObject, fmtShape as fmtAdapterShape, fromLayout, optionalOutput, param,
  provides, toLayout, type CheckContext, type GradsOutput,
} from '../invoke.js';
import { PRECISIONS } from '../precision.js';
import { lowPrecisionNormForward } from '../reference_lowp.js';
import { groupNormBackward, groupNormForward } from '../../reference/index.js';
import { fixtureRounding, fmtShape, nchwDims, unrepresentable } from './common.js';
import { inForward } from './instancenorm.js';
import type { Feature } from '../features.js';
import type { EdgeSpec, Geometry, HygieneCall, NormCase, NormSpec } from './spec.js';
import { realisticGnShapes } from '../accuracy/realistic.js';

// ---------------------------------------------------------------------------------------------------------
// The capabilities, in the normal form (NCHW Float64Array in, validated NCHW Float64Array out)

export interface GnInput {
  shape: readonly number[]; // NCHW
  numGroups: number;
  x: Float64Array;
  weight: Float64Array | null;
  bias: Float64Array | null;
  eps: number;
}

export interface GnOutput {
  y: Float64Array;
  mean: Float64Array | null; // (N·G)
  rstd: Float64Array | null;
}

export function gnArgs(ctx: CheckContext, d: GnInput): GroupNormArgs {
  return {
    x: toLayout(ctx, d.x, d.shape), shape: adapterShape(ctx.layout, d.shape), numGroups: d.numGroups,
    weight: param(ctx, d.weight), bias: param(ctx, d.bias), eps: d.eps,
  };
}

export async function gnForward(ctx: CheckContext, d: GnInput): Promise<GnOutput> {
  const cap = 'gnForward';
  const NG = d.shape[0]! * d.numGroups;
  const res = checkResultObject(cap, await callAdapter(ctx, cap, gnArgs(ctx, d)));
  const y = checkOutput(ctx, cap, 'y', res.y, d.x.length, `the input's ${fmtAdapterShape(adapterShape(ctx.layout, d.shape))}`);
  return {
    y: fromLayout(ctx, y, d.shape),
    mean: optionalOutput(ctx, cap, 'mean', res.mean, NG, 'one per (sample, group), n-major'),
    rstd: optionalOutput(ctx, cap, 'rstd', res.rstd, NG, 'one per (sample, group), n-major'),
  };
}

export function gnBackwardArgs(ctx: CheckContext, d: GnInput & { dy: Float64Array }): GroupNormBackwardArgs {
  return { ...gnArgs(ctx, d), dy: toLayout(ctx, d.dy, d.shape) };
}

export async function gnBackward(ctx: CheckContext, d: GnInput & { dy: Float64Array }): Promise<GradsOutput> {
  const cap = 'gnBackward';
  const res = checkResultObject(cap, await callAdapter(ctx, cap, gnBackwardArgs(ctx, d)));
  const g = checkGrads(ctx, cap, res, d.x.length, `the input's ${fmtAdapterShape(adapterShape(ctx.layout, d.shape))}`, d.shape[1]!, d.weight != null, d.bias != null);
  return { dx: fromLayout(ctx, g.dx, d.shape), dweight: g.dweight, dbias: g.dbias };
}

// ---------------------------------------------------------------------------------------------------------
// Geometries

// Typical cases have 1 < G < C wherever C allows (the grouping is then neither LayerNorm's nor InstanceNorm's,
// so a wrong channel-to-group assignment shows); G = 1 and G = C have their own edge cases.
const QUICK: GroupNormLimits = { maxN: 3, channels: [2, 4, 6, 8], maxSpatialRank: 2, maxSpatial: 4, groups: 'between' };
const FULL: GroupNormLimits = { maxN: 6, channels: [2, 3, 4, 6, 8, 12], maxSpatialRank: 3, maxSpatial: 5, groups: 'between' };
const limits = (quick: boolean, o: Partial<GroupNormLimits> = {}): GroupNormLimits => ({ ...(quick ? QUICK : FULL), ...o });

function grouping(g: Geometry) {
  const { N, C, S } = nchwDims(g);
  return gnGrouping(N, C, S, g.numGroups!);
}

/** GroupNorm's own tag: one value per group (rank, groups_1, groups_eq_channels: domain.ts, for every norm). */
function tags(g: Geometry): Feature[] {
  const { C, S } = nchwDims(g);
  return (C / g.numGroups!) * S === 1 ? ['single_value_groups'] : [];
}

/** Sizes divisible by neither 2, 4 nor 8: batch, channels, the group's channels and the spatial extent. */
function oddShapes(quick: boolean): fc.Arbitrary<Geometry> {
  const odd = fc.constantFrom(3, 5, 7);
  return fc.record({ N: odd, C: fc.constantFrom(3, 9, 15), spatial: fc.array(quick ? fc.constantFrom(3, 5) : odd, { maxLength: 2 }), pick: fc.nat({ max: 3 }) })
    .map(({ N, C, spatial, pick }) => {
      const ds = divisors(C).filter((d) => d < C);
      return { shape: [N, C, ...spatial], numGroups: ds[pick % ds.length]! };
    });
}

/** At least 4 groups in all (N·G): a NaN, a +Inf and a -Inf each get one, and one stays clean. */
const fourGroups = (g: { shape: number[]; numGroups: number }): Geometry =>
  g.shape[0]! * g.numGroups >= 4 ? g : { ...g, shape: [Math.ceil(4 / g.numGroups), ...g.shape.slice(1)] };

const gnInput = (c: NormCase, eps: number, x = c.x): GnInput => ({ shape: c.shape, numGroups: c.numGroups!, x, weight: c.weight, bias: c.bias, eps });

// ---------------------------------------------------------------------------------------------------------
// Edge cases and the checks of GroupNorm alone

const edges: EdgeSpec[] = [
  { id: 'gn.forward.odd_sizes', description: 'batch, channel, group and spatial sizes not divisible by 4 or 8 (vector-loop remainders)', geometry: oddShapes, kind: 'typical' },
  { id: 'gn.forward.one_group', description: 'G = 1: one group per sample over every channel and position (LayerNorm over (C, spatial)) with per-channel affine', geometry: (q) => gnShapes(limits(q, { groups: 'one' })), kind: 'typical', features: ['groups_1'] },
  {
    id: 'gn.forward.groups_equal_channels', description: 'G = C: each channel of each sample its own group (InstanceNorm); with one spatial position a group of one value gives the bias',
    geometry: (q) => gnShapes(limits(q, { groups: 'all' })), kind: 'typical', features: ['groups_eq_channels'],
  },
  { id: 'gn.forward.constant_group', description: 'a constant group normalises to the bias (zero variance), not NaN', geometry: (q) => gnShapes(limits(q)), kind: 'constant' },
  { id: 'gn.forward.offset_1e4', description: 'groups offset by 1e4× their spread (one-pass variance loses all digits)', geometry: (q) => gnShapes(limits(q)), kind: { offset: 1e4 } },
  { id: 'gn.forward.tiny_variance', description: 'group variances 1e-12…1e-4 around eps: eps inside the square root, added once', geometry: (q) => gnShapes(limits(q)), kind: 'tiny' },
  {
    id: 'gn.forward.nonfinite_confined', description: 'a NaN, a +Inf and a -Inf, each in its own group, stay there: those groups are non-finite, the others match the reference',
    geometry: (q) => gnShapes(limits(q)).map(fourGroups), kind: 'typical', poison: true,
  },
];

type Indivisible = { label: string; shape: number[]; numGroups: number; x: Float64Array };

/** C % G ≠ 0 must be refused (ATen: "Expected number of channels in input to be divisible by num_groups"). */
const indivisible = rejectionCheck<Indivisible>({
  id: 'gn.forward.rejects_indivisible_groups', norm: 'gn',
  description: 'a channel count that numGroups does not divide is an error, not a result',
  needs: ['gnForward'],
  arbitrary: () => fc.record({ N: fc.integer({ min: 1, max: 3 }), C: fc.constantFrom(3, 5, 6, 7, 9, 10), S: fc.integer({ min: 1, max: 4 }), pick: fc.nat({ max: 7 }) })
    .map(({ N, C, S, pick }) => {
      const bad = Array.from({ length: C - 2 }, (_, i) => i + 2).filter((g) => C % g !== 0);
      const numGroups = bad[pick % bad.length]!;
      const shape = [N, C, S];
      return { label: `gn_indivisible_${fmtShape(shape)}_groups${numGroups}`, shape, numGroups, x: Float64Array.from({ length: N * C * S }, (_, i) => (i % 7) / 4 - 0.5) };
    }),
  describe: (c) => `shape ${fmtShape(c.shape)} with numGroups ${c.numGroups}`,
  call: (ctx, c) => gnForward(ctx, { shape: c.shape, numGroups: c.numGroups, x: c.x, weight: null, bias: null, eps: ctx.conventions.eps }),
  valid: (ctx, c) => gnForward(ctx, { shape: c.shape, numGroups: 1, x: c.x, weight: null, bias: null, eps: ctx.conventions.eps }),
  pytorch: 'Expected number of channels in input to be divisible by num_groups',
});

/**
 * GroupNorm with G = C and InstanceNorm with its own statistics are one computation (the same groups, both
 * affine per channel): the adapter's two capabilities must agree on every case, within the sum of their
 * forward bounds at the adapter's u.
 */
const instanceNormEquivalence = propertyCheck<NormCase>({
  id: 'gn.forward.instance_norm_equivalence', category: 'metamorphic', norm: 'gn', describe: describeCase,
  description: 'G = C gives what InstanceNorm gives with its own statistics (same weight and bias): one computation, two capabilities',
  needs: ['gnForward', 'inForward'], features: ['groups_eq_channels'],
  arbitrary: (ctx) => normCase(GROUPNORM, ctx, gnShapes(limits(ctx.quick, { groups: 'all', maxSpatialRank: 2 })).map((g) => {
    const spatial = g.shape.length > 2 ? g.shape.slice(2) : [1];
    if (spatial.reduce((a, b) => a * b, 1) < 2) spatial[0] = 2;
    return { ...g, shape: [g.shape[0]!, g.shape[1]!, ...spatial] };
  }), { label: 'gn_as_instance_norm', kind: 'typical', affine: 'random' }),
  property: async (ctx, c) => {
    const eps = ctx.conventions.eps;
    const gn = await gnForward(ctx, gnInput(c, eps));
    const inst = await inForward(ctx, { shape: c.shape, x: c.x, weight: c.weight, bias: c.bias, runningMean: null, runningVar: null, useInputStats: true, momentum: 0.1, eps });
    const { N, C, S } = nchwDims(c);
    const us = [PRECISIONS[ctx.precision].u];
    const b1 = normForwardBounds(us, c.x, gnGrouping(N, C, S, C), c.weight, c.bias, eps);
    const b2 = normForwardBounds(us, c.x, inGrouping(N, C, S), c.weight, c.bias, eps);
    return [compare('y of InstanceNorm against GroupNorm (G = C)', inst.y, gn.y, Float64Array.from(b1.y, (v, i) => v + b2.y[i]!), ctx.precision)];
  },
});

/** One PyTorch GroupNorm forward and backward (nn.GroupNorm; saved statistics from torch.native_group_norm). */
async function judgeFixture(ctx: CheckContext, fx: Fixture): Promise<Comparison[] | string> {
  const skip = unrepresentable(ctx, fx);
  if (skip) return skip;
  const s = fx.settings as { shape: number[]; num_groups: number; eps: number; affine: boolean };
  const { us, round } = fixtureRounding(ctx);
  const p = ctx.precision;
  const g = { shape: s.shape, numGroups: s.num_groups };
  const groups = grouping(g);
  const weight = s.affine ? round(tensor(fx, 'weight')) : null;
  const bias = s.affine ? round(tensor(fx, 'bias')) : null;
  const x = round(tensor(fx, 'x'));
  const d: GnInput = { shape: s.shape, numGroups: s.num_groups, x, weight, bias, eps: s.eps };
  const out = await gnForward(ctx, d);
  const b = normForwardBounds(us, x, groups, weight, bias, s.eps);
  const comps = [compare('y', out.y, tensor(fx, 'y'), b.y, p)];
  if (out.mean) comps.push(compare('mean', out.mean, tensor(fx, 'mean'), b.mean, p));
  if (out.rstd) comps.push(compare('rstd', out.rstd, tensor(fx, 'rstd'), b.rstd, p));
  if (provides(ctx, 'gnBackward')) {
    const dy = round(tensor(fx, 'dy'));
    const grads = await gnBackward(ctx, { ...d, dy });
    const gb = normBackwardBounds(us, x, dy, groups, weight, s.eps);
    comps.push(compare('dx', grads.dx, tensor(fx, 'dx'), gb.dx, p));
    if (weight) comps.push(compare('dweight', grads.dweight!, tensor(fx, 'dweight'), gb.dweight, p));
    if (bias) comps.push(compare('dbias', grads.dbias!, tensor(fx, 'dbias'), gb.dbias, p));
  }
  return comps;
}

const hygiene: HygieneCall[] = [
  {
    capability: 'gnForward',
    rawArgs: (ctx, c) => gnArgs(ctx, gnInput(c, ctx.conventions.eps)),
    outputs: async (ctx, c) => ({ ...(await gnForward(ctx, gnInput(c, ctx.conventions.eps))) }),
  },
  {
    capability: 'gnBackward',
    rawArgs: (ctx, c) => gnBackwardArgs(ctx, { ...gnInput(c, ctx.conventions.eps), dy: c.dy }),
    outputs: async (ctx, c) => ({ ...(await gnBackward(ctx, { ...gnInput(c, ctx.conventions.eps), dy: c.dy })) }),
  },
];

// ---------------------------------------------------------------------------------------------------------

export const GROUPNORM: NormSpec = {
  id: 'gn',
  name: 'GroupNorm',
  pytorch: 'torch.nn.GroupNorm',
  groupNoun: 'group',
  centred: true,
  hasBias: true,
  poison: 'group',
  runningStats: false,
  ids: { forwardPrefix: 'gn.forward', forward: 'gn.forward', backwardPrefix: 'gn.backward', backward: 'gn.backward' },
  descriptions: {
    forward: 'GroupNorm output (and saved mean/rstd per (sample, group) if returned) matches the float64 reference: C/G consecutive channels per group, per-channel affine',
    backward: 'GroupNorm backward: dx (through each group\'s statistics), dweight, dbias (summed over samples and positions) match the reference; each case also without affine parameters',
    sumDxZero: 'GroupNorm backward: Σ dx = 0 per (sample, group)',
    sumDxXhat: 'GroupNorm backward: Σ dx·x̂ = rstd·eps/(var+eps)·Σ g·x̂ per (sample, group)',
    dbiasSumDy: 'GroupNorm dbias = Σ dy per channel, over samples and positions',
    gradcheck: 'GroupNorm backward agrees with central differences of the adapter\'s own forward',
  },
  capabilities: { forward: 'gnForward', backward: 'gnBackward' },
  backwardAffine: 'both',
  forwardAffine: 'both',

  grouping,
  describeGeometry: (g) => `${fmtShape(g.shape)}_groups${g.numGroups}`,
  tags,
  geometry: {
    typical: (quick) => gnShapes(limits(quick)),
    hygiene: () => oddShapes(true),
    realistic: (l) => realisticGnShapes(l),
  },

  async forward(ctx, c, o) {
    return { ...(await gnForward(ctx, gnInput(c, o.eps, o.x))), running: null };
  },
  backward: (ctx, c, o) => gnBackward(ctx, { ...gnInput(c, o.eps), dy: o.dy ?? c.dy }),
  reference: {
    forward(_ctx, c, o) {
      return { ...groupNormForward({ x: o.x ?? c.x, shape: c.shape, numGroups: c.numGroups!, weight: c.weight, bias: c.bias, eps: o.eps }), running: null };
    },
    backward(_ctx, c, o) {
      const { mean, rstd } = groupNormForward({ x: c.x, shape: c.shape, numGroups: c.numGroups!, eps: o.eps });
      return groupNormBackward({ dy: o.dy ?? c.dy, x: c.x, shape: c.shape, numGroups: c.numGroups!, weight: c.weight, hasBias: c.bias != null, mean, rstd });
    },
  },
  bounds: { forward: normForwardBounds, backward: normBackwardBounds, stats: groupStats, lowPrecision: lowPrecisionNormForward },

  permutation: {
    name: 'batch_permutation', what: 'batch', label: 'gn_permute',
    description: 'permuting the samples of the batch permutes the output: samples are normalised independently',
    geometry: (quick) => gnShapes(limits(quick)).map((g) => ({ ...g, shape: [Math.max(2, g.shape[0]!), ...g.shape.slice(1)] })),
    units: (g) => g.shape[0]!,
  },
  independence: {
    name: 'group_independence', label: 'gn_groups', plural: 'groups',
    description: 'changing one group\'s data (C/G consecutive channels of one sample) leaves every other group\'s output unchanged',
    // 1 < G < C: with one group, or one channel per group, consecutive and strided grouping coincide
    geometry: (quick) => gnShapes(limits(quick, { channels: [4, 6, 8], groups: 'between' })),
  },
  edges,
  hygiene,
  fixtures: {
    id: 'fixtures.groupnorm', kind: 'groupnorm',
    description: 'PyTorch golden GroupNorm cases (G = 1, 2, C; (N, C) to 3-d; no affine; offset 1e4): y, saved mean/rstd, backward',
    judge: judgeFixture,
  },
  extra: [indivisible, instanceNormEquivalence],
};
