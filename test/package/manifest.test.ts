/**
 * package.json says what the shipped code needs: every package the shipped sources import at run time
 * is a dependency, every engine is an optional peer imported only on demand (conformance/adapters/engines.ts)
 * at the version this repository tests with, and nothing the shipped code never imports weighs on a user's
 * install. The consumer test (consumer.test.ts) proves the same end to end; this one names the file and line.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { builtinModules } from 'node:module';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENGINE_VERSIONS } from '../../conformance/adapters/engines.js';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
  dependencies: Record<string, string>; devDependencies: Record<string, string>;
  peerDependencies: Record<string, string>; peerDependenciesMeta: Record<string, { optional?: boolean }>;
  files: string[]; scripts: Record<string, string>;
};

/** Entry points that import an optional peer statically: only that subpath needs it. */
const OPTIONAL_ENTRY: Record<string, string> = { vitest: join('conformance', 'vitest.ts') };

/** The source folders whose compiled form ships (package.json files: dist/<folder>). */
const SHIPPED = pkg.files.filter((f) => f.startsWith('dist/')).map((f) => f.slice('dist/'.length));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

/** The package a bare specifier names: '@scope/name' or 'name' ('fast-check/lib/x' → 'fast-check'). */
const packageOf = (spec: string) => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');

/** Static value imports and re-exports (type-only ones are erased by tsc), with their line numbers. */
function runtimeImports(file: string): { spec: string; line: number }[] {
  const text = readFileSync(file, 'utf8');
  const found: { spec: string; line: number }[] = [];
  const re = /^\s*(?:import|export)\s+(?!type\b)(?:[^'";]*?\s+from\s+)?'([^']+)'/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const spec = m[1]!;
    if (spec.startsWith('.') || spec.startsWith('node:') || builtinModules.includes(spec)) continue;
    found.push({ spec, line: text.slice(0, m.index).split('\n').length });
  }
  return found;
}

describe('package.json', () => {
  it('lists every package the shipped code imports at run time as a dependency (vitest: an optional peer, only in normcheck/vitest)', () => {
    const undeclared = SHIPPED.flatMap((dir) => sources(dir)).flatMap((file) =>
      runtimeImports(file)
        .filter(({ spec }) => !(packageOf(spec) in pkg.dependencies) && !(OPTIONAL_ENTRY[packageOf(spec)] === file))
        .map(({ spec, line }) => `${file}:${line} imports ${spec}`));
    expect(undeclared).toEqual([]);
  });

  it('keeps each optional-peer entry point out of every other module, so normcheck/conformance never needs vitest', () => {
    for (const [peer, file] of Object.entries(OPTIONAL_ENTRY)) {
      expect(pkg.peerDependenciesMeta[peer]?.optional, peer).toBe(true);
      const importers = SHIPPED.flatMap((dir) => sources(dir)).filter((f) => f !== file && new RegExp(`from '[./]+(?:conformance/)?${basename(file, '.ts')}\\.js'`).test(readFileSync(f, 'utf8')));
      expect(importers, file).toEqual([]);
    }
    const exports = (pkg as unknown as { exports: Record<string, { default: string }> }).exports;
    expect(exports['./vitest']?.default).toBe('./dist/conformance/vitest.js');
  });

  it('has no dependency the shipped code does not import (each one is on every user\'s disk)', () => {
    const imported = new Set(SHIPPED.flatMap((dir) => sources(dir)).flatMap((f) => runtimeImports(f).map(({ spec }) => packageOf(spec))));
    expect(Object.keys(pkg.dependencies).filter((d) => !imported.has(d))).toEqual([]);
  });

  it('declares every engine as an optional peer at the tested version, and as a devDependency so this repository runs them all', () => {
    for (const [name, version] of Object.entries(ENGINE_VERSIONS)) {
      expect(pkg.peerDependencies[name], name).toBe(`^${version}`);
      expect(pkg.peerDependenciesMeta[name]?.optional, name).toBe(true);
      expect(pkg.dependencies[name], name).toBeUndefined();
      // tfjs-node's install step downloads libtensorflow: it cannot be a devDependency of an offline checkout.
      if (name !== '@tensorflow/tfjs-node') expect(pkg.devDependencies[name], name).toBe(`^${version}`);
    }
  });

  it('installs the engines this repository tests at exactly the versions the not-installed commands name', () => {
    for (const [name, version] of Object.entries(ENGINE_VERSIONS)) {
      if (!(name in pkg.devDependencies)) continue;
      const installed = JSON.parse(readFileSync(join('node_modules', name, 'package.json'), 'utf8')) as { version: string };
      expect(installed.version, name).toBe(version);
    }
  });

  it('has a bin that runs the built CLI, and says how to get a built copy where dist/ is missing (git URL, unbuilt checkout)', () => {
    expect((pkg as unknown as { bin: Record<string, string> }).bin).toEqual({ normcheck: 'bin/normcheck.js' });
    const ok = spawnSync(process.execPath, ['bin/normcheck.js', 'check', 'reference', '--quick', '--seed', '1', '--only', 'ln.forward'], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/passed, 0 failed/);
    const copy = mkdtempSync(join(tmpdir(), 'normcheck-unbuilt-'));
    mkdirSync(join(copy, 'bin'));
    copyFileSync('bin/normcheck.js', join(copy, 'bin', 'normcheck.js'));
    writeFileSync(join(copy, 'package.json'), '{ "type": "module" }\n');
    const r = spawnSync(process.execPath, [join(copy, 'bin', 'normcheck.js'), 'list'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/dist\/cli\/main\.js is missing: this copy of normcheck was not built/);
    expect(r.stderr).toMatch(/npm install --save-dev \/path\/to\/normcheck-<version>\.tgz/);
  });

  it('runs no script at the consumer: no prepare or install scripts, dist built by prepack', () => {
    for (const s of ['prepare', 'preinstall', 'install', 'postinstall']) expect(pkg.scripts[s], s).toBeUndefined();
    expect(pkg.scripts.prepack).toBe(pkg.scripts.build);
  });
});
