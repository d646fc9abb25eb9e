/**
 * Calling an adapter: the only place the suite calls a capability, always through the adapter's host
 * (hosts/host.ts: in-process, worker thread or subprocess).
 *
 * Checks work in one normal form: NCHW (N, C, ...spatial) data as Float64Array, already rounded to the
 * adapter's precision. This file holds what every capability wrapper (one per capability, in its norm's spec,
 * norms/*.ts) uses: converting to the adapter's layout and array type, calling it through its host,
 * validating what comes back (an object with the right typed arrays of the right lengths) and converting back.
 * Every call gets fresh arrays, so an adapter that mutates its inputs cannot corrupt the next call.
 *
 * What can go wrong is an `AdapterFailure` (hosts/failure.ts lists the kinds). Timeouts, crashes and late
 * faults stop the check they happen in: the first one is kept in the check's ledger and every later call of
 * that check fails with it at once, so shrinking neither waits out a timeout again nor restarts a dying
 * worker once per step. Each call carries a tag (its check's ledger and the case being run), so a fault that
 * surfaces after its call returned is still blamed on that call and that case.
 */
import type { Capability, Conventions, FloatArray, Layout, Precision, ProfileName } from './adapter.js';
import type { Tier } from './accuracy/probabilistic.js';
import type { Domain } from './domain.js';
import type { NormId } from './norms/spec.js';
import { describeThrown } from './error_text.js';
import { AdapterFailure, NotRun, STOPS_THE_CHECK } from './hosts/failure.js';
import type { Host } from './hosts/host.js';
import { Abandoned } from './prefetch.js';
import { expectedArrayType, toAdapterArray } from './precision.js';

export { AdapterFailure, type FailureKind } from './hosts/failure.js';

/** One check's shared record on one adapter (shared by every context the check derives). */
export interface CheckLedger {
  /** The first timeout, crash or late fault: later calls of the check fail with it at once. */
  fault: AdapterFailure | null;
}

/** Which case of a check made a call: the fast-check run (0-based) and its generated value. */
export interface CallOrigin {
  run: number;
  value: unknown;
  /** made while fast-check was shrinking (run is then an invocation count, not a run a path can name) */
  shrinking: boolean;
}

/** What each call tells its host about its caller (returned as the origin of a late fault). */
export interface CallTag {
  ledger: CheckLedger;
  origin: CallOrigin | null;
}

/** Everything a check needs to know about the adapter under test and the run. */
export interface CheckContext {
  /** where the adapter runs; every call goes through it */
  host: Host;
  /** the capabilities the adapter declares (its host's meta) */
  capabilities: ReadonlySet<Capability>;
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
  ledger: CheckLedger;
  /** the case being run (set by the check builders, check.ts), for blame */
  origin: CallOrigin | null;
  /** The norms selected (`--norm`): checks that span norms (hygiene) judge only these; null: every norm. */
  norms?: readonly NormId[] | null;
  /** The features this check's cases keep clear of (domain.ts): the adapter's unsupported ones, --without, expectations. */
  domain: Domain;
  /** The tolerance tier of the differential bounds (accuracy/probabilistic.ts): absent, the worst case. */
  tolerance?: Tier;
  /**
   * Capabilities not to call on the current case although the adapter has them: a fixture with a feature one
   * capability does not support is judged without that capability's part (fixtures.ts). `provides` honours it.
   */
  withheld?: ReadonlySet<Capability>;
}

/** Whether the adapter declares capability `cap` (and the current case may call it). */
export function provides(ctx: CheckContext, cap: Capability): boolean {
  return ctx.capabilities.has(cap) && !ctx.withheld?.has(cap);
}

/** Whether the capability takes every feature of `tags` (none of them excluded for it: domain.ts). */
export function supports(ctx: CheckContext, cap: Capability, tags: readonly string[]): boolean {
  const ex = ctx.domain.excludedFor(cap);
  return !tags.some((t) => ex.has(t as never));
}

