/**
 * The worker host: the adapter module runs in a worker thread (worker_main.js), the default for an adapter
 * given by path. What this buys over in-process, each tested with a hostile adapter (test/hosts/):
 *
 *   a synchronous infinite loop, an async hang   the per-call timeout terminates the thread ('timeout')
 *   process.exit (at import or in a call)         ends the thread, not the run: a load error, or 'crashed'
 *   exhausting memory                              the thread's heap limit (resourceLimits) ends the thread
 *                                                  with ERR_WORKER_OUT_OF_MEMORY: 'crashed'
 *   a timer callback that throws, a rejection      'fault', blamed on the call that scheduled it
 *   nobody handles
 *   a top-level await that never settles           a load error naming the file (load timeout, or the thread
 *                                                  ending with nothing left to wait for)
 *   printing to stdout                             captured and forwarded to stderr as `[name] line`, so the
 *                                                  report on stdout stays intact
 *
 * Queueing, timeouts, restarts and blame: channel_host.ts. Not covered: memory outside the JavaScript heap
 * (ArrayBuffers) is not counted by the heap limit, and process.abort() or process.kill(process.pid) end the
 * whole process: run such an adapter as a subprocess.
 */
import { Worker } from 'node:worker_threads';
import { describeThrown } from '../error_text.js';
import { AdapterLoadError } from '../load.js';
import { AdapterShapeError, validateAdapter } from '../validate_adapter.js';
import { ChannelHost, threwPrefix, type Outgoing } from './channel_host.js';
import { AdapterFailure } from './failure.js';
import type { HostMeta, HostOptions } from './host.js';
import { DEFAULT_MEMORY_LIMIT_MB } from './host.js';
import { metaOf } from './in_process.js';
import { LineSplitter } from './lines.js';
import { MAX_TIMER_MS } from './timer.js';

/** What the worker loads: a module file, or a built-in adapter by name (from dist/ only). */
export type WorkerTarget = { file: string } | { builtin: string };

type WorkerMessage =
  | { type: 'ready'; fields?: Record<string, unknown>; methods?: string[]; notAnObject?: string }
  | { type: 'load-error'; message: string }
  | { type: 'result'; id: number; ok: true; value: unknown; mutated: Record<string, ArrayBufferView> }
  | { type: 'result'; id: number; ok: false; kind: string; message: string; traceback: string | null; own: boolean }
  | { type: 'fault'; callId: number; message: string; traceback: string | null };

export class WorkerHost extends ChannelHost {
  readonly kind = 'worker' as const;
  protected readonly noun = 'worker thread';
  private worker: Worker | null = null;
  private lastError: unknown = null;
  private readonly memoryLimitMb: number;

  private constructor(spec: string, private readonly target: WorkerTarget, private readonly source: string, options: HostOptions) {
    super(spec, options);
    this.memoryLimitMb = options.memoryLimitMb ?? DEFAULT_MEMORY_LIMIT_MB;
  }

  /** Starts the worker and loads the adapter; throws AdapterLoadError naming `source` (the file). */
  static async open(spec: string, target: WorkerTarget, source: string, options: HostOptions = {}): Promise<WorkerHost> {
    const host = new WorkerHost(spec, target, source, options);
    await host.begin();
    return host;
  }

