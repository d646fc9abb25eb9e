/**
 * `normcheck check --shard i/n` and `normcheck merge`: the n shards of a run together hold every (adapter,
 * check) result of the unsharded run exactly once, identical field by field (same seed, so the same cases,
 * the same counterexamples and replay commands), and merge turns them back into the unsharded report, exit
 * code and summary included. Reports that are not the shards of one run are refused, naming the files.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHECKS } from '../../conformance/catalog.js';
import { runCli } from '../../cli/program.js';

const dir = mkdtempSync(join(tmpdir(), 'normcheck-shard-'));
const file = (name: string) => join(dir, name);

/** A float64 LayerNorm that divides the variance by D - 1: fails every LayerNorm forward check it reaches. */
const unbiased = file('unbiased-ln.mjs');
writeFileSync(unbiased, `export default {
  name: 'unbiased-ln', precision: 'float64', layout: 'NCHW',
  lnForward({ x, normalizedShape, weight, bias, eps }) {
    const D = normalizedShape.reduce((a, b) => a * b, 1), R = x.length / D, y = new Float64Array(x.length);
    for (let r = 0; r < R; r++) {
      let s = 0, v = 0;
      for (let i = 0; i < D; i++) s += x[r * D + i];
      const m = s / D;
      for (let i = 0; i < D; i++) v += (x[r * D + i] - m) ** 2;
      const rs = 1 / Math.sqrt(v / Math.max(D - 1, 1) + eps);
      for (let i = 0; i < D; i++) y[r * D + i] = (x[r * D + i] - m) * rs * (weight ? weight[i] : 1) + (bias ? bias[i] : 0);
    }
    return { y };
  },
};
`);

async function run(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), stderrIsTTY: false });
  return { code, stdout, stderr };
}

interface JsonCheck { id: string; durationMs?: number; [k: string]: unknown }
interface JsonReport {
  summary: Record<string, number>; exitCode: number; seed: number;
  selection: { checks: string[]; adapters: string[]; shard: { index: number; count: number } | null };
  adapters: { name: string; state: string; checks: JsonCheck[] }[];
}
const read = (name: string) => JSON.parse(readFileSync(file(name), 'utf8')) as JsonReport;
/** Every check result keyed by adapter · id, without its wall-clock duration. */
const results = (r: JsonReport) => new Map(r.adapters.flatMap((a) => a.checks.map(({ durationMs: _, ...c }) => [`${a.name} · ${c.id}`, c] as const)));

const ADAPTERS = ['reference', 'kernels', unbiased];
const RUN = ['--quick', '--seed', '20261127', '--no-progress'];
const N = 3;
const codes: number[] = [];
let full: { code: number; stdout: string };

beforeAll(async () => {
  full = await run('check', ...ADAPTERS, ...RUN, '--json', file('full.json'));
  for (let i = 1; i <= N; i++) codes.push((await run('check', ...ADAPTERS, ...RUN, '--shard', `${i}/${N}`, '--json', file(`shard-${i}.json`))).code);
}, 120_000);

