/**
 * normcheck as a user gets it: the packed tarball installed into a fresh project outside this repository
 * (os.tmpdir()), with only the npm registry and no environment variables, then the README's commands run
 * there — `npx normcheck list`, `check` on a correct and on a buggy adapter, `init`, the built-in engine
 * adapters reported "not installed", and the user's own `npx vitest run` with normcheck/vitest. Every other
 * test runs inside this repository's node_modules, where a devDependency imported at run time, an install
 * script or a missing file in `files` goes unnoticed; this one fails on each of those.
 *
 * The tarball is packed from dist/ as `npm test` builds it (npm pack --ignore-scripts: rebuilding dist/ here
 * would race the tests that read it). Installs use the shared npm cache (--prefer-offline); the test is
 * skipped, with the reason printed, when the registry does not answer.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { CHECKS } from '../../conformance/catalog.js';
import { ENGINE_VERSIONS } from '../../conformance/adapters/engines.js';

const REPO = resolve('.');
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { name: string; version: string; files: string[] };
const vitestVersion = (JSON.parse(readFileSync('node_modules/vitest/package.json', 'utf8')) as { version: string }).version;
/** Issue 11: normcheck and its runtime dependencies, installed. */
const MAX_INSTALLED_BYTES = 15 * 1024 * 1024;

/** The child's environment: the user's, not npm test's (npm_* would point npm at this repository) nor CI's. */
const env: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'INIT_CWD' && k !== 'ONNXRUNTIME_NODE_INSTALL' && !k.startsWith('VITEST') && k !== 'NODE_ENV'),
);
env.NO_COLOR = '1';
env.FORCE_COLOR = '0';

let project = '';
let skipReason: string | null = null;
const log: string[] = [];