  protected launch(): Promise<HostMeta> {
    // [0] 1 once process.exit was called, [1] its code, [2] the id of the call that called it (worker_main.js)
    const status = new Int32Array(new SharedArrayBuffer(12));
    const worker = new Worker(new URL('./worker_main.js', import.meta.url), {
      workerData: { target: this.target, source: this.source, status: status.buffer },
      resourceLimits: { maxOldGenerationSizeMb: this.memoryLimitMb },
      stdout: true,
      stderr: true,
    });
    this.worker = worker;
    this.lastError = null;
    for (const stream of [worker.stdout, worker.stderr]) {
      const lines = new LineSplitter(this.log);
      stream.on('data', (chunk: Buffer) => lines.push(chunk));
      stream.on('end', () => lines.end());
    }
    return new Promise<HostMeta>((resolve, reject) => {
      let loading = true;
      const fail = (message: string) => {
        if (!loading) return;
        loading = false;
        clearTimeout(loadTimer);
        if (this.worker === worker) this.worker = null;
        void worker.terminate();
        reject(new AdapterLoadError(message));
      };
      const loadTimer = setTimeout(() => fail(`${this.source}: did not finish loading within ${this.loadTimeoutMs} ms (a top-level await that never settles?)`),
        Math.min(this.loadTimeoutMs, MAX_TIMER_MS));
      worker.on('message', (m: WorkerMessage) => {
        if (worker !== this.worker) return;
        if (m.type === 'ready') {
          if (!loading) return;
          try {
            const meta = this.declared(m);
            loading = false;
            clearTimeout(loadTimer);
            this.live = true;
            resolve(meta);
          } catch (e) {
            fail(e instanceof Error ? e.message : describeThrown(e));
          }
        } else if (m.type === 'load-error') fail(m.message);
        else this.onMessage(m);
      });
      worker.on('error', (e) => {
        this.lastError = e;
      });
      worker.on('exit', (code) => {
        if (worker !== this.worker) return;
        this.worker = null;
        if (loading) fail(`${this.source}: ${this.loadDeath(status, code)}`);
        else this.died(this.death(status, code), Atomics.load(status, 0) === 1 ? Atomics.load(status, 2) : null);
      });
    });
  }

  /** The adapter's declaration, validated by the same rules as an adapter object (validate_adapter.ts). */
  private declared(m: Extract<WorkerMessage, { type: 'ready' }>): HostMeta {
    if (m.notAnObject !== undefined) throw new AdapterLoadError(`${this.source}: expected an adapter object, got ${m.notAnObject}`);
    const standIn: Record<string, unknown> = { ...m.fields };
    for (const name of m.methods ?? []) standIn[name] = () => undefined;
    try {
      return metaOf(validateAdapter(standIn, this.source));
    } catch (e) {
      throw new AdapterLoadError(e instanceof AdapterShapeError ? e.message : describeThrown(e));
    }
  }

  /** How the thread ended before the adapter loaded, in words. */
  private loadDeath(status: Int32Array, code: number): string {
    // exit code 13: the module graph's top-level await was still pending when nothing was left to wait for
    if (Atomics.load(status, 0) === 0 && !this.lastError && code === 13) {
      return 'did not finish loading: its top-level await never settles (nothing was left for it to wait for)';
    }
    return `${this.death(status, code)} while loading`;
  }

  /** How the thread ended, in words. */
  private death(status: Int32Array, code: number): string {
    if (Atomics.load(status, 0) === 1) return `called process.exit(${Atomics.load(status, 1)})`;
    const err = this.lastError as { code?: string } | null;
    if (err?.code === 'ERR_WORKER_OUT_OF_MEMORY') return `ran out of memory (the worker's heap limit is ${this.memoryLimitMb} MB)`;
    if (err) return `died: ${describeThrown(err)}`;
    return `ended with exit code ${code}`;
  }

  private onMessage(m: WorkerMessage): void {
    if (m.type === 'fault') return this.lateFault(m.callId, m.message, m.traceback);
    if (m.type !== 'result') return;
    if (m.ok) return this.answered(m.id, { ok: true, value: m.value, mutated: m.mutated });
    const { kind, message, traceback, own } = m;
    this.answered(m.id, {
      ok: false,
      failure: (p) => {
        if (kind === 'threw' && !own) return new AdapterFailure('threw', `${threwPrefix(p.what)}${message}`, traceback, p.tag);
        if (kind === 'fault') return new AdapterFailure('fault', `${p.what}: ${message}`, traceback, p.tag);
        return new AdapterFailure(kind === 'type' ? 'type' : 'threw', message, traceback, p.tag);
      },
    });
  }

  protected transmit(message: Outgoing): void {
    const w = this.worker!;
    if (message.kind === 'calls') w.postMessage({ type: 'calls', calls: message.calls });
    else if (message.kind === 'hook') w.postMessage({ type: 'hook', id: message.id, hook: message.hook });
    else w.postMessage({ type: 'settle', id: message.id });
  }

  protected async terminate(_graceful: boolean): Promise<void> {
    const w = this.worker;
    this.worker = null;
    await w?.terminate();
  }
}
