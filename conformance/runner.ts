/**
 * The runner: every selected check on every adapter, one at a time, never crashing.
 *
 * For each adapter: available()? → setup() → each check (skipped when it does not apply, 'not provided' when
 * a capability it needs is missing) → teardown(). Each check gets a fresh context (seed, runs, timeout). A
 * check that throws is caught and reported as an internal error; an adapter that throws, rejects, hangs or
 * returns the wrong thing fails that check only. Expectations (expectations.ts) turn known failures into
 * "expected failure". The result carries, per check, the worst error as a fraction of its bound, so a
 * baseline can be gated on it.
 *
 * Exit code (`exitCodeOf`): 0 when every check passed, was skipped, not provided, or failed as expected;
 * 1 when a check failed or errored unexpectedly; 2 when an adapter could not be loaded or set up, or one the
 * user named is unavailable for a reason other than "not installed" (which is a status, never a failure).
 */
import type { Tier } from './accuracy/probabilistic.js';
import type { Adapter, Capability, Conventions, Layout, Precision, ProfileName } from './adapter.js';
import { NOT_INSTALLED } from './adapter.js';
import type { Category, Check, CheckRun, Exclusion, Status, Worst } from './check.js';
import { passed, statusOfError } from './check.js';
import { adapterGrade, type AdapterGrade } from './accuracy/grade.js';
import { selectChecks } from './catalog.js';
import { domainFor, FULL_DOMAIN, sortFeatures, unsupportedOf, type Domain, type UnsupportedFeatures } from './domain.js';
import { expectationScope, findExpectation, type Expectation } from './expectations.js';
import type { Feature } from './features.js';
import type { NormId } from './norms/spec.js';
import { describeThrown } from './error_text.js';
import { InProcessHost } from './hosts/in_process.js';
import type { Host, HostKind } from './hosts/host.js';
import { AdapterFailure, routeFaults, type CheckContext, type CheckLedger } from './invoke.js';
import { conventionsFor } from './profiles.js';
import { inShard, type Shard } from './shard.js';
import { scaledTimeout, validateRunOptions } from './run_limits.js';
import { validateAdapter } from './validate_adapter.js';

export interface RunOptions {
  /** Judge every adapter by this profile instead of its own. */
  profile?: ProfileName;
  /** Few runs per property, small shapes (default false). */
  quick?: boolean;
  /** fast-check seed for every check (default: from the clock; always reported). */
  seed?: number;
  /** fast-check runs per property (default 5 quick, 50 full). */
  runs?: number;
  /** `--only` patterns (catalog.ts `matchesPattern`). */
  only?: string;
  /** `--skip` patterns: checks matching one are left out (the same patterns as `only`). */
  skip?: string;
  /** `--norm`: only the checks of these norms (ids of NORMS: bn, ln, …); the hygiene checks judge only their capabilities. */
  norms?: readonly NormId[];
  /** `--without`: features no case of the run may carry, on every adapter (features.ts). */
  without?: readonly Feature[];
  /**
   * The tolerance tier of the differential bounds (accuracy/probabilistic.ts): 'worst-case' (default, γ_n: holds
   * for any data and summation order) or 'strict' (Higham–Mary's probabilistic λ·√n·u, λ = 10).
   */
  tolerance?: Tier;
  /** fast-check replay path (with `seed` and one check selected). */
  path?: string;
  /** Per-call timeout in ms (default 10 000). */
  timeoutMs?: number;
  /** Time limit of one check in ms (default 300 000): no new fast-check run starts after it. */
  checkTimeoutMs?: number;
  expectations?: readonly Expectation[];
  /** Extra flags every replay command needs to reproduce this run (the CLI adds --isolate, --timeout). */
  replayFlags?: readonly string[];
  /** Adapters the user named: unavailable ones make the run a loading error (exit 2), except 'not installed'. */
  required?: readonly string[];
  /** Adapters that could not be loaded (the CLI's), to be reported with the run: counted as load errors when required. */
  loadFailures?: readonly { spec: string; message: string }[];
  /** Run only this shard's (adapter, check) units (shard.ts); the report's selection records it. */
  shard?: Shard;
  onCheckStart?(adapter: string, check: Check, index: number, total: number): void;
  onCheckEnd?(adapter: string, result: CheckResult, index: number, total: number): void;
}

