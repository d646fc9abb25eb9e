/**
 * The shape of kernels/: every import stays inside kernels/ (never reference/ or conformance/: a differential
 * check must compare two independent computations), and every family folder has the same file roles
 * (api.ts; version.ts where the family has versions in registry.ts; see kernels/index.ts).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const KERNELS = resolve(dirname(fileURLToPath(import.meta.url)), '../../kernels');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('kernels/ layout', () => {
  it('no kernel file imports anything outside kernels/ but Node built-ins', () => {
    const outside: string[] = [];
    for (const file of sources(KERNELS)) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\bfrom\s+'([^']+)'/g)) {
        const spec = m[1]!;
        if (spec.startsWith('node:')) continue;
        const target = spec.startsWith('.') ? resolve(dirname(file), spec) : spec;
        if (!spec.startsWith('.') || relative(KERNELS, target).startsWith('..')) outside.push(`${relative(KERNELS, file)} → ${spec}`);
      }
    }
    expect(outside).toEqual([]);
  });

  it('every family folder has api.ts, and version.ts when registry.ts lists its versions', () => {
    const families = readdirSync(KERNELS).filter((d) => d !== 'shared' && statSync(join(KERNELS, d)).isDirectory());
    expect(families.length).toBeGreaterThanOrEqual(4);
    const registry = readFileSync(join(KERNELS, 'registry.ts'), 'utf8');
    const missing = families.flatMap((d) => {
      const roles = registry.includes(`'./${d}/`) ? ['api.ts', 'version.ts'] : ['api.ts'];
      return roles.filter((f) => !readdirSync(join(KERNELS, d)).includes(f)).map((f) => `${d}/${f}`);
    });
    expect(missing).toEqual([]);
  });
});
