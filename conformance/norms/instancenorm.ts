/**
 * InstanceNorm, as torch.nn.InstanceNorm1d/2d/3d(num_features, eps=1e-5, momentum=0.1, affine=False,
 * track_running_stats=False) through torch.nn.functional.instance_norm: statistics per (sample, channel) over
 * the spatial positions, biased variance, per-channel affine. With track_running_stats the running buffers
 * take one BatchNorm step per instance from the old value (momentum, unbiased variance S/(S-1)) and keep the
 * batch average (ATen's instance_norm); eval then normalises with them. momentum=None is 0 in current PyTorch
 * (the buffers never move): the running checks use the profile's momentum, never the cumulative average.
 * One spatial value per instance is an error when the instance's statistics are used.
 * Capabilities inForward, inBackward (each with useInputStats true or false).
 */
import fc from 'fast-check';
import type { InstanceNormArgs, InstanceNormBackwardArgs } from '../adapter.js';
import { rejectionCheck } from '../checks/rejections.js';
import { compare, type Comparison } from '../compare.js';
import { maybeTensor, tensor, type Fixture } from '../fixture_reader.js';
import { averagedRunningStepBounds, bnEvalBounds, groupStats, inGrouping, normBackwardBounds, normForwardBounds } from '../error_model.js';
import { inShapes } from '../generators.js';
import {
  adapterShape, callAdapter, checkGrads, checkOutput, checkResultObject, fmtShape as fmtAdapterShape, fromLayout, optionalOutput, param,
  provides, toLayout, type CheckContext, type GradsOutput,
} from '../invoke.js';
import { lowPrecisionNormForward } from '../reference_lowp.js';
import { instanceNormBackward, instanceNormForward } from '../../reference/index.js';
import { fixtureRounding, fmtShape, nchwDims, unrepresentable } from './common.js';
import type { Feature } from '../features.js';
import type { EdgeSpec, Geometry, HygieneCall, NormCase, NormSpec, RunningBuffers } from './spec.js';
import { realisticInShapes } from '../accuracy/realistic.js';

// ---------------------------------------------------------------------------------------------------------
// The capabilities, in the normal form (NCHW Float64Array in, validated NCHW Float64Array out)

export interface InInput {
  shape: readonly number[]; // NCHW
  x: Float64Array;
  weight: Float64Array | null;
  bias: Float64Array | null;
  /** null: track_running_stats = False */
  runningMean: Float64Array | null;
  runningVar: Float64Array | null;
  useInputStats: boolean;
  momentum: number;
  eps: number;
}

export interface InOutput {
  y: Float64Array;
  runningMean: Float64Array | null;
  runningVar: Float64Array | null;
  mean: Float64Array | null; // (N·C)
  rstd: Float64Array | null;
}

export function inArgs(ctx: CheckContext, d: InInput): InstanceNormArgs {
  return {
    x: toLayout(ctx, d.x, d.shape), shape: adapterShape(ctx.layout, d.shape), weight: param(ctx, d.weight), bias: param(ctx, d.bias),
    runningMean: param(ctx, d.runningMean), runningVar: param(ctx, d.runningVar), useInputStats: d.useInputStats, momentum: d.momentum, eps: d.eps,
  };
}

export async function inForward(ctx: CheckContext, d: InInput): Promise<InOutput> {
  const cap = 'inForward';
  const [N, C] = d.shape as [number, number];
  const res = checkResultObject(cap, await callAdapter(ctx, cap, inArgs(ctx, d)));
  const y = checkOutput(ctx, cap, 'y', res.y, d.x.length, `the input's ${fmtAdapterShape(adapterShape(ctx.layout, d.shape))}`);
  // updated buffers are due when the call updates them; otherwise (eval, or no tracking) they may be left out
  const updates = d.useInputStats && d.runningMean != null;
  const running = (name: 'runningMean' | 'runningVar') => (updates
    ? Float64Array.from(checkOutput(ctx, cap, name, res[name], C, 'one per channel, after the update'))
    : null);
  return {
    y: fromLayout(ctx, y, d.shape), runningMean: running('runningMean'), runningVar: running('runningVar'),
    mean: optionalOutput(ctx, cap, 'mean', res.mean, N * C, 'one per (sample, channel), n-major'),
    rstd: optionalOutput(ctx, cap, 'rstd', res.rstd, N * C, 'one per (sample, channel), n-major'),
  };
}

export interface InBackwardInput {
  shape: readonly number[];
  x: Float64Array;
  dy: Float64Array;
  weight: Float64Array | null;
  bias: Float64Array | null;
  useInputStats: boolean;
  runningMean: Float64Array | null;
  runningVar: Float64Array | null;
  eps: number;
}

