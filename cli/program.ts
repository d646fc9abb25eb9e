/**
 * normcheck — point it at a BatchNorm / LayerNorm implementation, get a verdict check by check.
 * The command-line program as a function (`runCli`), so tests can run it in-process; cli/main.ts is the bin.
 *
 *   normcheck check [ADAPTER…] [--profile NAME] [--quick] [--seed N] [--runs N] [--only PATTERN] [--skip PATTERN] [--norm IDS]
 *                   [--without FEATURES] [--path P] [--tolerance TIER]
 *                   [--expect FILE [--strict-expect]] [--json FILE] [--junit FILE] [--html FILE] [--timeout MS] [--check-timeout MS] [--in-process | --isolate]
 *                   [--load-timeout MS] [--memory-limit MB] [--no-progress] [--shard I/N]
 *                   [--write-baseline FILE] [--baseline FILE] [--growth-factor X] [--growth-floor R]
 *   normcheck list
 *   normcheck mutants [--seed N] [--runs N] [--full] [--named-only] [--no-variants] [--json FILE]
 *   normcheck merge REPORT.json… [--json FILE] [--junit FILE] [--baseline FILE …]            (cli/commands/merge.ts)
 *   normcheck init [FILE] [--layout NCHW|NHWC] [--precision float16|float32|float64]   (cli/commands/init.ts)
 *
 * Exit codes: 0 everything passed (or failed only as expected), 1 a check failed, 2 usage or adapter-loading error
 * (no command at all is a usage error). Option values are parsed and checked in cli/options.ts.
 */
import { existsSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import cliProgress from 'cli-progress';
import Table from 'cli-table3';
import { NOT_INSTALLED, type Adapter, type ProfileName } from '../conformance/adapter.js';
import { TIERS, type Tier } from '../conformance/accuracy/probabilistic.js';
import { BUILTIN_ADAPTERS } from '../conformance/adapters/index.js';
import { CATEGORIES } from '../conformance/check.js';
import { FEATURE_NAMES, FEATURES } from '../conformance/features.js';
import { unsupportedOf } from '../conformance/domain.js';
import { unsupportedLine } from '../conformance/report/exclusions.js';
import { CHECKS, selectChecks } from '../conformance/catalog.js';
import { NORMS, NORM_IDS, type NormId } from '../conformance/norms/index.js';
import { loadExpectations, unmatchedExpectations, type Expectation } from '../conformance/expectations.js';
import { isProfileName, PROFILES } from '../conformance/profiles.js';
import { htmlReportFile, loadPlotting, type Plotting } from '../conformance/report/html.js';
import { jsonReportFile } from '../conformance/report/json.js';
import { junitReportFile } from '../conformance/report/junit.js';
import {
  checkReportTargets, ReportWriteError, writeReportFiles, type ProtectedPath, type ReportFile, type ReportTarget,
} from '../conformance/report/write_file.js';
import { parseShard, type Shard } from '../conformance/shard.js';
import { COMPACT, formatReport } from '../conformance/report/table.js';
import { runConformance, type AdapterEntry, type RunOptions } from '../conformance/runner.js';
import { openHost } from '../conformance/hosts/open.js';
import { AdapterLoadError, isBuiltin, loadAdapter } from '../conformance/load.js';
import { describeThrown } from '../conformance/error_text.js';
import { MAX_RUNS, MAX_TIMEOUT_MS, RunOptionError } from '../conformance/run_limits.js';
import {
  addBaselineOptions, applyBaselineDefaults, baselineReportFiles, baselineTargets, checkBaselineCoverage, gateOnBaseline, type BaselineOptions,
} from './baseline_options.js';
import { registerInitCommand } from './commands/init.js';
import { registerMergeCommand } from './commands/merge.js';
import { registerMutantsCommand } from './commands/mutants.js';
import {
  checkDistinctSpecs, onlyPatterns, parseMegabytes, parseMilliseconds, parseReplayPath, parseRuns, parseSeed, parseWithout, UsageError,
} from './options.js';


/** Where the program writes: the process's streams, or a test's buffers. */
export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** whether stderr is a terminal (progress bar) */
  stderrIsTTY: boolean;
}

const processIo: Io = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
  stderrIsTTY: process.stderr.isTTY === true,
};