describe('normcheck check --shard i/n', () => {
  it('the n shards hold every (adapter, check) result of the unsharded run exactly once, identical field by field', () => {
    const whole = results(read('full.json'));
    expect(whole.size).toBe(ADAPTERS.length * CHECKS.length);
    const union = new Map<string, unknown>();
    for (let i = 1; i <= N; i++) {
      for (const [key, c] of results(read(`shard-${i}.json`))) {
        expect(union.has(key), `${key} in two shards`).toBe(false);
        union.set(key, c);
      }
    }
    expect([...union.keys()].sort()).toEqual([...whole.keys()].sort());
    for (const [key, c] of whole) expect(union.get(key), key).toEqual(c);
    expect([...whole.values()].some((c) => c.status === 'fail')).toBe(true);
  });

  it('splits the units evenly (round-robin: shard sizes differ by at most one) and records the shard in the report', () => {
    const sizes = Array.from({ length: N }, (_, i) => results(read(`shard-${i + 1}.json`)).size);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    expect(read('shard-2.json').selection.shard).toEqual({ index: 2, count: N });
    expect(read('full.json').selection.shard).toBeNull();
    // each shard exits by its own units: the failing LayerNorm checks land in more than one shard
    expect(codes.filter((c) => c === 1).length).toBeGreaterThan(1);
  });

  it.each(['0/2', '3/2', 'a/b', '1/0', '2', '1/2/3'])('exits 2 for --shard %s, saying what is expected', async (bad) => {
    const r = await run('check', 'reference', '--shard', bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`option '--shard <i/n>' argument '${bad}' is invalid`));
    expect(r.stderr).toMatch(/i\/n/);
  });

  it('refuses --baseline and --write-baseline on a shard (they belong to the merged report)', async () => {
    const r = await run('check', 'reference', '--shard', '1/2', '--write-baseline', file('b.json'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/merge the shards' --json reports and gate that \(normcheck merge shard-\*\.json --write-baseline FILE\)/);
  });
});

describe('normcheck merge', () => {
  const shards = () => Array.from({ length: N }, (_, i) => file(`shard-${i + 1}.json`));
  beforeAll(async () => {
    writeFileSync(file('truncated.json'), readFileSync(file('shard-1.json'), 'utf8').slice(0, 2000));
    await run('check', ...ADAPTERS, '--quick', '--seed', '1', '--shard', `2/${N}`, '--json', file('other-seed.json'));
    await run('check', ...ADAPTERS, ...RUN, '--only', 'bn', '--shard', `2/${N}`, '--json', file('other-only.json'));
  }, 60_000);

  it('turns the shards back into the unsharded report: same results, summary, exit code and table', async () => {
    const r = await run('merge', ...shards().reverse(), '--json', file('merged.json'), '--junit', file('merged.xml'));
    expect(r.code).toBe(full.code);
    expect(r.code).toBe(1);
    const merged = read('merged.json');
    const whole = read('full.json');
    expect(merged.summary).toEqual(whole.summary);
    expect(merged.exitCode).toBe(whole.exitCode);
    expect(merged.selection).toEqual(whole.selection);
    // in catalog order per adapter, as the unsharded run lists them
    expect(merged.adapters.map((a) => [a.name, a.checks.map((c) => c.id)])).toEqual(whole.adapters.map((a) => [a.name, a.checks.map((c) => c.id)]));
    expect(results(merged)).toEqual(results(whole));
    const table = (s: string) => s.replace(/, [\d.]+ s$/m, '');
    expect(table(r.stdout)).toBe(table(full.stdout));
    expect(readFileSync(file('merged.xml'), 'utf8')).toMatch(/<testcase classname="normcheck\.unbiased-ln\.differential" name="ln\.forward"/);
  });

  it('gates the merged report on a baseline (written from the merge), with check\'s exit codes', async () => {
    const passing = Array.from({ length: 2 }, (_, i) => file(`ref-${i + 1}.json`));
    for (let i = 0; i < 2; i++) expect((await run('check', 'reference', ...RUN, '--shard', `${i + 1}/2`, '--json', passing[i]!)).code).toBe(0);
    const w = await run('merge', ...passing, '--write-baseline', file('ref-baseline.json'));
    expect(w.code).toBe(0);
    expect(w.stdout).toMatch(/baseline written to/);
    const g = await run('merge', ...passing, '--baseline', file('ref-baseline.json'));
    expect(g.code).toBe(0);
  });

  it('never writes a report over one of the shards it merges', async () => {
    const before = readFileSync(file('shard-1.json'), 'utf8');
    const r = await run('merge', ...shards(), '--json', file('shard-1.json'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--json .*shard-1\.json: refusing to write the report over the shard report .*shard-1\.json being merged/);
    expect(readFileSync(file('shard-1.json'), 'utf8')).toBe(before);
  });

  it.each([
    ['a missing shard', () => [file('shard-1.json'), file('shard-3.json')], /shard 2\/3 missing \(given: .*shard-1\.json = 1\/3, .*shard-3\.json = 3\/3\)/],
    ['a repeated shard', () => [file('shard-1.json'), file('shard-1.json'), file('shard-3.json')], /shard-1\.json and .*shard-1\.json are both shard 1\/3/],
    ['a report that is no shard', () => [file('full.json'), file('shard-1.json')], /full\.json: not a shard, while .*shard-1\.json is shard 1\/3/],
    ['another seed', () => [file('shard-1.json'), file('other-seed.json'), file('shard-3.json')], /the reports differ in seed \(.*shard-1\.json: 20261127, .*other-seed\.json: 1, .*\); merge only the shards of one run/],
    ['another catalog', () => [file('shard-1.json'), file('other-only.json'), file('shard-3.json')], /the reports differ in selected checks/],
    ['a truncated report', () => [file('truncated.json'), file('shard-2.json'), file('shard-3.json')], /truncated\.json: not a complete JSON report \(.*\); was the run that wrote it interrupted\?/],
    ['a file that is no report', () => [file('unbiased-ln.mjs')], /unbiased-ln\.mjs: not a complete JSON report/],
    ['a missing file', () => [file('nope.json'), file('shard-2.json')], /nope\.json: cannot read it \(ENOENT\)/],
  ])('exits 2 for %s, naming the files', async (_what, files, message) => {
    const r = await run('merge', ...files());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });
});
