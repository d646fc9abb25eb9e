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
 *
 * With `child: true` the same worker_main.js runs in a forked Node process instead (kind 'subprocess'), for
 * WebGPU adapters: terminating a thread while Dawn (the `webgpu` package) has GPU work pending aborts the
 * whole process (node-webgpu 0.6.2: "FATAL ERROR: Error::ThrowAsJavaScriptException napi_throw"), so a
 * shader that runs past its timeout would take the run and its report down; a process is killed instead
 * (SIGKILL), which also stops the runaway shader's CPU work on SwiftShader. The heap limit is then
 * --max-old-space-size; a process.exit record comes over fd 4.
 */
import { fork, type ChildProcess } from 'node:child_process';
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
  | { type: 'ready'; fields?: Record<string, unknown>; methods?: string[]; notAnObject?: string; webgpu?: boolean }
  | { type: 'load-error'; message: string }
  | { type: 'result'; id: number; ok: true; value: unknown; mutated: Record<string, ArrayBufferView> }
  | { type: 'result'; id: number; ok: false; kind: string; message: string; traceback: string | null; own: boolean }
  | { type: 'fault'; callId: number; message: string; traceback: string | null };

/** The two ends a worker thread and a forked process have in common, as this host uses them. */
type Channel = Worker | ChildProcess;

/** Forked processes still running, killed if this process exits first. */
const children = new Set<ChildProcess>();
let exitHook = false;

export class WorkerHost extends ChannelHost {
  readonly kind: 'worker' | 'subprocess';
  protected readonly noun: string;
  private worker: Channel | null = null;
  private lastError: unknown = null;
  private readonly memoryLimitMb: number;
  /** whether the adapter carries webgpuAdapter's mark (the last handshake's declaration) */
  drivesWebgpu = false;

  private constructor(spec: string, private readonly target: WorkerTarget, private readonly source: string, options: HostOptions, private readonly child: boolean) {
    super(spec, options);
    this.memoryLimitMb = options.memoryLimitMb ?? DEFAULT_MEMORY_LIMIT_MB;
    this.kind = child ? 'subprocess' : 'worker';
    this.noun = child ? 'process' : 'worker thread';
  }

  /**
   * Starts the worker (with `child`, a forked Node process) and loads the adapter; throws AdapterLoadError
   * naming `source` (the file).
   */
  static async open(spec: string, target: WorkerTarget, source: string, options: HostOptions = {}, child = false): Promise<WorkerHost> {
    const host = new WorkerHost(spec, target, source, options, child);
    await host.begin();
    return host;
  }

  /** A worker thread, or a forked process running the same worker_main.js. */
  private start(status: Int32Array): Channel {
    const main = new URL('./worker_main.js', import.meta.url);
    if (!this.child) {
      return new Worker(main, {
        workerData: { target: this.target, source: this.source, status: status.buffer },
        resourceLimits: { maxOldGenerationSizeMb: this.memoryLimitMb },
        stdout: true,
        stderr: true,
      });
    }
    if (!exitHook) {
      exitHook = true;
      process.on('exit', () => {
        for (const c of children) c.kill('SIGKILL');
      });
    }
    const child = fork(main, [], {
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc', 'pipe'],
      execArgv: [...process.execArgv.filter((a) => !a.startsWith('--max-old-space-size')), `--max-old-space-size=${this.memoryLimitMb}`],
      env: { ...process.env, NORMCHECK_WORKER_DATA: JSON.stringify({ target: this.target, source: this.source }) },
    });
    children.add(child);
    child.on('exit', () => children.delete(child));
    // worker_main.js's process.exit record, written synchronously before it exits
    const record = new LineSplitter((line) => {
      try {
        const r = JSON.parse(line) as { code: number; call: number };
        Atomics.store(status, 1, r.code);
        Atomics.store(status, 2, r.call);
        Atomics.store(status, 0, 1);
      } catch {
        // not a record
      }
    });
    (child.stdio[4] as NodeJS.ReadableStream).on('data', (chunk: Buffer) => record.push(chunk));
    return child;
  }

  protected launch(): Promise<HostMeta> {
    // [0] 1 once process.exit was called, [1] its code, [2] the id of the call that called it (worker_main.js)
    const status = new Int32Array(new SharedArrayBuffer(12));
    const worker = this.start(status);
    this.worker = worker;
    this.lastError = null;
    for (const stream of [worker.stdout, worker.stderr]) {
      const lines = new LineSplitter(this.log);
      stream!.on('data', (chunk: Buffer) => lines.push(chunk));
      stream!.on('end', () => lines.end());
    }
    return new Promise<HostMeta>((resolve, reject) => {
      let loading = true;
      const fail = (message: string) => {
        if (!loading) return;
        loading = false;
        clearTimeout(loadTimer);
        if (this.worker === worker) this.worker = null;
        if (worker instanceof Worker) void worker.terminate();
        else worker.kill('SIGKILL');
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
            this.drivesWebgpu = m.webgpu === true;
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
      // a process's 'close' comes after its pipes are drained, fd 4's exit record included
      const ended = (code: number | null, signal?: NodeJS.Signals | null) => {
        if (worker !== this.worker) return;
        this.worker = null;
        if (loading) fail(`${this.source}: ${this.loadDeath(status, code, signal)}`);
        else this.died(this.death(status, code, signal), Atomics.load(status, 0) === 1 ? Atomics.load(status, 2) : null);
      };
      if (worker instanceof Worker) worker.on('exit', (code) => ended(code));
      else worker.on('close', ended);
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
  private loadDeath(status: Int32Array, code: number | null, signal?: NodeJS.Signals | null): string {
    // exit code 13: the module graph's top-level await was still pending when nothing was left to wait for
    if (Atomics.load(status, 0) === 0 && !this.lastError && code === 13) {
      return 'did not finish loading: its top-level await never settles (nothing was left for it to wait for)';
    }
    return `${this.death(status, code, signal)} while loading`;
  }

  /** How the thread or process ended, in words. */
  private death(status: Int32Array, code: number | null, signal?: NodeJS.Signals | null): string {
    if (Atomics.load(status, 0) === 1) return `called process.exit(${Atomics.load(status, 1)})`;
    if (signal) return `was killed by ${signal}`;
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
    const m = message.kind === 'calls' ? { type: 'calls', calls: message.calls }
      : message.kind === 'hook' ? { type: 'hook', id: message.id, hook: message.hook }
      : { type: 'settle', id: message.id };
    if (w instanceof Worker) w.postMessage(m);
    // a process that died meanwhile is reported by 'close'
    else if (w.connected) w.send(m, (e) => void e);
  }

  protected async terminate(_graceful: boolean): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w instanceof Worker) await w.terminate();
    else if (w && w.exitCode === null && w.signalCode === null) {
      // SIGKILL: a process whose GPU work is stuck would not finish a graceful exit
      await new Promise<void>((resolve) => {
        w.once('close', () => resolve());
        w.kill('SIGKILL');
      });
    }
  }
}
