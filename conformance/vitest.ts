/**
 * normcheck/vitest — the conformance suite inside the user's own vitest run, one vitest test per check:
 *
 *   import { describeConformance } from 'normcheck/vitest';
 *   import myBatchNorm from '../src/my-batchnorm.adapter.js';
 *   describeConformance(myBatchNorm, { quick: true, expectations: 'normcheck-expect.txt' });
 *
 * The adapter is an adapter object (imported by the test file, so vitest compiles TypeScript for it), or a
 * spec the CLI accepts: a built-in name, a path to a .js/.mjs module (relative to the working directory,
 * as on the command line; it runs in a worker thread, as with the CLI), `subprocess:<command line>`, or a file: URL. The checks run once, in the CLI's order, through the same runner
 * as `normcheck check` (available → setup → checks → teardown, the same seed for every check); each test
 * waits for its own check's result, so the tests report as the run advances. A test fails exactly when the
 * CLI's exit code would count the check as failed, with the CLI's failure text (counterexample, seed, path,
 * replay); "not provided", "skipped" and an adapter whose package is not installed are skipped tests with the
 * reason; an expected failure passes with the expectation's reason as an annotation.
 *
 * vitest is an optional peer dependency of normcheck, needed only for this entry point.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, test, type TestContext } from 'vitest';
import type { Adapter, ProfileName } from './adapter.js';
import { selectChecks, CHECKS } from './catalog.js';
import { isFeature, unknownFeatureMessage, type Feature } from './features.js';
import { NORM_IDS, type NormId } from './norms/index.js';
import { loadExpectations, unmatchedExpectations, type Expectation } from './expectations.js';
import { openHost } from './hosts/open.js';
import { isProfileName, PROFILES } from './profiles.js';
import { formatFailure } from './report/table.js';
import { runConformance, type AdapterEntry, type AdapterReport, type CheckResult, type RunOptions } from './runner.js';

export interface ConformanceOptions {
  /** Few runs per property and small shapes, like `--quick` (default false). */
  quick?: boolean;
  /** fast-check seed of every check (default: from the clock; printed with every failure). */
  seed?: number;
  /** fast-check runs per property (default 5 with quick, 50 without). */
  runs?: number;
  /** Only checks matching: an id, a dotted prefix or a glob, comma-separated, like `--only`. */
  only?: string;
  /** Only the checks of these normalisations (`['rms']`), like `--norm`: the hygiene checks then judge only their capabilities. */
  norms?: readonly NormId[];
  /** Leave out checks matching: patterns as `only`'s, comma-separated, like `--skip`. */
  skip?: string;
  /** Leave out cases with these features (features.ts), like `--without`: `['rank5', 'no_affine']`. */
  without?: readonly Feature[];
  /** Replays one failure: fast-check's path, with `seed` and `only`, like `--path`. */
  path?: string;
  /** Judge by this profile instead of the adapter's own, like `--profile`. */
  profile?: ProfileName;
  /** Known failures with reasons: a file (like `--expect`) or the parsed list. */
  expectations?: string | readonly Expectation[];
  /** Per-call timeout of adapter functions in ms (default 10 000), like `--timeout`. */
  timeoutMs?: number;
  /** Time limit of one check in ms (default 300 000), like `--check-timeout`; also bounds each test's timeout. */
  checkTimeoutMs?: number;
  /** Run a built-in's adapter in a worker thread too, like `--isolate` (specs only; paths always run in one). */
  isolate?: boolean;
}

const OPTION_TYPES: Record<keyof ConformanceOptions, string> = {
  quick: 'boolean', seed: 'integer', runs: 'positive integer', only: 'string', norms: 'norms', skip: 'string', without: 'features', path: 'string', profile: 'profile',
  expectations: 'file or list', timeoutMs: 'positive integer', checkTimeoutMs: 'positive integer', isolate: 'boolean',
};