/**
 * Hands the host's late faults to the checks that made the calls (each to its ledger, the first one wins);
 * returns the faults no call can be blamed for (they go in the adapter's report message).
 */
export function routeFaults(host: Host): AdapterFailure[] {
  const orphans: AdapterFailure[] = [];
  for (const f of host.takeFaults()) {
    const tag = f.origin as CallTag | null;
    if (tag?.ledger) tag.ledger.fault ??= f;
    else orphans.push(f);
  }
  return orphans;
}

export async function callAdapter<T>(ctx: CheckContext, cap: Capability, args: unknown): Promise<T> {
  for (const orphan of routeFaults(ctx.host)) ctx.ledger.fault ??= orphan;
  if (ctx.ledger.fault) throw ctx.ledger.fault;
  if (!ctx.capabilities.has(cap)) throw new AdapterFailure('contract', `${cap} is not provided`);
  try {
    return (await ctx.host.call(cap, args, { timeoutMs: ctx.timeoutMs, tag: { ledger: ctx.ledger, origin: ctx.origin } satisfies CallTag })) as T;
  } catch (e) {
    if (e instanceof AdapterFailure) {
      if (STOPS_THE_CHECK.has(e.kind)) ctx.ledger.fault ??= e;
      throw e;
    }
    if (e instanceof Abandoned) throw e;
    if (e instanceof NotRun) {
      // interrupted by a fault of an earlier call (a callback it scheduled ended the worker): that call is blamed
      for (const orphan of routeFaults(ctx.host)) ctx.ledger.fault ??= orphan;
      throw ctx.ledger.fault ?? new AdapterFailure('crashed', e.message);
    }
    throw new AdapterFailure('threw', `${cap} threw ${describeThrown(e)}`);
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

export function toLayout(ctx: CheckContext, x: ArrayLike<number>, shape: readonly number[]): FloatArray {
  return toAdapterArray(ctx.precision, ctx.layout === 'NCHW' ? x : nchwToNhwc(x, shape));
}

export function fromLayout(ctx: CheckContext, y: FloatArray, shape: readonly number[]): Float64Array {
  return ctx.layout === 'NCHW' ? Float64Array.from(y) : nhwcToNchw(y, shape);
}

export function param(ctx: CheckContext, p: ArrayLike<number> | null): FloatArray | null {
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
const RESULT_FIELDS = ['y', 'runningMean', 'runningVar', 'numBatchesTracked', 'mean', 'rstd', 'dx', 'dweight', 'dbias'] as const;

export function checkResultObject(cap: Capability, res: unknown): Record<string, unknown> {
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

export function fmtShape(shape: readonly number[]): string {
  return `shape (${shape.join(', ')})`;
}

export interface GradsOutput {
  dx: Float64Array;
  dweight: Float64Array | null;
  dbias: Float64Array | null;
}

/** Validates dx (and dweight, dbias when the case has the parameter) of a backward capability's result. */
export function checkGrads(
  ctx: CheckContext, cap: Capability, res: Record<string, unknown>, dxLength: number, what: string, paramLength: number, hasWeight: boolean, hasBias: boolean,
): { dx: FloatArray; dweight: Float64Array | null; dbias: Float64Array | null } {
  const dx = checkOutput(ctx, cap, 'dx', res.dx, dxLength, what);
  const dweight = hasWeight ? checkOutput(ctx, cap, 'dweight', res.dweight, paramLength, 'the weight\'s shape') : null;
  const dbias = hasBias ? checkOutput(ctx, cap, 'dbias', res.dbias, paramLength, 'the bias\'s shape') : null;
  return { dx, dweight: dweight && Float64Array.from(dweight), dbias: dbias && Float64Array.from(dbias) };
}

/** A saved statistic or running buffer the adapter may return: validated when present, null when absent. */
export function optionalOutput(ctx: CheckContext, cap: Capability, name: string, value: unknown, length: number, what: string): Float64Array | null {
  return value != null ? Float64Array.from(checkOutput(ctx, cap, name, value, length, what)) : null;
}
