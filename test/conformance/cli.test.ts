/**
 * The normcheck program, run in-process through runCli (cli/main.ts only adds process.exit): exit codes
 * 0 / 1 / 2, the table, replay commands, --json, --junit, --expect, adapters loaded from a .mjs path, usage
 * errors that name the problem, and `list`.
 */
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { FEATURE_NAMES } from '../../conformance/features.js';
import { describe, expect, it } from 'vitest';
import { CHECKS } from '../../conformance/catalog.js';
import { passed } from '../../conformance/check.js';
import example from '../../conformance/examples/my-batchnorm.js';
import { runConformance } from '../../conformance/runner.js';
import { runCli } from '../../cli/program.js';

const dir = mkdtempSync(join(tmpdir(), 'normcheck-cli-'));
/** @tensorflow/tfjs-node resolves only where it was installed with internet access (not on this project's machine). */
const tfjsNodeInstalled = (() => {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
})();
writeFileSync(join(dir, 'prefix.txt'), 'tfjs bn.backward  an old-style dotted prefix\n');

/** A user's adapter as a plain ES module: float32 BatchNorm with the one-pass variance E[x²] - E[x]². */
const onePass = join(dir, 'one-pass.mjs');
writeFileSync(onePass, `
export default {
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
};
`);

async function run(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), stderrIsTTY: false });
  return { code, stdout, stderr };
}

