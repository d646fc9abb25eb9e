/**
 * Calling an adapter: the only place the suite touches adapter functions.
 *
 * Checks work in one normal form: NCHW (N, C, ...spatial) data as Float64Array, already rounded to the
 * adapter's precision. This file converts to the adapter's layout and array type, calls it with a timeout,
 * validates what comes back (an object with the right typed arrays of the right lengths) and converts back.
 * Every call gets fresh arrays, so an adapter that mutates its inputs cannot corrupt the next call.
 *
 * What can go wrong is an `AdapterFailure` with a kind:
 *   threw    the function threw or its Promise rejected            → status 'error'
 *   timeout  it did not settle within the per-call timeout          → status 'error'
 *   shape    an output has the wrong length or is missing            → status 'fail'
 *   type     an output is not the typed array of its precision     → status 'fail'
 *   contract mutated an input, or gave two answers to one question  → status 'fail'
 * A synchronous infinite loop cannot be interrupted from the same thread; the timeout catches adapters whose
 * Promise never settles (the usual way an async backend hangs). An isolated adapter (isolate.ts, `--isolate`)
 * runs in a worker thread, which the timeout terminates (the ABORT hook), so it catches both.
 */
import type {
  Adapter, BatchNormBackwardArgs, BatchNormEvalArgs, BatchNormTrainArgs, Capability, Conventions, FloatArray, LayerNormArgs,
  LayerNormBackwardArgs, Layout, Precision, ProfileName,
} from './adapter.js';
import { describeThrown } from './error_text.js';
import { expectedArrayType, toAdapterArray } from './precision.js';

/**
 * Optional hook of an adapter that can stop a call in progress (isolate.ts: terminate its worker thread).
 * Called once when a call times out.
 */
export const ABORT = Symbol.for('normcheck.abort');

export type FailureKind = 'threw' | 'timeout' | 'shape' | 'type' | 'contract';

export class AdapterFailure extends Error {
  constructor(readonly kind: FailureKind, message: string) {
    super(message);
    this.name = 'AdapterFailure';
  }
}

/** Everything a check needs to know about the adapter under test and the run. */
export interface CheckContext {
  adapter: Adapter;
  precision: Precision;
  layout: Layout;
  profile: ProfileName;
  conventions: Conventions;
  quick: boolean;
  /** fast-check runs per property */
  numRuns: number;
  seed: number;
  /** fast-check replay path, when replaying one failure */
  path?: string;
  timeoutMs: number;
  /** Time limit of a whole check: no new run starts after it. */
  checkTimeoutMs: number;
  /** Set by the first timeout: later calls fail at once, so shrinking does not wait out the timeout again. */
  timedOut: AdapterFailure | null;
}


export async function callAdapter<T>(ctx: CheckContext, cap: Capability, args: unknown): Promise<T> {
  if (ctx.timedOut) throw ctx.timedOut;
  const fn = ctx.adapter[cap] as ((a: unknown) => unknown) | undefined;
  if (typeof fn !== 'function') throw new AdapterFailure('contract', `${cap} is not provided`);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AdapterFailure('timeout', `${cap} did not return within ${ctx.timeoutMs} ms`)), ctx.timeoutMs);
  });
  try {
    return (await Promise.race([Promise.resolve().then(() => fn.call(ctx.adapter, args)), timeout])) as T;
  } catch (e) {
    if (e instanceof AdapterFailure) {
      if (e.kind === 'timeout') {
        ctx.timedOut = e;
        const abort = (ctx.adapter as unknown as Record<symbol, unknown>)[ABORT];
        if (typeof abort === 'function') abort.call(ctx.adapter);
      }
      throw e;
    }
    throw new AdapterFailure('threw', `${cap} threw ${describeThrown(e)}`);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Layout: NCHW index (n·C + c)·S + s  ↔  NHWC index (n·S + s)·C + c

export function nchwToNhwc(x: ArrayLike<number>, shape: readonly number[]): Float64Array {
  const [N, C] = shape as [number, number];
  const S = x.length / (N * C);
  const out = new Float64Array(x.length);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let s = 0; s < S; s++) out[(n * S + s) * C + c] = x[(n * C + c) * S + s]!;
  return out;
}

