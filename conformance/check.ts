/**
 * What a check is, what it returns, and the builder most checks use: a fast-check property over generated
 * cases whose predicate returns comparisons (compare.ts). The builder runs `fc.check` with the run's seed
 * (and replay path), keeps the worst error/bound ratio seen over all runs, and on failure reports the
 * shrunk counterexample, fast-check's seed and path, and the mismatches of that counterexample. Shrinking
 * stays within a decade of the first failure's error/bound (see propertyCheck), and both ratios are reported.
 */
import fc from 'fast-check';
import type { Capability } from './adapter.js';
import { describeComparison, fmtRatio, type Comparison } from './compare.js';
import { sortFeatures, type ExclusionSource } from './domain.js';
import { describeThrown } from './error_text.js';
import { ERROR_KINDS, STOPS_THE_CHECK } from './hosts/failure.js';
import { AdapterFailure, routeFaults, type CallOrigin, type CallTag, type CheckContext } from './invoke.js';
import { CallCache } from './prefetch.js';
import type { Feature } from './features.js';
import type { NormId } from './norms/spec.js';
import { CaseTally } from './accuracy/tally.js';
import type { Grade } from './accuracy/grade.js';
import type { CaseCounts } from './accuracy/inconclusive.js';
import type { CasePoint } from './accuracy/points.js';

export type Category = 'differential' | 'metamorphic' | 'edge' | 'hygiene' | 'gradcheck' | 'fixtures';
export const CATEGORIES: readonly Category[] = ['differential', 'fixtures', 'metamorphic', 'edge', 'hygiene', 'gradcheck'];

/**
 * pass          every run within bound, at least one of them conclusive (accuracy/inconclusive.ts)
 * robust        every run within bound, but every one inconclusive: its bounds could not tell the right answer
 *               from the trivial one (y = bias), so it showed no NaN, no blow-up, no wrong shape — not accuracy
 * fail          a wrong result: out of bound, wrong shape or type, mutated input, nondeterministic
 * error         the adapter threw, rejected or timed out (or, marked "internal", the check itself broke)
 * skipped       the check does not apply (e.g. a PyTorch-only convention under the keras profile)
 * not provided  the adapter lacks a capability the check needs
 * not applicable every case the check has carries a feature the run excludes (the adapter declares it
 *               unsupported, or --without names it): nothing was graded, which is not a pass
 */
export type Status = 'pass' | 'robust' | 'fail' | 'error' | 'skipped' | 'not provided' | 'not applicable';

/**
 * A feature left out of a check's cases: where the exclusion comes from, and how many drawn cases were
 * moved off it (projected onto the domain, domain.ts) or fixtures not posed because of it; 0 when the
 * check can draw it but this run drew none.
 */
export interface Exclusion {
  feature: Feature;
  source: ExclusionSource;
  cases: number;
}

export interface Worst {
  /** error / bound: ≤ 1 passes */
  ratio: number;
  /** the same error in ulps of the adapter's precision */
  ulps: number;
  error: number;
  bound: number;
  /** which output: 'y', 'runningVar', 'dx', 'Σdx', … */
  quantity: string;
}

export interface CheckRun {
  status: Status;
  message: string;
  /** Worst error/bound over every comparison of every run; null when nothing was compared. */
  worst: Worst | null;
  runs: number;
  /** fast-check seed and replay path of the failure (seed also on success: the run is replayable) */
  seed: number | null;
  path: string | null;
  /** the shrunk counterexample, described */
  counterexample: string | null;
  /** mismatch lines of the counterexample */
  details: string[];
  durationMs?: number;
  /**
   * Cases graded (compared with something): the runs before the first failure, less any case that could not
   * be kept within the domain; fixtures posed. Null when the check did not run.
   */
  graded?: number | null;
  /** the features left out of this check's cases (none when the adapter supports everything) */
  excluded?: Exclusion[];
  /**
   * The cases judged, by outcome (accuracy/inconclusive.ts): pass (conclusive and within bound), inconclusive
   * (within bound, but so would the trivial answer be), fail. The runs before the first failure, and that one.
   * Absent or null: the check did not run cases.
   */
  cases?: CaseCounts | null;
  /**
   * The accuracy grade over every graded output of those cases (accuracy/grade.ts): worst ulps against the
   * correctly rounded result, ratio to the honest algorithms, and the deciding case (label, replay path).
   * Null: no output of the check has an honest oracle (relations, hygiene).
   */
  grade?: Grade | null;
  /** One point per graded output per case (accuracy/points.ts), at most tally.ts MAX_POINTS: for --html. */
  points?: CasePoint[];
}

