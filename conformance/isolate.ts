/**
 * Running an adapter in a worker thread (`normcheck check --isolate`), so that even a SYNCHRONOUS infinite
 * loop is stopped by the per-call timeout: on a timeout the runner calls the adapter's ABORT hook, which
 * terminates the worker; the next call starts a fresh one (running setup() again). Everything else is the
 * same adapter: calls are proxied with their typed arrays (copied both ways; inputs the adapter wrote into
 * are copied back, so no_input_mutation still sees it).
 *
 * Only adapters that can be loaded by spec (a built-in name or a module path) can be isolated; the worker
 * script is JavaScript, so this works from the built dist/ (the CLI), not from TypeScript sources.
 */
import { Worker } from 'node:worker_threads';
import type { Adapter } from './adapter.js';
import { ABORT } from './invoke.js';
import { AdapterLoadError } from './load.js';
import { AdapterShapeError, validateDeclaration, type AdapterDeclaration } from './validate_adapter.js';

/** What the worker reports of the adapter it loaded (validated again here, as any host's handshake does). */
type Meta = AdapterDeclaration;

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  args: unknown;
}

export interface IsolatedAdapter extends Adapter {
  [ABORT](): void;
  dispose(): Promise<void>;
}

class Host {
  private worker: Worker | null = null;
  private ready: Promise<Meta> | null = null;
  private pending = new Map<number, Pending>();
  private nextId = 0;
  private setupDone = false;
  constructor(readonly spec: string) {}

  start(): Promise<Meta> {
    if (this.ready) return this.ready;
    const worker = new Worker(new URL('./isolate_worker.js', import.meta.url), { workerData: { spec: this.spec } });
    this.worker = worker;
    this.ready = new Promise<Meta>((resolve, reject) => {
      worker.on('message', (m: { type?: string; meta?: unknown; error?: { message: string }; id?: number; ok?: boolean; result?: unknown; args?: unknown }) => {
        if (m.type === 'ready') {
          try {
            return resolve(validateDeclaration(m.meta, this.spec));
          } catch (e) {
            return reject(new AdapterLoadError(e instanceof AdapterShapeError ? e.message : String(e)));
          }
        }
        if (m.type === 'load-error') return reject(new AdapterLoadError(m.error!.message));
        const p = this.pending.get(m.id!);
        if (!p) return;
        this.pending.delete(m.id!);
        if (m.ok) {
          copyBack(p.args, m.args);
          p.resolve(m.result);
        } else {
          const err = new Error(m.error!.message);
          err.name = (m.error as { name?: string }).name ?? 'Error';
          p.reject(err);
        }
      });
      worker.on('error', (e) => {
        reject(e);
        this.failAll(e);
      });
      worker.on('exit', () => {
        if (this.worker === worker) this.reset();
        this.failAll(new Error('the adapter\'s worker thread exited'));
      });
    });
    return this.ready;
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private reset(): void {
    this.worker = null;
    this.ready = null;
  }

  async call(method: string, args: unknown, hasSetup: boolean): Promise<unknown> {
    const fresh = !this.worker;
    await this.start();
    // a worker restarted after a timeout needs the adapter's setup() again
    if (fresh && hasSetup && this.setupDone && method !== 'setup') await this.send('setup', undefined);
    if (method === 'setup') this.setupDone = true;
    return this.send(method, args);
  }

  private send(method: string, args: unknown): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, args });
      this.worker!.postMessage({ id, method, args });
    });
  }

  abort(): void {
    const w = this.worker;
    this.reset();
    this.failAll(new Error('aborted after a timeout'));
    void w?.terminate();
  }
}

/** The adapter wrote into an argument: make the caller's array show it. */
function copyBack(sent: unknown, returned: unknown): void {
  if (!sent || !returned || typeof sent !== 'object') return;
  for (const [k, v] of Object.entries(sent as Record<string, unknown>)) {
    const r = (returned as Record<string, unknown>)[k];
    if (ArrayBuffer.isView(v) && ArrayBuffer.isView(r) && (v as Float64Array).length === (r as Float64Array).length) (v as Float64Array).set(r as Float64Array);
  }
}

/** Loads `spec` in a worker thread and returns an adapter that proxies to it. */
export async function loadIsolated(spec: string): Promise<IsolatedAdapter> {
  const host = new Host(spec);
  const meta = await host.start();
  const has = (m: string) => meta.methods.includes(m);
  const hasSetup = has('setup');
  const adapter: Record<string | symbol, unknown> = {
    name: meta.name, precision: meta.precision, layout: meta.layout,
    ...(meta.description !== undefined ? { description: meta.description } : {}),
    ...(meta.profile !== undefined ? { profile: meta.profile } : {}),
    ...(meta.conventions !== undefined ? { conventions: meta.conventions } : {}),
  };
  for (const m of meta.methods) adapter[m] = (args: unknown) => host.call(m, args, hasSetup);
  adapter[ABORT] = () => host.abort();
  adapter.dispose = async () => host.abort();
  return adapter as unknown as IsolatedAdapter;
}
