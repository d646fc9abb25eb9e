/**
 * The dependency rule of README.md ("Layout"), enforced: every import of every source file is classified by
 * the area it comes from and the area it reaches, and each rule below is a list of arrows that must be empty.
 *   kernels/      imports only itself: never reference/ (a differential check must compare two independent
 *                 computations), nor conformance/, cli/, scripts/
 *   reference/    imports only itself: neither kernels/ nor conformance/ (nor cli/, scripts/)
 *   judging code  conformance/ minus its built-in adapters, its bug gallery (mutants/) and its examples:
 *                 reaches implementations only through the adapter contract, so it imports no kernels/, no
 *                 specific adapter (only the list in adapters/index.ts, for loading by name, and the engine
 *                 loader adapters/engines.ts), never the gallery
 *   the toolkit   conformance/webgpu/, the helper for writing WebGPU adapters, is not judging code: it may load
 *                 its engine (adapters/engines.ts) but, like the judging code, no kernels/, reference/, specific
 *                 adapter or gallery
 *   the gallery   conformance/mutants/ is written independently of reference/ and kernels/: the suite must
 *                 judge it, not agree with it by construction
 *   shipped code  reference/, kernels/, conformance/, cli/ never import test/ or scripts/
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const TOP = ['reference', 'kernels', 'conformance', 'cli', 'scripts', 'test'];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : /\.(ts|mts)$/.test(p) ? [p] : [];
  });
}

/** reference, kernels, cli, scripts, test; conformance split into judging, adapters, gallery, examples. */
function area(file: string): string {
  const rel = relative(ROOT, file).split(/[\\/]/);
  if (rel[0] !== 'conformance') return rel[0]!;
  if (rel[1] === 'adapters') return rel[2] === 'index.ts' ? 'adapter list' : 'adapters';
  if (rel[1] === 'mutants') return 'gallery';
  if (rel[1] === 'examples') return 'examples';
  if (rel[1] === 'webgpu') return 'toolkit';
  return 'judging';
}

interface Arrow {
  from: string;
  to: string;
  fromArea: string;
  toArea: string;
}

/** Every relative import (static, dynamic, re-export, require; any quote) of every source file, as an arrow between areas. */
function arrows(): Arrow[] {
  const out: Arrow[] = [];
  for (const top of TOP) {
    for (const file of sources(join(ROOT, top))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)(['"`])(\.[^'"`]*)\1/g)) {
        const target = resolve(dirname(file), m[2]!).replace(/\.js$/, '.ts');
        out.push({ from: relative(ROOT, file), to: relative(ROOT, target), fromArea: area(file), toArea: area(target) });
      }
    }
  }
  return out;
}

const ALL = arrows();
const violations = (fromAreas: string[], toAreas: string[]) =>
  ALL.filter((a) => fromAreas.includes(a.fromArea) && toAreas.includes(a.toArea)).map((a) => `${a.from} → ${a.to}`);

describe('the dependency rule', () => {
  it('finds the imports it judges (the scan is not vacuous)', () => {
    expect(ALL.length).toBeGreaterThan(300);
    expect(ALL.some((a) => a.fromArea === 'judging' && a.toArea === 'reference')).toBe(true);
    expect(ALL.some((a) => a.fromArea === 'adapters' && a.toArea === 'kernels')).toBe(true);
  });

  it('kernels/ never imports reference/, conformance/, cli/ or scripts/', () => {
    expect(violations(['kernels'], ['reference', 'judging', 'adapters', 'adapter list', 'gallery', 'examples', 'cli', 'scripts'])).toEqual([]);
  });

  it('reference/ imports neither kernels/ nor conformance/ (nor cli/, scripts/)', () => {
    expect(violations(['reference'], ['kernels', 'judging', 'adapters', 'adapter list', 'gallery', 'examples', 'cli', 'scripts'])).toEqual([]);
  });

  it('the judging code reaches implementations only through the adapter contract: no kernels/, no specific adapter', () => {
    // the engine loader (adapters/engines.ts: optional packages and their install commands) is no adapter;
    // the browser host loads playwright-core through it
    expect(violations(['judging'], ['kernels', 'adapters', 'examples']).filter((a) => !a.endsWith('→ conformance/adapters/engines.ts'))).toEqual([]);
  });

  it('the adapter toolkit imports nothing but the contract, its own files and the engine loader', () => {
    const loader = 'conformance/adapters/engines.ts';
    expect(violations(['toolkit'], ['kernels', 'reference', 'adapters', 'adapter list', 'gallery', 'examples', 'cli', 'scripts', 'test'])
      .filter((a) => !a.endsWith(`→ ${loader}`))).toEqual([]);
  });

  it('the judging code never imports the bug gallery', () => {
    expect(violations(['judging', 'adapters', 'adapter list'], ['gallery'])).toEqual([]);
  });

  it('the gallery is written independently of reference/ and kernels/', () => {
    expect(violations(['gallery'], ['reference', 'kernels'])).toEqual([]);
  });

  it('shipped code never imports test/ or scripts/', () => {
    const shipped = ['reference', 'kernels', 'judging', 'toolkit', 'adapters', 'adapter list', 'gallery', 'examples', 'cli'];
    expect(violations(shipped, ['test', 'scripts'])).toEqual([]);
  });
});
