/**
 * Differential judgement: run the adapter and the float64 reference (configured from the adapter's
 * conventions) on the same rounded inputs and compare every output, saved statistics and running buffers
 * included, each against its bound from the norm's error model. Written once for every norm against its spec
 * (norms/spec.ts); used by the differential and edge-case checks.
 *
 * Statistics groups that hold a NaN or ±Infinity on purpose are judged apart: their outputs must be
 * non-finite (a finite value there would hide the bad input), and every other group must match the
 * reference as if the poisoned groups were not there.
 */
import { compare, compareScalar, fmtRatio, type Comparison } from './compare.js';
import { tierGamma } from './accuracy/probabilistic.js';
import { bnEvalBounds, roundoffs, type Grouping, type SumConstant } from './error_model.js';
import type { CheckContext } from './invoke.js';
import type { NormCase, NormSpec, RunningBuffers } from './norms/spec.js';
import { roundTo } from './precision.js';
import { caseConditioning, perGroupStats, withAccuracy } from './accuracy/judged.js';
import { honestAlgorithms, honestBackward, honestEval, honestForward, honestRunning } from './accuracy/oracles.js';
import { trivialOutput } from './accuracy/inconclusive.js';
import { dxScale, groupSigma, outputScale, paramGradScale } from './accuracy/ulp.js';

/** The n-term sum constant of the run's tolerance tier: worst-case γ_n, or the strict tier's (probabilistic.ts). */
const sumConstant = (ctx: CheckContext): SumConstant => tierGamma(ctx.tolerance ?? 'worst-case');

/** Elements i whose group is not `poisoned` (for per-element quantities) — or every element when none is. */
function outside(grouping: Grouping, poisoned: readonly number[] | undefined): ((i: number) => boolean) | undefined {
  if (!poisoned?.length) return undefined;
  const bad = new Set(poisoned.flatMap((g) => Array.from(grouping.groups[g]!)));
  return (i) => !bad.has(i);
}

/** The poisoned groups' values must all be non-finite. */
export function nonFinite(quantity: string, values: ArrayLike<number>, indices: Iterable<number>): Comparison {
  const c: Comparison = { quantity, ok: true, count: 0, numMismatches: 0, worstIndex: -1, worstRatio: 0, worstError: 0, worstBound: 0, worstUlps: 0, mismatches: [] };
  for (const i of indices) {
    c.count++;
    if (Number.isFinite(values[i]!)) {
      c.ok = false;
      c.numMismatches++;
      if (c.worstIndex < 0) {
        c.worstIndex = i;
        c.worstRatio = Infinity;
        c.worstError = Infinity;
        c.worstUlps = Infinity;
      }
      if (c.mismatches.length < 5) c.mismatches.push({ index: i, actual: values[i]!, expected: NaN, error: Infinity, bound: 0 });
    }
  }
  return c;
}

/**
 * On a failed output comparison of a low-precision adapter, say how far an honest implementation in that
 * precision (reference_lowp.ts) lands under the same bound: well inside means the adapter's algorithm is
 * at fault, not the precision.
 */
function withHonestNote(
  ctx: CheckContext, spec: NormSpec, c: Comparison, expected: ArrayLike<number>, bound: ArrayLike<number>, x: ArrayLike<number>, grouping: Grouping,
  weight: ArrayLike<number> | null, bias: ArrayLike<number> | null, eps: number, mask?: (i: number) => boolean,
): Comparison {
  if (c.ok || ctx.precision === 'float64') return c;
  const honest = compare(c.quantity, spec.bounds.lowPrecision(ctx.precision, x, grouping, weight, bias, eps), expected, bound, ctx.precision, mask);
  return { ...c, note: `an honest ${ctx.precision} two-pass implementation reaches ${fmtRatio(honest.worstRatio)} of this bound on this case` };
}

function perGroupMask(poisoned: readonly number[] | undefined): ((i: number) => boolean) | undefined {
  return poisoned?.length ? (i) => !poisoned.includes(i) : undefined;
}

/** The channels (parameter indices) of poisoned groups: where running buffers must turn non-finite. */
function poisonedParams(grouping: Grouping, poisoned: readonly number[]): number[] {
  return [...new Set(poisoned.map((g) => grouping.param[grouping.groups[g]![0]!]!))];
}

/** The fraction of the batch statistic in one running step: momentum, or PyTorch's cumulative 1/(n+1). */
export function runningFraction(momentum: number | null, numBatchesTracked: number): number {
  return momentum === null ? 1 / (numBatchesTracked + 1) : momentum;
}

/** A step count the adapter returned (numBatchesTracked) against the expected one: exact. */
export function compareCount(quantity: string, actual: number, expected: number): Comparison {
  return compareScalar(quantity, actual, expected, 0, 'float64');
}