export function inBackwardArgs(ctx: CheckContext, d: InBackwardInput): InstanceNormBackwardArgs {
  return {
    dy: toLayout(ctx, d.dy, d.shape), x: toLayout(ctx, d.x, d.shape), shape: adapterShape(ctx.layout, d.shape),
    weight: param(ctx, d.weight), bias: param(ctx, d.bias), useInputStats: d.useInputStats,
    runningMean: param(ctx, d.runningMean), runningVar: param(ctx, d.runningVar), eps: d.eps,
  };
}

export async function inBackward(ctx: CheckContext, d: InBackwardInput): Promise<GradsOutput> {
  const cap = 'inBackward';
  const res = checkResultObject(cap, await callAdapter(ctx, cap, inBackwardArgs(ctx, d)));
  const g = checkGrads(ctx, cap, res, d.x.length, `the input's ${fmtAdapterShape(adapterShape(ctx.layout, d.shape))}`, d.shape[1]!, d.weight != null, d.bias != null);
  return { dx: fromLayout(ctx, g.dx, d.shape), dweight: g.dweight, dbias: g.dbias };
}

// ---------------------------------------------------------------------------------------------------------
// Geometries

const geometry = (shapes: fc.Arbitrary<number[]>): fc.Arbitrary<Geometry> => shapes.map((shape) => ({ shape }));
const typicalShapes = (quick: boolean) =>
  inShapes(quick ? { maxN: 4, maxC: 3, maxSpatialRank: 3, maxSpatial: 4 } : { maxN: 8, maxC: 5, maxSpatialRank: 3, maxSpatial: 6 });

function grouping(g: Geometry) {
  const { N, C, S } = nchwDims(g);
  return inGrouping(N, C, S);
}

/** InstanceNorm's own tag: two values per instance (rank, unit_spatial: domain.ts, for every norm). */
function tags(g: Geometry): Feature[] {
  const { S } = nchwDims(g);
  return S === 2 ? ['two_values'] : [];
}

/** The momentum of the running checks: the profile's, PyTorch's None (cumulative for BatchNorm) being 0 here. */
const momentumOf = (ctx: CheckContext) => ctx.conventions.momentum ?? 0;

const buffers = (c: NormCase): RunningBuffers => ({ runningMean: c.runningMean!, runningVar: c.runningVar! });

const oddShapes = (quick: boolean) => {
  const odd = fc.constantFrom(3, 5, 7, 9);
  return fc.record({ N: odd, C: fc.constantFrom(3, 5, 7), spatial: fc.array(quick ? fc.constantFrom(3, 5, 7) : odd, { minLength: 1, maxLength: 2 }) })
    .map(({ N, C, spatial }) => ({ shape: [N, C, ...spatial] }));
};

/** S = 2: the smallest extent the instance's statistics accept (the unbiased running variance divides by 1). */
const twoValueShapes = () => fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.constantFrom([2], [1, 2], [2, 1], [1, 1, 2]))
  .map(([N, C, spatial]) => ({ shape: [N, C, ...spatial] }));

const edges: EdgeSpec[] = [
  { id: 'in.forward.odd_sizes', description: 'batch, channel and spatial sizes not divisible by 4 or 8 (vector-loop remainders)', geometry: oddShapes, kind: 'typical' },
  { id: 'in.forward.two_values', description: 'two spatial values per instance, the fewest its own statistics accept', geometry: twoValueShapes, kind: 'typical', features: ['two_values'] },
  { id: 'in.forward.constant_instance', description: 'a constant instance normalises to the bias (zero variance), not NaN', geometry: (q) => geometry(typicalShapes(q)), kind: 'constant' },
  { id: 'in.forward.offset_1e4', description: 'instances offset by 1e4× their spread (one-pass variance loses all digits)', geometry: (q) => geometry(typicalShapes(q)), kind: { offset: 1e4 } },
  { id: 'in.forward.tiny_variance', description: 'instance variances 1e-12…1e-4 around eps: eps inside the square root, added once', geometry: (q) => geometry(typicalShapes(q)), kind: 'tiny' },
  {
    id: 'in.forward.nonfinite_confined', description: 'a NaN, a +Inf and a -Inf, each in its own instance, stay there: those instances are non-finite, the others match the reference',
    geometry: (q) => geometry(typicalShapes(q).map((s) => (s[0]! * s[1]! >= 4 ? s : [s[0]!, Math.max(4, s[1]!), ...s.slice(2)]))), kind: 'typical', poison: true,
  },
];

