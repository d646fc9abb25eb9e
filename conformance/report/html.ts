/**
 * `--html FILE`: one self-contained page — per adapter the verdict table and its accuracy grade, and per check
 * a log-log picture of every case: the error at its worst element against that element's bound (the dashed
 * diagonal is the bound: points above it fail), and the error in ulps against the case's conditioning κ, with
 * the honest algorithms of the adapter's precision (accuracy/oracles.ts) drawn beside the adapter's points.
 *
 * The plots are vega-lite specs rendered to SVG when the page is WRITTEN (vega's headless View.toSVG, no
 * browser, no canvas), so the page holds no script and fetches nothing: it opens offline, from a CI artifact,
 * in any browser. vega and vega-lite (12 MB installed) are an optional peer dependency needed only here; the
 * CLI checks for them before a run with --html starts (`loadPlotting`), so a missing one costs a message, not
 * a run. Rendering in the page instead would need the same two packages at view time, inlined (~900 kB).
 */
import { NOT_INSTALLED } from '../adapter.js';
import { describeGrade, gradeCell } from '../accuracy/grade.js';
import type { CasePoint } from '../accuracy/points.js';
import { fmtRatio } from '../compare.js';
import type { AdapterReport, CheckResult, RunReport } from '../runner.js';
import type { ReportFile } from './write_file.js';

/** A vega-lite spec (typed loosely here: vega-lite's own types are not installed without the optional peer). */
export type PlotSpec = Record<string, unknown>;

export interface Plotting {
  render(spec: PlotSpec): Promise<string>;
}

export class PlottingNotInstalled extends Error {
  constructor(detail: string) {
    super(`--html: ${NOT_INSTALLED}npm install vega vega-lite (the optional peer dependencies that draw the plots; ${detail})`);
    this.name = 'PlottingNotInstalled';
  }
}

/** vega + vega-lite, loaded on demand; a clear error when either is absent. */
export async function loadPlotting(): Promise<Plotting> {
  let vega: typeof import('vega');
  let vl: typeof import('vega-lite');
  try {
    [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  } catch (e) {
    throw new PlottingNotInstalled((e as Error).message.split('\n')[0]!);
  }
  return {
    async render(spec) {
      const view = new vega.View(vega.parse(vl.compile(spec as unknown as Parameters<typeof vl.compile>[0]).spec), { renderer: 'none' });
      const svg = await view.toSVG();
      view.finalize();
      return compactSvg(svg);
    },
  };
}

/**
 * The same picture in fewer bytes: coordinates to 0.1 px, no accessibility roles and classes (a static page
 * without script or style for them), and of several symbols drawn at the same position with the same shape
 * only the last (the one on top: honest algorithms that agree to the pixel). Text stays as it is.
 */
export function compactSvg(svg: string): string {
  const rounded = svg
    .replace(/ (transform|d|x|y|x1|x2|y1|y2)="([^"]*)"/g, (_m, k: string, v: string) => ` ${k}="${v.replace(/(\d\.\d)\d+/g, '$1')}"`)
    .replace(/ (class|role|aria-roledescription|aria-hidden|pointer-events)="[^"]*"/g, '')
    .replace(/ opacity="1"| stroke-width="1"(?=[ />])| transform="translate\(0,0\)"| font-family="sans-serif"/g, '')
    // invisible: tick labels vega hides to avoid overlap, empty paths, zero-area backgrounds (the root has fill none)
    .replace(/<text [^>]*opacity="0"[^>]*>[^<]*<\/text>|<path d="" display="none"\/>|<path d="M0,0h0v(\d+|0)h0Z"\/>/g, '');
  // <path transform="translate(x,y)" d="…" …/> of one mark group: keep the last at each (position, shape)
  return rounded.replace(/(?:<path transform="translate\([^)]*\)" d="[^"]*"[^>]*\/>)+/g, (run) => {
    const paths = run.match(/<path [^>]*\/>/g)!;
    const key = (p: string) => /transform="([^"]*)" d="([^"]*)"/.exec(p)!.slice(1).join(' ');
    const last = new Map<string, number>();
    paths.forEach((p, i) => last.set(key(p), i));
    return paths.filter((p, i) => last.get(key(p)) === i).join('');
  });
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);

const OUTCOME_COLOR = { pass: '#1f77b4', inconclusive: '#ff7f0e', fail: '#d62728' } as const;
const HONEST_COLOR = ['#2ca02c', '#9467bd', '#8c564b', '#17becf', '#7f7f7f'];