/** The options, checked: an unknown name or a wrong type is an error naming it, never silently ignored. */
function validated(o: unknown): ConformanceOptions {
  if (o === undefined) return {};
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new TypeError(`describeConformance: options must be an object, got ${o === null ? 'null' : typeof o}`);
  for (const [k, v] of Object.entries(o)) {
    const kind = OPTION_TYPES[k as keyof ConformanceOptions];
    if (!kind) throw new TypeError(`describeConformance: unknown option '${k}' (options: ${Object.keys(OPTION_TYPES).join(', ')})`);
    if (v === undefined) continue;
    const ok = kind === 'boolean' ? typeof v === 'boolean'
      : kind === 'string' ? typeof v === 'string' && v.length > 0
        : kind === 'integer' ? Number.isInteger(v)
          : kind === 'positive integer' ? Number.isInteger(v) && (v as number) >= 1
            : kind === 'profile' ? typeof v === 'string' && isProfileName(v)
              : kind === 'features' ? Array.isArray(v) && v.length > 0
                : kind === 'norms' ? Array.isArray(v) && v.length > 0 && v.every((n) => NORM_IDS.includes(n as NormId))
                : typeof v === 'string' || Array.isArray(v);
    if (kind === 'features' && ok) {
      // each name checked, with the closest names for a misspelt one
      const bad = (v as unknown[]).find((f) => !isFeature(f));
      if (bad !== undefined) throw new TypeError(`describeConformance: option without: ${typeof bad === 'string' ? unknownFeatureMessage(bad) : `expected feature names, got ${JSON.stringify(bad)}`}`);
    }
    if (!ok) {
      const expected = kind === 'profile' ? `one of ${Object.keys(PROFILES).join(', ')}` : kind === 'file or list' ? 'a file name or an array of expectations'
        : kind === 'features' ? 'a non-empty array of feature names (conformance/features.ts)'
        : kind === 'norms' ? `a non-empty array of norm ids (${NORM_IDS.map((n) => `'${n}'`).join(', ')})`
        : `${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind}`;
      throw new TypeError(`describeConformance: option ${k} must be ${expected}, got ${JSON.stringify(v)}`);
    }
  }
  const opts = o as ConformanceOptions;
  if (opts.path !== undefined && opts.seed === undefined) throw new TypeError('describeConformance: option path replays one failure and needs the seed it was found with');
  return opts;
}

function expectationsOf(o: ConformanceOptions): Expectation[] {
  if (o.expectations === undefined) return [];
  const list = typeof o.expectations === 'string' ? loadExpectations(o.expectations) : [...o.expectations];
  const stale = unmatchedExpectations(list, CHECKS.map((c) => c.id));
  if (stale.length) {
    throw new Error(`describeConformance: expectations ${stale.map((e) => `${e.adapter} ${e.check}`).join('; ')} match no check (an exact id or a glob with *)`);
  }
  return list;
}

/** How an adapter given as an object can be replayed: the same call with the failure's seed and path. */
function vitestReplay(c: CheckResult, o: ConformanceOptions): string {
  // the hygiene checks' cases depend on the norms judged, so the replay keeps them
  const opts = {
    ...(o.quick ? { quick: true } : {}), ...(o.runs !== undefined ? { runs: o.runs } : {}), ...(o.profile ? { profile: o.profile } : {}),
    ...(o.norms ? { norms: [...new Set(o.norms)] } : {}), only: c.id, seed: c.seed, ...(c.path ? { path: c.path } : {}),
  };
  const value = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : Array.isArray(v) ? `[${v.map(value).join(', ')}]` : String(v));
  const literal = Object.entries(opts).map(([k, v]) => `${k}: ${value(v)}`).join(', ');
  return `describeConformance(adapter, { ${literal} })`;
}

type Settled = { result: CheckResult } | { adapter: AdapterReport };

interface Deferred {
  promise: Promise<Settled>;
  resolve(s: Settled): void;
  reject(e: unknown): void;
}

