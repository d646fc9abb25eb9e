/**
 * Differential judgement: run the adapter and the float64 reference (configured from the adapter's
 * conventions) on the same rounded inputs and compare every output, saved statistics and running buffers
 * included, each against its bound from error_model.ts. Used by the differential, edge-case and fixture checks.
 *
 * Groups (channels or rows) that hold a NaN or ±Infinity on purpose are judged apart: their outputs must be
 * non-finite (a finite value there would hide the bad input), and every other group must match the
 * reference as if the poisoned groups were not there.
 */
import { batchNormBackward, batchNormDims, batchNormEval, batchNormTrain, layerNormBackward, layerNormDims, layerNormForward } from '../reference/index.js';
import { compare, fmtRatio, type Comparison } from './compare.js';
import {
  bnEvalBounds, bnGrouping, lnGrouping, normBackwardBounds, normForwardBounds, roundoffs, runningStepBounds, type Grouping,
} from './error_model.js';
import { bnBackward, bnEval, bnTrain, lnBackward, lnForward, type CheckContext } from './invoke.js';
import { roundTo } from './precision.js';
import { lowPrecisionNormForward } from './reference_lowp.js';

export interface BnData {
  shape: readonly number[];
  x: Float64Array;
  dy?: Float64Array;
  weight: Float64Array | null;
  bias: Float64Array | null;
  runningMean: Float64Array;
  runningVar: Float64Array;
  /** groups that hold a non-finite value on purpose */
  poisoned?: readonly number[];
}

export interface LnData {
  shape: readonly number[];
  normalizedShape: readonly number[];
  x: Float64Array;
  dy?: Float64Array;
  weight: Float64Array | null;
  bias: Float64Array | null;
  /** groups that hold a non-finite value on purpose */
  poisoned?: readonly number[];
}

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
 * On a failed output comparison of a low-precision adapter, say how far an honest two-pass implementation in
 * that precision (reference_lowp.ts) lands under the same bound: well inside means the adapter's algorithm is
 * at fault, not the precision.
 */
function withHonestNote(
  ctx: CheckContext, c: Comparison, expected: ArrayLike<number>, bound: ArrayLike<number>, x: ArrayLike<number>, grouping: Grouping,
  weight: ArrayLike<number> | null, bias: ArrayLike<number> | null, eps: number, mask?: (i: number) => boolean,
): Comparison {
  if (c.ok || ctx.precision === 'float64') return c;
  const honest = compare(c.quantity, lowPrecisionNormForward(ctx.precision, x, grouping, weight, bias, eps), expected, bound, ctx.precision, mask);
  return { ...c, note: `an honest ${ctx.precision} two-pass implementation reaches ${fmtRatio(honest.worstRatio)} of this bound on this case` };
}

function perGroupMask(poisoned: readonly number[] | undefined): ((i: number) => boolean) | undefined {
  return poisoned?.length ? (i) => !poisoned.includes(i) : undefined;
}

export interface BnTrainJudgeOptions {
  momentum: number | null;
  eps: number;
  numBatchesTracked?: number;
  /** compare the running buffers after the step */
  running: boolean;
  unbiased?: boolean;
  /** extra unit roundoffs to add to the bounds (fixtures: the rounding of float64 inputs) */
  extraRoundoffs?: number[];
}

