/**
 * Baselines: regression gating on accuracy, not only on pass/fail.
 *
 * `normcheck check … --write-baseline FILE` stores, per adapter and check, the status and the worst error as a
 * fraction of its bound (the `worst.ratio` the runner keeps: error/bound ≤ 1 passes). `--baseline FILE` then
 * fails the run when, for the same adapter and check:
 *   now failing     it passed in the baseline and now fails or errors
 *   no longer runs  it passed and is now skipped / not provided, or the adapter did not run at all
 *   error grew      it passed both times and  ratio_now > factor·ratio_before  and  ratio_now - ratio_before > floor
 * and says which check, the two ratios and the factor of growth.
 *
 * Like with like. A ratio is the maximum over the cases fast-check generated, and those cases are a function of
 * the seed, the number of runs, the profile (quick shapes) and the check's code; for a deterministic adapter
 * (hygiene.deterministic checks that) the worst error is then a deterministic number. So the baseline records
 * seed, quick, runs and profile, and a run with other settings is refused as not comparable rather than
 * compared. A change to a check or generator changes the cases: rewrite the baseline in the same commit.
 *
 * The growth rule, from the error model (error_model.ts). The bound is a worst-case bound, so a correct
 * implementation's worst ratio sits well below 1 and is fixed by its algorithm: an implementation that rounds
 * once (the kernels: float64 arithmetic, one rounding to float32) has an error of at most half an ulp at
 * every element. Losing accuracy means an extra rounding or cancellation somewhere, which at the worst element
 * at least doubles the error (half an ulp more, or a digit lost to cancellation). Hence:
 *   factor 2      one bit lost at the worst element is a regression, even far inside the bound;
 *   floor 0.01    a growth smaller than 1% of the bound is never one: it keeps ratios of exactly 0 (exact
 *                 relations, hygiene checks) and ratios of a few 1e-3 (half an ulp against a bound of
 *                 hundreds of ulps) from tripping on a change of one rounding where the contract allows a
 *                 hundred. Both are options (--growth-factor, --growth-floor) and are printed with every verdict.
 * A legitimate change that reorders arithmetic may also move a worst error by more than 2×: then the baseline
 * is rewritten on purpose, and the diff of the JSON file shows reviewers which ratios moved.
 */
import { TIERS, type Tier } from './accuracy/probabilistic.js';
import type { ProfileName } from './adapter.js';
import { passed, type Status } from './check.js';
import { readOptionFile } from './option_file.js';
import { writeReportFile, type ReportFile } from './report/write_file.js';
import type { RunReport } from './runner.js';

export interface Growth {
  /** ratio_now > factor·ratio_before … */
  factor: number;
  /** … and ratio_now - ratio_before > floor (in units of the bound) */
  floor: number;
}

export const DEFAULT_GROWTH: Growth = { factor: 2, floor: 0.01 };

export interface BaselineCheck {
  status: Status;
  /** worst error / bound over every comparison of the check; null when nothing was compared */
  worstRatio: number | null;
  /** which output the worst error was in ('y', 'dx', 'runningVar after step 3', …) */
  quantity: string | null;
}

export interface BaselineAdapter {
  state: 'ran' | 'not installed' | 'unavailable' | 'setup error';
  checks: Record<string, BaselineCheck>;
}

export interface Baseline {
  schema: 'normcheck-baseline/1';
  createdAt: string;
  /** the run settings a comparison must repeat */
  seed: number;
  quick: boolean;
  runs: number;
  profileOverride: ProfileName | null;
  /** --tolerance strict; absent: the worst-case default (older baselines have none) */
  tolerance?: Tier;
  adapters: Record<string, BaselineAdapter>;
}

export class BaselineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BaselineError';
  }
}

/** Ratios are stored to 4 significant digits: the file diffs cleanly and growth is judged far above that. */
function round4(r: number | null): number | null {
  if (r === null) return null;
  return Number.isFinite(r) ? Number(r.toPrecision(4)) : r;
}

