/**
 * The terminal report, readable in a 120-column terminal however many adapters ran: a compact matrix, check
 * × adapter, one short cell per pair (legend under it), the adapters packed into as many matrices side by
 * side as the width needs (each with only the rows one of its adapters provides); then what each matrix
 * cannot say in a cell — the adapters' settings, the features left out, grouped; then, for every failure,
 * what went wrong, the shrunk counterexample, fast-check's seed and path, and the one command that replays
 * it; then the expected failures and unexpected passes grouped by reason; then the summary line.
 *
 * A cell is at most 8 characters: a passing check is its worst error as a fraction of its bound (`0.07`;
 * ≤ 1 passes), a robust one `R` and it, a failing one `F` and it (`F2.3`), the rest a short word (CELL).
 * `*` marks a verdict that excludes features (listed below the matrix), `!` an accuracy grade worse than an
 * honest algorithm's. New statuses get a CELL entry and a LEGEND line; anything per adapter (its grade)
 * goes in `adapterNotes`.
 */
import { fmtRatio, fmtUlps } from '../compare.js';
import type { CheckResult, RunReport } from '../runner.js';
import { excludingPhrase, unsupportedLine } from './exclusions.js';
import { describeAdapterGrade } from '../accuracy/grade.js';

/** No rule between body rows (cli-table3 `chars`): used by the tables of `normcheck list` and `mutants`. */
export const COMPACT = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };

/** The report's width: a 120-column terminal. */
export const WIDTH = 120;

const LABEL: Record<CheckResult['status'], string> = { pass: 'pass', robust: 'robust', fail: 'FAIL', error: 'ERROR', skipped: 'skipped', 'not provided': 'not provided', 'not applicable': 'n/a' };

/** Cell words by status (pass, robust and fail show their ratio instead, below). */
const CELL: Record<CheckResult['status'], string> = { pass: 'ok', robust: 'R', fail: 'F', error: 'ERR', skipped: 'skip', 'not provided': '·', 'not applicable': 'n/a' };

/** What the cells mean, one entry each; printed under the matrices. */
const LEGEND: string[] = [
  '0.07: passed, worst error / bound (≤ 1)', 'F2.3: FAILED, worst error / bound (F∞: non-finite or wrong)', 'ERR: error', 'xfail, xerr: failed, errored as expected',
  'xfail?: expected failure not reproduced (--quick)', 'XPASS: passed, expected to fail', 'n/a: every case excluded', 'skip: skipped',
  '·: not provided', '*: some features excluded (below)',
  'R0.07: robust: within bound, but every case inconclusive (the trivial answer would pass too)',
  '!: less accurate than an honest algorithm of the precision (accuracy line per adapter below; grades: JSON, JUnit)',
];

/**
 * An expected failure that passed. In a full run that is news (the expectation may be stale): 'unexpected
 * pass', XPASS. In a --quick run it usually is not: five small cases per property may simply not draw the
 * failing ones (rank-5 shapes, cases without affine parameters), so the runner reports it as 'expected failure
 * not reproduced', not as a pass of the contract. Neither fails the run.
 */
const isXpass = (r: CheckResult) => r.outcome === 'unexpected pass' || r.outcome === 'expected failure not reproduced';

/** "1 expected failure", "2 expected failures" */
const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** A check's cell: ≤ 7 characters. */
export function cell(r: CheckResult | undefined): string {
  if (!r) return '';
  let s = CELL[r.status];
  if (r.worst && r.status === 'pass') s = fmtRatio(r.worst.ratio);
  if (r.worst && r.status === 'robust') s = `R${fmtRatio(r.worst.ratio)}`;
  if (r.worst && r.status === 'fail') s = `F${fmtRatio(r.worst.ratio)}`;
  if (r.outcome === 'expected failure') s = r.status === 'error' ? 'xerr' : 'xfail';
  if (r.outcome === 'unexpected pass') s = 'XPASS';
  if (r.outcome === 'expected failure not reproduced') s = 'xfail?';
  if (r.excluded?.length && r.status !== 'not applicable') s += '*';
  // the accuracy grade (accuracy/grade.ts) does not fit a cell: only "worse than honest" is marked
  if (r.grade?.class === 'worse than honest' && (r.status === 'pass' || r.status === 'robust')) s += '!';
  return s;
}