describe('normcheck check', () => {
  it('exits 0 and prints the table and summary when every check passes', async () => {
    const r = await run('check', 'reference', '--quick', '--seed', '42', '--only', 'bn.train,ln.forward');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^bn\.train\.forward +(0|\d\.\d+(e-\d+)?)$/m);
    expect(r.stdout).toMatch(/\d+ passed, 0 failed, 0 errors, .* seed 42/);
  });

  it('exits 1 for a failing adapter loaded from a path, with counterexample, seed, path and a replay command', async () => {
    const json = join(dir, 'report.json');
    const junit = join(dir, 'report.xml');
    const r = await run('check', onePass, '--quick', '--seed', '42', '--only', 'bn.train.offset_1e4', '--json', json, '--junit', junit);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL one-pass · bn\.train\.offset_1e4/);
    expect(r.stdout).toMatch(/counterexample: bn_train_offset_1e4_offset1e4_\(/);
    const replay = /replay: npx normcheck check (\S+) --only bn\.train\.offset_1e4 --seed 42 --path "([\d:]+)" --quick/.exec(r.stdout);
    expect(replay?.[1]).toBe(onePass);
    expect(JSON.parse(readFileSync(json, 'utf8')).summary).toMatchObject({ failed: 1, passed: 0 });
    expect(readFileSync(junit, 'utf8')).toMatch(/<testcase classname="normcheck\.one-pass\.edge" name="bn\.train\.offset_1e4"/);

    // the replay command reproduces the same failure
    const again = await run('check', onePass, '--quick', '--seed', '42', '--only', 'bn.train.offset_1e4', '--path', replay![2]!);
    expect(again.code).toBe(1);
    expect(again.stdout).toContain(/counterexample: .*/.exec(r.stdout)![0]);
  });

  it('exits 0 when the only failures are listed in --expect, and says so', async () => {
    const expect_ = join(dir, 'expect.txt');
    writeFileSync(expect_, '# adapter  check  reason\none-pass  bn.train.offset_*  one-pass variance, fixed in v2\n');
    const r = await run('check', onePass, '--quick', '--seed', '42', '--only', 'bn.train.offset_1e4', '--expect', expect_);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^bn\.train\.offset_1e4 +xfail$/m);
    expect(r.stdout).toMatch(/^ {2}one-pass variance, fixed in v2\n {4}one-pass \(1\): bn\.train\.offset_1e4$/m);
  });

  it.each([
    [['check', '--profile', 'tensorflow'], /argument 'tensorflow' is invalid. expected one of pytorch, keras, onnx/],
    [['check', 'no-such-adapter'], /no-such-adapter: not a built-in adapter and no such file \(built-ins: reference, kernels/],
    [['check', 'tfjs-nod'], /tfjs-nod: not a built-in adapter and no such file; did you mean tfjs-node\?/],
    [['check', 'ort'], /ort: not a built-in adapter and no such file; did you mean ort-node or ort-web or ort-webgpu\?/],
    [['check', 'reference', '--only', 'bn.nothing'], /--only bn.nothing: no check matches/],
    [['check', 'reference', '--path', '1:2'], /--path replays one failure and needs the --seed/],
    [['check', 'reference', '--runs', '0'], /--runs must be an integer from 1 to 10000, got "0"/],
    [['check', 'reference', '--expect', join(dir, 'missing.txt')], /--expect .*missing.txt: cannot read/],
    [['check', 'reference', '--expect', join(dir, 'prefix.txt')], /prefix.txt: tfjs bn\.backward matches no check \(for every check under it, write bn\.backward\.\*\)/],
  ])('exits 2 for a usage error: %s', async (argv, message) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('creates the missing folders of every report file (--json, --junit, --write-baseline, --baseline-junit)', async () => {
    const out = join(dir, 'fresh', 'reports');
    const r = await run('check', 'reference', '--quick', '--seed', '42', '--only', 'ln.forward',
      '--json', join(out, 'json', 'normcheck.json'), '--junit', join(out, 'junit', 'normcheck.xml'), '--write-baseline', join(out, 'base', 'b.json'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'json', 'normcheck.json'), 'utf8')).schema).toBe('normcheck-report/1');
    expect(readFileSync(join(out, 'junit', 'normcheck.xml'), 'utf8')).toMatch(/<testsuites/);
    const gated = await run('check', 'reference', '--only', 'ln.forward', '--baseline', join(out, 'base', 'b.json'), '--baseline-junit', join(out, 'bj', 'b.xml'));
    expect(gated.code).toBe(0);
    expect(readFileSync(join(out, 'bj', 'b.xml'), 'utf8')).toMatch(/normcheck baseline/);
  });

  it('exits 2 naming the file and the reason when a report cannot be written (a file stands where its folder should be)', async () => {
    const blocker = join(dir, 'not-a-folder');
    writeFileSync(blocker, 'a file, not a folder\n');
    for (const flag of ['--json', '--junit', '--write-baseline']) {
      const r = await run('check', 'reference', '--quick', '--seed', '42', '--only', 'ln.forward', flag, join(blocker, 'report.out'));
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^normcheck: ${flag} \\S*not-a-folder/report\\.out: cannot write the report: E(NOTDIR|EXIST)`));
      expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    }
  });

  it('writes the JSON report after the baseline gate: its exitCode is the final one and it lists each regression', async () => {
    const base = join(dir, 'gate', 'b.json');
    const json = join(dir, 'gate', 'report.json');
    const only = ['--only', 'bn.train.forward'];
    expect((await run('check', 'kernels', '--quick', '--seed', '11', ...only, '--write-baseline', base)).code).toBe(0);
    const clean = await run('check', 'kernels', ...only, '--baseline', base, '--json', json);
    expect(clean.code).toBe(0);
    expect(JSON.parse(readFileSync(json, 'utf8'))).toMatchObject({ exitCode: 0, baseline: { file: base, comparable: true, ok: true, compared: 1, regressions: [] } });

    // pretend the baseline was 8× more accurate: the gate fails the run, and the JSON says so
    const b = JSON.parse(readFileSync(base, 'utf8'));
    b.adapters.kernels.checks['bn.train.forward'].worstRatio /= 8;
    writeFileSync(base, JSON.stringify(b));
    const r = await run('check', 'kernels', ...only, '--baseline', base, '--growth-floor', '0', '--json', json);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/REGRESSION \(error grew\)/);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    expect(report.exitCode).toBe(1);
    expect(report.summary.failed).toBe(0);
    expect(report.baseline).toMatchObject({ file: base, comparable: true, ok: false });
    expect(report.baseline.regressions).toHaveLength(1);
    expect(report.baseline.regressions[0]).toMatchObject({ adapter: 'kernels', check: 'bn.train.forward', kind: 'error grew' });
    expect(report.baseline.regressions[0].growth).toBeCloseTo(8, 1);
  });

  it('records exit code 2 in the JSON report when a named adapter fails to load, and baseline null without --baseline', async () => {
    const json = join(dir, 'load-failed.json');
    const r = await run('check', 'reference', 'no-such-adapter', '--quick', '--seed', '42', '--only', 'ln.forward', '--json', json);
    expect(r.code).toBe(2);
    expect(JSON.parse(readFileSync(json, 'utf8'))).toMatchObject({ exitCode: 2, baseline: null });
  });

  // In-process, vitest itself can import .ts, so node's own refusal is seen only from the built bin.
  it.skipIf(!existsSync('dist/cli/main.js'))('exits 2 for a TypeScript adapter path under plain node, saying to compile it first', () => {
    const ts = join(dir, 'adapter.ts');
    writeFileSync(ts, 'export default { name: "t", precision: "float32", layout: "NCHW" };\n');
    const r = spawnSync(process.execPath, ['dist/cli/main.js', 'check', ts], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/cannot import TypeScript directly; compile it first/);
  });

  it('reports a named adapter whose package is not installed as "not installed" with the install command, and exits 0', async () => {
    const absent = join(dir, 'absent.mjs');
    writeFileSync(absent, `export default { name: 'absent', precision: 'float32', layout: 'NCHW',
      available: () => 'not installed: npm install some-backend@1.2.3', lnForward() { throw new Error('never called'); } };\n`);
    const r = await run('check', absent, 'reference', '--quick', '--seed', '42', '--only', 'ln.forward');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^absent: not installed: npm install some-backend@1\.2\.3$/m);
    expect(r.stdout).toMatch(/\d+ passed, 0 failed, [^]*\b1 adapter not installed/);
  });

  it('still exits 2 for a named adapter that is unavailable for another reason than a missing package', async () => {
    const broken = join(dir, 'broken-backend.mjs');
    writeFileSync(broken, `export default { name: 'broken-backend', precision: 'float32', layout: 'NCHW', available: () => 'backend failed to initialise' };\n`);
    const r = await run('check', broken, '--quick', '--only', 'ln.forward');
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/broken-backend: unavailable: backend failed to initialise/);
  });

  it.skipIf(tfjsNodeInstalled)('reports the built-in tfjs-node, not installed here, with the command that installs it, and exits 0', async () => {
    const r = await run('check', 'tfjs-node', '--quick', '--only', 'ln.forward');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^tfjs-node: not installed: npm install @tensorflow\/tfjs-node@4\.22\.0$/m);
    expect(r.stderr).toBe('');
  });

  it('exits 2 for a module whose default export is not an adapter', async () => {
    const bad = join(dir, 'bad.mjs');
    writeFileSync(bad, 'export default { name: "bad", precision: "float8", layout: "NCHW" };\n');
    const r = await run('check', bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/adapter\.precision must be 'float16', 'float32' or 'float64', got "float8"/);
  });

  it('exits 0 for --help on every command', async () => {
    for (const argv of [['--help'], ['check', '--help'], ['list', '--help']]) {
      const r = await run(...argv);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Usage: normcheck/);
    }
  });
});

describe('normcheck list', () => {
  it('prints every check with its category and every built-in adapter', async () => {
    const r = await run('list');
    expect(r.code).toBe(0);
    for (const c of CHECKS) expect(r.stdout).toContain(c.id);
    expect(r.stdout).toMatch(/│ reference\s+│ float64\s+│ NCHW\s+│ pytorch\s+│ available/);
    expect(r.stdout).toMatch(/│ kernels\s+│ float32\s+│ NCHW\s+│ pytorch\s+│ available/);
  }, 60_000);

  it('prints every feature an adapter can declare unsupported, with the norms that have it, in lines of at most 120 columns', async () => {
    const r = await run('list');
    for (const f of FEATURE_NAMES) expect(r.stdout).toMatch(new RegExp(`│ ${f}\\s+│ [a-z ]+│ \\S`));
    const start = r.stdout.indexOf('features (');
    const section = r.stdout.slice(start, r.stdout.indexOf('\n\n', start));
    const widths = section.split('\n').map((l) => [...l].length);
    expect(Math.max(...widths)).toBeLessThanOrEqual(120);
  }, 60_000);
});

describe('the README example adapter', () => {
  it('passes every check it provides a capability for; the rest are not provided', async () => {
    const report = await runConformance([{ adapter: example, spec: 'examples/my-batchnorm' }], { quick: true, seed: 42 });
    const checks = report.adapters[0]!.checks;
    // robust (within bound, every case inconclusive: the constant channel, offset 1e6) is a pass that shows no accuracy
    expect(checks.filter((c) => !passed(c.status) && c.status !== 'not provided').map((c) => `${c.id}: ${c.message}`)).toEqual([]);
    expect(checks.filter((c) => passed(c.status)).map((c) => c.id)).toEqual(expect.arrayContaining(['bn.train.forward', 'bn.train.running_var', 'bn.train.offset_1e6']));
  });
});

describe('normcheck check on a module path', () => {
  it('stops an adapter stuck in a synchronous infinite loop (it runs in a worker thread) and reports it with a replay', async () => {
    const spin = join(dir, 'spin.mjs');
    writeFileSync(spin, `
export default {
  name: 'spins', precision: 'float64', layout: 'NCHW',
  lnForward({ x }) { if (x.length > 1) for (;;) {} return { y: new Float64Array(x.length) }; },
};
`);
    const r = await run('check', spin, '--quick', '--seed', '3', '--timeout', '300', '--only', 'ln.forward');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/ERROR spins · ln\.forward/);
    expect(r.stdout).toMatch(/lnForward did not return within 300 ms/);
    expect(r.stdout).toMatch(/\(the first case that timed out, not shrunk\)/);
    expect(r.stdout).toMatch(/replay: npx normcheck check \S+ --only ln\.forward --seed 3 --path "\d+" --quick --timeout 300/);
  });
});