export function baselineOf(report: RunReport): Baseline {
  const adapters: Record<string, BaselineAdapter> = {};
  for (const a of report.adapters) {
    const checks: Record<string, BaselineCheck> = {};
    for (const c of a.checks) checks[c.id] = { status: c.status, worstRatio: round4(c.worst?.ratio ?? null), quantity: c.worst?.quantity ?? null };
    adapters[a.name] = { state: a.state, checks };
  }
  return {
    schema: 'normcheck-baseline/1', createdAt: report.startedAt, seed: report.seed, quick: report.quick, runs: report.runs,
    profileOverride: report.profileOverride, ...(report.tolerance === 'strict' ? { tolerance: report.tolerance } : {}), adapters,
  };
}

/** JSON with one check per line, so a rewritten baseline diffs line by line. */
export function serializeBaseline(b: Baseline): string {
  const lines = [
    '{',
    `  "schema": ${JSON.stringify(b.schema)},`,
    `  "createdAt": ${JSON.stringify(b.createdAt)},`,
    `  "seed": ${b.seed},`,
    `  "quick": ${b.quick},`,
    `  "runs": ${b.runs},`,
    `  "profileOverride": ${JSON.stringify(b.profileOverride)},`,
    ...(b.tolerance ? [`  "tolerance": ${JSON.stringify(b.tolerance)},`] : []),
    '  "adapters": {',
  ];
  const names = Object.keys(b.adapters);
  names.forEach((name, ai) => {
    const a = b.adapters[name]!;
    lines.push(`    ${JSON.stringify(name)}: {`, `      "state": ${JSON.stringify(a.state)},`, '      "checks": {');
    const ids = Object.keys(a.checks);
    ids.forEach((id, ci) => {
      // Infinity is not JSON: a failing check's ratio may be infinite; store it as a string
      const c = a.checks[id]!;
      const ratio = c.worstRatio !== null && !Number.isFinite(c.worstRatio) ? JSON.stringify(String(c.worstRatio)) : JSON.stringify(c.worstRatio);
      lines.push(`        ${JSON.stringify(id)}: { "status": ${JSON.stringify(c.status)}, "worstRatio": ${ratio}, "quantity": ${JSON.stringify(c.quantity)} }${ci < ids.length - 1 ? ',' : ''}`);
    });
    lines.push('      }', `    }${ai < names.length - 1 ? ',' : ''}`);
  });
  lines.push('  }', '}', '');
  return lines.join('\n');
}

export function baselineReportFile(report: RunReport, file: string): ReportFile {
  return { option: '--write-baseline', file, kind: 'baseline', text: serializeBaseline(baselineOf(report)) };
}

export function writeBaseline(report: RunReport, file: string): Baseline {
  const b = baselineOf(report);
  writeReportFile('--write-baseline', file, serializeBaseline(b), 'baseline');
  return b;
}

const STATUSES: readonly Status[] = ['pass', 'robust', 'fail', 'error', 'skipped', 'not provided', 'not applicable'];
const STATES: readonly BaselineAdapter['state'][] = ['ran', 'not installed', 'unavailable', 'setup error'];
const PROFILE_NAMES: readonly ProfileName[] = ['pytorch', 'keras', 'onnx'];

const show = (v: unknown) => JSON.stringify(v) ?? String(v);
const listOf = (xs: readonly string[]) => xs.map((x) => JSON.stringify(x)).join(', ');
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Every entry is checked, naming the file and the entry (`adapters["kernels"].checks["ln.forward"].worstRatio`):
 * a ratio that is not a number would compare false with everything and never regress, and a null entry
 * would crash the comparison after the whole run.
 */