/** A status that passed: 'pass', or 'robust' (within bound, every case inconclusive). */
export const passed = (s: Status): boolean => s === 'pass' || s === 'robust';

/**
 * Why a check does not run on an adapter, as a status: 'skipped' (it does not apply, e.g. a PyTorch-only
 * convention under another profile) or 'not provided' (the adapter lacks what it needs).
 */
export interface NotApplicable {
  status: 'skipped' | 'not provided' | 'not applicable';
  reason: string;
}

export const skipped = (reason: string): NotApplicable => ({ status: 'skipped', reason });
export const notProvided = (reason: string): NotApplicable => ({ status: 'not provided', reason });

export interface Check {
  /** Specific enough that a bug class maps to it: 'bn.train.running_var', 'bn.backward.sum_dx_zero'. */
  id: string;
  category: Category;
  description: string;
  /** The normalisation it checks (norms/spec.ts); null for checks that span every norm (hygiene). */
  norm: NormId | null;
  /** Capabilities the check calls; if the adapter lacks one the check is 'not provided'. Empty: decides itself. */
  needs: readonly Capability[];
  /**
   * Features EVERY case of the check carries (bn.train.offset_1e4: offset_1e2 … offset_1e4; the cumulative
   * average: momentum_none): a run that excludes one has nothing to grade, and the check is 'not applicable'.
   * Features only some cases carry are projected away instead (domain.ts).
   */
  features?: readonly Feature[];
  /** `n` cases the check draws in ctx's domain, seeded (the report's "can draw", tests): fixture checks draw none. */
  sample?(ctx: CheckContext, n: number): Described[];
  /** true, or why the check does not run on this adapter (skipped, or not provided). */
  applies?(ctx: CheckContext): true | NotApplicable;
  run(ctx: CheckContext): Promise<CheckRun>;
}

/** Thrown inside a property when a comparison is out of bound; carries the comparisons for the report. */
export class PropertyFailure extends Error {
  constructor(readonly comparisons: Comparison[], readonly where: (quantity: string, index: number) => string) {
    super(comparisons.filter((c) => !c.ok).map((c) => describeComparison(c, (i) => where(c.quantity, i))[0]).join('; '));
    this.name = 'PropertyFailure';
  }
}

export function worstOf(comparisons: readonly Comparison[], current: Worst | null): Worst | null {
  let w = current;
  for (const c of comparisons) {
    if (c.count === 0) continue;
    if (!w || c.worstRatio > w.ratio) {
      w = { ratio: c.worstRatio, ulps: c.worstUlps, error: c.worstError, bound: c.worstBound, quantity: c.quantity };
    }
  }
  return w;
}

/** A case that can describe itself for a report, with its feature tags (norms/spec.ts NormCase). */
export interface Described {
  label: string;
  tags?: readonly Feature[];
  /** the excluded features its drawing removed (domain.ts) */
  excluded?: readonly Feature[];
  /** excluded features it still has: not graded */
  unsupported?: readonly Feature[];
}

export interface PropertySpec<T extends Described> {
  id: string;
  category: Category;
  description: string;
  norm: NormId | null;
  needs: readonly Capability[];
  features?: readonly Feature[];
  applies?(ctx: CheckContext): true | NotApplicable;
  arbitrary(ctx: CheckContext): fc.Arbitrary<T>;
  /** Runs the adapter on one case; returns every comparison made (ok or not). */
  property(ctx: CheckContext, c: T): Promise<Comparison[]>;
  /** How to print the counterexample (default: its label). */
  describe?(c: T): string;
  /** Readable position of a flat index of a quantity (default `[i]`). */
  where?(c: T, quantity: string, index: number): string;
  /** Runs relative to the context's numRuns (e.g. 0.5 for expensive properties). */
  runsFactor?: number;
}

export function statusOfError(e: unknown): { status: Status; message: string } {
  if (e instanceof PropertyFailure) return { status: 'fail', message: e.message };
  if (e instanceof AdapterFailure) return { status: ERROR_KINDS.has(e.kind) ? 'error' : 'fail', message: e.message };
  return { status: 'error', message: `internal error in the check (not the adapter's fault): ${describeThrown(e)}` };
}

