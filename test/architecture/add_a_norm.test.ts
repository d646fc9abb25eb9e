/**
 * README.md's "How to add a normalisation" lists the files that adding a norm touches. Kept true two ways:
 *   every path it lists exists — a templated one (`<norm>`: the spec's name in lower case) for every norm of
 *   NORMS, except the few named below, each with why;
 *   every file that enumerates the norms is listed — a file that names the capabilities of four or more norms,
 *   imports the modules of four or more, or spells out four or more norm ids is one a sixth norm would have
 *   to change too, so it may not be missing from the list.
 * Tests are not scanned: a test of a listed file fails on its own when the file changes.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadFixtures } from '../../conformance/fixture_reader.js';
import { MUTANTS } from '../../conformance/mutants/gallery.js';
import { NORMS, type NormSpec } from '../../conformance/norms/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The section, up to the next heading of its level. */
function section(): string {
  const start = README.indexOf('## How to add a normalisation');
  if (start < 0) throw new Error('README.md has no "## How to add a normalisation" section');
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end < 0 ? undefined : end);
}

/** Every backticked path in the section's table rows (a token with a slash, or a file name with an extension). */
function listedPaths(): string[] {
  const rows = section().split('\n').filter((l) => l.startsWith('| `'));
  const paths = rows.flatMap((r) => [...r.matchAll(/`([^`\s]+)`/g)].map((m) => m[1]!))
    .filter((t) => /^[\w.<>*-]+(\/[\w.<>*-]*)+$/.test(t) || /^[\w-]+\.(ts|md|json|py)$/.test(t))
    .filter((t) => !t.includes('*'));
  return [...new Set(paths)];
}

const stem = (n: NormSpec) => n.name.toLowerCase();

/** Templated paths a norm may lack, each with why. BatchNorm's mutants are split by what they break. */
const MAY_LACK: Record<string, { norms: readonly string[]; why: string }> = {
  'conformance/mutants/<norm>.ts': { norms: ['bn'], why: 'bn_forward.ts, bn_running.ts, bn_backward.ts' },
};

/** The files a sixth norm would have to change: those that enumerate the norms (see the header). */
function enumeratingFiles(): string[] {
  const dirs = ['reference', 'kernels', 'conformance', 'cli', 'scripts', 'python', 'docs', 'baselines'];
  const files = ['README.md', 'fixtures/README.md', ...dirs.flatMap((d) => walk(join(ROOT, d)).map((f) => relative(ROOT, f)))];
  const capsOf = (n: NormSpec) => [...new Set([
    n.capabilities.forward, n.capabilities.backward, ...(n.evalMode ? [n.evalMode.forwardCapability] : []), ...n.hygiene.map((h) => h.capability),
  ])];
  return files.filter((f) => {
    const text = readFileSync(join(ROOT, f), 'utf8');
    const names = NORMS.filter((n) => capsOf(n).some((c) => new RegExp(`\\b${c}\\b`).test(text))).length;
    const imports = NORMS.filter((n) => new RegExp(`(?:from|import)\\s*\\(?\\s*['"][^'"]*\\b${stem(n)}\\b[^'"]*['"]`).test(text)).length;
    const ids = NORMS.filter((n) => text.includes(`'${n.id}'`)).length;
    return names >= 4 || imports >= 4 || ids >= 4;
  });
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : /\.(ts|mts|py|md|json|sh)$/.test(name) ? [p] : [];
  });
}

describe('README.md "How to add a normalisation"', () => {
  const listed = listedPaths();

  it('lists paths (the parse is not vacuous)', () => {
    expect(listed.length).toBeGreaterThan(25);
    expect(listed).toEqual(expect.arrayContaining(['conformance/norms/<norm>.ts', 'reference/<norm>.ts', 'kernels/<norm>/', 'conformance/adapter.ts']));
  });

  it('every path it lists exists, a templated one for every norm', () => {
    const missing: string[] = [];
    for (const p of listed) {
      if (!p.includes('<norm>')) {
        if (!existsSync(join(ROOT, p))) missing.push(p);
        continue;
      }
      for (const n of NORMS) {
        const path = p.replaceAll('<norm>', stem(n));
        if (!existsSync(join(ROOT, path)) && !MAY_LACK[p]?.norms.includes(n.id)) missing.push(`${path} (${n.name})`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('every file that enumerates the norms is listed (a sixth norm would have to change it)', () => {
    const found = enumeratingFiles();
    // the scan sees what it must: the contract, the list of norms, the built-in adapters, the gallery
    expect(found).toEqual(expect.arrayContaining(['conformance/adapter.ts', 'conformance/norms/index.ts', 'conformance/adapters/reference.ts', 'conformance/mutants/gallery.ts']));
    const covered = (f: string) => listed.some((p) => !p.includes('<norm>') && (p === f || (p.endsWith('/') && f.startsWith(p))))
      || NORMS.some((n) => listed.some((p) => p.includes('<norm>') && (p.endsWith('/') ? f.startsWith(p.replaceAll('<norm>', stem(n))) : f === p.replaceAll('<norm>', stem(n)))));
    expect(found.filter((f) => !covered(f))).toEqual([]);
  });

  it('every norm has golden fixtures of the kind its spec judges, named for it', () => {
    for (const n of NORMS) {
      expect(n.fixtures?.kind, n.name).toBe(stem(n));
      expect(loadFixtures(stem(n)).length, `fixtures of kind ${stem(n)}`).toBeGreaterThan(0);
    }
  });
});

describe('conformance/mutants/README.md', () => {
  it('counts the gallery\'s mutants', () => {
    const text = readFileSync(join(ROOT, 'conformance/mutants/README.md'), 'utf8');
    expect([...text.matchAll(/The mutants, (\d+) bug classes/g)].map((m) => Number(m[1]))).toEqual([MUTANTS.length]);
  });
});