export function parseBaseline(text: string, file = 'baseline'): Baseline {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new BaselineError(`${file}: invalid JSON: ${(e as Error).message}`);
  }
  const fail = (where: string, what: string, got: unknown) => new BaselineError(`${file}: ${where} must be ${what}, got ${show(got)}`);
  if (!isObject(raw) || raw.schema !== 'normcheck-baseline/1') {
    throw new BaselineError(`${file}: not a normcheck baseline (schema must be "normcheck-baseline/1", got ${show(isObject(raw) ? raw.schema : raw)})`);
  }
  const b = raw;
  if (!Number.isInteger(b.seed)) throw fail('seed', 'an integer', b.seed);
  if (typeof b.quick !== 'boolean') throw fail('quick', 'true or false', b.quick);
  if (!Number.isInteger(b.runs) || (b.runs as number) < 1) throw fail('runs', 'a positive integer', b.runs);
  if (b.profileOverride !== undefined && b.profileOverride !== null && !PROFILE_NAMES.includes(b.profileOverride as ProfileName)) {
    throw fail('profileOverride', `null or one of ${listOf(PROFILE_NAMES)}`, b.profileOverride);
  }
  if (b.tolerance !== undefined && !TIERS.includes(b.tolerance as Tier)) throw fail('tolerance', `absent or one of ${listOf(TIERS)}`, b.tolerance);
  if (!isObject(b.adapters)) throw fail('adapters', 'an object of adapter name → entry', b.adapters);
  for (const [name, a] of Object.entries(b.adapters)) {
    const at = `adapters[${JSON.stringify(name)}]`;
    if (!isObject(a)) throw fail(at, 'an object { "state", "checks" }', a);
    if (!STATES.includes(a.state as BaselineAdapter['state'])) throw fail(`${at}.state`, `one of ${listOf(STATES)}`, a.state);
    if (!isObject(a.checks)) throw fail(`${at}.checks`, 'an object of check id → entry', a.checks);
    for (const [id, c] of Object.entries(a.checks)) {
      const cat = `${at}.checks[${JSON.stringify(id)}]`;
      if (!isObject(c)) throw fail(cat, 'an object { "status", "worstRatio", "quantity" }', c);
      if (!STATUSES.includes(c.status as Status)) throw fail(`${cat}.status`, `one of ${listOf(STATUSES)}`, c.status);
      // serializeBaseline writes an infinite ratio (a failing check's) as the string "Infinity"
      if (c.worstRatio === 'Infinity') c.worstRatio = Infinity;
      else if (c.worstRatio !== null && !(typeof c.worstRatio === 'number' && c.worstRatio >= 0)) {
        throw fail(`${cat}.worstRatio`, 'a number ≥ 0, null or "Infinity"', c.worstRatio);
      }
      if (c.quantity !== null && typeof c.quantity !== 'string') throw fail(`${cat}.quantity`, 'a string or null', c.quantity);
    }
  }
  return { ...b, profileOverride: (b.profileOverride ?? null) as ProfileName | null } as unknown as Baseline;
}

/**
 * Before the run, with the adapters loaded and the checks selected: why the gate would compare nothing, or
 * null. A renamed adapter or the wrong baseline file would otherwise pass as "OK — 0 checks compared".
 */
export function comparesNothing(baseline: Baseline, adapterNames: readonly string[], checkIds: readonly string[]): string | null {
  const known = adapterNames.filter((n) => n in baseline.adapters);
  const names = (xs: readonly string[]) => (xs.length ? xs.join(', ') : 'none');
  if (known.length === 0) {
    return `compares nothing: the baseline has adapters ${names(Object.keys(baseline.adapters))}; this run has ${names(adapterNames)} ` +
      '(a renamed adapter, or the wrong baseline file? write one for these adapters with --write-baseline)';
  }
  if (!known.some((n) => checkIds.some((id) => id in baseline.adapters[n]!.checks))) {
    return `compares nothing: none of the ${checkIds.length} selected checks is in the baseline for ${known.join(', ')} ` +
      '(an --only outside the baseline, or the wrong baseline file?)';
  }
  return null;
}

