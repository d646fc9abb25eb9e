/**
 * The `check` command's baseline options (conformance/baseline.ts holds the rule and its justification):
 *
 *   --write-baseline FILE   after the run, store per adapter and check the status and worst error/bound
 *   --baseline FILE         fail the run (exit 1) when a check that passed in FILE now fails, no longer runs, or
 *                           its worst error grew past the growth rule; a run whose seed, --quick, --runs or
 *                           --profile differ from FILE's is not comparable (exit 2). Unless given explicitly,
 *                           those settings are taken from FILE, so `normcheck check kernels --baseline F` repeats
 *                           the baseline's cases.
 *   --growth-factor X       default 2
 *   --growth-floor R        default 0.01 (of the bound)
 *   --baseline-junit FILE   the verdict as JUnit XML, one test case per gated check (regressions as failures)
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { ProfileName } from '../conformance/adapter.js';
import {
  BaselineError, baselineReportFile, compareWithBaseline, comparesNothing, DEFAULT_GROWTH, formatBaselineComparison, readBaseline, type Baseline,
  type BaselineComparison,
} from '../conformance/baseline.js';
import { baselineJunitFile } from '../conformance/baseline_junit.js';
import type { ReportFile, ReportTarget } from '../conformance/report/write_file.js';
import type { RunReport } from '../conformance/runner.js';

export interface BaselineOptions {
  writeBaseline?: string;
  baseline?: string;
  growthFactor?: number;
  growthFloor?: number;
  baselineJunit?: string;
  // the run settings a baseline fills in when they are not given
  seed?: number;
  quick?: boolean;
  runs?: number;
  profile?: ProfileName;
}

interface Out {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

function parseAtLeast(name: string, min: number) {
  return (v: string) => {
    const x = Number(v);
    if (!Number.isFinite(x) || x < min) throw new InvalidArgumentError(`${name} must be a number ≥ ${min}, got "${v}"`);
    return x;
  };
}

/** Adds the baseline options to the program's `check` (or `merge`) subcommand (fresh Option objects per program). */
export function addBaselineOptions(program: Command, command: 'check' | 'merge' = 'check'): void {
  const check = program.commands.find((c) => c.name() === command);
  if (!check) throw new Error(`addBaselineOptions: the program has no ${command} command`);
  check
    .addOption(new Option('--write-baseline <file>', 'store each adapter\'s and check\'s status and worst error (fraction of its bound) for later --baseline runs'))
    .addOption(new Option('--baseline <file>', 'fail when a check that passed in this baseline fails, or its worst error grew past the growth rule (seed, --quick, --runs, --profile default to the baseline\'s)'))
    .addOption(new Option('--growth-factor <x>', `with --baseline: allowed growth of a worst error (default ${DEFAULT_GROWTH.factor})`).argParser(parseAtLeast('--growth-factor', 1)))
    .addOption(new Option('--baseline-junit <file>', 'with --baseline: write the baseline verdict as JUnit XML (one test case per gated check)'))
    .addOption(new Option('--growth-floor <r>', `with --baseline: growths below this fraction of the bound never count (default ${DEFAULT_GROWTH.floor})`).argParser(parseAtLeast('--growth-floor', 0)));
}

const loaded = new WeakMap<BaselineOptions, Baseline>();

/**
 * Reads --baseline and fills seed, quick, runs and profile from it where the user gave none. Returns null to
 * go on, or an exit code (2) after printing why the baseline cannot be used.
 */
export function applyBaselineDefaults(o: BaselineOptions, io: Out): number | null {
  if (!o.baseline) {
    const orphan = o.baselineJunit !== undefined ? '--baseline-junit' : o.growthFactor !== undefined ? '--growth-factor' : o.growthFloor !== undefined ? '--growth-floor' : null;
    if (orphan) {
      io.stderr(`normcheck: ${orphan} compares with a baseline and needs --baseline FILE\n`);
      return 2;
    }
    return null;
  }
  let b: Baseline;
  try {
    b = readBaseline(o.baseline);
  } catch (e) {
    io.stderr(`normcheck: ${e instanceof BaselineError ? e.message : (e as Error).message}\n`);
    return 2;
  }
  loaded.set(o, b);
  if (o.seed === undefined) o.seed = b.seed;
  if (o.quick === undefined) o.quick = b.quick;
  if (o.runs === undefined) o.runs = b.runs;
  if (o.profile === undefined && b.profileOverride) o.profile = b.profileOverride;
  return null;
}

/**
 * Before the run, once the adapters are loaded: an error (exit 2) when the gate would compare nothing. Returns
 * null to go on, or the exit code after printing why.
 */
export function checkBaselineCoverage(o: BaselineOptions, adapterNames: readonly string[], checkIds: readonly string[], io: Out): number | null {
  const b = loaded.get(o);
  if (!o.baseline || !b) return null;
  const why = comparesNothing(b, adapterNames, checkIds);
  if (why === null) return null;
  io.stderr(`normcheck: --baseline ${o.baseline}: ${why}\n`);
  return 2;
}

/** What the gate decided: the exit code it adds (0, 1, 2) and, with --baseline, the comparison. */
export interface GateResult {
  code: number;
  comparison: BaselineComparison | null;
}

/** After the run: compares with --baseline and prints the verdict. Writes nothing (baselineReportFiles does). */
export function gateOnBaseline(report: RunReport, o: BaselineOptions, io: Out): GateResult {
  const b = loaded.get(o);
  if (!o.baseline || !b) return { code: 0, comparison: null };
  const c = compareWithBaseline(report, b, { factor: o.growthFactor ?? DEFAULT_GROWTH.factor, floor: o.growthFloor ?? DEFAULT_GROWTH.floor });
  io.stdout(`${formatBaselineComparison(c, o.baseline)}\n`);
  return { code: !c.comparable || c.error !== null ? 2 : c.ok ? 0 : 1, comparison: c };
}

/** The report files the baseline options ask for, for checkReportTargets before the run. */
export function baselineTargets(o: BaselineOptions): ReportTarget[] {
  return [
    ...(o.baselineJunit && o.baseline ? [{ option: '--baseline-junit', file: o.baselineJunit, kind: 'junit' as const }] : []),
    ...(o.writeBaseline ? [{ option: '--write-baseline', file: o.writeBaseline, kind: 'baseline' as const }] : []),
  ];
}

/** The files to write after the gate: --baseline-junit (carrying the final exit code) and --write-baseline. */
export function baselineReportFiles(report: RunReport, o: BaselineOptions, gate: GateResult, exitCode: 0 | 1 | 2): ReportFile[] {
  const files: ReportFile[] = [];
  const b = loaded.get(o);
  if (o.baseline && o.baselineJunit && b && gate.comparison) files.push(baselineJunitFile(gate.comparison, b, o.baseline, o.baselineJunit, exitCode));
  if (o.writeBaseline) files.push(baselineReportFile(report, o.writeBaseline));
  return files;
}