export function nhwcToNchw(x: ArrayLike<number>, shape: readonly number[]): Float64Array {
  const [N, C] = shape as [number, number];
  const S = x.length / (N * C);
  const out = new Float64Array(x.length);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let s = 0; s < S; s++) out[(n * C + c) * S + s] = x[(n * S + s) * C + c]!;
  return out;
}

/** The shape an adapter of this layout sees for an NCHW shape. */
export function adapterShape(layout: Layout, shape: readonly number[]): number[] {
  return layout === 'NCHW' ? [...shape] : [shape[0]!, ...shape.slice(2), shape[1]!];
}

function toLayout(ctx: CheckContext, x: ArrayLike<number>, shape: readonly number[]): FloatArray {
  return toAdapterArray(ctx.precision, ctx.layout === 'NCHW' ? x : nchwToNhwc(x, shape));
}

function fromLayout(ctx: CheckContext, y: FloatArray, shape: readonly number[]): Float64Array {
  return ctx.layout === 'NCHW' ? Float64Array.from(y) : nhwcToNchw(y, shape);
}

function param(ctx: CheckContext, p: ArrayLike<number> | null): FloatArray | null {
  return p ? toAdapterArray(ctx.precision, p) : null;
}

// The typed-array intrinsics: %TypedArray%.prototype's @@toStringTag getter gives the [[TypedArrayName]] of a
// real typed array and undefined for anything else (a Proxy, an object with Float32Array's prototype or a
// `constructor.name` of 'Float32Array'), and its length getter reads the real length, whatever a subclass or
// an own `length` property claims. Neither runs adapter code.
const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object;
const typedArrayName = Object.getOwnPropertyDescriptor(TypedArrayPrototype, Symbol.toStringTag)!.get! as (this: unknown) => string | undefined;
const typedArrayLength = Object.getOwnPropertyDescriptor(TypedArrayPrototype, 'length')!.get! as (this: unknown) => number;

/**
 * Checks one returned array: present, a real typed array of the precision's type, the right length. Returns a
 * copy of the plain type (copying a typed array reads its elements directly, so a subclass's iterator or
 * getters cannot change what the checks see).
 */
export function checkOutput(ctx: CheckContext, cap: Capability, name: string, value: unknown, length: number, what: string): FloatArray {
  const want = expectedArrayType(ctx.precision);
  if (value == null) throw new AdapterFailure('shape', `${cap} returned no ${name}; expected a ${want} of ${length} values (${what})`);
  const real = typedArrayName.call(value);
  if (real === undefined) {
    let claimed: unknown;
    let pretends = false;
    try {
      claimed = (value as object).constructor?.name;
      pretends = claimed === want || value instanceof (want === 'Float64Array' ? Float64Array : Float32Array);
    } catch {
      // a Proxy whose traps throw: no name to report
    }
    if (pretends) {
      throw new AdapterFailure('type', `${cap} returned ${name} as an object pretending to be a ${want} (a Proxy, or an object with its prototype or name, not a typed array); a ${ctx.precision} adapter must return a ${want}`);
    }
    throw new AdapterFailure('type', `${cap} returned ${name} as ${typeof claimed === 'string' && claimed ? claimed : typeof value}; a ${ctx.precision} adapter must return ${want}`);
  }
  if (real !== want) throw new AdapterFailure('type', `${cap} returned ${name} as ${real}; a ${ctx.precision} adapter must return ${want}`);
  const n = typedArrayLength.call(value);
  if (n !== length) throw new AdapterFailure('shape', `${cap} returned ${name} with ${n} values; expected ${length} (${what})`);
  return want === 'Float64Array' ? new Float64Array(value as Float64Array) : new Float32Array(value as Float32Array);
}

/** Every field a capability's result may carry; each is read once, so a throwing getter is the adapter's error. */
const RESULT_FIELDS = ['y', 'runningMean', 'runningVar', 'mean', 'rstd', 'dx', 'dweight', 'dbias'] as const;