export function readBaseline(file: string): Baseline {
  return parseBaseline(readOptionFile('--baseline', file, BaselineError), file);
}

// ---------------------------------------------------------------------------------------------------------
// Comparison

export type RegressionKind = 'now failing' | 'no longer runs' | 'error grew';

export interface Regression {
  adapter: string;
  check: string;
  kind: RegressionKind;
  before: BaselineCheck;
  now: { status: Status | 'adapter did not run'; worstRatio: number | null; quantity: string | null };
  /** ratio_now / ratio_before (error grew only; Infinity when the baseline ratio was 0) */
  growth: number | null;
  message: string;
}

export interface BaselineComparison {
  /** false: the run's settings differ from the baseline's, nothing was compared */
  comparable: boolean;
  /** what differs (seed, quick, runs, profile) */
  mismatches: string[];
  growth: Growth;
  regressions: Regression[];
  /** checks that were failing in the baseline and pass now (the baseline can be rewritten) */
  fixed: string[];
  /** adapter/check pairs the baseline does not have */
  added: string[];
  /** adapter/check pairs of the baseline that this run did not select (e.g. --only) */
  notRun: string[];
  /** pairs compared */
  compared: number;
  /** why the gate is void although comparable (nothing was compared), or null */
  error: string | null;
  ok: boolean;
}

export function fmtRatio(r: number | null): string {
  if (r === null) return '—';
  if (!Number.isFinite(r)) return '∞';
  return r === 0 ? '0' : r >= 0.01 ? r.toFixed(3) : r.toExponential(2);
}

function fmtFactor(f: number): string {
  return Number.isFinite(f) ? `${f.toFixed(f >= 10 ? 0 : 1)}×` : '∞× (from 0)';
}