export async function judgeBnTrain(ctx: CheckContext, d: BnData, o: BnTrainJudgeOptions): Promise<Comparison[]> {
  const unbiased = o.unbiased ?? ctx.conventions.runningVar === 'unbiased';
  const { N, C, S } = batchNormDims(d.shape);
  const numBatchesTracked = o.numBatchesTracked ?? 0;
  const out = await bnTrain(ctx, {
    shape: d.shape, x: d.x, weight: d.weight, bias: d.bias, runningMean: d.runningMean, runningVar: d.runningVar,
    numBatchesTracked, momentum: o.momentum, eps: o.eps,
  });
  const ref = batchNormTrain({
    x: d.x, shape: d.shape, weight: d.weight, bias: d.bias, momentum: o.momentum, eps: o.eps, unbiasedRunningVar: unbiased,
    running: { runningMean: d.runningMean, runningVar: d.runningVar, numBatchesTracked },
  });
  const grouping = bnGrouping(N, C, S);
  const us = [...roundoffs(ctx.precision), ...(o.extraRoundoffs ?? [])];
  const b = normForwardBounds(us, d.x, grouping, d.weight, d.bias, o.eps);
  const p = ctx.precision;
  const mask = outside(grouping, d.poisoned);
  const comps = [withHonestNote(ctx, compare('y', out.y, ref.y, b.y, p, mask), ref.y, b.y, d.x, grouping, d.weight, d.bias, o.eps, mask)];
  if (out.mean) comps.push(compare('mean', out.mean, ref.mean, b.mean, p, perGroupMask(d.poisoned)));
  if (out.rstd) comps.push(compare('rstd', out.rstd, ref.rstd, b.rstd, p, perGroupMask(d.poisoned)));
  if (o.running) {
    const f = o.momentum === null ? 1 / (numBatchesTracked + 1) : o.momentum;
    const rb = runningStepBounds(us, b, d.runningMean, d.runningVar, f, unbiased);
    comps.push(compare('runningMean', out.runningMean, ref.running!.runningMean, rb.runningMean, p, perGroupMask(d.poisoned)));
    comps.push(compare('runningVar', out.runningVar, ref.running!.runningVar, rb.runningVar, p, perGroupMask(d.poisoned)));
    if (d.poisoned?.length) comps.push(nonFinite('runningMean (poisoned channels)', out.runningMean, d.poisoned));
  }
  if (d.poisoned?.length) comps.push(nonFinite('y (poisoned channels)', out.y, d.poisoned.flatMap((g) => Array.from(grouping.groups[g]!))));
  return comps;
}

/**
 * Several training steps, feeding the adapter its own running buffers back (as training does) while the
 * reference chains its own; step k's input is a rescaled, shifted copy of x so the statistics move.
 * The bound after K steps is the sum of the per-step bounds (error_model.ts).
 */
export async function judgeBnRunning(ctx: CheckContext, d: BnData, steps: number, momentum: number | null, which: 'runningMean' | 'runningVar'): Promise<Comparison[]> {
  const unbiased = ctx.conventions.runningVar === 'unbiased';
  const eps = ctx.conventions.eps;
  const { N, C, S } = batchNormDims(d.shape);
  const grouping = bnGrouping(N, C, S);
  const us = roundoffs(ctx.precision);
  let adapterRunning = { runningMean: d.runningMean, runningVar: d.runningVar };
  let refRunning = { runningMean: d.runningMean, runningVar: d.runningVar, numBatchesTracked: 0 };
  const bound = new Float64Array(C);
  const comps: Comparison[] = [];
  for (let k = 0; k < steps; k++) {
    // step k: x·(1 + k/4) + k/2, rounded to the precision (the reference sees the rounded values)
    const xk = new Float64Array(d.x.length);
    for (let i = 0; i < xk.length; i++) {
      const v = d.x[i]! * (1 + k / 4) + k / 2;
      xk[i] = roundTo(ctx.precision, v);
    }
    const out = await bnTrain(ctx, {
      shape: d.shape, x: xk, weight: d.weight, bias: d.bias, ...adapterRunning, numBatchesTracked: k, momentum, eps,
    });
    const ref = batchNormTrain({ x: xk, shape: d.shape, weight: d.weight, bias: d.bias, momentum, eps, unbiasedRunningVar: unbiased, running: refRunning });
    const f = momentum === null ? 1 / (k + 1) : momentum;
    const b = normForwardBounds(us, xk, grouping, d.weight, d.bias, eps);
    const rb = runningStepBounds(us, b, refRunning.runningMean, refRunning.runningVar, f, unbiased);
    for (let c = 0; c < C; c++) bound[c]! += rb[which][c]!;
    comps.push(compare(`${which} after step ${k + 1}`, out[which], ref.running![which], bound, ctx.precision));
    adapterRunning = { runningMean: out.runningMean, runningVar: out.runningVar };
    refRunning = ref.running!;
    if (comps.some((c) => !c.ok)) break;
  }
  return comps;
}

export async function judgeBnEval(ctx: CheckContext, d: BnData, eps: number, extraRoundoffs: number[] = []): Promise<Comparison[]> {
  const { N, C, S } = batchNormDims(d.shape);
  const y = await bnEval(ctx, { shape: d.shape, x: d.x, weight: d.weight, bias: d.bias, runningMean: d.runningMean, runningVar: d.runningVar, eps });
  const ref = batchNormEval({ x: d.x, shape: d.shape, weight: d.weight, bias: d.bias, running: { runningMean: d.runningMean, runningVar: d.runningVar }, eps });
  const grouping = bnGrouping(N, C, S);
  const b = bnEvalBounds([...roundoffs(ctx.precision), ...extraRoundoffs], d.x, grouping, d.weight, d.bias, d.runningMean, d.runningVar, eps);
  return [compare('y', y, ref.y, b, ctx.precision)];
}