function deferred(): Deferred {
  let resolve!: (s: Settled) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<Settled>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A test vitest filtered out (-t) never awaits its result; its rejection must not count as unhandled.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

async function report(ctx: TestContext, s: Settled, name: string, o: ConformanceOptions, given: 'object' | 'spec'): Promise<void> {
  if ('adapter' in s) {
    const a = s.adapter;
    if (a.state === 'not installed') ctx.skip(`${a.name}: ${a.message}`);
    throw new Error(`${a.name}: ${a.state}: ${a.message}`);
  }
  const c = s.result;
  if (c.outcome === 'failed') {
    const replay = given === 'object' && c.seed !== null ? { ...c, replay: vitestReplay(c, o) } : c;
    const err = new Error(formatFailure(name, replay).join('\n'));
    err.stack = err.message; // the failure text is the whole story: no stack into the runner
    throw err;
  }
  if (c.outcome === 'expected failure') await ctx.annotate(`expected failure (${c.status}): ${c.expectedReason}`);
  else if (c.outcome === 'unexpected pass' || c.outcome === 'expected failure not reproduced') await ctx.annotate(`${c.outcome}: ${c.expectedReason}`);
  else if (c.status === 'not provided' || c.status === 'skipped' || c.status === 'not applicable') ctx.skip(`${c.status}: ${c.message}`);
}

/**
 * Registers one vitest suite, `normcheck <adapter>`, with one test per selected check (named by its id).
 * Call it at the top level of a test file or inside a describe.
 */
export function describeConformance(adapter: Adapter | string | URL, options?: ConformanceOptions): void {
  const o = validated(options);
  const given = typeof adapter === 'string' || adapter instanceof URL ? 'spec' : 'object';
  const spec = adapter instanceof URL ? fileURLToPath(adapter) : typeof adapter === 'string' ? adapter : null;
  if (given === 'object' && (adapter === null || typeof adapter !== 'object')) {
    throw new TypeError(`describeConformance: the first argument must be an adapter object, a built-in name, a module path or a file: URL, got ${adapter === null ? 'null' : typeof adapter}`);
  }
  if (o.isolate && spec === null) throw new TypeError('describeConformance: option isolate needs the adapter as a module path (a worker loads it by itself)');
  if (o.skip !== undefined && selectChecks(o.skip).length === 0) throw new TypeError(`describeConformance: option skip ${JSON.stringify(o.skip)}: no check matches (npx normcheck list shows the ids)`);
  const checks = selectChecks(o.only, o.norms ?? null, o.skip);
  if (checks.length === 0) {
    throw new TypeError(`describeConformance: option only ${JSON.stringify(o.only)}${o.norms ? ` with norms ${JSON.stringify(o.norms)}` : ''}${o.skip ? ` with skip ${JSON.stringify(o.skip)}` : ''}: no check matches (npx normcheck list shows the ids)`);
  }
  const expectations = expectationsOf(o);
  // One seed for the whole suite, chosen now so every test's replay names it.
  const seed = o.seed ?? (Date.now() ^ (Math.random() * 0x7fffffff)) >>> 0;
  const timeoutMs = o.timeoutMs ?? 10_000;
  const checkTimeoutMs = o.checkTimeoutMs ?? 300_000;
  const label = spec ?? (adapter as Adapter).name;

  const pending = new Map(checks.map((c) => [c.id, deferred()]));
  let run: Promise<unknown> = Promise.resolve();
  let name = label;

  describe.sequential(`normcheck ${label}`, () => {
    beforeAll(async () => {
      const entry: AdapterEntry = spec === null
        ? { adapter: adapter as Adapter, spec: (adapter as Adapter).name }
        : { host: await openHost(spec, o.isolate ? { host: 'worker' } : {}), spec };
      name = 'host' in entry ? entry.host.meta.name : entry.adapter.name;
      const runOptions: RunOptions = {
        quick: o.quick ?? false, seed, timeoutMs, checkTimeoutMs, expectations,
        ...(o.runs !== undefined ? { runs: o.runs } : {}), ...(o.only ? { only: o.only } : {}), ...(o.norms ? { norms: [...new Set(o.norms)] } : {}), ...(o.skip ? { skip: o.skip } : {}),
        ...(o.without ? { without: [...new Set(o.without)] } : {}), ...(o.path ? { path: o.path } : {}),
        ...(o.profile ? { profile: o.profile } : {}),
        replayFlags: [...(o.runs !== undefined ? ['--runs', String(o.runs)] : []), ...(o.isolate ? ['--isolate'] : []), ...(o.timeoutMs !== undefined && o.timeoutMs !== 10_000 ? ['--timeout', String(o.timeoutMs)] : [])],
        required: [label],
        onCheckEnd: (_name, result) => pending.get(result.id)?.resolve({ result }),
      };
      run = runConformance([entry], runOptions).then(
        (r) => {
          // Checks without a result: the adapter never ran (not installed, unavailable, setup error).
          for (const d of pending.values()) d.resolve({ adapter: r.adapters[0]! });
        },
        (e: unknown) => {
          for (const d of pending.values()) d.reject(e);
        },
      );
    }, timeoutMs * 3 + 5_000);

    afterAll(async () => {
      await run;
    }, checkTimeoutMs + timeoutMs * 3 + 5_000);

    for (const check of checks) {
      // Waits for available() and setup() (first test) and the check itself, which stops starting runs at checkTimeoutMs.
      test(check.id, async (ctx) => report(ctx, await pending.get(check.id)!.promise, name, o, given), checkTimeoutMs + timeoutMs * 6 + 5_000);
    }
  });
}

export type { Expectation } from './expectations.js';