function sh(cmd: string, args: string[], cwd = project, timeout = 120_000): SpawnSyncReturns<string> {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout });
  log.push(`${cmd} ${args.join(' ')}: exit ${r.status} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return r;
}

const npmInstall = ['install', '--save-dev', '--prefer-offline', '--no-audit', '--no-fund'];

/** Bytes of a package's files (apparent size, as du --apparent-size), without the packages nested in it. */
function bytes(dir: string, top = true): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory() && !(top && e.name === 'node_modules')) n += bytes(p, false);
    else if (e.isFile()) n += statSync(p).size;
  }
  return n;
}

interface LockPackage { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> }

/**
 * The installed packages `root` needs at run time: its dependencies, theirs, and so on (not its optional
 * peers), resolved as Node does — the nearest node_modules up the tree — from npm's node_modules/.package-lock.json.
 */
function runtimeClosure(root: string): string[] {
  const lock = JSON.parse(readFileSync(join(project, 'node_modules', '.package-lock.json'), 'utf8')) as { packages: Record<string, LockPackage> };
  const seen = new Set<string>();
  const todo = [root];
  while (todo.length) {
    const at = todo.pop()!;
    if (seen.has(at)) continue;
    seen.add(at);
    const p = lock.packages[at]!;
    for (const name of Object.keys({ ...p.dependencies, ...p.optionalDependencies })) {
      let base = at;
      let found: string | null = null;
      for (;;) {
        if (lock.packages[`${base}/node_modules/${name}`]) { found = `${base}/node_modules/${name}`; break; }
        const up = base.lastIndexOf('/node_modules/');
        if (up < 0) break;
        base = base.slice(0, up);
      }
      found ??= lock.packages[`node_modules/${name}`] ? `node_modules/${name}` : null;
      if (!found) throw new Error(`${at} depends on ${name}, which is not installed`);
      todo.push(found);
    }
  }
  return [...seen];
}

/** The newest modification time under the shipped source folders, to tell a stale dist/. */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : p.endsWith('.ts') && !p.endsWith('.d.ts') ? statSync(p).mtimeMs : 0);
  }
  return t;
}

const CORRECT = `// LayerNorm forward in float64, two-pass: the mean, then the biased variance of the deviations.
import { defineAdapter } from 'normcheck/conformance';

export default defineAdapter({
  name: 'my-layernorm', precision: 'float64', layout: 'NCHW',
  lnForward({ x, normalizedShape, weight, bias, eps }) {
    const D = normalizedShape.reduce((a, b) => a * b, 1), R = x.length / D;
    const y = new Float64Array(x.length), mean = new Float64Array(R), rstd = new Float64Array(R);
    for (let r = 0; r < R; r++) {
      let s = 0;
      for (let i = 0; i < D; i++) s += x[r * D + i];
      const m = s / D;
      let v = 0;
      for (let i = 0; i < D; i++) v += (x[r * D + i] - m) ** 2;
      const rs = 1 / Math.sqrt(v / D + eps);
      for (let i = 0; i < D; i++) y[r * D + i] = (x[r * D + i] - m) * rs * (weight ? weight[i] : 1) + (bias ? bias[i] : 0);
      mean[r] = m;
      rstd[r] = rs;
    }
    return { y, mean, rstd };
  },
});
`;
/** The same with a classic bug: the unbiased variance (divide by D - 1), which LayerNorm does not use. */
const BUGGY = CORRECT.replace('v / D + eps', 'v / (D - 1) + eps').replace("name: 'my-layernorm'", "name: 'unbiased-layernorm'");

/** The README's vitest example, verbatim: a TypeScript adapter and the one test file that gates it. */
const TS_ADAPTER = `// LayerNorm forward in float64, two-pass: the mean, then the biased variance of the deviations.
import { defineAdapter } from 'normcheck/conformance';

export default defineAdapter({
  name: 'my-layernorm',
  precision: 'float64',
  layout: 'NCHW',
  lnForward({ x, normalizedShape, weight, bias, eps }) {
    const D = normalizedShape.reduce((a, b) => a * b, 1);
    const R = x.length / D;
    const y = new Float64Array(x.length);
    for (let r = 0; r < R; r++) {
      let s = 0;
      for (let i = 0; i < D; i++) s += x[r * D + i]!;
      const mean = s / D;
      let v = 0;
      for (let i = 0; i < D; i++) v += (x[r * D + i]! - mean) ** 2;
      const rstd = 1 / Math.sqrt(v / D + eps);
      for (let i = 0; i < D; i++) y[r * D + i] = (x[r * D + i]! - mean) * rstd * (weight ? weight[i]! : 1) + (bias ? bias[i]! : 0);
    }
    return { y };
  },
});
`;
const TS_TEST = `import { describeConformance } from 'normcheck/vitest';
import myLayerNorm from '../src/my-layernorm.js';

describeConformance(myLayerNorm, { quick: true, seed: 20261127 });
`;
const BUGGY_TEST = `import { describeConformance } from 'normcheck/vitest';
import adapter from '../buggy.mjs';

describeConformance(adapter, { quick: true, seed: 1 });
`;
/** A strict TypeScript project that checks normcheck's declarations too (skipLibCheck false), with no engine installed. */
const TSCONFIG = {
  compilerOptions: {
    strict: true, noEmit: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', skipLibCheck: false,
    noUncheckedIndexedAccess: true, types: ['node'],
  },
  include: ['src', 'test/*.ts'],
};
const typesNodeVersion = (JSON.parse(readFileSync('node_modules/@types/node/package.json', 'utf8')) as { version: string }).version;

beforeAll(() => {
  const ping = spawnSync('npm', ['ping'], { env, encoding: 'utf8', timeout: 20_000 });
  if (ping.status !== 0) {
    skipReason = `the npm registry does not answer (npm ping: ${(ping.stderr || ping.error?.message || '').trim().split('\n').pop()})`;
    console.warn(`consumer test skipped: ${skipReason}`);
    return;
  }
  const cli = join(REPO, 'dist', 'cli', 'main.js');
  const built = (() => { try { return statSync(cli).mtimeMs; } catch { return 0; } })();
  const sources = Math.max(...pkg.files.filter((f) => f.startsWith('dist/')).map((f) => newest(join(REPO, f.slice('dist/'.length)))));
  if (built < sources) throw new Error('dist/ is missing or older than the sources: npm test builds it (or run npm run build)');

  const work = mkdtempSync(join(tmpdir(), 'normcheck-consumer-'));
  const packed = sh('npm', ['pack', '--ignore-scripts', '--pack-destination', work, '--json'], REPO);
  if (packed.status !== 0) throw new Error(`npm pack failed:\n${packed.stderr}`);
  const tarball = join(work, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename);
  project = join(work, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'normcheck-consumer', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`);
  writeFileSync(join(project, 'adapter.mjs'), CORRECT);
  writeFileSync(join(project, 'buggy.mjs'), BUGGY);
  mkdirSync(join(project, 'src'));
  mkdirSync(join(project, 'test'));
  writeFileSync(join(project, 'src', 'my-layernorm.ts'), TS_ADAPTER);
  writeFileSync(join(project, 'test', 'normcheck.test.ts'), TS_TEST);
  writeFileSync(join(project, 'test', 'buggy.test.js'), BUGGY_TEST);
  writeFileSync(join(project, 'tsconfig.json'), `${JSON.stringify(TSCONFIG, null, 2)}\n`);
  // One install, as a user adds them: normcheck, the vitest it integrates with, Node's types for TypeScript.
  installed = sh('npm', [...npmInstall, tarball, `vitest@${vitestVersion}`, `@types/node@${typesNodeVersion}`]);
}, 180_000);

