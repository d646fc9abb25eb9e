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
  const comps = [withHonestNote(ctx, spec, compare('y', out.y, ref.y, b.y, p, mask), ref.y, b.y, c.x, grouping, c.weight, c.bias, o.eps, mask)];
  if (out.mean && ref.mean) comps.push(compare('mean', out.mean, ref.mean, b.mean, p, perGroupMask(c.poisoned)));
  if (out.rstd) comps.push(compare('rstd', out.rstd, ref.rstd, b.rstd, p, perGroupMask(c.poisoned)));
  if (buffers && spec.running) {
    const f = runningFraction(momentum, numBatchesTracked);
    const rb = spec.running.stepBounds(us, b, grouping, buffers, f, unbiased);
    const bad = c.poisoned.length ? poisonedParams(grouping, c.poisoned) : [];
    const channelMask = perGroupMask(bad);
    if (!out.running) throw new Error(`${spec.capabilities.forward} returned no running buffers`);
    comps.push(compare('runningMean', out.running.runningMean, ref.running!.runningMean, rb.runningMean, p, channelMask));
    comps.push(compare('runningVar', out.running.runningVar, ref.running!.runningVar, rb.runningVar, p, channelMask));
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
    comps.push(compare(`${which} after step ${k + 1}`, out.running[which], ref.running![which], bound, ctx.precision));
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
  return [compare('y', y, ref, b, ctx.precision)];
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
  const comps = [compare('dx', g.dx, ref.dx, b.dx, p)];
  if (c.weight) comps.push(compare('dweight', g.dweight!, ref.dweight!, b.dweight, p));
  if (c.bias) comps.push(compare('dbias', g.dbias!, ref.dbias!, b.dbias, p));
  return comps;
}