type SingleValue = { label: string; shape: number[]; x: Float64Array };

/** One spatial value per instance with the instance's statistics (PyTorch: "Expected more than 1 spatial element when training"). */
const singleValue = rejectionCheck<SingleValue>({
  id: 'in.forward.rejects_single_value', norm: 'in',
  description: 'one spatial value per instance, normalised with its own statistics, is an error, not a result',
  needs: ['inForward'],
  arbitrary: () => fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.constantFrom([], [1], [1, 1], [1, 1, 1]))
    .map(([N, C, spatial]) => {
      const shape = [N, C, ...spatial];
      return { label: `in_single_value_${fmtShape(shape)}`, shape, x: Float64Array.from({ length: N * C }, (_, i) => (i % 5) / 2 - 1) };
    }),
  describe: (c) => `shape ${fmtShape(c.shape)} (one value per instance)`,
  call: (ctx, c) => inForward(ctx, { shape: c.shape, x: c.x, weight: null, bias: null, runningMean: null, runningVar: null, useInputStats: true, momentum: 0.1, eps: ctx.conventions.eps }),
  // the same batch and channels with two spatial values (each value, then it plus 1)
  valid: (ctx, c) => inForward(ctx, {
    shape: [c.shape[0]!, c.shape[1]!, 2], x: Float64Array.from({ length: 2 * c.x.length }, (_, i) => c.x[i >> 1]! + (i & 1)),
    weight: null, bias: null, runningMean: null, runningVar: null, useInputStats: true, momentum: 0.1, eps: ctx.conventions.eps,
  }),
  pytorch: 'Expected more than 1 spatial element when training',
});

/**
 * PyTorch InstanceNorm: training steps (each from PyTorch's buffers, when tracking) with the per-instance saved
 * statistics and the backward, then one eval forward and backward — with the running statistics when
 * tracking, with the instance's own otherwise (nn.InstanceNorm's default in eval).
 */
async function judgeFixture(ctx: CheckContext, fx: Fixture): Promise<Comparison[] | string> {
  const skip = unrepresentable(ctx, fx);
  if (skip) return skip;
  const s = fx.settings as { shape: number[]; eps: number; momentum: number; affine: boolean; track_running_stats: boolean; steps: number };
  const { us, round } = fixtureRounding(ctx);
  const p = ctx.precision;
  const groups = grouping({ shape: s.shape });
  const weight = s.affine ? round(tensor(fx, 'weight')) : null;
  const bias = s.affine ? round(tensor(fx, 'bias')) : null;
  const comps: Comparison[] = [];
  let running: RunningBuffers | null = s.track_running_stats ? { runningMean: tensor(fx, 'init.running_mean'), runningVar: tensor(fx, 'init.running_var') } : null;
  const backwardOf = async (label: string, at: (name: string) => Float64Array, x: Float64Array, useInputStats: boolean, r: RunningBuffers | null) => {
    if (!provides(ctx, 'inBackward') || !maybeTensor(fx, `${label}.dy`)) return;
    const dy = round(at('dy'));
    const g = await inBackward(ctx, { shape: s.shape, x, dy, weight, bias, useInputStats, runningMean: r?.runningMean ?? null, runningVar: r?.runningVar ?? null, eps: s.eps });
    const gb = normBackwardBounds(us, x, dy, groups, weight, s.eps, useInputStats ? null : r);
    comps.push(compare(`${label} dx`, g.dx, at('dx'), gb.dx, p));
    if (weight) comps.push(compare(`${label} dweight`, g.dweight!, at('dweight'), gb.dweight, p));
    if (bias) comps.push(compare(`${label} dbias`, g.dbias!, at('dbias'), gb.dbias, p));
  };
  for (let k = 0; k < s.steps; k++) {
    const at = (name: string) => tensor(fx, `step${k}.${name}`);
    const x = round(at('x'));
    const r = running && { runningMean: round(running.runningMean), runningVar: round(running.runningVar) };
    const out = await inForward(ctx, {
      shape: s.shape, x, weight, bias, runningMean: r?.runningMean ?? null, runningVar: r?.runningVar ?? null, useInputStats: true, momentum: s.momentum, eps: s.eps,
    });
    const b = normForwardBounds(us, x, groups, weight, bias, s.eps);
    comps.push(compare(`step ${k} y`, out.y, at('y'), b.y, p));
    if (out.mean) comps.push(compare(`step ${k} mean`, out.mean, at('save_mean'), b.mean, p));
    if (out.rstd) comps.push(compare(`step ${k} rstd`, out.rstd, at('save_rstd'), b.rstd, p));
    if (running && out.runningMean && out.runningVar) {
      const rb = averagedRunningStepBounds(us, b, groups, running.runningMean, running.runningVar, s.momentum, true);
      comps.push(compare(`step ${k} runningMean`, out.runningMean, at('running_mean'), rb.runningMean, p));
      comps.push(compare(`step ${k} runningVar`, out.runningVar, at('running_var'), rb.runningVar, p));
      running = { runningMean: at('running_mean'), runningVar: at('running_var') };
    }
    await backwardOf(`step${k}`, at, x, true, null);
    if (comps.some((c) => !c.ok)) return comps;
  }
  // eval: the last step's running buffers when tracking, the instance's own statistics otherwise
  const at = (name: string) => tensor(fx, `eval.${name}`);
  const x = round(at('x'));
  const r = running && { runningMean: round(running.runningMean), runningVar: round(running.runningVar) };
  const y = (await inForward(ctx, {
    shape: s.shape, x, weight, bias, runningMean: r?.runningMean ?? null, runningVar: r?.runningVar ?? null, useInputStats: !r, momentum: s.momentum, eps: s.eps,
  })).y;
  const by = r ? bnEvalBounds(us, x, groups, weight, bias, r.runningMean, r.runningVar, s.eps) : normForwardBounds(us, x, groups, weight, bias, s.eps).y;
  comps.push(compare('eval y', y, at('y'), by, p));
  await backwardOf('eval', at, x, !r, r);
  return comps;
}