export interface ForwardJudgeOptions {
  eps: number;
  /**
   * pass the case's running buffers and compare them after the step (norms with running statistics);
   * 'none': pass none (BatchNorm track_running_stats = False), and none may come back
   */
  running?: boolean | 'none';
  momentum?: number | null;
  numBatchesTracked?: number;
  unbiased?: boolean;
  /** extra unit roundoffs to add to the bounds (fixtures: the rounding of float64 inputs) */
  extraRoundoffs?: number[];
}

/** The batch-statistics forward of one case: y, the saved statistics if returned, the running buffers if asked. */
export async function judgeForward(ctx: CheckContext, spec: NormSpec, c: NormCase, o: ForwardJudgeOptions): Promise<Comparison[]> {
  const unbiased = o.unbiased ?? ctx.conventions.runningVar === 'unbiased';
  const momentum = o.momentum === undefined ? (spec.running ? spec.running.momentum(ctx) : null) : o.momentum;
  const numBatchesTracked = o.numBatchesTracked ?? 0;
  const buffers: RunningBuffers | null = o.running === true ? { runningMean: c.runningMean!, runningVar: c.runningVar! } : null;
  const call = { eps: o.eps, momentum, numBatchesTracked, unbiased, ...(buffers ? { running: buffers } : o.running === 'none' ? { running: null } : {}) };
  const out = await spec.forward(ctx, c, call);
  const ref = spec.reference.forward(ctx, c, call);
  const grouping = spec.grouping(c);
  const us = [...roundoffs(ctx.precision), ...(o.extraRoundoffs ?? [])];
  const b = spec.bounds.forward(us, c.x, grouping, c.weight, c.bias, o.eps, sumConstant(ctx));
  const p = ctx.precision;
  const mask = outside(grouping, c.poisoned);
  // accuracy (accuracy/judged.ts): the honest algorithms of the precision on the same inputs, and κ
  const where = caseConditioning(spec.bounds.stats, c.x, grouping, o.eps, c.poisoned);
  const algs = honestAlgorithms(spec.centred);
  const honest = algs.map((a) => ({ name: a.name, f: honestForward(a, p, { x: c.x, grouping, weight: c.weight, bias: c.bias, eps: o.eps, centred: spec.centred }) }));
  const groupMask = perGroupMask(c.poisoned);
  const yComp = withHonestNote(ctx, spec, compare('y', out.y, ref.y, b.y, p, mask), ref.y, b.y, c.x, grouping, c.weight, c.bias, o.eps, mask);
  const comps = [withAccuracy(yComp, {
    precision: p, actual: out.y, exact: ref.y, bound: b.y, scale: outputScale({ param: grouping.param, weight: c.weight, bias: c.bias }, c.x.length),
    honest: honest.map((h) => ({ name: h.name, values: h.f.y })), trivial: trivialOutput(grouping, c.bias, c.x.length), where, mask,
  })];
  const sigma = groupSigma(c.x, grouping.groups, o.eps);
  if (out.mean && ref.mean) {
    comps.push(withAccuracy(compare('mean', out.mean, ref.mean, b.mean, p, groupMask), {
      precision: p, actual: out.mean, exact: ref.mean, bound: b.mean, scale: sigma, honest: honest.map((h) => ({ name: h.name, values: h.f.mean })), trivial: null, where, mask: groupMask,
    }));
  }
  if (out.rstd) {
    comps.push(withAccuracy(compare('rstd', out.rstd, ref.rstd, b.rstd, p, groupMask), {
      precision: p, actual: out.rstd, exact: ref.rstd, bound: b.rstd, scale: 0, honest: honest.map((h) => ({ name: h.name, values: h.f.rstd })), trivial: null, where, mask: groupMask,
    }));
  }
  if (buffers && spec.running) {
    const f = runningFraction(momentum, numBatchesTracked);
    const rb = spec.running.stepBounds(us, b, grouping, buffers, f, unbiased);
    const bad = c.poisoned.length ? poisonedParams(grouping, c.poisoned) : [];
    const channelMask = perGroupMask(bad);
    if (!out.running) throw new Error(`${spec.capabilities.forward} returned no running buffers`);
    // graded where a group is a channel (BatchNorm); InstanceNorm's buffers average over instances: conclusiveness only
    const perChannel = grouping.groups.length === grouping.numParams;
    const hr = perChannel ? algs.map((a) => ({ name: a.name, r: honestRunning(a, p, { x: c.x, grouping, weight: c.weight, bias: c.bias, eps: o.eps, runningMean: buffers.runningMean, runningVar: buffers.runningVar, f, unbiased }) })) : [];
    for (const which of ['runningMean', 'runningVar'] as const) {
      const old = buffers[which];
      const scale = Float64Array.from(old, (v, k) => (1 - f) * Math.abs(v) + f * (which === 'runningMean' ? (sigma[k] ?? 0) : o.eps));
      comps.push(withAccuracy(compare(which, out.running[which], ref.running![which], rb[which], p, channelMask), {
        precision: p, actual: out.running[which], exact: ref.running![which], bound: rb[which], scale, honest: hr.map((h) => ({ name: h.name, values: h.r[which] })),
        trivial: old, where, mask: channelMask,
      }));
    }
    if (bad.length) comps.push(nonFinite(`runningMean (poisoned ${spec.groupNoun}s)`, out.running.runningMean, bad));
    if (out.numBatchesTracked != null) comps.push(compareCount('numBatchesTracked', out.numBatchesTracked, numBatchesTracked + 1));
  }
  if (c.poisoned.length) {
    const poisoned = c.poisoned.flatMap((g) => Array.from(grouping.groups[g]!));
    const judged = spec.poison === 'group' ? poisoned : poisoned.filter((i) => !Number.isFinite(c.x[i]!));
    comps.push(nonFinite(spec.poison === 'group' ? `y (poisoned ${spec.groupNoun}s)` : 'y (poisoned elements)', out.y, judged));
  }
  return comps;
}