export async function judgeBnBackward(ctx: CheckContext, d: BnData, training: boolean, eps: number, extraRoundoffs: number[] = []): Promise<Comparison[]> {
  const { N, C, S } = batchNormDims(d.shape);
  const dy = d.dy!;
  const g = await bnBackward(ctx, {
    shape: d.shape, x: d.x, dy, weight: d.weight, bias: d.bias, training,
    runningMean: training ? null : d.runningMean, runningVar: training ? null : d.runningVar, eps,
  });
  let mean: Float64Array;
  let rstd: Float64Array;
  if (training) {
    ({ mean, rstd } = batchNormTrain({ x: d.x, shape: d.shape, eps }));
  } else {
    mean = d.runningMean;
    rstd = d.runningVar.map((v) => 1 / Math.sqrt(v + eps));
  }
  const ref = batchNormBackward({ dy, x: d.x, shape: d.shape, weight: d.weight ?? new Float64Array(C).fill(1), mean, rstd, training });
  const grouping = bnGrouping(N, C, S);
  const b = normBackwardBounds([...roundoffs(ctx.precision), ...extraRoundoffs], d.x, dy, grouping, d.weight, eps,
    training ? null : { runningMean: d.runningMean, runningVar: d.runningVar });
  const p = ctx.precision;
  const comps = [compare('dx', g.dx, ref.dx, b.dx, p)];
  if (d.weight) comps.push(compare('dweight', g.dweight!, ref.dweight!, b.dweight, p));
  if (d.bias) comps.push(compare('dbias', g.dbias!, ref.dbias!, b.dbias, p));
  return comps;
}

export async function judgeLnForward(ctx: CheckContext, d: LnData, eps: number, extraRoundoffs: number[] = []): Promise<Comparison[]> {
  const { R, D } = layerNormDims(d.shape, d.normalizedShape);
  const out = await lnForward(ctx, { shape: d.shape, normalizedShape: d.normalizedShape, x: d.x, weight: d.weight, bias: d.bias, eps });
  const ref = layerNormForward({ x: d.x, shape: d.shape, normalizedShape: d.normalizedShape, weight: d.weight, bias: d.bias, eps });
  const grouping = lnGrouping(R, D);
  const b = normForwardBounds([...roundoffs(ctx.precision), ...extraRoundoffs], d.x, grouping, d.weight, d.bias, eps);
  const p = ctx.precision;
  const mask = outside(grouping, d.poisoned);
  const comps = [withHonestNote(ctx, compare('y', out.y, ref.y, b.y, p, mask), ref.y, b.y, d.x, grouping, d.weight, d.bias, eps, mask)];
  if (out.mean) comps.push(compare('mean', out.mean, ref.mean, b.mean, p, perGroupMask(d.poisoned)));
  if (out.rstd) comps.push(compare('rstd', out.rstd, ref.rstd, b.rstd, p, perGroupMask(d.poisoned)));
  if (d.poisoned?.length) comps.push(nonFinite('y (poisoned rows)', out.y, d.poisoned.flatMap((g) => Array.from(grouping.groups[g]!))));
  return comps;
}

export async function judgeLnBackward(ctx: CheckContext, d: LnData, eps: number, extraRoundoffs: number[] = []): Promise<Comparison[]> {
  const { R, D } = layerNormDims(d.shape, d.normalizedShape);
  const dy = d.dy!;
  const g = await lnBackward(ctx, { shape: d.shape, normalizedShape: d.normalizedShape, x: d.x, dy, weight: d.weight, bias: d.bias, eps });
  const fwd = layerNormForward({ x: d.x, shape: d.shape, normalizedShape: d.normalizedShape, eps });
  const ref = layerNormBackward({
    dy, x: d.x, shape: d.shape, normalizedShape: d.normalizedShape, weight: d.weight, hasBias: d.bias != null, mean: fwd.mean, rstd: fwd.rstd,
  });
  const b = normBackwardBounds([...roundoffs(ctx.precision), ...extraRoundoffs], d.x, dy, lnGrouping(R, D), d.weight, eps);
  const p = ctx.precision;
  const comps = [compare('dx', g.dx, ref.dx, b.dx, p)];
  if (d.weight) comps.push(compare('dweight', g.dweight!, ref.dweight!, b.dweight, p));
  if (d.bias) comps.push(compare('dbias', g.dbias!, ref.dbias!, b.dbias, p));
  return comps;
}