const len = (s: string) => [...s].length;
const pad = (s: string, n: number) => s + ' '.repeat(Math.max(0, n - len(s)));

/** `items` joined by `sep` in lines of at most `width` columns, the first after `first`, the rest after `indent`. */
export function wrapJoined(items: readonly string[], sep: string, first: string, indent: string, width = WIDTH): string[] {
  const out: string[] = [];
  let line = first;
  let fresh = true;
  for (const item of items) {
    const piece = fresh ? item : `${sep}${item}`;
    // room for the separator's mark (a comma) should the next item go on the next line
    if (!fresh && len(line) + len(piece) + len(sep.trimEnd()) > width) {
      out.push(line + sep.trimEnd());
      line = indent + item;
    } else {
      line += piece;
    }
    fresh = false;
  }
  out.push(line);
  return out;
}

/** The header of an adapter's column: its name broken at '-' (`tfjs`, `layers`, `cpu`), bottom-aligned. */
function headLines(name: string): string[] {
  const parts = name.split('-');
  const lines: string[] = [];
  for (const p of parts) {
    const last = lines[lines.length - 1];
    if (last !== undefined && len(last) + 1 + len(p) <= 7) lines[lines.length - 1] = `${last}-${p}`;
    else lines.push(p);
  }
  return lines;
}

interface Column {
  name: string;
  head: string[];
  cells: Map<string, string>;
  width: number;
}

/**
 * The matrices: adapters in run order, packed greedily into matrices of at most WIDTH columns. A row is
 * printed in a matrix when one of its adapters provides the check (not every cell `·`).
 */
function matrices(report: RunReport, width: number): string[] {
  const ran = report.adapters.filter((a) => a.state === 'ran');
  if (!ran.length) return [];
  const seen: string[] = [];
  for (const a of ran) for (const c of a.checks) if (!seen.includes(c.id)) seen.push(c.id);
  // rows by norm (bn., ln., …, then fixtures., hygiene.), in run order within each: a norm reads as one block
  const families = [...new Set(seen.map((id) => id.split('.')[0]!))];
  const ids = families.flatMap((f) => seen.filter((id) => id.split('.')[0] === f));
  const idWidth = Math.max(5, ...ids.map(len));
  const columns: Column[] = ran.map((a) => {
    const cells = new Map(a.checks.map((c) => [c.id, cell(c)]));
    const head = headLines(a.name);
    return { name: a.name, head, cells, width: Math.max(...head.map(len), ...[...cells.values()].map(len)) };
  });
  const groups: Column[][] = [];
  let used = idWidth;
  for (const col of columns) {
    const w = col.width + 1;
    const last = groups[groups.length - 1];
    if (last && used + w <= width) {
      last.push(col);
      used += w;
    } else {
      groups.push([col]);
      used = idWidth + w;
    }
  }
  return groups.map((cols) => {
    const depth = Math.max(...cols.map((c) => c.head.length));
    const lines: string[] = [];
    for (let k = 0; k < depth; k++) {
      const cellsOfLine = cols.map((c) => pad(c.head[k - (depth - c.head.length)] ?? '', c.width));
      lines.push(`${pad(k === depth - 1 ? 'check' : '', idWidth)} ${cellsOfLine.join(' ')}`.trimEnd());
    }
    lines.push(`${'─'.repeat(idWidth)} ${cols.map((c) => '─'.repeat(c.width)).join(' ')}`);
    let norm = '';
    for (const id of ids) {
      const row = cols.map((c) => c.cells.get(id) ?? '');
      if (row.every((s) => s === '' || s === CELL['not provided'])) continue;
      // a blank line between norms (bn., ln., …) and before the checks that span them
      const family = id.split('.')[0]!;
      if (norm && family !== norm) lines.push('');
      norm = family;
      lines.push(`${pad(id, idWidth)} ${row.map((s, i) => pad(s, cols[i]!.width)).join(' ')}`.trimEnd());
    }
    return lines.join('\n');
  });
}

/**
 * Extra lines under the matrices, one per adapter at most (its accuracy grade and the replay of the case deciding it). Kept as the
 * one place a per-adapter line is added, so the layout stays within WIDTH.
 */
export function adapterNotes(report: RunReport, width = WIDTH): string[] {
  const lines: string[] = [];
  for (const a of report.adapters) {
    if (a.state !== 'ran' || !a.grade) continue;
    lines.push(...wrapJoined(`${a.name} accuracy: ${describeAdapterGrade(a.grade)}`.split(' '), ' ', '', '    ', width));
    if (a.grade.replay) lines.push(`  replay: ${a.grade.replay}`);
  }
  return lines;
}