/** What every check declares about itself, copied from its spec (applies and features only when the spec has them). */
function checkIdentity(spec: Pick<Check, 'id' | 'category' | 'description' | 'norm' | 'needs' | 'applies' | 'features'>): Omit<Check, 'run'> {
  return {
    id: spec.id,
    category: spec.category,
    description: spec.description,
    norm: spec.norm,
    needs: spec.needs,
    ...(spec.features?.length ? { features: spec.features } : {}),
    ...(spec.applies ? { applies: spec.applies } : {}),
  };
}

/** The adapter's own traceback or stack under an error, indented as report detail lines. */
function tracebackLines(e: AdapterFailure): string[] {
  return e.traceback ? ['adapter traceback:', ...e.traceback.split('\n').filter((l) => l.trim()).slice(-20).map((l) => `  ${l}`)] : [];
}

/** Why a faulty case is reported as it was drawn: after a timeout, crash or late fault nothing is shrunk. */
function faultNote(f: AdapterFailure): string {
  return f.kind === 'timeout' ? '(the first case that timed out, not shrunk)' : '(the case whose call failed this way, not shrunk)';
}

/**
 * The replay path of the run in which a fault happened: its run index while fast-check was still running
 * cases (invocation i is run i), the replayed path's run when replaying, else (a fault from a shrinking step)
 * the run that first failed.
 */
function faultPath(ctx: CheckContext, origin: CallOrigin, failedAt: number | null): string {
  if (ctx.path) return ctx.path.split(':')[0]!;
  return String(origin.shrinking && failedAt !== null ? failedAt : origin.run);
}

/**
 * The speculative pass of prefetch.ts: the property's cases (the values fast-check will draw with these
 * parameters) evaluated all at once, their calls sent in batches; returns the cache the real run reads.
 */
async function prefetch<T extends Described>(spec: PropertySpec<T>, ctx: CheckContext, params: fc.Parameters<[T]>): Promise<CallCache> {
  const values: T[] = [];
  const cache = new CallCache(ctx.host, Date.now() + ctx.checkTimeoutMs);
  await fc.check(fc.asyncProperty(cache.record(spec.arbitrary(ctx)), async (c) => void values.push(c)), params);
  // a case out of the run's domain is not graded (propertyCheck), so its calls are not fetched either
  await Promise.all(values.map((value, run) => (value.unsupported?.length ? undefined
    : spec.property({ ...ctx, origin: { run, value, shrinking: false }, host: cache.speculative(run) }, value).then((r) => cache.keepOutcome(run, value, r), () => undefined))));
  return cache;
}

/** No late fault has reached the check (routing any that arrived): its next call would go to the host. */
function noFault(ctx: CheckContext): boolean {
  for (const orphan of routeFaults(ctx.host)) ctx.ledger.fault ??= orphan;
  return ctx.ledger.fault === null;
}

/** The speculation's value and the real run's are drawn alike from one seed: equal labels, else not reused. */
const sameCase = (a: unknown, b: unknown) => (a as Described).label === (b as Described).label;

/** Lets the adapter's pending callbacks run and hands any late faults to their checks' ledgers. */
export async function settleFaults(ctx: CheckContext): Promise<void> {
  await ctx.host.settle(ctx.timeoutMs);
  // a fault no call can be blamed for (a timer the module set at import) happened during this check
  for (const orphan of routeFaults(ctx.host)) ctx.ledger.fault ??= orphan;
}

/** The report's exclusions from the cases' counts: each excluded feature the check can draw, or drew. */
function exclusionsOf(ctx: CheckContext, counts: Map<Feature, number>): Exclusion[] {
  return sortFeatures(counts.keys()).map((feature) => ({ feature, source: ctx.domain.sourceOf(feature) ?? 'adapter', cases: counts.get(feature)! }));
}

/** A passing check's status and message from its tally: robust when every case was inconclusive, else pass. */
function verdictOf(tally: CaseTally, within: string): { status: 'pass' | 'robust'; message: string } {
  const { cases } = tally.result();
  if (tally.verdict() === 'robust') {
    return { status: 'robust', message: `${within}, every one inconclusive (its bounds cannot tell the right answer from the trivial one, y = bias): robust, accuracy not shown` };
  }
  return { status: 'pass', message: cases.inconclusive ? `${within} (${cases.inconclusive} of ${tally.total} inconclusive)` : within };
}

