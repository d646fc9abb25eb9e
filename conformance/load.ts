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
import { closestNames } from './closest_names.js';
import { describeThrown } from './error_text.js';
import { AdapterShapeError, validateAdapter } from './validate_adapter.js';

export class AdapterLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdapterLoadError';
  }
}

async function fromModule(mod: Record<string, unknown>, source: string): Promise<Adapter> {
  let value = mod.default ?? mod.adapter;
  const exported = mod.default !== undefined ? 'default export' : 'export "adapter"';
  if (value === undefined) throw new AdapterLoadError(`${source}: no default export (export default defineAdapter({...}))`);
  if (typeof value === 'function') {
    try {
      value = await (value as () => unknown)();
    } catch (e) {
      throw new AdapterLoadError(`${source}: the ${exported} is a factory function, and calling it threw ${describeThrown(e)}`);
    }
  }
  try {
    return validateAdapter(value, source);
  } catch (e) {
    throw new AdapterLoadError(e instanceof AdapterShapeError ? e.message : describeThrown(e));
  }
}

export { closestNames };

export function isBuiltin(spec: string): boolean {
  return Object.prototype.hasOwnProperty.call(BUILTIN_ADAPTERS, spec);
}

export async function loadAdapter(spec: string): Promise<Adapter> {
  if (isBuiltin(spec)) {
    let mod: Record<string, unknown>;
    try {
      mod = (await BUILTIN_ADAPTERS[spec]!()) as unknown as Record<string, unknown>;
    } catch (e) {
      throw new AdapterLoadError(`built-in adapter ${spec} failed to load: ${describeThrown(e)}`);
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
    throw new AdapterLoadError(`${spec}: failed to import: ${describeThrown(e)}`);
  }
  return fromModule(mod, spec);
}