/**
 * 'unexpected pass': a check listed in --expect passed a full run. On a --quick run the same event is
 * 'expected failure not reproduced': a few small cases may simply not draw the failing ones, so it says
 * nothing about the expectation (both are counted in summary.unexpectedPasses; neither fails the run).
 */
export type Outcome = 'ok' | 'failed' | 'expected failure' | 'unexpected pass' | 'expected failure not reproduced';

export interface CheckResult extends CheckRun {
  id: string;
  category: Category;
  description: string;
  /** ok: pass/skipped/not provided without expectation; failed: fail/error, not expected. */
  outcome: Outcome;
  /** The matching expectation's reason, if any. */
  expectedReason: string | null;
  /** One command that replays this check's run (with its seed and, on failure, its path). */
  replay: string | null;
  durationMs: number;
}

export interface AdapterReport {
  name: string;
  description: string;
  precision: Precision;
  layout: Layout;
  profile: ProfileName;
  conventions: Conventions;
  capabilities: Capability[];
  /** where it ran: 'in-process', 'worker' (thread) or 'subprocess' */
  host: HostKind;
  /** what it declares it does not support (adapter.ts `unsupported`): features for every capability, and by capability */
  unsupported: UnsupportedFeatures;
  /**
   * 'ran', or why it did not: not installed (its optional package is absent; the message is "not installed:
   * " and the command that installs it; never a failure), unavailable (skipped; a loading error when the user
   * named it) or a setup error (loading error).
   */
  state: 'ran' | 'not installed' | 'unavailable' | 'setup error';
  message: string | null;
  /** How the CLI named it (built-in name or module path), for replay commands. */
  spec: string;
  checks: CheckResult[];
  /** the worst of its checks' accuracy grades (accuracy/grade.ts), null when none was graded */
  grade?: AdapterGrade | null;
}

export interface Summary {
  passed: number;
  /** within bound, every case inconclusive (check.ts 'robust'): not counted in `passed` */
  robust: number;
  failed: number;
  errors: number;
  skipped: number;
  notProvided: number;
  /** every case had a feature the run excludes (the adapter's unsupported ones, --without) */
  notApplicable: number;
  expectedFailures: number;
  unexpectedPasses: number;
  unavailableAdapters: number;
  notInstalledAdapters: number;
  loadErrors: number;
}

/** An adapter that could not be loaded; `required`: the user named it (a load error, exit 2) rather than a default built-in. */
export interface LoadFailure {
  spec: string;
  message: string;
  required: boolean;
}

export interface RunReport {
  schema: 'normcheck-report/1';
  startedAt: string;
  durationMs: number;
  seed: number;
  quick: boolean;
  runs: number;
  /** the tolerance tier the bounds were computed in */
  tolerance: Tier;
  profileOverride: ProfileName | null;
  summary: Summary;
  /** adapters that could not be loaded, before the run */
  loadFailures: LoadFailure[];
  adapters: AdapterReport[];
  exitCode: 0 | 1 | 2;
  /** What the run was asked to do, so shard reports can be checked and merged (merge.ts). */
  selection: Selection;
}

export interface Selection {
  /** The selected check ids, in catalog order. */
  checks: string[];
  /** Every adapter's spec, in run order (an adapter without units in this shard is absent from `adapters`). */
  adapters: string[];
  /** RunOptions.required */
  required: string[];
  /** RunOptions.norms (--norm): the hygiene checks' cases depend on it */
  norms: string[] | null;
  /** RunOptions.without (--without): features left out of every adapter's cases */
  without: string[];
  shard: Shard | null;
}

/**
 * An adapter to run: an adapter object (run in this process), or a host opened with openHost (hosts/open.ts)
 * for a built-in name, a module path or a `subprocess:` command line. runConformance closes every host it
 * is given when that adapter's checks are done.
 */
export type AdapterEntry =
  | { adapter: Adapter; /** built-in name or module path, used in replay commands */ spec: string }
  | { host: Host; /** default: the host's own spec */ spec?: string };

// Declaration validation lives in validate_adapter.ts; re-exported for callers that import it from here.
export { AdapterShapeError, validateAdapter } from './validate_adapter.js';