export function propertyCheck<T extends Described>(spec: PropertySpec<T>): Check {
  return {
    ...checkIdentity(spec),
    sample: (ctx, n) => fc.sample(spec.arbitrary(ctx), { seed: 1, numRuns: n }),
    async run(ctx) {
      let worst: Worst | null = null;
      // cases graded and features removed, counted over the runs (shrinking re-draws cases: not counted)
      let graded = 0;
      const moved = new Map<Feature, number>();
      const numRuns = Math.max(1, Math.round(ctx.numRuns * (spec.runsFactor ?? 1)));
      const where = (c: T) => (q: string, i: number) => (spec.where ? spec.where(c, q, i) : `[${i}]`);
      // The case in which the first timeout, crash or late fault happened: after it every call fails at once
      // (invoke.ts), so fast-check's shrunk counterexample says nothing; report this one, not shrunk, with the
      // path of its run. A late fault names the case whose call scheduled it (its tag), not the case it hit.
      let firstFault: CallOrigin | null = null;
      // Invocations of the predicate: before the first failure, invocation i is fast-check's run i.
      let invocations = 0;
      let failedAt: number | null = null;
      let cache: CallCache | null = null;
      // Shrinking keeps the bug's size. fast-check shrinks towards the smallest case that still fails, which for
      // an error that grows with the data is a case right at the bound (a missing Bessel correction: 118 000× the
      // bound at first, 1.00× after shrinking) — and that reads as a tolerance problem, not a 2× bug. So once a
      // case has failed at r₀ times its bound, a smaller case counts as failing only at ≥ r₀/10 (never below 1):
      // the counterexample stays within a decade of the first failure. Replaying a path (--path) starts at the
      // reported case, and the bar is that case's own ratio: every shrink of it was below the original bar
      // (else shrinking would have gone on), hence below this one, so the replay stops at the same case.
      let first: { ratio: number; label: string } | null = null;
      const tally = new CaseTally();
      const bar = () => (first === null ? 1 : Math.max(1, ctx.path ? first.ratio : first.ratio / 10));
      // unbiased: uniform draws from the first run on (fast-check's bias favours tiny and extreme values early,
      // which with 5 quick runs would leave most cases near zero); shrinking still heads for small values.
      // The per-check time limit stops between runs (a single hung call is the per-call timeout's job).
      const params: fc.Parameters<[T]> = { seed: ctx.seed, numRuns, unbiased: true, plugins: [fc.interruptAfterTimeLimit(ctx.checkTimeoutMs)] };
      if (ctx.path) params.path = ctx.path;
      // an expensive round trip: every case's calls fetched first, in batches (prefetch.ts)
      if (ctx.host.batches) cache = await prefetch(spec, ctx, params);
      const prop = fc.asyncProperty(cache ? cache.replay(spec.arbitrary(ctx), params) : spec.arbitrary(ctx), async (c) => {
        if (first === null) for (const f of c.excluded ?? []) moved.set(f, (moved.get(f) ?? 0) + 1);
        // a case no projection could bring into the domain is not graded (domain.ts; counted, never failed)
        if (c.unsupported?.length) return;
        if (first === null) graded++;
        const origin: CallOrigin = { run: invocations++, value: c, shrinking: failedAt !== null };
        // before any failure, a case the speculation ran to its end is taken as it returned (prefetch.ts)
        const reused = cache && failedAt === null && noFault(ctx) ? cache.outcome<Comparison[]>(origin.run, c, sameCase) : undefined;
        const host = cache ? cache.cached(failedAt === null ? origin.run : null) : ctx.host;
        const comparisons = reused ?? await spec.property({ ...ctx, origin, host }, c).catch((e: unknown) => {
          failedAt ??= origin.run;
          if (e instanceof AdapterFailure && STOPS_THE_CHECK.has(e.kind) && firstFault === null) firstFault = (e.origin as CallTag | null)?.origin ?? origin;
          throw e;
        });
        worst = worstOf(comparisons, worst);
        // the runs fast-check draws before any failure (a replayed path: its case), not shrinking's
        if (failedAt === null && first === null) {
          tally.add(c.label, () => (spec.describe ? spec.describe(c) : c.label), ctx.path ?? String(origin.run), comparisons);
        }
        const bad = comparisons.filter((x) => !x.ok);
        if (bad.length === 0) return;
        const ratio = Math.max(...bad.map((x) => x.worstRatio));
        if (first === null) first = { ratio, label: (spec.describe ? spec.describe(c) : c.label) };
        // a failure whose ratio says nothing (≤ 1: wrong shape, mutated input) always fails
        if (!(ratio > 1) || ratio >= bar()) {
          failedAt ??= origin.run;
          throw new PropertyFailure(comparisons, where(c));
        }
      });
      const details = await fc.check(prop, params);
      const excluded = exclusionsOf(ctx, moved);
      const base = { worst, runs: details.numRuns, seed: details.seed, path: null, counterexample: null, details: [] as string[], graded, excluded, ...tally.result() };
      const describe = (k: T) => (spec.describe ? spec.describe(k) : k.label);
      // A fault that surfaced after the last call of its case returned (a timer that fires later) reaches the
      // ledger only now: it is this check's error, blamed on the case that scheduled it.
      await settleFaults(ctx);
      const late = ctx.ledger.fault;
      if (late && firstFault === null) {
        const f = (late.origin as CallTag | null)?.origin ?? null;
        return {
          ...base, status: 'error', message: late.message, path: f ? faultPath(ctx, f, failedAt) : null,
          counterexample: f ? `${describe(f.value as T)} ${faultNote(late)}` : null, details: tracebackLines(late),
        };
      }
      if (!details.failed) {
        if (details.interrupted) {
          return { ...base, status: 'error', message: `the check exceeded its time limit of ${ctx.checkTimeoutMs} ms after ${details.numRuns} of ${numRuns} runs (all within bound)` };
        }
        // A path fast-check finds no case at (another check's, seed's or setting's) replays nothing: say so, never "pass".
        if (ctx.path && details.numRuns === 0) {
          return { ...base, status: 'error', message: `--path "${ctx.path}" replays no case of ${spec.id} with seed ${ctx.seed}${ctx.quick ? ' and --quick' : ''}: it belongs to another check, seed, --runs, --quick or --profile (copy the whole replay line)` };
        }
        if (ctx.path) {
          return { ...base, status: 'pass', message: `--path "${ctx.path}" did not reproduce a failure: the case it replays is within bound (fixed, or the path belongs to another check, seed, --runs, --quick or --profile)` };
        }
        if (graded === 0) return { ...base, status: 'not applicable', message: `none of the ${details.numRuns} cases drawn could be kept within the run's features` };
        const notGraded = details.numRuns - graded;
        const tail = notGraded ? ` (${notGraded} not graded: no supported form of them)` : '';
        return { ...base, ...verdictOf(tally, `${graded} cases within bound`), message: `${verdictOf(tally, `${graded} cases within bound`).message}${tail}` };
      }
      const { status, message } = statusOfError(details.errorInstance);
      const c = details.counterexample?.[0];
      const lines: string[] = [];
      if (details.errorInstance instanceof PropertyFailure) {
        const pf = details.errorInstance;
        const badHere = pf.comparisons.filter((x) => !x.ok);
        for (const comp of badHere) lines.push(...describeComparison(comp, (i) => pf.where(comp.quantity, i)));
        const f = first as { ratio: number; label: string } | null;
        const shrunk = Math.max(...badHere.map((x) => x.worstRatio));
        if (f !== null && Number.isFinite(f.ratio) && f.ratio > 1) {
          lines.push(`first failing case: ${fmtRatio(f.ratio)}× its bound (${f.label}); shrunk to ${fmtRatio(shrunk)}× (shrinking keeps cases ≥ ${fmtRatio(Math.max(1, ctx.path ? f.ratio : f.ratio / 10))}× the bound)`);
        }
      }
      if (details.errorInstance instanceof AdapterFailure) lines.push(...tracebackLines(details.errorInstance));
      const f = firstFault as CallOrigin | null;
      if (f !== null) {
        return { ...base, status, message, path: faultPath(ctx, f, failedAt), counterexample: `${describe(f.value as T)} ${faultNote(details.errorInstance as AdapterFailure)}`, details: lines };
      }
      return {
        ...base,
        status,
        message,
        path: details.counterexamplePath,
        counterexample: c ? describe(c) : null,
        details: lines,
      };
    },
  };
}