afterAll(() => {
  console.log(`consumer project ${project}:\n  ${log.join('\n  ')}`);
  if (project && !skipReason) rmSync(join(project, '..'), { recursive: true, force: true });
});

let installed: SpawnSyncReturns<string> | undefined;
const skipIfOffline = (ctx: TestContext) => {
  if (skipReason) ctx.skip(skipReason);
};

describe('the packed tarball in a fresh project', () => {
  it('installs with only the npm registry, no environment variables, and no install-script or peer warning', (ctx) => {
    skipIfOffline(ctx);
    expect(installed!.stderr, installed!.stderr).not.toMatch(/npm error/);
    expect(installed!.status).toBe(0);
    expect(installed!.stderr).not.toMatch(/install-scripts|install script|ERESOLVE|peer dep/i);
  });

  it(`installs normcheck and its runtime dependencies in at most ${MAX_INSTALLED_BYTES / 2 ** 20} MB, no engine among them`, (ctx) => {
    skipIfOffline(ctx);
    const packages = runtimeClosure('node_modules/normcheck');
    const size = packages.reduce((n, p) => n + bytes(join(project, p)), 0);
    log.push(`normcheck + runtime dependencies: ${packages.length} packages, ${(size / 2 ** 20).toFixed(1)} MiB`);
    expect(size).toBeLessThanOrEqual(MAX_INSTALLED_BYTES);
    const names = packages.map((p) => p.slice(p.lastIndexOf('node_modules/') + 'node_modules/'.length));
    for (const heavy of [...Object.keys(ENGINE_VERSIONS), 'vega', 'vega-lite', 'vitest']) expect(names, heavy).not.toContain(heavy);
  });

  it('runs npx normcheck list: every check, every built-in adapter', (ctx) => {
    skipIfOffline(ctx);
    const r = sh('npx', ['normcheck', 'list']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`${CHECKS.length} checks`);
    expect(r.stdout).toMatch(/│ reference\s+│ float64\s+│ NCHW\s+│ pytorch\s+│ available/);
  });

  it('npx normcheck init writes a skeleton', (ctx) => {
    skipIfOffline(ctx);
    const r = sh('npx', ['normcheck', 'init', 'my-adapter.mjs']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('npx normcheck check ./adapter.mjs --quick exits 0: a correct adapter passes, the skeleton is all "not provided", each engine adapter (the GPU ones too) "not installed" with its command', (ctx) => {
    skipIfOffline(ctx);
    const r = sh('npx', ['normcheck', 'check', './adapter.mjs', './my-adapter.mjs', 'tfjs-cpu', 'tfjs-wasm', 'ort-node', 'ort-web', 'tfjs-node', 'tfjs-webgpu', 'ort-webgpu', 'tfjs-webgl', '--quick', '--seed', '1', '--json', 'report.json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const report = JSON.parse(readFileSync(join(project, 'report.json'), 'utf8')) as { adapters: { name: string; checks: { status: string }[] }[] };
    const statuses = (name: string) => report.adapters.find((a) => a.name === name)!.checks.map((c) => c.status);
    expect(statuses('my-layernorm').filter((s) => s === 'pass' || s === 'robust').length).toBeGreaterThan(0);
    expect(statuses('my-layernorm').filter((s) => s !== 'pass' && s !== 'robust' && s !== 'not provided')).toEqual([]);
    expect(statuses('my-adapter')).toEqual(CHECKS.map(() => 'not provided'));
    const v = ENGINE_VERSIONS;
    expect(r.stdout).toContain(`tfjs-cpu: not installed: npm install @tensorflow/tfjs@${v['@tensorflow/tfjs']}\n`);
    expect(r.stdout).toContain(`tfjs-wasm: not installed: npm install @tensorflow/tfjs@${v['@tensorflow/tfjs']} @tensorflow/tfjs-backend-wasm@${v['@tensorflow/tfjs-backend-wasm']}\n`);
    expect(r.stdout).toContain(`ort-node: not installed: ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node@${v['onnxruntime-node']} onnx-proto@${v['onnx-proto']}\n`);
    expect(r.stdout).toContain(`ort-web: not installed: npm install onnxruntime-web@${v['onnxruntime-web']} onnx-proto@${v['onnx-proto']}\n`);
    expect(r.stdout).toContain(`tfjs-node: not installed: npm install @tensorflow/tfjs-node@${v['@tensorflow/tfjs-node']}\n`);
    expect(r.stdout).toContain(`tfjs-webgpu: not installed: npm install @tensorflow/tfjs@${v['@tensorflow/tfjs']} @tensorflow/tfjs-backend-webgpu@${v['@tensorflow/tfjs-backend-webgpu']} webgpu@${v.webgpu}\n`);
    expect(r.stdout).toContain(`ort-webgpu: not installed: npm install onnxruntime-web@${v['onnxruntime-web']} onnx-proto@${v['onnx-proto']} webgpu@${v.webgpu}\n`);
    expect(r.stdout).toContain(`tfjs-webgl: not installed: npm install playwright-core@${v['playwright-core']} @tensorflow/tfjs@${v['@tensorflow/tfjs']}\n`);
    expect(r.stdout).toMatch(/, 0 failed, 0 errors, .*8 adapters not installed/);
  });

  it('npx normcheck check ./buggy.mjs --quick: a buggy adapter exits 1 with its counterexample and a replay line', (ctx) => {
    skipIfOffline(ctx);
    const r = sh('npx', ['normcheck', 'check', './buggy.mjs', '--quick', '--seed', '1']);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/FAIL unbiased-layernorm · ln\.forward — /);
    expect(r.stdout).toMatch(/counterexample: ln_/);
    expect(r.stdout).toMatch(/replay: npx normcheck check \.\/buggy\.mjs --only ln\.forward --seed 1 --path "[\d:]+" --quick/);
  });

  it('runs the user\'s own npx vitest run with normcheck/vitest: one test per check, the buggy adapter failing with the replay', (ctx) => {
    skipIfOffline(ctx);
    const r = sh('npx', ['vitest', 'run', '--reporter', 'default', '--reporter', 'json', '--outputFile.json', 'vitest.json']);
    expect(r.status).toBe(1);
    const report = JSON.parse(readFileSync(join(project, 'vitest.json'), 'utf8')) as { testResults: { name: string; assertionResults: { title: string; status: string; failureMessages: string[] }[] }[] };
    const file = (n: string) => report.testResults.find((f) => f.name.endsWith(n))!.assertionResults;
    expect(file('normcheck.test.ts').map((a) => a.title)).toEqual(CHECKS.map((c) => c.id));
    expect(file('normcheck.test.ts').filter((a) => a.status === 'failed')).toEqual([]);
    expect(file('normcheck.test.ts').filter((a) => a.status === 'passed').length).toBeGreaterThan(0);
    const failed = file('buggy.test.js').find((a) => a.title === 'ln.forward')!;
    expect(failed.status).toBe('failed');
    expect(failed.failureMessages.join('\n')).toMatch(/replay: describeConformance\(adapter, \{ quick: true, only: 'ln\.forward', seed: 1, path: '[\d:]+' \}\)/);
    expect(r.stdout + r.stderr).toMatch(/FAIL {2}test\/buggy\.test\.js > normcheck unbiased-layernorm > ln\.forward/);
  });

  it('typechecks the TypeScript adapter and test against normcheck\'s declarations (strict, skipLibCheck false, no engine installed)', (ctx) => {
    skipIfOffline(ctx);
    const r = sh(join(REPO, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json']);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