function parseNorms(v: string): NormId[] {
  const ids = v.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = ids.filter((id) => !NORM_IDS.includes(id as NormId));
  if (ids.length === 0 || bad.length) throw new InvalidArgumentError(`expected comma-separated norm ids (${NORM_IDS.join(', ')}), got "${v}"`);
  return [...new Set(ids)] as NormId[];
}

function parseShardOption(v: string): Shard {
  try {
    return parseShard(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

function parseTolerance(v: string): Tier {
  if (!TIERS.includes(v as Tier)) throw new InvalidArgumentError(`expected one of ${TIERS.join(', ')}, got "${v}"`);
  return v as Tier;
}

function parseProfile(v: string): ProfileName {
  if (!isProfileName(v)) throw new InvalidArgumentError(`expected one of ${Object.keys(PROFILES).join(', ')}, got "${v}"`);
  return v;
}

/** commander's options of `normcheck check`: the run's own (as runConformance takes them) and the CLI's */
interface CheckOptions extends BaselineOptions, Pick<RunOptions, 'profile' | 'quick' | 'seed' | 'runs' | 'only' | 'skip' | 'without' | 'path' | 'shard' | 'tolerance'> {
  /** --norm (commander names it after the flag) */
  norm?: NormId[];
  expect?: string;
  strictExpect?: boolean;
  json?: string;
  junit?: string;
  html?: string;
  timeout: number;
  checkTimeout: number;
  isolate?: boolean;
  inProcess?: boolean;
  loadTimeout: number;
  memoryLimit: number;
  progress: boolean;
}

/** --only (each pattern must select a check) and --path (one generated check, a --seed): usage errors before anything loads. */
function checkSelection(o: CheckOptions): void {
  if (o.only !== undefined) {
    for (const p of onlyPatterns(o.only)) {
      if (selectChecks(p, o.norm).length === 0) {
        throw new UsageError(`--only ${p}${o.norm ? ` --norm ${o.norm.join(',')}` : ''}: no check matches (normcheck list shows the ids)`);
      }
    }
  }
  if (o.skip !== undefined) {
    for (const p of onlyPatterns(o.skip, '--skip')) {
      if (selectChecks(p, o.norm).length === 0) throw new UsageError(`--skip ${p}: no check matches (normcheck list shows the ids)`);
    }
    if (selectChecks(o.only, o.norm, o.skip).length === 0) {
      throw new UsageError(`--skip ${o.skip} leaves no check${o.only ? ` of --only ${o.only}` : ''}${o.norm ? ` --norm ${o.norm.join(',')}` : ''} to run`);
    }
  }
  if (o.path === undefined) return;
  if (o.seed === undefined) throw new UsageError('--path replays one failure and needs the --seed it was found with');
  if (o.only === undefined) throw new UsageError('--path replays one case of one check: select exactly one check with --only (the replay line printed with the failure has it)');
  const selected = selectChecks(o.only, o.norm, o.skip);
  if (selected.length !== 1) throw new UsageError(`--path replays one case of one check: --only ${o.only} selects ${selected.length} checks`);
  // fixture checks pose fixed, named cases: fast-check is not involved, and a path would be ignored
  if (selected[0]!.category === 'fixtures') throw new UsageError(`--path: ${selected[0]!.id} runs fixed cases, not generated ones, and has no replay path`);
}

const entryName = (e: AdapterEntry) => ('host' in e ? e.host.meta.name : e.adapter.name);
const entrySpec = (e: AdapterEntry) => ('host' in e ? e.spec ?? e.host.spec : e.spec);

/** Two loaded adapters of one name would share a column, expectations and a baseline entry. */
function checkDistinctNames(entries: readonly AdapterEntry[]): void {
  const bySpec = new Map<string, string>();
  for (const e of entries) {
    const other = bySpec.get(entryName(e));
    if (other !== undefined) throw new UsageError(`two adapters are named "${entryName(e)}" (${other} and ${entrySpec(e)}); names must be unique in a run (adapter.name)`);
    bySpec.set(entryName(e), entrySpec(e));
  }
}

/** An --expect line for an adapter not in the run applies to nothing (a typo, a renamed adapter): warn, or with --strict-expect refuse. */
function checkExpectedAdapters(expectations: readonly Expectation[], entries: readonly AdapterEntry[], o: CheckOptions, io: Io): void {
  const names = entries.map(entryName);
  const orphans = expectations.filter((e) => e.adapter !== '*' && !names.includes(e.adapter));
  if (orphans.length === 0) return;
  const lines = orphans.map((e) => `--expect ${o.expect}: ${e.adapter} ${e.check}: no adapter named ${e.adapter} in this run (adapters: ${names.join(', ') || 'none'}); it applies to nothing`);
  if (o.strictExpect) throw new UsageError(`${lines.join('\n')}\n(--strict-expect: every line must name an adapter of the run, or *)`);
  for (const l of lines) io.stderr(`normcheck: warning: ${l} (--strict-expect makes this an error)\n`);
}

async function runCheck(specs: string[], o: CheckOptions, io: Io): Promise<number> {
  // A shard holds 1/n of the checks: gated alone, the others would read as "no longer runs".
  if (o.shard && (o.baseline || o.writeBaseline)) {
    throw new UsageError(`--shard with --${o.baseline ? 'baseline' : 'write-baseline'}: a shard holds 1/${o.shard.count} of the checks; merge the shards' --json reports and gate that (normcheck merge shard-*.json --${o.baseline ? 'baseline' : 'write-baseline'} FILE)`);
  }
  const early = applyBaselineDefaults(o, io);
  if (early !== null) return early;
  checkSelection(o);
  checkDistinctSpecs(specs, (spec) => !isBuiltin(spec));
  let expectations: Expectation[] = [];
  if (o.expect) {
    try {
      expectations = loadExpectations(o.expect);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const ids = CHECKS.map((c) => c.id);
    const stale = unmatchedExpectations(expectations, ids);
    if (stale.length) {
      // Most likely an old-style dotted prefix (`bn.backward` for the family): say which glob was meant.
      const hint = (p: string) => (ids.some((id) => id.startsWith(`${p}.`)) ? ` (for every check under it, write ${p}.*)` : '');
      throw new UsageError(`--expect ${o.expect}: ${stale.map((e) => `${e.adapter} ${e.check} matches no check${hint(e.check)}`).join('; ')}; ` +
        'CHECK is an exact id or a glob with * (normcheck list shows the ids)');
    }
  }

  if (o.isolate && o.inProcess) throw new UsageError('--isolate runs every adapter in a worker thread and --in-process runs them in this process: give one of them');
  // Paths run in worker threads and built-ins in this process unless told otherwise (conformance/hosts/open.ts).
  const hostOptions = (spec: string) => ({
    ...(o.inProcess ? { host: 'in-process' as const } : o.isolate ? { host: 'worker' as const } : {}),
    loadTimeoutMs: o.loadTimeout,
    memoryLimitMb: o.memoryLimit,
    // what an adapter prints goes to stderr with its name, so the report on stdout stays intact
    log: (line: string) => io.stderr(`[${spec}] ${line}\n`),
  });
  const explicit = specs.length > 0;
  const names = explicit ? specs : Object.keys(BUILTIN_ADAPTERS);
  // Every report target is checked before the run, so a wrong path costs no run (report/write_file.ts).
  const targets: ReportTarget[] = [
    ...(o.json ? [{ option: '--json', file: o.json, kind: 'json' as const }] : []),
    ...(o.junit ? [{ option: '--junit', file: o.junit, kind: 'junit' as const }] : []),
    ...(o.html ? [{ option: '--html', file: o.html, kind: 'html' as const }] : []),
    ...baselineTargets(o),
  ];
  const protect: ProtectedPath[] = [
    ...names.filter((n) => !isBuiltin(n) && existsSync(n)).map((n) => ({ file: n, what: `the adapter module ${n}` })),
    ...(o.expect ? [{ file: o.expect, what: `the --expect file ${o.expect}` }] : []),
  ];
  checkReportTargets(targets, protect);
  // the plots need the optional vega + vega-lite: a missing one is a usage error before the run, not after it
  let plotting: Plotting | null = null;
  if (o.html) {
    try {
      plotting = await loadPlotting();
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }

  const entries: AdapterEntry[] = [];
  const loadFailures: { spec: string; message: string }[] = [];
  for (const spec of names) {
    try {
      entries.push({ host: await openHost(spec, hostOptions(spec)), spec });
    } catch (e) {
      // A named adapter that cannot load is a loading error (exit 2); a default built-in is reported and skipped.
      // Either way the reports list it (runner: loadFailures).
      const message = e instanceof AdapterLoadError ? e.message : describeThrown(e);
      io.stderr(`normcheck: ${message}\n`);
      loadFailures.push({ spec, message });
    }
  }

  const killAll = async () => {
    for (const e of entries) if ('host' in e) await e.host.kill();
  };
  try {
    checkDistinctNames(entries);
    checkExpectedAdapters(expectations, entries, o, io);
  } catch (e) {
    await killAll();
    throw e;
  }
  // (with a load failure the run is a loading error anyway, and its reports must list it: no early return then)
  const uncovered = loadFailures.length ? null : checkBaselineCoverage(o, entries.map(entryName), selectChecks(o.only, o.norm, o.skip).map((c) => c.id), io);
  if (uncovered !== null) {
    await killAll();
    return uncovered;
  }

  const useProgress = o.progress && io.stderrIsTTY;
  const bar = useProgress
    ? new cliProgress.SingleBar({ format: '{bar} {value}/{total} {adapter} {check}', stream: process.stderr, hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic)
    : null;
  let started = false;
  const report = await runConformance(entries, {
    ...(o.profile ? { profile: o.profile } : {}),
    quick: o.quick ?? false,
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    ...(o.runs !== undefined ? { runs: o.runs } : {}),
    ...(o.only ? { only: o.only } : {}),
    ...(o.skip ? { skip: o.skip } : {}),
    ...(o.without ? { without: o.without } : {}),
    ...(o.norm ? { norms: o.norm } : {}),
    ...(o.path ? { path: o.path } : {}),
    ...(o.tolerance ? { tolerance: o.tolerance } : {}),
    timeoutMs: o.timeout,
    replayFlags: [
      ...(o.runs !== undefined ? ['--runs', String(o.runs)] : []),
      ...(o.isolate ? ['--isolate'] : []),
      ...(o.inProcess ? ['--in-process'] : []),
      ...(o.timeout !== 10_000 ? ['--timeout', String(o.timeout)] : []),
    ],
    checkTimeoutMs: o.checkTimeout,
    expectations,
    required: explicit ? specs : [],
    loadFailures,
    ...(o.shard ? { shard: o.shard } : {}),
    onCheckStart(adapter, check, index, total) {
      if (!bar) return;
      if (!started) {
        bar.start(total, index, { adapter, check: check.id });
        started = true;
      }
      bar.update(index, { adapter, check: check.id });
    },
    onCheckEnd(_adapter, _result, index) {
      bar?.update(index + 1);
    },
  });
  bar?.stop();

  io.stdout(`${formatReport(report)}\n`);
  // A replay that passes is news (fixed, or the wrong path): the table alone would show a plain "pass".
  if (o.path) for (const a of report.adapters) for (const c of a.checks) io.stdout(`replay of ${a.name} · ${c.id}: ${c.message}\n`);
  // The final exit code first (checks, load failures, the baseline gate); every report then carries it, and
  // they are written all or nothing, so what is on disk never disagrees with the exit status.
  const gate = gateOnBaseline(report, o, io);
  const exitCode = Math.max(report.exitCode, gate.code) as 0 | 1 | 2;
  const files: ReportFile[] = [
    ...(o.json ? [jsonReportFile(report, o.json, { exitCode, baseline: o.baseline && gate.comparison ? { file: o.baseline, comparison: gate.comparison } : null })] : []),
    ...(o.junit ? [junitReportFile(report, o.junit, exitCode)] : []),
    ...(o.html && plotting ? [await htmlReportFile(report, o.html, plotting)] : []),
    ...baselineReportFiles(report, o, gate, exitCode),
  ];
  writeReportFiles(files, protect);
  if (o.writeBaseline) io.stdout(`baseline written to ${o.writeBaseline} (seed ${report.seed}${report.quick ? ', --quick' : ''}, runs ${report.runs})\n`);
  return exitCode;
}

/** One table per norm (only those of `norms` when given; then the checks that span norms), checks in category order. */
function checkTables(norms?: readonly NormId[]): string {
  const groups = [
    ...NORMS.filter((n) => !norms || norms.includes(n.id)).map((n) => ({ title: `${n.name} (${n.id}) — ${n.pytorch}`, checks: CHECKS.filter((c) => c.norm === n.id) })),
    { title: 'every norm (judges each capability the adapter provides)', checks: CHECKS.filter((c) => c.norm === null) },
  ];
  return groups.map(({ title, checks }) => {
    const t = new Table({ head: ['check', 'category', 'description'], style: { head: [], border: [] }, chars: COMPACT, wordWrap: true, colWidths: [39, 14, 64] });
    for (const cat of CATEGORIES) for (const c of checks.filter((k) => k.category === cat)) t.push([c.id, c.category, c.description]);
    return `${title}: ${checks.length} check${checks.length === 1 ? '' : 's'}\n${t.toString()}\n`;
  }).join('\n');
}

/** The feature tags (features.ts): what an adapter's `unsupported`, --without and an expectation's features name. */
function featureTable(): string {
  const t = new Table({ head: ['feature', 'norms', 'a case with it has'], style: { head: [], border: [] }, chars: COMPACT, wordWrap: true, colWidths: [21, 17, 78] });
  for (const f of FEATURE_NAMES) t.push([f, FEATURES[f].norms.join(' '), FEATURES[f].meaning]);
  return `features (adapter.unsupported, --without, expectations' "features"): ${FEATURE_NAMES.length}\n${t.toString()}`;
}

async function runList(io: Io, o: { norm?: NormId[] }): Promise<number> {
  const adapters = new Table({ head: ['adapter', 'precision', 'layout', 'profile', 'availability'], style: { head: [], border: [] }, chars: COMPACT, wordWrap: true, colWidths: [18, 11, 8, 9, 70] });
  for (const name of Object.keys(BUILTIN_ADAPTERS)) {
    let a: Adapter | null = null;
    let availability: string;
    try {
      a = await loadAdapter(name);
      const av = a.available ? await a.available() : true;
      availability = av === true ? 'available' : String(av).startsWith(NOT_INSTALLED) ? String(av) : `unavailable: ${av}`;
    } catch (e) {
      availability = `fails to load: ${describeThrown(e)}`;
    }
    const unsupported = a ? unsupportedLine(unsupportedOf(a)) : '';
    adapters.push([name, a?.precision ?? '?', a?.layout ?? '?', a?.profile ?? (a ? 'pytorch' : '?'), `${availability}${unsupported ? `; declares unsupported: ${unsupported}` : ''}`]);
  }
  const listed = selectChecks(undefined, o.norm).length;
  io.stdout(`${checkTables(o.norm)}\n${listed === CHECKS.length ? `${listed} checks` : `${listed} of ${CHECKS.length} checks (--norm ${o.norm!.join(',')})`}\n\n${featureTable()}\n\n${adapters.toString()}\n`);
  io.stdout(`\nprofiles: ${Object.values(PROFILES).map((p) => `${p.name} (${p.description})`).join('; ')}\n`);
  return 0;
}

function program(io: Io, result: { code: number }): Command {
  const cmd = new Command('normcheck')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .description('Reference and conformance suite for BatchNorm, LayerNorm, GroupNorm, InstanceNorm and RMSNorm: point it at an implementation, get a verdict per check.')
    .exitOverride()
    .showHelpAfterError('(normcheck help check: options of the check command)');
  // subcommands created with .command() inherit the output configuration and exitOverride
  cmd
    .command('check')
    .description('run the conformance checks on adapters (built-in names or paths to modules that default-export an adapter); none: every available built-in')
    .argument('[adapters...]', `built-in adapter (${Object.keys(BUILTIN_ADAPTERS).join(', ')}) or path to a .js/.mjs module`)
    .addOption(new Option('--profile <name>', 'judge every adapter by this conventions profile instead of its own').argParser(parseProfile))
    .option('--quick', 'few runs per property and small shapes (< 30 s per adapter)')
    .option('--seed <n>', 'fast-check seed, an integer (default: from the clock; always printed)', parseSeed('--seed'))
    .option('--runs <n>', `fast-check runs per property, at most ${MAX_RUNS} (default 5 with --quick, 50 without)`, parseRuns('--runs'))
    .option('--only <pattern>', 'only checks matching: an id, a dotted prefix (bn.backward) or a glob (*.offset_*); comma-separated')
    .option('--skip <pattern>', 'leave out checks matching, as --only matches (id, dotted prefix, glob); comma-separated')
    .option('--without <features>', `leave out cases with these features on every adapter, comma-separated (${FEATURE_NAMES.length} features: rank5, no_affine, …; conformance/README.md lists them)`, parseWithout)
    .option('--path <path>', 'fast-check replay path of a failure (with --seed and an --only that selects one check)', parseReplayPath)
    .option('--tolerance <tier>', 'the differential checks\' bounds: worst-case (default: holds for any data and summation order) or strict (probabilistic λ·√n·u, Higham & Mary 2019; failure probability n·3.9e-22 per n-term sum)', parseTolerance)
    .option('--norm <ids>', `only the checks of these normalisations, comma-separated (${NORM_IDS.join(', ')}); the hygiene checks judge only their capabilities`, parseNorms)
    .option('--expect <file>', 'known failures per adapter and check, with reasons (JSON, or lines "ADAPTER CHECK REASON")')
    .option('--strict-expect', 'with --expect: a line naming an adapter that is not in the run is an error (default: a warning)')
    .option('--json <file>', 'write the JSON report (schema normcheck-report/1)')
    .option('--junit <file>', 'write a JUnit XML report')
    .option('--html <file>', 'write one self-contained HTML page: per adapter the verdict table, per check log-log plots of every case\'s error against its bound and against κ, honest algorithms beside (needs the optional vega and vega-lite)')
    .option('--timeout <ms>', `per-call timeout of adapter functions, 1 to ${MAX_TIMEOUT_MS} ms (setup() gets 3×)`, parseMilliseconds('--timeout'), 10_000)
    .option('--check-timeout <ms>', `time limit of one check, 1 to ${MAX_TIMEOUT_MS} ms: no new run starts after it`, parseMilliseconds('--check-timeout'), 300_000)
    .option('--in-process', 'run adapters given by path in this process instead of a worker thread (for debugging: breakpoints work, but a hang or process.exit takes the run down)')
    .option('--isolate', 'run the built-in adapters in worker threads too (adapters given by path always run in one unless --in-process)')
    .option('--load-timeout <ms>', 'time an adapter may take to load (import, handshake) before it is a load error', parseMilliseconds('--load-timeout'), 30_000)
    .option('--memory-limit <mb>', 'JavaScript heap limit of an adapter\'s worker thread; exceeding it fails the call, not the run', parseMegabytes('--memory-limit'), 4096)
    .option('--shard <i/n>', 'run the i-th of n shares of the (adapter, check) pairs, same seed (CI matrix; normcheck merge joins the --json reports)', parseShardOption)
    .option('--no-progress', 'no progress bar (it is off anyway when stderr is not a terminal)')
    .action(async (specs: string[], o: CheckOptions) => {
      result.code = await runCheck(specs, o, io);
    });
  cmd
    .command('list')
    .description('list the checks (id, category, description), one table per norm, and the built-in adapters (precision, layout, profile, availability)')
    .option('--norm <ids>', `only the tables of these normalisations, comma-separated (${NORM_IDS.join(', ')}), and the checks that span norms`, parseNorms)
    .action(async (o: { norm?: NormId[] }) => {
      result.code = await runList(io, o);
    });
  addBaselineOptions(cmd);
  registerMutantsCommand(cmd, io, result);
  registerInitCommand(cmd, io, result);
  registerMergeCommand(cmd, io, result);
  return cmd;
}

/** Runs the program on `argv` (without node and the script) and returns the exit code. Never throws. */
export async function runCli(argv: readonly string[], io: Io = processIo): Promise<number> {
  const result = { code: 0 };
  try {
    await program(io, result).parseAsync([...argv], { from: 'user' });
    return result.code;
  } catch (e) {
    // Help that was asked for (--help, `help`, --version) exits 0; help printed because no command was given
    // (commander's exitCode 1) is a usage error: a CI step whose command expanded to nothing must fail.
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof UsageError || e instanceof AdapterLoadError || e instanceof ReportWriteError || e instanceof RunOptionError) {
      io.stderr(`normcheck: ${e.message}\n`);
      return 2;
    }
    io.stderr(`normcheck: internal error: ${(e as Error).stack ?? e}\n`);
    return 2;
  }
}
