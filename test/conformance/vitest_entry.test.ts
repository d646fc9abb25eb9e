/**
 * normcheck/vitest (conformance/vitest.ts) in a vitest run of its own, as a user's project runs it: one
 * test per check named by its id, failures with the CLI's counterexample, seed and replay, skipped tests for
 * what is not provided or not installed, expectations honoured; bad options are errors at registration.
 * The nested run uses this repository's vitest on a temporary project; the consumer test (test/package)
 * does the same with the packed package installed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectChecks } from '../../conformance/catalog.js';
import { describeConformance } from '../../conformance/vitest.js';
import { runCli } from '../../cli/program.js';

const entry = resolve('conformance/vitest.ts');
const dir = mkdtempSync(join(tmpdir(), 'normcheck-vitest-'));

/** float32 BatchNorm training forward with the one-pass variance E[x²] - E[x]²: fails bn.train.offset_1e4. */
const ONE_PASS = `{
  name: 'one-pass', precision: 'float32', layout: 'NCHW',
  bnTrainForward({ x, shape, weight, bias, runningMean, runningVar, momentum, eps }) {
    const [N, C] = shape, S = x.length / (N * C), M = N * S, f = momentum ?? 0.1;
    const y = new Float32Array(x.length), rm = new Float32Array(C), rv = new Float32Array(C);
    for (let c = 0; c < C; c++) {
      let s1 = 0, s2 = 0;
      for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) { const v = x[(n * C + c) * S + s]; s1 = Math.fround(s1 + v); s2 = Math.fround(s2 + Math.fround(v * v)); }
      const m = Math.fround(s1 / M), v = Math.fround(Math.fround(s2 / M) - Math.fround(m * m)), r = 1 / Math.sqrt(v + eps);
      for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) { const i = (n * C + c) * S + s; y[i] = (x[i] - m) * r * (weight ? weight[c] : 1) + (bias ? bias[c] : 0); }
      rm[c] = (1 - f) * runningMean[c] + f * m; rv[c] = (1 - f) * runningVar[c] + f * v * M / (M - 1);
    }
    return { y, runningMean: rm, runningVar: rv };
  },
}`;

const onePassModule = join(dir, 'one-pass.mjs');
writeFileSync(onePassModule, `export default ${ONE_PASS};\n`);
writeFileSync(join(dir, 'expect.txt'), 'one-pass  bn.train.offset_1e4  one-pass variance, fixed in v2\n');

const FILES: Record<string, string> = {
  'builtin.test.mjs': `describeConformance('reference', { quick: true, seed: 7, only: 'ln.forward' });`,
  'norms.test.mjs': `describeConformance('reference', { quick: true, seed: 7, norms: ['rms'] });`,
  'object.test.mjs': `describeConformance(${ONE_PASS}, { quick: true, seed: 42, runs: 5, only: 'bn.train.offset_1e4,ln.forward' });`,
  'path.test.mjs': `describeConformance(${JSON.stringify(onePassModule)}, { quick: true, seed: 42, only: 'bn.train.offset_1e4' });`,
  'expect.test.mjs': `describeConformance(new URL('./one-pass.mjs', import.meta.url), { quick: true, seed: 42, only: 'bn.train.offset_1e4', expectations: ${JSON.stringify(join(dir, 'expect.txt'))} });`,
  'absent.test.mjs': `describeConformance({ name: 'absent', precision: 'float32', layout: 'NCHW', available: () => 'not installed: npm install some-backend@1.2.3', lnForward() { throw new Error('never called'); } }, { quick: true, only: 'ln.forward' });`,
  'missing.test.mjs': `describeConformance('./no-such-adapter.mjs', { quick: true, only: 'ln.forward' });`,
  'features.test.mjs': `describeConformance('reference', { quick: true, seed: 7, only: 'ln.forward', skip: 'ln.forward.odd_sizes', without: ['multi_axis'] });`,
  // a child process speaking the wire protocol (a JavaScript one: node is all it needs)
  'subprocess.test.mjs': `describeConformance(${JSON.stringify(`subprocess:node ${resolve('test/hosts/fixtures/wire_child.mjs')} ok`)}, { quick: true, seed: 7, only: 'ln.forward.row_independence,bn.train.forward' });`,
};