/** A positive floor for log axes: zeros (exact results) are drawn there, and the axis title says so. */
function floorOf(values: number[], fallback: number): number {
  const positive = values.filter((v) => v > 0 && Number.isFinite(v));
  return positive.length ? Math.min(...positive) / 10 : fallback;
}

/** The two panels of one check: error vs bound, ulps vs κ. */
export function checkSpec(check: Pick<CheckResult, 'id'>, points: readonly CasePoint[]): PlotSpec {
  const rows: Record<string, unknown>[] = [];
  const errors = points.flatMap((p) => [p.error, ...p.honest.map((h) => h.error)]);
  const eFloor = floorOf(errors, 1e-12);
  const uFloor = 1e-2;
  const names = [...new Set(points.flatMap((p) => p.honest.map((h) => h.name)))];
  for (const p of points) {
    const finite = (v: number) => Number.isFinite(v);
    if (finite(p.bound) && p.bound > 0 && finite(p.error)) {
      rows.push({ who: 'adapter', series: p.outcome, bound: p.bound, error: Math.max(p.error, eFloor), ulps: Math.max(p.ulps, uFloor), kappa: Math.max(p.kappa, 1e-3), case: p.label, quantity: p.quantity });
    }
    for (const h of p.honest) {
      if (finite(h.bound) && h.bound > 0 && finite(h.error)) {
        rows.push({ who: 'honest', series: h.name, bound: h.bound, error: Math.max(h.error, eFloor), ulps: Math.max(h.ulps, uFloor), kappa: Math.max(p.kappa, 1e-3), case: p.label, quantity: p.quantity });
      }
    }
  }
  const bounds = rows.map((r) => r.bound as number);
  const lo = Math.min(...bounds, eFloor);
  const hi = Math.max(...bounds, ...rows.map((r) => r.error as number));
  const log = { type: 'log' } as const;
  const axis = { tickCount: 5, format: '~e' } as const;
  const colorHonest = { field: 'series', type: 'nominal', title: 'honest algorithm', scale: { domain: names, range: HONEST_COLOR } } as const;
  const colorAdapter = { field: 'series', type: 'nominal', title: 'adapter case', scale: { domain: ['pass', 'inconclusive', 'fail'], range: Object.values(OUTCOME_COLOR) } } as const;
  const layers = (x: string, xTitle: string, y: string, yTitle: string, diagonal: boolean) => ({
    width: 300, height: 240,
    layer: [
      ...(diagonal ? [{ data: { values: [{ [x]: lo, [y]: lo }, { [x]: hi, [y]: hi }] }, mark: { type: 'line', strokeDash: [4, 3], color: '#999' },
        encoding: { x: { field: x, type: 'quantitative', scale: log }, y: { field: y, type: 'quantitative', scale: log } } }] : []),
      { transform: [{ filter: "datum.who === 'honest'" }], mark: { type: 'square', size: 16, opacity: 0.8, filled: false },
        encoding: { x: { field: x, type: 'quantitative', scale: log, title: xTitle, axis }, y: { field: y, type: 'quantitative', scale: log, title: yTitle, axis }, color: colorHonest } },
      { transform: [{ filter: "datum.who === 'adapter'" }], mark: { type: 'point', filled: true, size: 36 },
        encoding: { x: { field: x, type: 'quantitative', scale: log }, y: { field: y, type: 'quantitative', scale: log }, color: colorAdapter } },
    ],
    resolve: { scale: { color: 'independent' } },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: check.id, subtitle: 'each point: one case, the output element with the largest error/bound' },
    data: { values: rows },
    hconcat: [
      layers('bound', 'bound at that element', 'error', `absolute error (0 drawn at ${eFloor.toExponential(0)})`, true),
      layers('kappa', 'κ = max|x| / sqrt(var + eps)', 'ulps', 'error in ulps at scale (0 drawn at 0.01)', false),
    ],
    // no aria labels: on a static page they only repeat every point's data (≈ 300 bytes a point)
    config: { aria: false, legend: { orient: 'right' }, view: { stroke: '#ddd' } },
  };
}

function statusCell(c: CheckResult): string {
  const cls = c.status === 'pass' ? 'pass' : c.status === 'robust' ? 'robust' : c.status === 'fail' || c.status === 'error' ? 'fail' : 'other';
  const ratio = c.worst && (c.status === 'pass' || c.status === 'robust' || c.status === 'fail') ? ` ${fmtRatio(c.worst.ratio)}` : '';
  return `<td class="${cls}">${escapeHtml(c.status + ratio)}</td>`;
}

