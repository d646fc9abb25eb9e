// @ts-check
/**
 * Importing an adapter module and finding its adapter: shared by the in-process loader (load.ts) and the
 * worker thread (worker_main.js). Plain JavaScript so that a worker can run it from the sources as well as
 * from dist/ (a worker thread cannot load TypeScript).
 *
 * The adapter is the module's default export, else its `adapter` export; either may be a function (sync or
 * async) that returns it. Node 20 cannot import TypeScript by itself: a .ts path gets a message that says
 * what to do instead.
 */
import { pathToFileURL } from 'node:url';

export class ModuleLoadError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'ModuleLoadError';
  }
}

/**
 * @template T
 * @param {() => T} f
 * @returns {T | undefined}
 */
function attempt(f) {
  try {
    return f();
  } catch {
    return undefined;
  }
}

/**
 * What an adapter threw, described without throwing again: the same text as error_text.ts's describeThrown
 * (test/hosts/describe.test.ts holds the two equal), in JavaScript for the worker thread.
 * @param {unknown} e
 * @returns {string}
 */
export function messageOf(e) {
  if (typeof e === 'string') return e;
  if (e === null || (typeof e !== 'object' && typeof e !== 'function')) return attempt(() => String(e)) ?? typeof e;
  const errorLike = attempt(() => e instanceof Error) === true || attempt(() => Object.prototype.toString.call(e)) === '[object Error]';
  if (errorLike) {
    const name = attempt(() => /** @type {Error} */ (e).name);
    const message = attempt(() => /** @type {Error} */ (e).message);
    const n = typeof name === 'string' && name ? name : 'Error';
    return typeof message === 'string' && message ? `${n}: ${message}` : n;
  }
  const message = attempt(() => /** @type {{ message?: unknown }} */ (e).message);
  if (typeof message === 'string' && message) return message;
  const json = attempt(() => JSON.stringify(e));
  if (typeof json === 'string') return `a non-Error ${typeof e} ${json.length > 200 ? `${json.slice(0, 200)}…` : json}`;
  return `a non-Error ${typeof e} that cannot be printed`;
}

/**
 * Imports the module at an absolute file path.
 * @param {string} file absolute path
 * @param {string} source how the user named it, for messages
 * @returns {Promise<Record<string, unknown>>}
 */
export async function importAdapterFile(file, source) {
  try {
    return /** @type {Record<string, unknown>} */ (await import(pathToFileURL(file).href));
  } catch (e) {
    const err = /** @type {NodeJS.ErrnoException} */ (e);
    if (err && err.code === 'ERR_UNKNOWN_FILE_EXTENSION' && /\.[cm]?tsx?$/.test(file)) {
      throw new ModuleLoadError(
        `${source}: node ${process.versions.node} cannot import TypeScript directly; compile it first (npx tsc, then pass the .js) ` +
        `or run with a loader: node --import tsx $(which normcheck) check ${source}`,
      );
    }
    throw new ModuleLoadError(`${source}: failed to import: ${messageOf(e)}`);
  }
}

/**
 * The adapter a module exports (not yet validated).
 * @param {Record<string, unknown>} mod
 * @param {string} source
 * @returns {Promise<unknown>}
 */
export async function adapterExport(mod, source) {
  let value;
  try {
    value = mod.default ?? mod.adapter;
  } catch (e) {
    throw new ModuleLoadError(`${source}: reading the module's default export threw ${messageOf(e)}`);
  }
  const exported = mod.default !== undefined ? 'default export' : 'export "adapter"';
  if (value === undefined) throw new ModuleLoadError(`${source}: no default export (export default defineAdapter({...}))`);
  if (typeof value === 'function') {
    try {
      value = await value();
    } catch (e) {
      throw new ModuleLoadError(`${source}: the ${exported} is a factory function, and calling it threw ${messageOf(e)}`);
    }
  }
  return value;
}