/** "reference float64 NCHW pytorch · kernels float32 NCHW pytorch · …", wrapped. */
function adapterSettings(report: RunReport, width: number): string[] {
  const ran = report.adapters.filter((a) => a.state === 'ran');
  return ran.length ? wrapJoined(ran.map((a) => `${a.name} ${a.precision} ${a.layout} ${a.profile}`), ' · ', 'adapters: ', '  ', width) : [];
}

/** The features left out, grouped: one line per (sentence, checks) with the adapters that share it. */
function exclusionLines(report: RunReport, width: number): string[] {
  const ran = report.adapters.filter((a) => a.state === 'ran');
  const lines: string[] = [];
  const byPhrase = new Map<string, Map<string, string[]>>(); // phrase → adapter → checks
  for (const a of ran) {
    for (const c of a.checks) {
      const phrase = excludingPhrase(c.excluded);
      if (!phrase || c.status === 'not applicable') continue;
      const m = byPhrase.get(phrase) ?? new Map<string, string[]>();
      m.set(a.name, [...(m.get(a.name) ?? []), c.id]);
      byPhrase.set(phrase, m);
    }
  }
  for (const [phrase, m] of byPhrase) {
    // adapters with the same checks share a line
    const byChecks = new Map<string, string[]>();
    for (const [name, ids] of m) byChecks.set(ids.join(', '), [...(byChecks.get(ids.join(', ')) ?? []), name]);
    for (const [ids, names] of byChecks) {
      const n = ids.split(', ').length;
      const text = `${names.join(', ')}: passes ${phrase}: ${n === 1 ? '' : `${n} checks: `}${ids}`;
      lines.push(...wrapJoined(text.split(' '), ' ', '* ', '    ', width));
    }
  }
  for (const a of ran) {
    const u = unsupportedLine(a.unsupported);
    if (u) lines.push(...wrapJoined(u.split('; '), '; ', `${a.name} declares unsupported: `, '    ', width));
  }
  return lines;
}

export function formatTable(report: RunReport, width = WIDTH): string {
  const lines: string[] = [];
  const blocks = matrices(report, width);
  if (blocks.length) {
    lines.push(blocks.join('\n\n'), '', ...wrapJoined(LEGEND, ' · ', 'cells: ', '  ', width), ...adapterSettings(report, width));
    lines.push(...adapterNotes(report, width), ...exclusionLines(report, width));
  }
  const words = (first: string, text: string) => wrapJoined(text.split(' '), ' ', first, '    ', width);
  for (const f of report.loadFailures) lines.push(...words(`${f.spec}: failed to load: `, f.message));
  for (const a of report.adapters) {
    if (a.state === 'not installed') lines.push(...words(`${a.name}: `, a.message ?? ''));
    else if (a.state !== 'ran') lines.push(...words(`${a.name}: ${a.state}: `, a.message ?? ''));
    else if (a.message) lines.push(...words(`${a.name}: `, a.message));
  }
  return lines.join('\n');
}

/** One failed check as the report prints it: what went wrong, the worst error, counterexample, seed, replay. */
export function formatFailure(adapterName: string, c: CheckResult): string[] {
  const out = [...wrapJoined(`${LABEL[c.status]} ${adapterName} · ${c.id} — ${c.description}`.split(' '), ' ', '', '    '), `  ${c.message}`];
  for (const d of c.details.slice(0, 12)) if (!c.message.includes(d.trim())) out.push(`  ${d}`);
  if (c.status === 'fail' && c.worst && Number.isFinite(c.worst.ratio)) out.push(`  worst: ${c.worst.quantity} error ${c.worst.error.toPrecision(3)} = ${fmtRatio(c.worst.ratio)} of bound, ${fmtUlps(c.worst.ulps)}`);
  if (c.counterexample) out.push(`  counterexample: ${c.counterexample}`);
  if (c.seed !== null) out.push(`  fast-check seed ${c.seed}${c.path ? `, path "${c.path}"` : ''}`);
  if (c.replay) out.push(`  replay: ${c.replay}`);
  return out;
}

