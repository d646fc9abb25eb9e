/**
 * The reports a CI gate reads never disagree with the exit status: every report carries the final exit code,
 * they are written all or nothing (a --junit that cannot be written leaves no JSON claiming exit code 0),
 * adapters that fail to load appear in both JSON and JUnit, and a report never overwrites the adapter being
 * checked, another tool's file or a report of another kind.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../cli/program.js';
import { galleryJson } from '../../cli/commands/mutants.js';
import { checkReportTargets, writeReportFile } from '../../conformance/report/write_file.js';

const dir = mkdtempSync(join(tmpdir(), 'normcheck-reports-'));
const quick = ['--quick', '--seed', '42', '--only', 'ln.forward'];

async function run(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), stderrIsTTY: false });
  return { code, stdout, stderr };
}

const json = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

describe('reports and the exit code', () => {
  it('writes no report when one of them cannot be written after the run, so no JSON says exit code 0 while the run exits 2', async () => {
    const out = join(dir, 'midrun');
    mkdirSync(join(out, 'junit'), { recursive: true });
    // An adapter whose setup() puts a file where the JUnit report's folder was: the target passed the checks
    // before the run and fails only when written (a disk that filled, a folder removed by another job).
    const adapter = join(out, 'sabotage.mjs');
    writeFileSync(adapter, `import { rmSync, writeFileSync } from 'node:fs';
export default { name: 'sabotage', precision: 'float64', layout: 'NCHW',
  setup() { rmSync(${JSON.stringify(join(out, 'junit'))}, { recursive: true }); writeFileSync(${JSON.stringify(join(out, 'junit'))}, 'in the way'); },
  lnForward: ({ x }) => ({ y: Float64Array.from(x) }) };\n`);
    const r = await run('check', adapter, '--quick', '--seed', '1', '--only', 'hygiene.no_input_mutation',
      '--json', join(out, 'report.json'), '--junit', join(out, 'junit', 'report.xml'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--junit \S+junit\/report\.xml: cannot write the report: E(NOTDIR|EXIST).*no report was written \(all or nothing\)/);
    expect(existsSync(join(out, 'report.json'))).toBe(false);
  });

  it('carries the final exit code in the JSON and in every JUnit testsuite', async () => {
    const out = join(dir, 'carry');
    const r = await run('check', 'reference', 'no-such-adapter', ...quick, '--json', join(out, 'r.json'), '--junit', join(out, 'r.xml'));
    expect(r.code).toBe(2);
    expect(json(join(out, 'r.json')).exitCode).toBe(2);
    const xml = readFileSync(join(out, 'r.xml'), 'utf8');
    expect(xml).toMatch(/<testsuites name="normcheck"/);
    expect(xml.match(/<property name="normcheck\.exitCode" value="2"\/>/g)).toHaveLength(2);
  });
});

describe('adapters that fail to load', () => {
  it('appear in the JSON (loadErrors, the spec and its message) and the JUnit (an error testcase)', async () => {
    const out = join(dir, 'load');
    const r = await run('check', 'reference', 'no-such-adapter', ...quick, '--json', join(out, 'r.json'), '--junit', join(out, 'r.xml'));
    expect(r.code).toBe(2);
    const report = json(join(out, 'r.json'));
    expect(report.summary.loadErrors).toBe(1);
    expect(report.loadFailures).toEqual([{ spec: 'no-such-adapter', message: expect.stringMatching(/^no-such-adapter: not a built-in adapter and no such file/), required: true }]);
    const xml = readFileSync(join(out, 'r.xml'), 'utf8');
    expect(xml).toMatch(/<testsuite name="normcheck no-such-adapter \(failed to load\)"[^>]*errors="1"/);
    expect(xml).toMatch(/<testcase classname="normcheck\.no-such-adapter" name="load">\s*<error message="no-such-adapter: not a built-in adapter/);
    expect(r.stdout).toMatch(/^no-such-adapter: failed to load: /m);
    expect(r.stdout).toMatch(/1 adapter failed to load/);
  });

  it('are reported even when no named adapter loads at all', async () => {
    const out = join(dir, 'none');
    const bad = join(out, 'bad.mjs');
    mkdirSync(out, { recursive: true });
    writeFileSync(bad, 'export default { name: "bad", precision: "float8", layout: "NCHW" };\n');
    const r = await run('check', bad, ...quick, '--json', join(out, 'r.json'), '--junit', join(out, 'r.xml'));
    expect(r.code).toBe(2);
    expect(json(join(out, 'r.json'))).toMatchObject({ exitCode: 2, summary: { loadErrors: 1 }, loadFailures: [{ spec: bad, required: true }] });
    expect(readFileSync(join(out, 'r.xml'), 'utf8')).toMatch(/adapter\.precision must be/);
  });
});

describe('refusing to overwrite what is not a report', () => {
  const adapterSource = 'export default { name: "mine", precision: "float64", layout: "NCHW", lnForward: ({ x }) => ({ y: Float64Array.from(x) }) };\n';

  it('refuses --json onto the adapter module being checked, before the run, and leaves its source as it was', async () => {
    const mine = join(dir, 'my-adapter.mjs');
    writeFileSync(mine, adapterSource);
    const r = await run('check', mine, ...quick, '--json', mine);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--json \S+my-adapter\.mjs: refusing to write the report over the adapter module/);
    expect(r.stdout).toBe('');
    expect(readFileSync(mine, 'utf8')).toBe(adapterSource);
  });

  it.each([
    ['--json', 'notes.txt', 'my notes\n', /refusing to overwrite an existing file that is not a normcheck JSON report/],
    ['--json', 'other.json', '{"name": "package"}\n', /not a normcheck JSON report/],
    ['--junit', 'jest.xml', '<?xml version="1.0"?>\n<testsuites name="jest tests" tests="3"></testsuites>\n', /not a normcheck JUnit report/],
    ['--write-baseline', 'report-not-baseline.json', '{\n  "schema": "normcheck-report/1"\n}\n', /not a normcheck baseline/],
  ])('refuses %s onto an existing %s that is not a report of its kind', async (flag, name, content, message) => {
    const file = join(dir, name);
    writeFileSync(file, content);
    const r = await run('check', 'reference', ...quick, flag, file);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(readFileSync(file, 'utf8')).toBe(content);
  });

  it('refuses a folder, a device and one file for two reports', async () => {
    const folder = join(dir, 'a-folder');
    mkdirSync(folder, { recursive: true });
    expect((await run('check', 'reference', ...quick, '--json', folder)).stderr).toMatch(/--json \S+a-folder: cannot write the report: EISDIR/);
    if (existsSync('/dev/full')) expect((await run('check', 'reference', ...quick, '--json', '/dev/full')).stderr).toMatch(/not a regular file/);
    const same = join(dir, 'same.out');
    const r = await run('check', 'reference', ...quick, '--json', same, '--junit', same);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--junit \S+same\.out: the same file as --json/);
  });

  it('replaces its own reports and empty files', async () => {
    const file = join(dir, 'again.json');
    writeFileSync(file, '');
    expect((await run('check', 'reference', ...quick, '--json', file)).code).toBe(0);
    expect((await run('check', 'reference', ...quick, '--json', file)).code).toBe(0);
    const xml = join(dir, 'again.xml');
    expect((await run('check', 'reference', ...quick, '--junit', xml)).code).toBe(0);
    expect((await run('check', 'reference', ...quick, '--junit', xml)).code).toBe(0);
    expect(json(file).schema).toBe('normcheck-report/1');
  });

  // root writes into read-only folders, so this can only be seen as another user
  it.skipIf(process.getuid?.() === 0)('refuses a read-only folder before the run (skipped as root: root may write anywhere)', async () => {
    const ro = join(dir, 'read-only');
    mkdirSync(ro, { recursive: true });
    chmodSync(ro, 0o555);
    const r = await run('check', 'reference', ...quick, '--json', join(ro, 'r.json'));
    chmodSync(ro, 0o755);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the folder \S+read-only is not writable/);
    expect(r.stdout).toBe('');
  });

  it('refuses mutants --json onto a file that is not a mutants report, before the gallery runs', async () => {
    const file = join(dir, 'mutants-notes.json');
    writeFileSync(file, '{"mine": true}\n');
    const r = await run('mutants', '--json', file, '--named-only', '--no-variants', '--runs', '1', '--seed', '1');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--json \S+mutants-notes\.json: refusing to overwrite an existing file that is not a normcheck mutants report/);
    expect(r.stdout).toBe('');
  });

  it('writes mutants --json with its schema and exit code, which a later run recognises as its own', () => {
    // the file's text without running the gallery (tens of seconds): a report of one mutant, missed
    const report = { seed: 1, quick: true, runs: 1, only: null, mutants: [], variants: [], score: { killed: 0, total: 1, fraction: 0 }, durationMs: 1 };
    const file = join(dir, 'mutants.json');
    writeReportFile('--json', file, galleryJson(report, 1), 'mutants-json');
    expect(json(file)).toMatchObject({ schema: 'normcheck-mutants/1', exitCode: 1, score: { killed: 0 } });
    expect(() => checkReportTargets([{ option: '--json', file, kind: 'mutants-json' }])).not.toThrow();
    expect(() => checkReportTargets([{ option: '--json', file, kind: 'json' }])).toThrow(/not a normcheck JSON report/);
  });
});