/**
 * Several training steps, feeding the adapter its own running buffers back (as training does) while the
 * reference chains its own; step k's input is a rescaled, shifted copy of x so the statistics move.
 * The bound after K steps is the sum of the per-step bounds (error_model.ts).
 */
export async function judgeRunning(
  ctx: CheckContext, spec: NormSpec, c: NormCase, steps: number, momentum: number | null, which: 'runningMean' | 'runningVar',
): Promise<Comparison[]> {
  const running = spec.running!;
  const unbiased = ctx.conventions.runningVar === 'unbiased';
  const eps = ctx.conventions.eps;
  const grouping = spec.grouping(c);
  const us = roundoffs(ctx.precision);
  let adapterRunning: RunningBuffers = { runningMean: c.runningMean!, runningVar: c.runningVar! };
  let refRunning: RunningBuffers = adapterRunning;
  const bound = new Float64Array(grouping.numParams);
  const comps: Comparison[] = [];
  // the honest algorithms chain their own buffers, as the adapter does (graded where a group is a channel)
  const algs = grouping.groups.length === grouping.numParams ? honestAlgorithms(spec.centred) : [];
  let honestRunningBuffers = algs.map(() => adapterRunning);
  for (let k = 0; k < steps; k++) {
    // step k: x·(1 + k/4) + k/2, rounded to the precision (the reference sees the rounded values)
    const xk = new Float64Array(c.x.length);
    for (let i = 0; i < xk.length; i++) {
      const v = c.x[i]! * (1 + k / 4) + k / 2;
      xk[i] = roundTo(ctx.precision, v);
    }
    const out = await spec.forward(ctx, c, { x: xk, eps, running: adapterRunning, numBatchesTracked: k, momentum });
    const ref = spec.reference.forward(ctx, c, { x: xk, eps, running: refRunning, numBatchesTracked: k, momentum, unbiased });
    const f = runningFraction(momentum, k);
    const b = spec.bounds.forward(us, xk, grouping, c.weight, c.bias, eps, sumConstant(ctx));
    const rb = running.stepBounds(us, b, grouping, refRunning, f, unbiased);
    for (let p = 0; p < bound.length; p++) bound[p]! += rb[which][p]!;
    if (!out.running) throw new Error(`${spec.capabilities.forward} returned no running buffers`);
    honestRunningBuffers = algs.map((a, h) => honestRunning(a, ctx.precision, {
      x: xk, grouping, weight: c.weight, bias: c.bias, eps, runningMean: honestRunningBuffers[h]!.runningMean, runningVar: honestRunningBuffers[h]!.runningVar, f, unbiased,
    }));
    const sigma = groupSigma(xk, grouping.groups, eps);
    const old = refRunning[which];
    comps.push(withAccuracy(compare(`${which} after step ${k + 1}`, out.running[which], ref.running![which], bound, ctx.precision), {
      precision: ctx.precision, actual: out.running[which], exact: ref.running![which], bound,
      scale: Float64Array.from(old, (v, p) => (1 - f) * Math.abs(v) + f * (which === 'runningMean' ? (sigma[p] ?? 0) : eps)),
      honest: algs.map((a, h) => ({ name: a.name, values: honestRunningBuffers[h]![which] })), trivial: old,
      where: caseConditioning(spec.bounds.stats, xk, grouping, eps),
    }));
    if (out.numBatchesTracked != null) comps.push(compareCount(`numBatchesTracked after step ${k + 1}`, out.numBatchesTracked, k + 1));
    adapterRunning = out.running;
    refRunning = ref.running!;
    if (comps.some((x) => !x.ok)) break;
  }
  return comps;
}

