/**
 * `normcheck merge REPORT.json… [--json FILE] [--junit FILE] [--baseline FILE | --write-baseline FILE …]`:
 * joins the JSON reports of one run's shards (`normcheck check … --shard i/n --json FILE`, conformance/merge.ts)
 * and prints, writes and gates the result as `normcheck check` would have without --shard. Exit codes are
 * check's: 0 passed (or failed only as expected), 1 a check failed or the baseline regressed, 2 a usage or
 * loading error — including reports that are not the shards of one run (different seeds, checks, adapters,
 * a missing or repeated shard, a truncated file), each named.
 */
import type { Command } from 'commander';
import { mergeReports, MergeError, readReport } from '../../conformance/merge.js';
import { jsonReportFile } from '../../conformance/report/json.js';
import { junitReportFile } from '../../conformance/report/junit.js';
import { formatReport } from '../../conformance/report/table.js';
import {
  checkReportTargets, ReportWriteError, writeReportFiles, type ProtectedPath, type ReportFile, type ReportTarget,
} from '../../conformance/report/write_file.js';
import {
  addBaselineOptions, applyBaselineDefaults, baselineReportFiles, baselineTargets, gateOnBaseline, type BaselineOptions,
} from '../baseline_options.js';

interface Out {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

interface MergeOptions extends BaselineOptions {
  json?: string;
  junit?: string;
}

function merge(files: readonly string[], o: MergeOptions, io: Out): number {
  // The shards' reports are inputs: no output may replace one (merge s1.json s2.json --json s1.json).
  const protect: ProtectedPath[] = files.map((f) => ({ file: f, what: `the shard report ${f} being merged` }));
  const targets: ReportTarget[] = [
    ...(o.json ? [{ option: '--json', file: o.json, kind: 'json' as const }] : []),
    ...(o.junit ? [{ option: '--junit', file: o.junit, kind: 'junit' as const }] : []),
    ...baselineTargets(o),
  ];
  checkReportTargets(targets, protect);
  const merged = mergeReports(files.map(readReport));
  const early = applyBaselineDefaults(o, io);
  if (early !== null) return early;
  io.stdout(`${formatReport(merged)}\n`);
  const gate = gateOnBaseline(merged, o, io);
  const exitCode = Math.max(merged.exitCode, gate.code) as 0 | 1 | 2;
  const out: ReportFile[] = [
    ...(o.json ? [jsonReportFile(merged, o.json, { exitCode, baseline: o.baseline && gate.comparison ? { file: o.baseline, comparison: gate.comparison } : null })] : []),
    ...(o.junit ? [junitReportFile(merged, o.junit, exitCode)] : []),
    ...baselineReportFiles(merged, o, gate, exitCode),
  ];
  writeReportFiles(out, protect);
  if (o.writeBaseline) io.stdout(`baseline written to ${o.writeBaseline} (seed ${merged.seed}${merged.quick ? ', --quick' : ''}, runs ${merged.runs})\n`);
  return exitCode;
}

/** The merge, or exit 2 with the reason for reports that do not merge and report files that cannot be written. */
export function runMerge(files: readonly string[], o: MergeOptions, io: Out): number {
  try {
    return merge(files, o, io);
  } catch (e) {
    if (e instanceof MergeError) io.stderr(`normcheck: merge: ${e.message}\n`);
    else if (e instanceof ReportWriteError) io.stderr(`normcheck: ${e.message}\n`);
    else throw e;
    return 2;
  }
}

export function registerMergeCommand(cmd: Command, io: Out, result: { code: number }): void {
  cmd
    .command('merge')
    .description('join the --json reports of one run\'s shards (check --shard i/n) into one report: the table, --json, --junit and the baseline gate, with check\'s exit codes')
    .argument('<reports...>', 'the shards\' JSON reports (normcheck check … --shard i/n --json FILE), every shard exactly once')
    .option('--json <file>', 'write the merged JSON report (schema normcheck-report/1)')
    .option('--junit <file>', 'write the merged JUnit XML report')
    .action((files: string[], o: MergeOptions) => {
      result.code = runMerge(files, o, io);
    });
  addBaselineOptions(cmd, 'merge');
}