const inInput = (c: NormCase, eps: number) => ({ shape: c.shape, x: c.x, weight: c.weight, bias: c.bias, eps });

const hygiene: HygieneCall[] = [
  {
    // the module's default: track_running_stats = False
    capability: 'inForward',
    rawArgs: (ctx, c) => inArgs(ctx, { ...inInput(c, ctx.conventions.eps), runningMean: null, runningVar: null, useInputStats: true, momentum: momentumOf(ctx) }),
    outputs: async (ctx, c) => ({ ...(await inForward(ctx, { ...inInput(c, ctx.conventions.eps), runningMean: null, runningVar: null, useInputStats: true, momentum: momentumOf(ctx) })) }),
  },
  {
    capability: 'inBackward',
    rawArgs: (ctx, c) => inBackwardArgs(ctx, { ...inInput(c, ctx.conventions.eps), dy: c.dy, useInputStats: true, runningMean: null, runningVar: null }),
    outputs: async (ctx, c) => ({ ...(await inBackward(ctx, { ...inInput(c, ctx.conventions.eps), dy: c.dy, useInputStats: true, runningMean: null, runningVar: null })) }),
  },
];

// ---------------------------------------------------------------------------------------------------------

export const INSTANCENORM: NormSpec = {
  id: 'in',
  name: 'InstanceNorm',
  pytorch: 'torch.nn.InstanceNorm1d/2d/3d',
  groupNoun: 'instance',
  centred: true,
  hasBias: true,
  poison: 'group',
  runningStats: true,
  ids: { forwardPrefix: 'in.forward', forward: 'in.forward', backwardPrefix: 'in.backward', backward: 'in.backward', evalPrefix: 'in.eval', backwardEval: 'in.backward.eval' },
  descriptions: {
    forward: 'InstanceNorm with its own statistics (training, or track_running_stats=False) matches the float64 reference: y, and the saved mean/rstd per (sample, channel) if returned',
    backward: 'InstanceNorm backward through each instance\'s statistics: dx, dweight, dbias match the reference; each case also without affine parameters',
    sumDxZero: 'InstanceNorm backward: Σ dx = 0 per (sample, channel)',
    sumDxXhat: 'InstanceNorm backward: Σ dx·x̂ = rstd·eps/(var+eps)·Σ g·x̂ per (sample, channel)',
    dbiasSumDy: 'InstanceNorm dbias = Σ dy per channel, over samples and positions',
    gradcheck: 'InstanceNorm backward agrees with central differences of the adapter\'s own forward',
  },
  capabilities: { forward: 'inForward', backward: 'inBackward' },
  backwardAffine: 'both',
  forwardAffine: 'both',

  grouping,
  describeGeometry: (g) => fmtShape(g.shape),
  tags,
  geometry: {
    typical: (quick) => geometry(typicalShapes(quick)),
    hygiene: () => oddShapes(true),
    realistic: (l) => geometry(realisticInShapes(l)),
  },

  async forward(ctx, c, o) {
    const running = o.running ?? null;
    const out = await inForward(ctx, {
      shape: c.shape, x: o.x ?? c.x, weight: c.weight, bias: c.bias, runningMean: running?.runningMean ?? null, runningVar: running?.runningVar ?? null,
      useInputStats: true, momentum: o.momentum ?? momentumOf(ctx), eps: o.eps,
    });
    return { y: out.y, mean: out.mean, rstd: out.rstd, running: out.runningMean && out.runningVar ? { runningMean: out.runningMean, runningVar: out.runningVar } : null };
  },
  backward: (ctx, c, o) => inBackward(ctx, {
    shape: c.shape, x: c.x, dy: o.dy ?? c.dy, weight: c.weight, bias: c.bias, useInputStats: !o.useRunning,
    runningMean: o.useRunning ? c.runningMean : null, runningVar: o.useRunning ? c.runningVar : null, eps: o.eps,
  }),
  reference: {
    forward(ctx, c, o) {
      const r = instanceNormForward({
        x: o.x ?? c.x, shape: c.shape, weight: c.weight, bias: c.bias, running: o.running ?? null, useInputStats: true,
        momentum: o.momentum ?? momentumOf(ctx), eps: o.eps,
      });
      return { y: r.y, mean: r.mean, rstd: r.rstd, running: r.running ? { runningMean: r.running.runningMean, runningVar: r.running.runningVar } : null };
    },
    backward(_ctx, c, o) {
      const useInputStats = !o.useRunning;
      const { mean, rstd } = instanceNormForward({ x: c.x, shape: c.shape, running: useInputStats ? null : buffers(c), useInputStats, eps: o.eps });
      return instanceNormBackward({ dy: o.dy ?? c.dy, x: c.x, shape: c.shape, weight: c.weight, hasBias: c.bias != null, mean, rstd, useInputStats });
    },
  },
  bounds: { forward: normForwardBounds, backward: normBackwardBounds, stats: groupStats, lowPrecision: lowPrecisionNormForward },

  running: {
    descriptions: {
      runningMean: 'running mean after several tracked training steps: momentum, and the batch average of the instances\' means (ATen averages the per-instance updates)',
      runningVar: 'running variance after several tracked steps: the batch average of the instances\' unbiased variances S/(S-1)·var, momentum',
    },
    momentum: momentumOf,
    cumulative: false,
    tracking: 'track_running_stats',
    // PyTorch's InstanceNorm always takes the unbiased variance (no profile defines another)
    stepBounds: (us, fwd, g, old, f) => averagedRunningStepBounds(us, fwd, g, old.runningMean, old.runningVar, f, true),
  },
  evalMode: {
    descriptions: {
      forward: 'eval with track_running_stats=True: InstanceNorm normalises with the running statistics it is given, as the reference does',
      backward: 'InstanceNorm backward in eval with running statistics: dx = dy·weight·rstd of the running variance; dweight, dbias',
      affineMap: 'eval with running statistics is one fixed affine map per channel, whatever batch it is applied to',
    },
    forwardCapability: 'inForward',
    backwardCapability: 'inBackward',
    forward: async (ctx, c, eps) => (await inForward(ctx, {
      shape: c.shape, x: c.x, weight: c.weight, bias: c.bias, runningMean: c.runningMean, runningVar: c.runningVar, useInputStats: false, momentum: momentumOf(ctx), eps,
    })).y,
    reference: (c, eps) => instanceNormForward({ x: c.x, shape: c.shape, weight: c.weight, bias: c.bias, running: buffers(c), useInputStats: false, eps }).y,
  },
  permutation: {
    name: 'batch_permutation', what: 'batch', label: 'in_permute',
    description: 'permuting the samples of the batch permutes the output: instances are normalised independently',
    geometry: (quick) => geometry(typicalShapes(quick).map((s) => [Math.max(2, s[0]!), ...s.slice(1)])),
    units: (g) => g.shape[0]!,
  },
  independence: {
    name: 'instance_independence', label: 'in_instances', plural: 'instances',
    description: 'changing one instance\'s data (one channel of one sample) leaves every other instance\'s output unchanged',
  },
  edges,
  hygiene,
  fixtures: {
    id: 'fixtures.instancenorm', kind: 'instancenorm',
    description: 'PyTorch golden InstanceNorm cases (1-d to 3-d, affine, tracked running statistics over 2-3 steps, momentum 0 and 0.3, two values, offset 1e4, then eval)',
    judge: judgeFixture,
  },
  extra: [singleValue],
};