/** The eval-mode forward: normalising with the case's running statistics. */
export async function judgeEval(ctx: CheckContext, spec: NormSpec, c: NormCase, eps: number, extraRoundoffs: number[] = []): Promise<Comparison[]> {
  const evalMode = spec.evalMode!;
  const y = await evalMode.forward(ctx, c, eps);
  const ref = evalMode.reference(c, eps);
  const grouping = spec.grouping(c);
  const b = evalBounds([...roundoffs(ctx.precision), ...extraRoundoffs], c, grouping, eps);
  const stats = perGroupStats(grouping, { runningMean: c.runningMean!, runningVar: c.runningVar! });
  const honest = (['plain', 'fused'] as const).map((form) => ({ name: `eval-${form}`, values: honestEval(ctx.precision, form, c.x, grouping, c.weight, c.bias, stats, eps) }));
  return [withAccuracy(compare('y', y, ref, b, ctx.precision), {
    precision: ctx.precision, actual: y, exact: ref, bound: b, scale: outputScale({ param: grouping.param, weight: c.weight, bias: c.bias }, c.x.length),
    honest, trivial: trivialOutput(grouping, c.bias, c.x.length), where: caseConditioning(spec.bounds.stats, c.x, grouping, eps),
  })];
}

/** Eval-mode bounds: one fixed affine map per channel from the running statistics (error_model.ts). */
function evalBounds(us: number[], c: NormCase, grouping: Grouping, eps: number): Float64Array {
  return bnEvalBounds(us, c.x, grouping, c.weight, c.bias, c.runningMean!, c.runningVar!, eps);
}

export interface BackwardJudgeOptions {
  eps: number;
  /** the eval-mode backward: the statistics are the case's running buffers, constants */
  useRunning?: boolean;
  extraRoundoffs?: number[];
}

/** The backward of one case: dx, and dweight, dbias where the case has the parameter. */
export async function judgeBackward(ctx: CheckContext, spec: NormSpec, c: NormCase, o: BackwardJudgeOptions): Promise<Comparison[]> {
  const call = { eps: o.eps, useRunning: o.useRunning ?? false };
  const g = await spec.backward(ctx, c, call);
  const ref = spec.reference.backward(ctx, c, call);
  const grouping = spec.grouping(c);
  const b = spec.bounds.backward([...roundoffs(ctx.precision), ...(o.extraRoundoffs ?? [])], c.x, c.dy, grouping, c.weight, o.eps,
    o.useRunning ? { runningMean: c.runningMean!, runningVar: c.runningVar! } : null, sumConstant(ctx));
  const p = ctx.precision;
  // accuracy (accuracy/judged.ts): honest backward passes in the precision; the trivial answer of every gradient is 0
  const running = o.useRunning ? { runningMean: c.runningMean!, runningVar: c.runningVar! } : null;
  const evalStats = running ? perGroupStats(grouping, running) : null;
  const honest = honestAlgorithms(spec.centred).map((a) => ({
    name: a.name, g: honestBackward(a, p, { x: c.x, grouping, weight: c.weight, bias: null, eps: o.eps, centred: spec.centred, dy: c.dy, hasBias: !!c.bias, evalStats }),
  }));
  const where = caseConditioning(spec.bounds.stats, c.x, grouping, o.eps);
  const rstd = evalStats ? evalStats.var.map((v) => 1 / Math.sqrt(v + o.eps)) : Float64Array.from(grouping.groups, (idx) => spec.bounds.stats(c.x, idx, o.eps).rstd);
  const graded = (q: 'dx' | 'dweight' | 'dbias', actual: Float64Array, exact: Float64Array, bound: Float64Array, scale: Float64Array) =>
    withAccuracy(compare(q, actual, exact, bound, p), {
      precision: p, actual, exact, bound, scale, honest: honest.map((h) => ({ name: h.name, values: h.g[q]! })), trivial: new Float64Array(exact.length), where,
    });
  const comps = [graded('dx', g.dx, ref.dx, b.dx, dxScale({ groups: grouping.groups, param: grouping.param, weight: c.weight }, c.dy, rstd))];
  const pScale = () => paramGradScale(grouping.param, grouping.numParams, c.dy);
  if (c.weight) comps.push(graded('dweight', g.dweight!, ref.dweight!, b.dweight, pScale()));
  if (c.bias) comps.push(graded('dbias', g.dbias!, ref.dbias!, b.dbias, pScale()));
  return comps;
}
