/**
 * A baseline gate that cannot pass by accident: a malformed entry is an error naming the file and the entry
 * (before the run), and a gate that compares nothing — a renamed adapter, the wrong baseline file, an --only
 * outside it — is an error naming the file, not "OK — 0 checks compared".
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/program.js';
import { parseBaseline } from '../../conformance/baseline.js';

const dir = mkdtempSync(join(tmpdir(), 'normcheck-gate-'));
const base = join(dir, 'kernels.json');
const only = ['--only', 'ln.forward.odd_sizes'];

async function run(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), stderrIsTTY: false });
  return { code, stdout, stderr };
}

function variant(name: string, edit: (b: Record<string, any>) => void): string {
  const b = JSON.parse(readFileSync(base, 'utf8'));
  edit(b);
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(b, null, 2));
  return file;
}

beforeAll(async () => {
  expect((await run('check', 'kernels', '--quick', '--seed', '5', ...only, '--write-baseline', base)).code).toBe(0);
});

describe('a malformed baseline', () => {
  it.each<[string, (b: Record<string, any>) => void, RegExp]>([
    ['worstRatio "abc"', (b) => { b.adapters.kernels.checks['ln.forward.odd_sizes'].worstRatio = 'abc'; },
      /abc\S*\.json: adapters\["kernels"\]\.checks\["ln\.forward\.odd_sizes"\]\.worstRatio must be a number ≥ 0, null or "Infinity", got "abc"/],
    ['a negative worstRatio', (b) => { b.adapters.kernels.checks['ln.forward.odd_sizes'].worstRatio = -1; }, /\.worstRatio must be a number ≥ 0, null or "Infinity", got -1/],
    ['a null adapter entry', (b) => { b.adapters.kernels = null; }, /: adapters\["kernels"\] must be an object \{ "state", "checks" \}, got null/],
    ['checks that are an array', (b) => { b.adapters.kernels.checks = []; }, /adapters\["kernels"\]\.checks must be an object of check id → entry, got \[\]/],
    ['a null check entry', (b) => { b.adapters.kernels.checks['ln.forward.odd_sizes'] = null; }, /adapters\["kernels"\]\.checks\["ln\.forward\.odd_sizes"\] must be an object \{ "status", "worstRatio", "quantity" \}, got null/],
    ['an unknown state', (b) => { b.adapters.kernels.state = 'fine'; }, /adapters\["kernels"\]\.state must be one of "ran", .* got "fine"/],
    ['a numeric quantity', (b) => { b.adapters.kernels.checks['ln.forward.odd_sizes'].quantity = 3; }, /\.quantity must be a string or null, got 3/],
    ['an unknown status', (b) => { b.adapters.kernels.checks['ln.forward.odd_sizes'].status = 'ok'; }, /adapters\["kernels"\]\.checks\["ln\.forward\.odd_sizes"\]\.status must be one of "pass", .* got "ok"/],
    ['an unknown profile override', (b) => { b.profileOverride = 'tensorflow'; }, /profileOverride must be null or one of "pytorch", "keras", "onnx", got "tensorflow"/],
  ])('with %s is an error naming the file and the entry, before the run', async (name, edit, message) => {
    const file = variant(name.replace(/\W+/g, '-'), edit);
    const r = await run('check', 'kernels', ...only, '--baseline', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain(file);
    expect(r.stdout).toBe('');
  });

  it('still reads the infinite ratio that --write-baseline stores as "Infinity"', () => {
    const text = readFileSync(base, 'utf8').replace(/"worstRatio": [^,]+/, '"worstRatio": "Infinity"');
    expect(parseBaseline(text, 'b.json').adapters['kernels']!.checks['ln.forward.odd_sizes']!.worstRatio).toBe(Infinity);
  });
});

describe('a gate that compares nothing', () => {
  it('is an error naming the file when no adapter of the run is in the baseline (a renamed adapter, the wrong file)', async () => {
    const r = await run('check', 'reference', ...only, '--baseline', base);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--baseline \S+kernels\.json: compares nothing: the baseline has adapters kernels; this run has reference/);
    expect(r.stdout).toBe('');
  });

  it('is an error when --only selects no check the baseline has', async () => {
    const r = await run('check', 'kernels', '--only', 'ln.forward.constant_row', '--baseline', base);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--baseline \S+kernels\.json: compares nothing: none of the 1 selected checks is in the baseline for kernels/);
  });

  it('is an error after the run, in the JSON too, when the adapter did not run and no check could be compared', async () => {
    const gone = join(dir, 'gone.mjs');
    writeFileSync(gone, `export default { name: 'gone', precision: 'float32', layout: 'NCHW', available: () => 'not installed: npm install gone@1',
      lnForward: () => { throw new Error('never called'); } };\n`);
    const failing = variant('gone-failing', (b) => {
      b.adapters = { gone: { state: 'ran', checks: { 'ln.forward.odd_sizes': { status: 'fail', worstRatio: 3, quantity: 'y' } } } };
    });
    const json = join(dir, 'nothing.json');
    const r = await run('check', gone, ...only, '--baseline', failing, '--json', json);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/baseline \S+gone-failing\.json: ERROR — compared nothing/);
    expect(JSON.parse(readFileSync(json, 'utf8'))).toMatchObject({ exitCode: 2, baseline: { ok: false, compared: 0, error: expect.stringMatching(/compared nothing/) } });
  });

  it('still passes when the run compares the baseline\'s checks', async () => {
    const r = await run('check', 'kernels', ...only, '--baseline', base);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/OK — 1 checks compared/);
  });
});

describe('options that need --baseline', () => {
  it.each([['--baseline-junit', join(dir, 'bj.xml')], ['--growth-factor', '3'], ['--growth-floor', '0.1']])('%s without --baseline is a usage error', async (flag, value) => {
    const r = await run('check', 'kernels', ...only, '--quick', flag, value);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`${flag} compares with a baseline and needs --baseline FILE`));
  });
});
