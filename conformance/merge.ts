/**
 * Merging the JSON reports of one run's shards (`normcheck check … --shard i/n --json shard-i.json`) into the
 * report the unsharded run would have written: every (adapter, check) result exactly once, in catalog order;
 * the summary recounted by the runner's own rules (runner.ts summarize), the exit code the worst of that and
 * of every shard's (a shard whose named adapter failed to load exited 2 without listing it).
 *
 * Reports merge only when they are the shards of one run: the same seed, --quick, --runs, --profile and --tolerance
 * (otherwise the same check saw different cases), the same selected checks and adapters in the same order
 * (otherwise the unit numbering differs and shards overlap or leave holes), and shard indices 1..n each
 * exactly once. Anything else is a MergeError naming the files and the difference.
 */
import { readFileSync } from 'node:fs';
import { adapterGrade } from './accuracy/grade.js';
import { exitCodeOf, summarize, type AdapterReport, type CheckResult, type RunReport } from './runner.js';
import { formatShard } from './shard.js';

export class MergeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MergeError';
  }
}

export interface NamedReport {
  file: string;
  report: RunReport;
}

/** report/json.ts writes non-finite numbers as strings; these fields hold numbers. */
const NUMERIC = new Set(['ratio', 'ulps', 'error', 'bound']);
const NON_FINITE: Record<string, number> = { Infinity, '-Infinity': -Infinity, NaN };

/** Reads one JSON report, or throws a MergeError naming the file and what is wrong with it. */
export function readReport(file: string): NamedReport {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new MergeError(`${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text, (k, v) => (NUMERIC.has(k) && typeof v === 'string' && v in NON_FINITE ? NON_FINITE[v] : v));
  } catch (e) {
    throw new MergeError(`${file}: not a complete JSON report (${(e as Error).message}); was the run that wrote it interrupted?`);
  }
  const r = value as Partial<RunReport> | null;
  if (r === null || typeof r !== 'object' || r.schema !== 'normcheck-report/1') {
    throw new MergeError(`${file}: not a normcheck report (expected "schema": "normcheck-report/1", as normcheck check --json writes)`);
  }
  if (!r.selection || !Array.isArray(r.adapters)) throw new MergeError(`${file}: a normcheck report without "selection"; it was written by an older normcheck: rerun the shard`);
  return { file, report: r as RunReport };
}

const show = (v: unknown) => {
  if (v === null) return 'none';
  if (!Array.isArray(v)) return String(v);
  return v.length <= 4 ? `[${v.join(', ')}]` : `${v.length} of them`;
};

/** Every report agrees on `what`, else a MergeError listing each file's value. */
function same(reports: readonly NamedReport[], what: string, get: (r: RunReport) => unknown, hint: string): void {
  const key = (r: RunReport) => JSON.stringify(get(r));
  if (reports.every((x) => key(x.report) === key(reports[0]!.report))) return;
  throw new MergeError(`the reports differ in ${what} (${reports.map((x) => `${x.file}: ${show(get(x.report))}`).join(', ')}); ${hint}`);
}

function checkShards(reports: readonly NamedReport[]): void {
  const sharded = reports.filter((x) => x.report.selection.shard !== null);
  if (sharded.length === 0) {
    if (reports.length > 1) throw new MergeError(`none of ${reports.map((x) => x.file).join(', ')} is a shard (normcheck check --shard i/n): there is nothing to merge`);
    return;
  }
  if (sharded.length !== reports.length) {
    throw new MergeError(`${reports.filter((x) => x.report.selection.shard === null).map((x) => x.file).join(', ')}: not a shard, while ${sharded[0]!.file} is shard ${formatShard(sharded[0]!.report.selection.shard!)}`);
  }
  same(reports, 'shard count', (r) => r.selection.shard!.count, 'merge the shards of one --shard i/n matrix');
  const n = reports[0]!.report.selection.shard!.count;
  const seen = new Map<number, string>();
  for (const { file, report } of reports) {
    const i = report.selection.shard!.index;
    const other = seen.get(i);
    if (other) throw new MergeError(`${other} and ${file} are both shard ${i}/${n}`);
    seen.set(i, file);
  }
  const missing = Array.from({ length: n }, (_, k) => k + 1).filter((i) => !seen.has(i));
  if (missing.length) throw new MergeError(`shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${n}`).join(', ')} missing (given: ${reports.map((x) => `${x.file} = ${formatShard(x.report.selection.shard!)}`).join(', ')})`);
}