function checkResultObject(cap: Capability, res: unknown): Record<string, unknown> {
  if (res == null || typeof res !== 'object') throw new AdapterFailure('shape', `${cap} returned ${res === null ? 'null' : typeof res}; expected an object of typed arrays`);
  const fields: Record<string, unknown> = {};
  for (const k of RESULT_FIELDS) {
    try {
      fields[k] = (res as Record<string, unknown>)[k];
    } catch (e) {
      throw new AdapterFailure('threw', `${cap} returned an object whose ${k} getter threw ${describeThrown(e)}`);
    }
  }
  return fields;
}

function fmtShape(shape: readonly number[]): string {
  return `shape (${shape.join(', ')})`;
}

// ---------------------------------------------------------------------------------------------------------
// BatchNorm

export interface BnTrainInput {
  shape: readonly number[]; // NCHW
  x: Float64Array;
  weight: Float64Array | null;
  bias: Float64Array | null;
  runningMean: Float64Array;
  runningVar: Float64Array;
  numBatchesTracked: number;
  momentum: number | null;
  eps: number;
}

export interface BnTrainOutput {
  y: Float64Array;
  runningMean: Float64Array;
  runningVar: Float64Array;
  mean: Float64Array | null;
  rstd: Float64Array | null;
}

export function bnTrainArgs(ctx: CheckContext, d: BnTrainInput): BatchNormTrainArgs {
  return {
    x: toLayout(ctx, d.x, d.shape), shape: adapterShape(ctx.layout, d.shape), weight: param(ctx, d.weight), bias: param(ctx, d.bias),
    runningMean: toAdapterArray(ctx.precision, d.runningMean), runningVar: toAdapterArray(ctx.precision, d.runningVar),
    numBatchesTracked: d.numBatchesTracked, momentum: d.momentum, eps: d.eps,
  };
}

export async function bnTrain(ctx: CheckContext, d: BnTrainInput): Promise<BnTrainOutput> {
  const cap = 'bnTrainForward';
  const C = d.shape[1]!;
  const res = checkResultObject(cap, await callAdapter(ctx, cap, bnTrainArgs(ctx, d)));
  const y = checkOutput(ctx, cap, 'y', res.y, d.x.length, `the input's ${fmtShape(adapterShape(ctx.layout, d.shape))}`);
  const rm = checkOutput(ctx, cap, 'runningMean', res.runningMean, C, `one per channel`);
  const rv = checkOutput(ctx, cap, 'runningVar', res.runningVar, C, `one per channel`);
  const mean = res.mean != null ? checkOutput(ctx, cap, 'mean', res.mean, C, 'one per channel') : null;
  const rstd = res.rstd != null ? checkOutput(ctx, cap, 'rstd', res.rstd, C, 'one per channel') : null;
  return {
    y: fromLayout(ctx, y, d.shape), runningMean: Float64Array.from(rm), runningVar: Float64Array.from(rv),
    mean: mean && Float64Array.from(mean), rstd: rstd && Float64Array.from(rstd),
  };
}

export interface BnEvalInput {
  shape: readonly number[];
  x: Float64Array;
  weight: Float64Array | null;
  bias: Float64Array | null;
  runningMean: Float64Array;
  runningVar: Float64Array;
  eps: number;
}

export function bnEvalArgs(ctx: CheckContext, d: BnEvalInput): BatchNormEvalArgs {
  return {
    x: toLayout(ctx, d.x, d.shape), shape: adapterShape(ctx.layout, d.shape), weight: param(ctx, d.weight), bias: param(ctx, d.bias),
    runningMean: toAdapterArray(ctx.precision, d.runningMean), runningVar: toAdapterArray(ctx.precision, d.runningVar), eps: d.eps,
  };
}

export async function bnEval(ctx: CheckContext, d: BnEvalInput): Promise<Float64Array> {
  const cap = 'bnEvalForward';
  const res = checkResultObject(cap, await callAdapter(ctx, cap, bnEvalArgs(ctx, d)));
  const y = checkOutput(ctx, cap, 'y', res.y, d.x.length, `the input's ${fmtShape(adapterShape(ctx.layout, d.shape))}`);
  return fromLayout(ctx, y, d.shape);
}