export function compareWithBaseline(report: RunReport, baseline: Baseline, growth: Growth = DEFAULT_GROWTH): BaselineComparison {
  const mismatches: string[] = [];
  if (report.seed !== baseline.seed) mismatches.push(`seed ${report.seed} (baseline ${baseline.seed})`);
  if (report.quick !== baseline.quick) mismatches.push(`${report.quick ? '--quick' : 'full profile'} (baseline ${baseline.quick ? '--quick' : 'full profile'})`);
  if (report.runs !== baseline.runs) mismatches.push(`runs ${report.runs} (baseline ${baseline.runs})`);
  if (report.profileOverride !== baseline.profileOverride) {
    mismatches.push(`profile override ${report.profileOverride ?? 'none'} (baseline ${baseline.profileOverride ?? 'none'})`);
  }
  // reports and baselines written before the tiers existed are worst-case ones
  const tiers = [report.tolerance ?? 'worst-case', baseline.tolerance ?? 'worst-case'];
  if (tiers[0] !== tiers[1]) mismatches.push(`--tolerance ${tiers[0]} (baseline ${tiers[1]})`);
  const result: BaselineComparison = {
    comparable: mismatches.length === 0, mismatches, growth, regressions: [], fixed: [], added: [], notRun: [], compared: 0, error: null, ok: false,
  };
  if (!result.comparable) return result;

  const ran = new Map(report.adapters.map((a) => [a.name, a]));
  for (const [name, base] of Object.entries(baseline.adapters)) {
    const a = ran.get(name);
    const baseIds = Object.keys(base.checks);
    if (!a) {
      result.notRun.push(...baseIds.map((id) => `${name} ${id}`));
      continue;
    }
    const now = new Map(a.checks.map((c) => [c.id, c]));
    for (const id of baseIds) {
      const before = base.checks[id]!;
      const c = now.get(id);
      if (a.state !== 'ran') {
        if (passed(before.status)) {
          result.regressions.push({
            adapter: name, check: id, kind: 'no longer runs', before, now: { status: 'adapter did not run', worstRatio: null, quantity: null }, growth: null,
            message: `${name} ${id}: passed in the baseline; the adapter did not run now (${a.state}: ${a.message ?? ''})`,
          });
        }
        continue;
      }
      if (!c) {
        result.notRun.push(`${name} ${id}`);
        continue;
      }
      result.compared++;
      const nowRatio = c.worst?.ratio ?? null;
      const nowInfo = { status: c.status, worstRatio: nowRatio, quantity: c.worst?.quantity ?? null };
      if (!passed(before.status)) {
        if (passed(c.status)) result.fixed.push(`${name} ${id} (was ${before.status})`);
        continue;
      }
      if (c.status === 'fail' || c.status === 'error') {
        result.regressions.push({
          adapter: name, check: id, kind: 'now failing', before, now: nowInfo, growth: null,
          message: `${name} ${id}: passed in the baseline (worst ${fmtRatio(before.worstRatio)} of bound), now ${c.status}s: ${c.message.split('\n')[0]!.slice(0, 240)}`,
        });
      } else if (!passed(c.status)) {
        result.regressions.push({
          adapter: name, check: id, kind: 'no longer runs', before, now: nowInfo, growth: null,
          message: `${name} ${id}: passed in the baseline, now ${c.status}: ${c.message}`,
        });
      } else if (nowRatio !== null) {
        const b = before.worstRatio ?? 0;
        if (nowRatio > growth.factor * b && nowRatio - b > growth.floor) {
          const g = b > 0 ? nowRatio / b : Infinity;
          result.regressions.push({
            adapter: name, check: id, kind: 'error grew', before, now: nowInfo, growth: g,
            message: `${name} ${id}: worst error grew ${fmtFactor(g)}, from ${fmtRatio(b)} to ${fmtRatio(nowRatio)} of its bound ` +
              `(in ${c.worst?.quantity ?? '?'}; baseline in ${before.quantity ?? '?'}); allowed: at most ${growth.factor}× or +${growth.floor} of the bound`,
          });
        }
      }
    }
    for (const c of a.checks) if (!(c.id in base.checks)) result.added.push(`${name} ${c.id}`);
  }
  for (const a of report.adapters) if (!(a.name in baseline.adapters)) result.added.push(...a.checks.map((c) => `${a.name} ${c.id}`));
  if (result.compared === 0 && result.regressions.length === 0) {
    result.error = `compared nothing: no check of the baseline ran (adapters in the baseline: ${Object.keys(baseline.adapters).join(', ') || 'none'}; ` +
      `in this run: ${report.adapters.map((a) => `${a.name} (${a.state})`).join(', ') || 'none'})`;
  }
  result.ok = result.regressions.length === 0 && result.error === null;
  return result;
}

/** The verdict as text: one line per regression, then a summary line. */
export function formatBaselineComparison(c: BaselineComparison, file = 'the baseline'): string {
  if (!c.comparable) {
    return `baseline ${file}: NOT COMPARABLE — this run differs in ${c.mismatches.join(', ')}; ` +
      'worst errors are compared only between runs of the same cases (rerun with the baseline\'s settings, or rewrite it)';
  }
  if (c.error) return `baseline ${file}: ERROR — ${c.error}`;
  const lines: string[] = [];
  for (const r of c.regressions) lines.push(`REGRESSION (${r.kind}) ${r.message}`);
  if (c.fixed.length) lines.push(`now passing (rewrite the baseline to keep them): ${c.fixed.join(', ')}`);
  if (c.added.length) lines.push(`not in the baseline (not gated): ${c.added.length} adapter/check pairs`);
  if (c.notRun.length) lines.push(`in the baseline but not run: ${c.notRun.length} adapter/check pairs`);
  const rule = `error growth allowed: ≤ ${c.growth.factor}× or ≤ +${c.growth.floor} of the bound`;
  lines.push(c.ok
    ? `baseline ${file}: OK — ${c.compared} checks compared, no regression (${rule})`
    : `baseline ${file}: FAILED — ${c.regressions.length} regression(s) in ${c.compared} checks compared (${rule})`);
  return lines.join('\n');
}
