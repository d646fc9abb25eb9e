/**
 * Resolving ADAPTER arguments: a built-in name (conformance/adapters/index.ts) or a path to an ES module
 * whose default export is an adapter (or a function, possibly async, returning one). Plain .js/.mjs files
 * load under node 20; a .ts file needs a TypeScript loader (node 20 cannot strip types by itself), so the
 * message says to compile it first (`npx tsc`) or run node with a loader such as `--import tsx`.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Adapter } from './adapter.js';
import { BUILTIN_ADAPTERS } from './adapters/index.js';
import { validateAdapter } from './runner.js';

export class AdapterLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdapterLoadError';
  }
}

async function fromModule(mod: Record<string, unknown>, source: string): Promise<Adapter> {
  let value = mod.default ?? mod.adapter;
  if (value === undefined) throw new AdapterLoadError(`${source}: no default export (export default defineAdapter({...}))`);
  if (typeof value === 'function') value = await (value as () => unknown)();
  try {
    return validateAdapter(value, source);
  } catch (e) {
    throw new AdapterLoadError((e as Error).message);
  }
}

/** Levenshtein distance: insertions, deletions and substitutions, one each. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * The built-in names closest to a mistyped one: those within a third of its length in edits (typos,
 * `tfjs_cpu`, `ort-nod`), else those that contain it or that it contains (`tfjs`, `onnx-ort-web`); best first.
 */
export function closestNames(spec: string, names: readonly string[]): string[] {
  const s = spec.toLowerCase();
  const scored = names.map((n) => ({ n, d: editDistance(s, n) })).filter(({ d }) => d <= Math.max(2, Math.floor(s.length / 3)));
  if (scored.length) return scored.sort((a, b) => a.d - b.d).slice(0, 3).map(({ n }) => n);
  return names.filter((n) => n.includes(s) || s.includes(n)).slice(0, 4);
}

export function isBuiltin(spec: string): boolean {
  return Object.prototype.hasOwnProperty.call(BUILTIN_ADAPTERS, spec);
}

export async function loadAdapter(spec: string): Promise<Adapter> {
  if (isBuiltin(spec)) {
    let mod: Record<string, unknown>;
    try {
      mod = (await BUILTIN_ADAPTERS[spec]!()) as unknown as Record<string, unknown>;
    } catch (e) {
      throw new AdapterLoadError(`built-in adapter ${spec} failed to load: ${(e as Error).message}`);
    }
    return fromModule(mod, `built-in adapter ${spec}`);
  }
  const file = resolve(spec);
  if (!existsSync(file)) {
    const near = closestNames(spec, Object.keys(BUILTIN_ADAPTERS));
    throw new AdapterLoadError(
      `${spec}: not a built-in adapter and no such file${near.length ? `; did you mean ${near.join(' or ')}?` : ''} ` +
      `(built-ins: ${Object.keys(BUILTIN_ADAPTERS).join(', ')})`,
    );
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_UNKNOWN_FILE_EXTENSION' && /\.[cm]?tsx?$/.test(file)) {
      throw new AdapterLoadError(
        `${spec}: node ${process.versions.node} cannot import TypeScript directly; compile it first (npx tsc, then pass the .js) ` +
        `or run with a loader: node --import tsx $(which normcheck) check ${spec}`,
      );
    }
    throw new AdapterLoadError(`${spec}: failed to import: ${err.message}`);
  }
  return fromModule(mod, spec);
}
