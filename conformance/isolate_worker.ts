/**
 * The worker side of isolate.ts: loads one adapter by spec (built-in name or module path) and answers calls
 * { id, method, args } with { id, ok, result, args } — the args travel back so that the host can see, and
 * the hygiene check can report, an adapter that writes into its inputs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Adapter } from './adapter.js';
import { describeThrown } from './error_text.js';
import { loadAdapter } from './load.js';
import { declarationOf } from './validate_adapter.js';

const port = parentPort!;
const { spec } = workerData as { spec: string };

function errorOf(e: unknown): { name: string; message: string } {
  // the host re-throws { name, message } as an Error; describeThrown never throws on odd values
  if (e instanceof Error) {
    try {
      return { name: String(e.name), message: String(e.message) };
    } catch {
      // a throwing name or message getter: fall through
    }
  }
  return { name: 'Error', message: describeThrown(e) };
}

let adapter: Adapter;
try {
  adapter = await loadAdapter(spec);
  port.postMessage({ type: 'ready', meta: declarationOf(adapter) });
} catch (e) {
  port.postMessage({ type: 'load-error', error: errorOf(e) });
}

port.on('message', async ({ id, method, args }: { id: number; method: string; args: unknown }) => {
  try {
    const fn = (adapter as unknown as Record<string, (a: unknown) => unknown>)[method]!;
    const result = await fn.call(adapter, args);
    try {
      port.postMessage({ id, ok: true, result, args });
    } catch (e) {
      port.postMessage({ id, ok: false, error: { name: 'DataCloneError', message: `${method} returned a value that cannot be sent between threads: ${errorOf(e).message}` } });
    }
  } catch (e) {
    port.postMessage({ id, ok: false, error: errorOf(e) });
  }
});