/**
 * Checks with expectations, grouped by reason: the reason once, then one line per set of adapters with the
 * same checks ("tfjs-cpu, tfjs-wasm: bn.backward.train, bn.backward.eval"), wrapped to the width.
 */
export function groupedByReason(report: RunReport, pick: (c: CheckResult) => boolean, width = WIDTH): string[] {
  const byReason = new Map<string, Map<string, string[]>>(); // reason → adapter → checks
  for (const a of report.adapters) {
    for (const c of a.checks.filter(pick)) {
      const reason = c.expectedReason ?? '';
      const m = byReason.get(reason) ?? new Map<string, string[]>();
      m.set(a.name, [...(m.get(a.name) ?? []), c.id]);
      byReason.set(reason, m);
    }
  }
  const out: string[] = [];
  for (const [reason, m] of byReason) {
    out.push(...wrapJoined(reason.split(' '), ' ', '  ', '    ', width));
    const byChecks = new Map<string, string[]>();
    for (const [name, ids] of m) byChecks.set(ids.join(', '), [...(byChecks.get(ids.join(', ')) ?? []), name]);
    for (const [ids, names] of byChecks) {
      const list = ids.split(', ');
      out.push(...wrapJoined(list, ', ', `    ${names.join(', ')} (${list.length}): `, '      ', width));
    }
  }
  return out;
}

export function formatFailures(report: RunReport, width = WIDTH): string {
  const out: string[] = [];
  for (const a of report.adapters) for (const c of a.checks) if (c.outcome === 'failed') out.push('', ...formatFailure(a.name, c));
  const xfail = groupedByReason(report, (c) => c.outcome === 'expected failure', width);
  if (xfail.length) out.push('', 'expected failures (from --expect), by reason:', ...xfail);
  const confined = groupedByReason(report, (c) => c.outcome !== 'expected failure' && !isXpass(c) && c.expectedReason !== null, width);
  if (confined.length) out.push('', 'known failures confined to features (from --expect; the check graded without them), by reason:', ...confined);
  const xpass = groupedByReason(report, isXpass, width);
  const head = (text: string) => wrapJoined(text.split(' '), ' ', '', '', width);
  if (xpass.length && report.quick) {
    out.push('', ...head('expected failures not reproduced in this run (--quick draws few, small cases and may not draw the failing ones; a full run tells whether the expectation is stale):'), ...xpass);
  } else if (xpass.length) {
    out.push('', ...head(`unexpected passes (listed in --expect, passed all ${report.runs} runs per property: if they keep passing over other seeds, remove the expectation):`), ...xpass);
  }
  return out.join('\n');
}

export function formatSummary(report: RunReport): string {
  const s = report.summary;
  const parts = [`${s.passed} passed`, `${s.failed} failed`, `${s.errors} errors`, `${s.skipped} skipped`, `${s.notProvided} not provided`];
  if (s.robust) parts.push(`${s.robust} robust (within bound, every case inconclusive)`);
  if (s.notApplicable) parts.push(`${s.notApplicable} not applicable`);
  if (s.expectedFailures) parts.push(count(s.expectedFailures, 'expected failure', 'expected failures'));
  if (s.unexpectedPasses) {
    parts.push(report.quick
      ? count(s.unexpectedPasses, 'expected failure not reproduced', 'expected failures not reproduced')
      : count(s.unexpectedPasses, 'unexpected pass', 'unexpected passes'));
  }
  const adapters = (n: number) => `${n} adapter${n === 1 ? '' : 's'}`;
  if (s.unavailableAdapters) parts.push(`${adapters(s.unavailableAdapters)} unavailable`);
  if (s.notInstalledAdapters) parts.push(`${adapters(s.notInstalledAdapters)} not installed`);
  if (report.loadFailures.length) parts.push(`${adapters(report.loadFailures.length)} failed to load`);
  parts[parts.length - 1] += ` — seed ${report.seed}`;
  parts.push(`${report.runs} runs per property${report.quick ? ' (quick)' : ''}`);
  if (report.tolerance === 'strict') parts.push('strict tolerance');
  parts.push(`${(report.durationMs / 1000).toFixed(1)} s`);
  // one line, however long: CI logs and scripts grep it (a terminal folds it)
  return parts.join(', ');
}

export function formatReport(report: RunReport): string {
  return [formatTable(report), formatFailures(report), '', formatSummary(report)].filter((x, i) => i !== 1 || x !== '').join('\n');
}