function quote(s: string): string {
  return /^[\w./@:-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function replayCommand(
  spec: string, checkId: string, seed: number, path: string | null, profile: ProfileName | null, quick: boolean, extra: readonly string[] = [],
): string {
  // `npx normcheck`: the bin is on PATH only for global installs; npx finds the project's own as well.
  const parts = ['npx', 'normcheck', 'check', quote(spec), '--only', checkId, '--seed', String(seed)];
  if (path) parts.push('--path', `"${path}"`);
  if (profile) parts.push('--profile', profile);
  if (quick) parts.push('--quick');
  parts.push(...extra.map(quote));
  return parts.join(' ');
}

function outcomeOf(status: Status, expectation: Expectation | null, quick: boolean): Outcome {
  const bad = status === 'fail' || status === 'error';
  if (expectation) return bad ? 'expected failure' : passed(status) ? (quick ? 'expected failure not reproduced' : 'unexpected pass') : 'ok';
  return bad ? 'failed' : 'ok';
}

function emptyRun(status: Status, message: string): CheckRun {
  return { status, message, worst: null, runs: 0, seed: null, path: null, counterexample: null, details: [], graded: null, excluded: [] };
}

/** "which the adapter declares unsupported", "which --without leaves out", … */
function excludedBecause(domain: Domain, fs: readonly Feature[]): string {
  const by = (s: string) => fs.filter((f) => domain.sourceOf(f) === s);
  const parts = [];
  if (by('adapter').length) parts.push(`which the adapter declares unsupported (${by('adapter').join(', ')})`);
  if (by('without').length) parts.push(`which --without leaves out (${by('without').join(', ')})`);
  if (by('expectation').length) parts.push(`to which an expectation confines a known failure (${by('expectation').join(', ')})`);
  return parts.join('; ');
}

/** Cases sampled per check to tell which excluded features it can draw (seeded: the same list every run). */
const SAMPLED_CASES = 60;

/**
 * The exclusions a report shows: the features the run's cases were moved off (counted by the check), and
 * every other excluded feature the check can draw (a seeded sample of its cases with nothing excluded), at 0:
 * "excluding rank-5 cases" is then the same sentence whatever this seed happened to draw.
 */
function withPossibleExclusions(check: Check, ctx: CheckContext, run: CheckRun): CheckRun {
  if (ctx.domain.excluded.size === 0 || !check.sample) return run;
  const have = new Set((run.excluded ?? []).map((e) => e.feature));
  const possible = new Set(check.sample({ ...ctx, domain: FULL_DOMAIN }, SAMPLED_CASES).flatMap((c) => c.tags ?? []));
  const extra = sortFeatures([...possible].filter((f) => ctx.domain.excluded.has(f) && !have.has(f)));
  if (extra.length === 0) return run;
  const all = [...(run.excluded ?? []), ...extra.map((f) => ({ feature: f, source: ctx.domain.sourceOf(f) ?? 'adapter' as const, cases: 0 }))];
  const order = sortFeatures(all.map((e) => e.feature));
  return { ...run, excluded: order.map((f) => all.find((e) => e.feature === f)!) };
}

export async function runConformance(entries: readonly AdapterEntry[], options: RunOptions = {}): Promise<RunReport> {
  const started = Date.now();
  const quick = options.quick ?? false;
  const seed = options.seed ?? (Date.now() ^ (Math.random() * 0x7fffffff)) >>> 0;
  const runs = options.runs ?? (quick ? 5 : 50);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const checkTimeoutMs = options.checkTimeoutMs ?? 300_000;
  const checks = selectChecks(options.only, options.norms, options.skip);
  // the hygiene checks' cases depend on the norms judged, so a replay names them
  const replayFlags = [
    ...(options.norms ? ['--norm', options.norms.join(',')] : []),
    ...(options.without?.length ? ['--without', options.without.join(',')] : []),
    ...(options.tolerance === 'strict' ? ['--tolerance', 'strict'] : []),
    ...(options.replayFlags ?? []),
  ];
  const expectations = options.expectations ?? [];
  const adapters: AdapterReport[] = [];
  // This shard's checks of adapter a: units a·K + k (shard.ts).
  const checksOf = (a: number) => checks.filter((_, k) => inShard(a * checks.length + k, options.shard));
  const total = entries.reduce((n, _, a) => n + checksOf(a).length, 0);
  let index = 0;

  // Library callers pass adapter objects and options directly: the same rules as the CLI's, before any check runs.
  validateRunOptions(options);
  for (const e of entries) if ('adapter' in e) validateAdapter(e.adapter, e.spec);
  const specOf = (e: AdapterEntry) => ('adapter' in e ? e.spec : e.spec ?? e.host.spec);
  for (const [a, entry] of entries.entries()) {
    const host = 'host' in entry ? entry.host : new InProcessHost(entry.adapter, entry.spec);
    try {
      const mine = checksOf(a);
      if (mine.length === 0) continue;
      const meta = host.meta;
      const profile = options.profile ?? meta.profile ?? 'pytorch';
      const report: AdapterReport = {
        name: meta.name, description: meta.description, precision: meta.precision, layout: meta.layout, profile,
        conventions: conventionsFor(meta, options.profile), capabilities: [...meta.capabilities], unsupported: unsupportedOf(meta), host: host.kind, state: 'ran', message: null,
        spec: specOf(entry), checks: [],
      };
      adapters.push(report);
      await runAdapter(host, report, mine);
    } finally {
      await host.kill();
    }
  }

  /** available → setup → every check → teardown, on one host; nothing the adapter does escapes. */
  async function runAdapter(host: Host, report: AdapterReport, mine: readonly Check[]): Promise<void> {
    const availability = await host.available(timeoutMs);
    if (availability !== true) {
      report.state = availability.startsWith(NOT_INSTALLED) ? 'not installed' : 'unavailable';
      report.message = availability;
      index += mine.length;
      return;
    }
    try {
      await host.setup(scaledTimeout(timeoutMs, 3));
    } catch (e) {
      report.state = 'setup error';
      report.message = e instanceof AdapterFailure ? e.message : `setup() failed: ${describeThrown(e)}`;
      index += mine.length;
      return;
    }
    const capabilities = new Set(host.meta.capabilities);
    // every finished check's ledger, with the fault its result reported: a later fault patches the result
    const finished: { ledger: CheckLedger; reported: AdapterFailure | null; result: CheckResult; expected: Expectation | null }[] = [];
    const patchLateFaults = () => {
      for (const f of finished) {
        const fault = f.ledger.fault;
        if (!fault || fault === f.reported) continue;
        f.reported = fault;
        // the check had already ended when the fault surfaced: its result becomes this error
        Object.assign(f.result, {
          status: 'error', message: `${fault.message} (surfaced after the check had ended)`,
          outcome: outcomeOf('error', f.expected, quick),
        });
      }
    };
    for (const check of mine) {
      // an expectation confined to features leaves them out of the graded cases; one for the whole check does not
      const scope = expectationScope(findExpectation(expectations, report.name, check.id), check.features);
      const domain = domainFor(report.unsupported, check.needs, options.without ?? [], scope.confined);
      const ctx: CheckContext = {
        host, capabilities, precision: report.precision, layout: report.layout, profile: report.profile, conventions: report.conventions, quick,
        numRuns: runs, seed, timeoutMs, checkTimeoutMs, ledger: { fault: null }, origin: null,
        ...(options.path ? { path: options.path } : {}),
        ...(options.norms ? { norms: options.norms } : {}),
        ...(options.tolerance ? { tolerance: options.tolerance } : {}),
        domain,
      };
      options.onCheckStart?.(report.name, check, index, total);
      const t0 = Date.now();
      let run: CheckRun;
      const missing = check.needs.filter((c) => !capabilities.has(c));
      const applies = check.applies ? check.applies(ctx) : true;
      const needed = (check.features ?? []).filter((f) => domain.excluded.has(f));
      if (missing.length) run = emptyRun('not provided', `needs ${missing.join(', ')}`);
      else if (applies !== true) run = emptyRun(applies.status, applies.reason);
      else if (needed.length) {
        run = { ...emptyRun('not applicable', `every case has ${needed.join(', ')}, ${excludedBecause(domain, needed)}`), excluded: needed.map((f) => ({ feature: f, source: domain.sourceOf(f) ?? 'adapter', cases: 0 })) };
      } else {
        try {
          run = withPossibleExclusions(check, ctx, await check.run(ctx));
        } catch (e) {
          const { status, message } = statusOfError(e);
          run = emptyRun(status, message);
        }
      }
      const expectation = scope.whole;
      const ran = passed(run.status) || run.status === 'fail' || run.status === 'error';
      const result: CheckResult = {
        ...run,
        id: check.id,
        category: check.category,
        description: check.description,
        outcome: outcomeOf(run.status, expectation, quick),
        expectedReason: (expectation ?? findExpectation(expectations, report.name, check.id))?.reason ?? null,
        replay: ran && run.seed !== null ? replayCommand(report.spec, check.id, run.seed, run.path, options.profile ?? null, quick, replayFlags) : null,
        durationMs: Date.now() - t0,
      };
      // the deciding case of the grade replays like a failure: seed and its path (a passing path says so when replayed)
      if (result.grade) result.grade = { ...result.grade, replay: result.grade.path !== null ? replayCommand(report.spec, check.id, seed, result.grade.path, options.profile ?? null, quick, replayFlags) : null };
      report.checks.push(result);
      finished.push({ ledger: ctx.ledger, reported: ctx.ledger.fault, result, expected: expectation });
      for (const orphan of routeFaults(host)) result.message += `; then, between calls: ${orphan.message}`;
      patchLateFaults();
      options.onCheckEnd?.(report.name, result, index, total);
      index++;
    }
    try {
      await host.teardown(timeoutMs);
    } catch (e) {
      report.message = e instanceof AdapterFailure ? e.message : `teardown() failed: ${describeThrown(e)}`;
    }
    await host.settle(timeoutMs);
    routeFaults(host);
    patchLateFaults();
    report.grade = adapterGrade(report.checks);
  }

  const required = options.required ?? [];
  const loadFailures = (options.loadFailures ?? []).map((f) => ({ spec: f.spec, message: f.message, required: required.includes(f.spec) }));
  const summary = summarize(adapters, required);
  summary.loadErrors += loadFailures.filter((f) => f.required).length;
  return {
    schema: 'normcheck-report/1', startedAt: new Date(started).toISOString(), durationMs: Date.now() - started, seed, quick, runs,
    tolerance: options.tolerance ?? 'worst-case', profileOverride: options.profile ?? null, summary, loadFailures, adapters, exitCode: exitCodeOf(summary),
    selection: {
      checks: checks.map((c) => c.id), adapters: entries.map(specOf), required: [...required], norms: options.norms ? [...options.norms] : null,
      without: [...(options.without ?? [])],
      shard: options.shard ?? null,
    },
  };
}

export function summarize(adapters: readonly AdapterReport[], required: readonly string[]): Summary {
  const s: Summary = { passed: 0, robust: 0, failed: 0, errors: 0, skipped: 0, notProvided: 0, notApplicable: 0, expectedFailures: 0, unexpectedPasses: 0, unavailableAdapters: 0, notInstalledAdapters: 0, loadErrors: 0 };
  for (const a of adapters) {
    if (a.state === 'unavailable') {
      s.unavailableAdapters++;
      if (required.includes(a.spec) || required.includes(a.name)) s.loadErrors++;
    }
    if (a.state === 'not installed') s.notInstalledAdapters++;
    if (a.state === 'setup error') s.loadErrors++;
    for (const c of a.checks) {
      if (c.outcome === 'expected failure') s.expectedFailures++;
      else if (c.status === 'pass') s.passed++;
      else if (c.status === 'robust') s.robust++;
      else if (c.status === 'fail') s.failed++;
      else if (c.status === 'error') s.errors++;
      else if (c.status === 'skipped') s.skipped++;
      else if (c.status === 'not applicable') s.notApplicable++;
      else s.notProvided++;
      if (c.outcome === 'unexpected pass' || c.outcome === 'expected failure not reproduced') s.unexpectedPasses++;
    }
  }
  return s;
}

export function exitCodeOf(s: Summary): 0 | 1 | 2 {
  if (s.loadErrors > 0) return 2;
  return s.failed + s.errors > 0 ? 1 : 0;
}

export type { Worst };