export interface BnBackwardInput {
  shape: readonly number[];
  x: Float64Array;
  dy: Float64Array;
  weight: Float64Array | null;
  bias: Float64Array | null;
  training: boolean;
  runningMean: Float64Array | null;
  runningVar: Float64Array | null;
  eps: number;
}

export interface GradsOutput {
  dx: Float64Array;
  dweight: Float64Array | null;
  dbias: Float64Array | null;
}

export function bnBackwardArgs(ctx: CheckContext, d: BnBackwardInput): BatchNormBackwardArgs {
  return {
    dy: toLayout(ctx, d.dy, d.shape), x: toLayout(ctx, d.x, d.shape), shape: adapterShape(ctx.layout, d.shape),
    weight: param(ctx, d.weight), bias: param(ctx, d.bias), training: d.training,
    runningMean: param(ctx, d.runningMean), runningVar: param(ctx, d.runningVar), eps: d.eps,
  };
}

function checkGrads(ctx: CheckContext, cap: Capability, res: Record<string, unknown>, dxLength: number, what: string, paramLength: number, hasWeight: boolean, hasBias: boolean) {
  const dx = checkOutput(ctx, cap, 'dx', res.dx, dxLength, what);
  const dweight = hasWeight ? checkOutput(ctx, cap, 'dweight', res.dweight, paramLength, 'the weight\'s shape') : null;
  const dbias = hasBias ? checkOutput(ctx, cap, 'dbias', res.dbias, paramLength, 'the bias\'s shape') : null;
  return { dx, dweight: dweight && Float64Array.from(dweight), dbias: dbias && Float64Array.from(dbias) };
}

export async function bnBackward(ctx: CheckContext, d: BnBackwardInput): Promise<GradsOutput> {
  const cap = 'bnBackward';
  const res = checkResultObject(cap, await callAdapter(ctx, cap, bnBackwardArgs(ctx, d)));
  const g = checkGrads(ctx, cap, res, d.x.length, `the input's ${fmtShape(adapterShape(ctx.layout, d.shape))}`, d.shape[1]!, d.weight != null, d.bias != null);
  return { dx: fromLayout(ctx, g.dx, d.shape), dweight: g.dweight, dbias: g.dbias };
}

// ---------------------------------------------------------------------------------------------------------
// LayerNorm (layout-free)

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

export function lnRows(d: { x: ArrayLike<number>; normalizedShape: readonly number[] }): { R: number; D: number } {
  const D = d.normalizedShape.reduce((a, b) => a * b, 1);
  return { R: d.x.length / D, D };
}

export async function lnForward(ctx: CheckContext, d: LnInput): Promise<LnOutput> {
  const cap = 'lnForward';
  const { R } = lnRows(d);
  const res = checkResultObject(cap, await callAdapter(ctx, cap, lnArgs(ctx, d)));
  const y = checkOutput(ctx, cap, 'y', res.y, d.x.length, `the input's ${fmtShape(d.shape)}`);
  const mean = res.mean != null ? checkOutput(ctx, cap, 'mean', res.mean, R, 'one per row') : null;
  const rstd = res.rstd != null ? checkOutput(ctx, cap, 'rstd', res.rstd, R, 'one per row') : null;
  return { y: Float64Array.from(y), mean: mean && Float64Array.from(mean), rstd: rstd && Float64Array.from(rstd) };
}

export interface LnBackwardInput extends LnInput {
  dy: Float64Array;
}

export function lnBackwardArgs(ctx: CheckContext, d: LnBackwardInput): LayerNormBackwardArgs {
  return { ...lnArgs(ctx, d), dy: toAdapterArray(ctx.precision, d.dy) };
}

export async function lnBackward(ctx: CheckContext, d: LnBackwardInput): Promise<GradsOutput> {
  const cap = 'lnBackward';
  const { D } = lnRows(d);
  const res = checkResultObject(cap, await callAdapter(ctx, cap, lnBackwardArgs(ctx, d)));
  const g = checkGrads(ctx, cap, res, d.x.length, `the input's ${fmtShape(d.shape)}`, D, d.weight != null, d.bias != null);
  return { dx: Float64Array.from(g.dx), dweight: g.dweight, dbias: g.dbias };
}