function casesCell(c: CheckResult): string {
  return c.cases ? `<td>${c.cases.pass} / ${c.cases.inconclusive} / ${c.cases.fail}</td>` : '<td></td>';
}

async function adapterSection(a: AdapterReport, plotting: Plotting): Promise<string> {
  const head = `<h2 id="${escapeHtml(a.name)}">${escapeHtml(a.name)} <small>${escapeHtml(`${a.precision} ${a.layout} ${a.profile}`)}</small></h2>`;
  if (a.state !== 'ran') return `${head}<p>${escapeHtml(`${a.state}: ${a.message ?? ''}`)}</p>`;
  const grade = a.grade ?? null;
  const parts = [head, `<p class="grade">accuracy: ${grade ? escapeHtml(`${describeGrade(grade)} (${grade.check}, worst of ${grade.checks} graded checks)`) : 'no graded outputs'}</p>`];
  parts.push('<table><thead><tr><th>check</th><th>category</th><th>verdict · worst/bound</th><th>cases pass / inconclusive / fail</th><th>grade</th><th>worst case</th></tr></thead><tbody>');
  for (const c of a.checks) {
    const worstCase = c.grade ? `${c.grade.label}${c.grade.path !== null ? ` (path ${c.grade.path})` : ''}` : (c.counterexample ?? '');
    parts.push(`<tr><td><a href="#${escapeHtml(`${a.name}-${c.id}`)}">${escapeHtml(c.id)}</a></td><td>${escapeHtml(c.category)}</td>${statusCell(c)}${casesCell(c)}<td>${escapeHtml(gradeCell(c.grade ?? null))}</td><td class="case">${escapeHtml(worstCase)}</td></tr>`);
  }
  parts.push('</tbody></table>');
  for (const c of a.checks) {
    if (!c.points?.length) continue;
    const svg = await plotting.render(checkSpec(c, c.points));
    parts.push(`<figure id="${escapeHtml(`${a.name}-${c.id}`)}">${svg}<figcaption>${escapeHtml(`${c.id} — ${c.description}`)}${c.replay ? `<br><code>${escapeHtml(c.replay)}</code>` : ''}</figcaption></figure>`);
  }
  return parts.join('\n');
}

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}
td,th{border-bottom:1px solid #eee;padding:2px 8px;text-align:left}th{background:#f6f6f6}
td.pass{color:#1f77b4}td.robust{color:#ff7f0e}td.fail{color:#d62728;font-weight:bold}td.case{font-size:12px;color:#555}
figure{margin:1.5em 0}svg text{font-family:sans-serif}figcaption{font-size:12px;color:#555}small{color:#777;font-weight:normal}p.grade{font-weight:bold}`;

/** The page, as a string. */
export async function buildHtml(report: RunReport, plotting: Plotting): Promise<string> {
  const sections: string[] = [];
  for (const a of report.adapters) sections.push(await adapterSection(a, plotting));
  const s = report.summary;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="generator" content="normcheck"><title>normcheck report</title><style>${STYLE}</style></head>
<body>
<h1>normcheck report</h1>
<p>${escapeHtml(`seed ${report.seed}, ${report.runs} runs per property${report.quick ? ' (quick)' : ''}, ${report.tolerance ?? 'worst-case'} tolerance, started ${report.startedAt}, ${(report.durationMs / 1000).toFixed(1)} s — ` +
  `${s.passed} passed, ${s.robust ?? 0} robust, ${s.failed} failed, ${s.errors} errors, ${s.skipped} skipped, ${s.notProvided} not provided`)}</p>
<p>Verdicts: <b>pass</b> every case within its bound and at least one case conclusive; <b>robust</b> every case within its bound but none could tell the right answer from a trivial one (y = bias); <b>fail</b> a case out of bound.
Grades: <b>≤1 ulp</b> correctly rounded; <b>honest</b> within ×2 of the least accurate honest algorithm of the precision on the same cases; <b>×N</b> worse than honest by N (conformance/README.md, "Accuracy").</p>
${sections.join('\n')}
</body></html>
`;
}

/** The page as a report file of the run (report/write_file.ts writes every report of a run together). */
export async function htmlReportFile(report: RunReport, file: string, plotting: Plotting): Promise<ReportFile> {
  return { option: '--html', file, kind: 'html', text: await buildHtml(report, plotting) };
}