/** A check whose work is not a random property (fixtures): one deterministic pass, same reporting. */
export function fixedCheck(spec: {
  id: string; category: Category; description: string; norm: NormId | null; needs: readonly Capability[];
  applies?(ctx: CheckContext): true | NotApplicable;
  /**
   * The comparisons of each named case, or why the case cannot be posed to this adapter; stops at the first
   * failing case. A case whose `tags` hold a feature the run excludes is not posed (counted as excluded).
   */
  cases(ctx: CheckContext): Promise<{
    label: string; tags?: readonly Feature[];
    /** features of parts of the case left out (a capability that does not take them is not called) */
    partsExcluded?: readonly Feature[];
    run: () => Promise<Comparison[] | string>;
  }[]>;
}): Check {
  return {
    ...checkIdentity(spec),
    async run(ctx) {
      let worst: Worst | null = null;
      const cases = await spec.cases(ctx);
      if (cases.length === 0) {
        return { status: 'skipped', message: 'no cases found', worst, runs: 0, seed: null, path: null, counterexample: null, details: [] };
      }
      let runs = 0;
      const tally = new CaseTally();
      const skipped: string[] = [];
      const left = new Map<Feature, number>();
      const outOfDomain: string[] = [];
      for (const k of cases) {
        const bad = (k.tags ?? []).filter((t) => ctx.domain.excluded.has(t));
        if (bad.length) {
          for (const f of bad) left.set(f, (left.get(f) ?? 0) + 1);
          outOfDomain.push(k.label);
        }
      }
      const posed = cases.filter((k) => !outOfDomain.includes(k.label));
      for (const k of posed) for (const f of k.partsExcluded ?? []) left.set(f, (left.get(f) ?? 0) + 1);
      const excluded = exclusionsOf(ctx, left);
      // the tally as it stands when the result is made
      const base = () => ({ seed: null, path: null, excluded, ...tally.result() });
      // the case being run, for blame: the case closures share this context
      const faultResult = (f: AdapterFailure): CheckRun => {
        const label = (f.origin as CallTag | null)?.origin?.value;
        return {
          ...base(), status: 'error', message: typeof label === 'string' ? `${label}: ${f.message}` : f.message, worst, runs, graded: runs,
          counterexample: typeof label === 'string' ? label : null, details: tracebackLines(f),
        };
      };
      for (const [i, k] of posed.entries()) {
        ctx.origin = { run: i, value: k.label, shrinking: false };
        try {
          const comparisons = await k.run();
          if (typeof comparisons === 'string') {
            skipped.push(`${k.label} (${comparisons})`);
            continue;
          }
          runs++;
          worst = worstOf(comparisons, worst);
          tally.add(k.label, () => k.label, null, comparisons);
          const bad = comparisons.filter((x) => !x.ok);
          if (bad.length) {
            const pf = new PropertyFailure(comparisons, (_q, i) => `[${i}]`);
            return {
              ...base(), status: 'fail', message: `${k.label}: ${pf.message}`, worst, runs, graded: runs, counterexample: k.label,
              details: bad.flatMap((x) => describeComparison(x)),
            };
          }
        } catch (e) {
          if (e instanceof AdapterFailure && STOPS_THE_CHECK.has(e.kind)) return faultResult(e);
          const { status, message } = statusOfError(e);
          return { ...base(), status, message: `${k.label}: ${message}`, worst, runs, graded: runs, counterexample: k.label, details: e instanceof AdapterFailure ? tracebackLines(e) : [] };
        } finally {
          ctx.origin = null;
        }
      }
      await settleFaults(ctx);
      if (ctx.ledger.fault) return faultResult(ctx.ledger.fault);
      const note = skipped.length ? `; not posed: ${skipped.join(', ')}` : '';
      if (runs === 0 && posed.length === 0) {
        return { ...base(), status: 'not applicable', message: `every case has a feature the run excludes (${outOfDomain.length} not posed)`, worst, runs, graded: 0, counterexample: null, details: [] };
      }
      const v = verdictOf(tally, `${runs} cases within bound`);
      return { ...base(), status: v.status, message: `${v.message}${note}`, worst, runs, graded: runs, counterexample: null, details: [] };
    },
  };
}