interface Assertion { fullName: string; title: string; status: string; failureMessages: string[] }
let results: Record<string, Assertion[]> = {};
let fileStatus: Record<string, string> = {};
let printed = '';
let exitCode: number | null = null;

beforeAll(() => {
  for (const [name, body] of Object.entries(FILES)) writeFileSync(join(dir, name), `import { describeConformance } from ${JSON.stringify(entry)};\n${body}\n`);
  writeFileSync(join(dir, 'vitest.config.mjs'), `export default { test: { include: ['*.test.mjs'], pool: 'forks', maxWorkers: 2 } };\n`);
  const out = join(dir, 'report.json');
  const r = spawnSync(resolve('node_modules/.bin/vitest'), ['run', '--root', dir, '--reporter', 'default', '--reporter', 'json', '--outputFile.json', out], {
    encoding: 'utf8', timeout: 120_000, cwd: dir, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  printed = r.stdout + r.stderr;
  exitCode = r.status;
  const report = JSON.parse(readFileSync(out, 'utf8')) as { testResults: { name: string; status: string; assertionResults: Assertion[] }[] };
  results = Object.fromEntries(report.testResults.map((f) => [f.name.slice(dir.length + 1), f.assertionResults]));
  fileStatus = Object.fromEntries(report.testResults.map((f) => [f.name.slice(dir.length + 1), f.status]));
}, 120_000);

const byTitle = (file: string, title: string) => results[file]!.find((a) => a.title === title)!;

describe('describeConformance in a vitest run', () => {
  it('leaves out the checks of option skip and the cases of option without (a check with only those: skipped as not applicable)', () => {
    expect(results['features.test.mjs']!.map((a) => a.title)).toEqual(selectChecks('ln.forward', null, 'ln.forward.odd_sizes').map((c) => c.id));
    expect(byTitle('features.test.mjs', 'ln.forward.multi_axis').status).toBe('skipped');
    expect(results['features.test.mjs']!.filter((a) => a.status === 'failed')).toEqual([]);
  });

  it('registers one test per selected check, named by its id, under "normcheck <adapter>"', () => {
    expect(results['builtin.test.mjs']!.map((a) => a.title)).toEqual(selectChecks('ln.forward').map((c) => c.id));
    expect(results['builtin.test.mjs']!.every((a) => a.fullName.startsWith('normcheck reference '))).toBe(true);
    expect(results['builtin.test.mjs']!.map((a) => a.status)).toContain('passed');
    expect(results['builtin.test.mjs']!.filter((a) => a.status === 'failed')).toEqual([]);
  });

  it('registers only the checks of the norms given (and the hygiene checks), as --norm selects them', () => {
    expect(results['norms.test.mjs']!.map((a) => a.title)).toEqual(selectChecks(undefined, ['rms']).map((c) => c.id));
    expect(results['norms.test.mjs']!.some((a) => a.title.startsWith('hygiene.'))).toBe(true);
    expect(results['norms.test.mjs']!.filter((a) => a.status !== 'passed').map((a) => `${a.title}: ${a.status}`)).toEqual([]);
  });

  it('fails the check the CLI fails, with its counterexample and seed, and a replay that is the same call narrowed to the failure', async () => {
    const failed = byTitle('object.test.mjs', 'bn.train.offset_1e4');
    expect(failed.status).toBe('failed');
    const text = failed.failureMessages.join('\n');
    const cli = await runCli(['check', onePassModule, '--quick', '--seed', '42', '--only', 'bn.train.offset_1e4'], { stdout: (t) => void (cliOut += t), stderr: () => undefined, stderrIsTTY: false });
    expect(cli).toBe(1);
    // the same seed draws the same failure: the CLI's counterexample line appears verbatim
    expect(text).toContain(/counterexample: .*/.exec(cliOut)![0]);
    expect(text).toMatch(/FAIL one-pass · bn\.train\.offset_1e4 — /);
    expect(text).toMatch(/fast-check seed 42, path "[\d:]+"/);
    expect(text).toMatch(/replay: describeConformance\(adapter, \{ quick: true, runs: 5, only: 'bn\.train\.offset_1e4', seed: 42, path: '[\d:]+' \}\)/);
    // a capability the adapter lacks is a skipped test, with the reason
    expect(byTitle('object.test.mjs', 'ln.forward').status).toBe('skipped');
  });
  let cliOut = '';

  it('gives an adapter loaded from a path the CLI replay command', () => {
    const text = byTitle('path.test.mjs', 'bn.train.offset_1e4').failureMessages.join('\n');
    expect(text).toMatch(new RegExp(`replay: npx normcheck check ${onePassModule.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} --only bn\\.train\\.offset_1e4 --seed 42 --path "[\\d:]+" --quick`));
  });

  it('passes an expected failure from the expectations file (a file: URL works as the adapter)', () => {
    expect(byTitle('expect.test.mjs', 'bn.train.offset_1e4').status).toBe('passed');
  });

  it('runs a subprocess: adapter through the wire protocol: its checks pass, what it does not declare is skipped', () => {
    expect(results['subprocess.test.mjs']!.map((a) => [a.title, a.status])).toEqual([['bn.train.forward', 'skipped'], ['ln.forward.row_independence', 'passed']]);
    expect(results['subprocess.test.mjs']![1]!.fullName).toMatch(/^normcheck subprocess:node \S+wire_child\.mjs ok /);
  });

  it('skips every test of an adapter whose package is not installed', () => {
    expect(results['absent.test.mjs']!.map((a) => a.status)).toEqual(selectChecks('ln.forward').map(() => 'skipped'));
  });

  it('fails the suite of an adapter that cannot be loaded (its beforeAll), naming the file, and the run exits 1', () => {
    expect(fileStatus['missing.test.mjs']).toBe('failed');
    expect(results['missing.test.mjs']!.map((a) => a.status)).toEqual(selectChecks('ln.forward').map(() => 'skipped'));
    expect(printed).toMatch(/no-such-adapter\.mjs: not a built-in adapter and no such file/);
    expect(exitCode).toBe(1);
  });
});

describe('describeConformance options', () => {
  const adapter = { name: 'a', precision: 'float32', layout: 'NCHW' } as const;
  it.each([
    [{ quik: true }, /unknown option 'quik' \(options: quick, seed, runs/],
    [{ runs: 0 }, /option runs must be a positive integer, got 0/],
    [{ seed: 1.5 }, /option seed must be an integer, got 1.5/],
    [{ profile: 'tensorflow' }, /option profile must be one of pytorch, keras, onnx, got "tensorflow"/],
    [{ only: 'bn.nothing' }, /option only "bn.nothing": no check matches/],
    [{ skip: 'bn.nothing' }, /option skip "bn.nothing": no check matches/],
    [{ only: 'ln.forward.odd_sizes', skip: 'ln.forward' }, /option only "ln.forward.odd_sizes" with skip "ln.forward": no check matches/],
    [{ norms: 'rms' }, /option norms must be a non-empty array of norm ids \('bn', 'ln', 'gn', 'in', 'rms'\), got "rms"/],
    [{ norms: ['rms', 'rmsnorm'] }, /option norms must be a non-empty array of norm ids .*, got \["rms","rmsnorm"\]/],
    [{ only: 'bn.train.forward', norms: ['ln'] }, /option only "bn.train.forward" with norms \["ln"\]: no check matches/],
    [{ without: 'rank5' }, /option without must be a non-empty array of feature names/],
    [{ without: ['rank6'] }, /option without: unknown feature "rank6" \(did you mean rank2 or rank3 or rank4\?\)/],
    [{ path: '1:2' }, /option path replays one failure and needs the seed/],
    [{ isolate: true }, /option isolate needs the adapter as a module path/],
    [{ expectations: [{ adapter: 'a', check: 'bn.backward', reason: 'r' }] }, /expectations a bn\.backward match no check/],
  ])('rejects %j when the suite is registered, naming the option', (options, message) => {
    expect(() => describeConformance(adapter, options as never)).toThrow(message);
  });

  it('rejects a first argument that is no adapter', () => {
    expect(() => describeConformance(42 as never)).toThrow(/the first argument must be an adapter object, a built-in name, a module path or a file: URL, got number/);
  });
});
