/**
 * Resolving ADAPTER arguments: a built-in name (conformance/adapters/index.ts) or a path to an ES module
 * whose default export is an adapter (or a function, possibly async, returning one). Plain .js/.mjs files
 * load under node 20; a .ts file needs a TypeScript loader (node 20 cannot strip types by itself), so the
 * message says to compile it first (`npx tsc`) or run node with a loader such as `--import tsx`.
 *
 * This file loads adapter objects into this thread; where an adapter runs (in-process, worker thread,
 * subprocess) is decided by hosts/open.ts.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Adapter } from './adapter.js';
import { BUILTIN_ADAPTERS } from './adapters/index.js';
import { closestNames } from './closest_names.js';
import { describeThrown } from './error_text.js';
import { adapterExport, importAdapterFile, ModuleLoadError } from './hosts/adapter_module.js';
import { AdapterShapeError, validateAdapter } from './validate_adapter.js';

export class AdapterLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdapterLoadError';
  }
}

async function fromModule(mod: Record<string, unknown>, source: string): Promise<Adapter> {
  let value: unknown;
  try {
    value = await adapterExport(mod, source);
  } catch (e) {
    throw new AdapterLoadError(e instanceof ModuleLoadError ? e.message : describeThrown(e));
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

/** A spec that is not a built-in names a module file: its absolute path, or an error suggesting built-in names. */
export function adapterFile(spec: string): string {
  const file = resolve(spec);
  if (!existsSync(file)) {
    const near = closestNames(spec, Object.keys(BUILTIN_ADAPTERS));
    throw new AdapterLoadError(
      `${spec}: not a built-in adapter and no such file${near.length ? `; did you mean ${near.join(' or ')}?` : ''} ` +
      `(built-ins: ${Object.keys(BUILTIN_ADAPTERS).join(', ')})`,
    );
  }
  return file;
}

/** The built-in adapter's module (its default export is the adapter). */
export async function builtinModule(spec: string): Promise<Record<string, unknown>> {
  try {
    return (await BUILTIN_ADAPTERS[spec]!()) as unknown as Record<string, unknown>;
  } catch (e) {
    throw new AdapterLoadError(`built-in adapter ${spec} failed to load: ${describeThrown(e)}`);
  }
}

/** Loads the adapter object of a built-in name or module path into this thread. */
export async function loadAdapter(spec: string): Promise<Adapter> {
  if (isBuiltin(spec)) return fromModule(await builtinModule(spec), `built-in adapter ${spec}`);
  const file = adapterFile(spec);
  let mod: Record<string, unknown>;
  try {
    mod = await importAdapterFile(file, spec);
  } catch (e) {
    throw new AdapterLoadError(e instanceof ModuleLoadError ? e.message : describeThrown(e));
  }
  return fromModule(mod, spec);
}
