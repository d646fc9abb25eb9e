/**
 * `normcheck init`: the skeleton it writes passes `normcheck check` unchanged with every check "not
 * provided"; uncommented, every block is a capability of the contract with the contract's argument names
 * (the TypeScript form typechecks against the published types); it never overwrites a file or creates a
 * folder.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CAPABILITIES } from '../../conformance/adapter.js';
import { CHECKS } from '../../conformance/catalog.js';
import { runCli } from '../../cli/program.js';
import { skeleton } from '../../cli/skeleton.js';

const dir = mkdtempSync(join(tmpdir(), 'normcheck-init-'));

async function run(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), stderrIsTTY: false });
  return { code, stdout, stderr };
}

interface Report { adapters: { name: string; capabilities: string[]; checks: { id: string; status: string; message: string }[] }[] }
const readReport = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Report;

describe('normcheck init', () => {
  it('writes a skeleton that passes check unchanged, every check "not provided"', async () => {
    const file = join(dir, 'mine.mjs');
    const init = await run('init', file);
    expect(init.code).toBe(0);
    expect(init.stdout).toContain(`wrote ${file}`);
    const json = join(dir, 'mine.json');
    const r = await run('check', file, '--quick', '--seed', '1', '--json', json);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [adapter] = readReport(json).adapters;
    expect(adapter!.name).toBe('mine');
    expect(adapter!.capabilities).toEqual([]);
    expect(adapter!.checks.map((c) => c.status)).toEqual(CHECKS.map(() => 'not provided'));
  });

  it('writes the chosen layout and precision into the declaration and the documented shapes', async () => {
    const file = join(dir, 'nhwc.mjs');
    expect((await run('init', file, '--layout', 'NHWC', '--precision', 'float64')).code).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/^ {2}precision: 'float64',/m);
    expect(text).toMatch(/^ {2}layout: 'NHWC',/m);
    expect(text).toContain('x                  (N, ...spatial, C)  the input');
    expect(text).toContain('arrays as Float64Array');
    expect(text).not.toContain('(N, C, ...spatial)');
  });

  it('documents every capability of the contract, each as a commented block with the contract\'s name', () => {
    const text = skeleton({ name: 'a', layout: 'NCHW', precision: 'float32', typescript: false });
    for (const cap of CAPABILITIES) expect(text).toMatch(new RegExp(`^ {2}// ${cap}\\(\\{ [a-zA-Z, ]+ \\}\\) \\{$`, 'm'));
  });

  it('uncommented, every block is a capability the suite calls: each check errors with "not implemented yet", none is "not provided"', async () => {
    const file = join(dir, 'live.mjs');
    writeFileSync(file, skeleton({ name: 'live', layout: 'NCHW', precision: 'float32', typescript: false, enabled: CAPABILITIES }));
    const json = join(dir, 'live.json');
    const r = await run('check', file, '--quick', '--seed', '1', '--json', json);
    expect(r.code).toBe(1);
    const [adapter] = readReport(json).adapters;
    expect(adapter!.capabilities).toEqual([...CAPABILITIES]);
    const notProvided = adapter!.checks.filter((c) => c.status === 'not provided').map((c) => c.id);
    expect(notProvided).toEqual([]);
    for (const c of adapter!.checks.filter((k) => k.status !== 'skipped')) expect(c.message, c.id).toMatch(/not implemented yet/);
  });

  it('the TypeScript form typechecks against the published types, commented and uncommented, and a misspelt argument does not', () => {
    const tsc = resolve('node_modules/.bin/tsc');
    const types = resolve('dist/conformance/index.d.ts');
    if (!existsSync(types)) throw new Error('dist/ is missing: npm test builds it first (npm run build)');
    const ts = mkdtempSync(join(tmpdir(), 'normcheck-init-ts-'));
    writeFileSync(join(ts, 'commented.ts'), skeleton({ name: 'c', layout: 'NHWC', precision: 'float64', typescript: true }));
    writeFileSync(join(ts, 'live.ts'), skeleton({ name: 'l', layout: 'NCHW', precision: 'float16', typescript: true, enabled: CAPABILITIES }));
    writeFileSync(join(ts, 'misspelt.ts'), skeleton({ name: 'm', layout: 'NCHW', precision: 'float32', typescript: true, enabled: ['bnTrainForward'] })
      .replace('bnTrainForward({ x, shape,', 'bnTrainForward({ x, shapes,'));
    const config = (files: string[]) => JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', skipLibCheck: true, types: [], paths: { 'normcheck/conformance': [types] } },
      files,
    });
    writeFileSync(join(ts, 'ok.json'), config(['commented.ts', 'live.ts']));
    writeFileSync(join(ts, 'bad.json'), config(['misspelt.ts']));
    const ok = spawnSync(tsc, ['-p', join(ts, 'ok.json')], { encoding: 'utf8' });
    expect(ok.stdout + ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    const bad = spawnSync(tsc, ['-p', join(ts, 'bad.json')], { encoding: 'utf8' });
    expect(bad.stdout).toMatch(/Property 'shapes' does not exist on type 'BatchNormTrainArgs'/);
  });

  it('refuses to overwrite an existing file, and leaves it as it was', async () => {
    const file = join(dir, 'exists.mjs');
    writeFileSync(file, 'my work\n');
    const r = await run('init', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`normcheck: init: ${file} already exists; not overwriting it (choose another name, or delete it first)\n`);
    expect(readFileSync(file, 'utf8')).toBe('my work\n');
  });

  it('names a missing folder instead of creating it', async () => {
    const file = join(dir, 'no-such-folder', 'a.mjs');
    const r = await run('init', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`folder ${join(dir, 'no-such-folder')} does not exist; create it first`);
    expect(existsSync(join(dir, 'no-such-folder'))).toBe(false);
  });

  it.each([
    [['init', join(dir, 'a.txt')], /the adapter file must end in \.mjs, \.js, \.ts, \.mts \(an ES module\), got "\.txt"/],
    [['init', join(dir, 'b.mjs'), '--layout', 'nchw'], /argument 'nchw' is invalid. Allowed choices are NCHW, NHWC/],
    [['init', join(dir, 'c.mjs'), '--precision', 'bfloat16'], /argument 'bfloat16' is invalid. Allowed choices are float16, float32, float64/],
  ])('exits 2 for bad input: %j', async (argv, message) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