/** One adapter's reports from several shards as one: the same declaration, every shard's checks in catalog order. */
function mergeAdapter(parts: readonly { file: string; adapter: AdapterReport }[], order: ReadonlyMap<string, number>): AdapterReport {
  const first = parts[0]!;
  for (const p of parts) {
    if (p.adapter.state !== first.adapter.state) {
      throw new MergeError(`adapter ${first.adapter.name}: ${first.adapter.state} in ${first.file} but ${p.adapter.state} in ${p.file}${p.adapter.message ? ` (${p.adapter.message})` : ''}: the shards ran in different environments`);
    }
  }
  const checks: CheckResult[] = [];
  const from = new Map<string, string>();
  for (const { file, adapter } of parts) {
    for (const c of adapter.checks) {
      const other = from.get(c.id);
      if (other) throw new MergeError(`${other} and ${file} both hold ${adapter.name} · ${c.id}`);
      from.set(c.id, file);
      checks.push(c);
    }
  }
  checks.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
  const messages = [...new Set(parts.map((p) => p.adapter.message).filter((m): m is string => m !== null))];
  return { ...first.adapter, checks, message: messages.length ? messages.join('; ') : null, grade: adapterGrade(checks) };
}

/** The merged report, or a MergeError saying why these reports are not the shards of one run. */
export function mergeReports(reports: readonly NamedReport[]): RunReport {
  if (reports.length === 0) throw new MergeError('no reports to merge');
  const runHint = 'merge only the shards of one run (the same normcheck check command and --seed, with --shard 1/n … n/n)';
  same(reports, 'seed', (r) => r.seed, runHint);
  same(reports, '--quick', (r) => r.quick, runHint);
  same(reports, 'runs per property', (r) => r.runs, runHint);
  same(reports, '--profile', (r) => r.profileOverride, runHint);
  same(reports, '--tolerance', (r) => r.tolerance ?? 'worst-case', runHint);
  same(reports, 'selected checks (--only, or a different normcheck version)', (r) => r.selection.checks, runHint);
  same(reports, 'adapters', (r) => r.selection.adapters, runHint);
  same(reports, '--norm', (r) => r.selection.norms, runHint);
  same(reports, '--without', (r) => r.selection.without ?? [], runHint);
  checkShards(reports);

  const selection = reports[0]!.report.selection;
  const order = new Map(selection.checks.map((id, k) => [id, k]));
  const adapters: AdapterReport[] = [];
  for (const spec of selection.adapters) {
    const parts = reports.flatMap(({ file, report }) => report.adapters.filter((a) => a.spec === spec).map((adapter) => ({ file, adapter })));
    if (parts.length) adapters.push(mergeAdapter(parts, order));
  }
  // An adapter that failed to load did so in every shard (each loads every adapter): list it once.
  const loadFailures = [...new Map(reports.flatMap((x) => x.report.loadFailures).map((f) => [f.spec, f])).values()];
  const summary = summarize(adapters, selection.required);
  summary.loadErrors += loadFailures.filter((f) => f.required).length;
  const first = reports[0]!.report;
  return {
    schema: 'normcheck-report/1',
    startedAt: reports.map((x) => x.report.startedAt).sort()[0]!,
    // the machine time of the whole run: the shards' durations added
    durationMs: reports.reduce((t, x) => t + x.report.durationMs, 0),
    seed: first.seed, quick: first.quick, runs: first.runs, tolerance: first.tolerance ?? 'worst-case', profileOverride: first.profileOverride,
    summary, loadFailures, adapters,
    exitCode: Math.max(exitCodeOf(summary), ...reports.map((x) => x.report.exitCode)) as 0 | 1 | 2,
    selection: { ...selection, shard: null },
  };
}
