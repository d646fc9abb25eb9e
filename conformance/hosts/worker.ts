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
 * After a timeout or crash, the next call starts a new thread and runs setup() again (if the run had called
 * it), so later checks are unaffected and a replay of the failing check reproduces the failure on its own.
 * Not covered: memory outside the JavaScript heap (ArrayBuffers) is not counted by the heap limit, and
 * process.abort() or process.kill(process.pid) end the whole process: use a subprocess host for those.
 */
import { Worker } from 'node:worker_threads';
import type { Capability } from '../adapter.js';
import { describeThrown } from '../error_text.js';
import { AdapterLoadError } from '../load.js';
import { AdapterShapeError, validateAdapter } from '../validate_adapter.js';
import { AdapterFailure, NotRun } from './failure.js';
import type { Call, CallOptions, Host, HostMeta, HostOptions, HostStats } from './host.js';
import { DEFAULT_LOAD_TIMEOUT_MS, DEFAULT_MEMORY_LIMIT_MB, defaultLog } from './host.js';
import { metaOf, threwPrefix } from './in_process.js';
import { LineSplitter } from './lines.js';
import { MAX_TIMER_MS } from './timer.js';

/** What the worker loads: a module file, or a built-in adapter by name (from dist/ only). */
export type WorkerTarget = { file: string } | { builtin: string };

interface Pending {
  id: number;
  /** the capability or hook, for messages */
  what: string;
  args: unknown;
  tag: unknown;
  timeoutMs: number;
  message: object;
  resolve(value: unknown): void;
  reject(e: unknown): void;
}

type WorkerMessage =
  | { type: 'ready'; fields?: Record<string, unknown>; methods?: string[]; notAnObject?: string }
  | { type: 'load-error'; message: string }
  | { type: 'result'; id: number; ok: true; value: unknown; mutated: Record<string, ArrayBufferView> }
  | { type: 'result'; id: number; ok: false; kind: string; message: string; traceback: string | null; own: boolean }
  | { type: 'fault'; callId: number; message: string; traceback: string | null };

/** Call ids kept for blaming late faults on their call (the most recent ones; older ids name no call). */
const TAGS_KEPT = 10_000;

export class WorkerHost implements Host {
  readonly kind = 'worker' as const;
  readonly batches = true;
  readonly stats: HostStats = { calls: 0, roundTrips: 0, restarts: 0 };
  meta!: HostMeta;

  private worker: Worker | null = null;
  private status: Int32Array | null = null;
  private lastError: unknown = null;
  /** sent to the current worker and not yet answered, in the order sent (the worker's order) */
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private tags = new Map<number, { what: string; tag: unknown }>();
  private faults: AdapterFailure[] = [];
  private nextId = 1;
  private started = 0;
  private setupTimeoutMs: number | null = null;
  private closed = false;
  /** serialises (re)starting the worker and posting to it */
  private chain: Promise<void> = Promise.resolve();
  private readonly log: (line: string) => void;
  private readonly loadTimeoutMs: number;
  private readonly memoryLimitMb: number;

  private constructor(readonly spec: string, private readonly target: WorkerTarget, private readonly source: string, options: HostOptions) {
    this.log = options.log ?? defaultLog(spec);
    this.loadTimeoutMs = options.loadTimeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS;
    this.memoryLimitMb = options.memoryLimitMb ?? DEFAULT_MEMORY_LIMIT_MB;
  }

  /** Starts the worker and loads the adapter; throws AdapterLoadError naming `source` (the file). */
  static async open(spec: string, target: WorkerTarget, source: string, options: HostOptions = {}): Promise<WorkerHost> {
    const host = new WorkerHost(spec, target, source, options);
    host.meta = await host.start();
    return host;
  }

  private start(): Promise<HostMeta> {
    const status = new Int32Array(new SharedArrayBuffer(12));
    const worker = new Worker(new URL('./worker_main.js', import.meta.url), {
      workerData: { target: this.target, source: this.source, status: status.buffer },
      resourceLimits: { maxOldGenerationSizeMb: this.memoryLimitMb },
      stdout: true,
      stderr: true,
    });
    if (this.started++ > 0) this.stats.restarts++;
    this.worker = worker;
    this.status = status;
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
        if (m.type === 'ready') {
          if (!loading) return;
          loading = false;
          clearTimeout(loadTimer);
          try {
            resolve(this.declared(m));
          } catch (e) {
            this.worker = null;
            void worker.terminate();
            reject(e);
          }
        } else if (m.type === 'load-error') fail(m.message);
        else if (worker === this.worker) this.onMessage(m);
      });
      worker.on('error', (e) => {
        this.lastError = e;
      });
      worker.on('exit', (code) => {
        if (loading) fail(`${this.source}: ${this.loadDeath(status, code)}`);
        else if (worker === this.worker) this.onExit(status, code);
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
    if (m.type === 'fault') {
      const call = this.tags.get(m.callId);
      const what = call ? `${call.what} returned, then ${m.message}` : `the adapter, between calls: ${m.message}`;
      this.faults.push(new AdapterFailure('fault', what, m.traceback, call?.tag ?? null));
      return;
    }
    if (m.type !== 'result') return;
    const p = this.queue[0];
    if (!p || p.id !== m.id) return; // the answer of a call that already timed out
    this.queue.shift();
    this.armTimer();
    if (m.ok) {
      copyBack(p.args, m.mutated);
      p.resolve(m.value);
    } else if (m.kind === 'threw' && !m.own) {
      p.reject(new AdapterFailure('threw', `${threwPrefix(p.what)}${m.message}`, m.traceback, p.tag));
    } else if (m.kind === 'fault') {
      p.reject(new AdapterFailure('fault', `${p.what}: ${m.message}`, m.traceback, p.tag));
    } else {
      p.reject(new AdapterFailure(m.kind === 'type' ? 'type' : 'threw', m.message, m.traceback, p.tag));
    }
  }

  /**
   * The thread died: the call it was running is blamed, the ones queued behind it were not run. When the
   * thread called process.exit from a callback an earlier call scheduled, that call is blamed instead (a
   * late 'crashed' fault) and the one in flight was only interrupted.
   */
  private onExit(status: Int32Array, code: number): void {
    this.worker = null;
    clearTimeout(this.timer);
    const how = this.death(status, code);
    const exitCall = Atomics.load(status, 0) === 1 ? Atomics.load(status, 2) : -1;
    const scheduler = this.tags.get(exitCall);
    const [head, ...rest] = this.queue.splice(0);
    if (head && (!scheduler || exitCall === head.id)) {
      head.reject(new AdapterFailure('crashed', `${head.what}: the adapter's worker thread ${how} during the call (the next call starts a new one)`, null, head.tag));
    } else {
      this.faults.push(new AdapterFailure('crashed', scheduler ? `${scheduler.what} returned, then the adapter's worker thread ${how} from a callback it scheduled` : `the adapter's worker thread ${how} between calls`, null, scheduler?.tag ?? null));
      if (head) rest.unshift(head);
    }
    for (const p of rest) p.reject(new NotRun(`${p.what} was not run: the worker thread ended during an earlier call`));
  }

  private armTimer(): void {
    clearTimeout(this.timer);
    const head = this.queue[0];
    if (!head) return;
    this.timer = setTimeout(() => this.onTimeout(head), Math.min(head.timeoutMs, MAX_TIMER_MS));
  }

  private onTimeout(head: Pending): void {
    if (this.queue[0] !== head) return;
    const w = this.worker;
    this.worker = null;
    void w?.terminate();
    const [, ...rest] = this.queue.splice(0);
    head.reject(new AdapterFailure('timeout', `${head.what} did not return within ${head.timeoutMs} ms (its worker thread was stopped; the next call starts a new one)`, null, head.tag));
    for (const p of rest) p.reject(new NotRun(`${p.what} was not run: the worker thread was stopped during an earlier call`));
  }

  /** A worker to post to: the current one, or a new one with setup() run again. */
  private async ensure(): Promise<Worker> {
    if (this.closed) throw new AdapterFailure('crashed', 'the host was closed');
    if (this.worker) return this.worker;
    try {
      await this.start();
    } catch (e) {
      throw new AdapterFailure('crashed', `could not restart the adapter's worker thread: ${describeThrown(e)}`);
    }
    if (this.setupTimeoutMs !== null) {
      const [setup] = this.post([{ what: 'setup()', args: null, message: { type: 'hook', hook: 'setup' } }], { timeoutMs: this.setupTimeoutMs }, this.worker!);
      await setup!.catch((e: unknown) => {
        throw new AdapterFailure('crashed', `the restarted worker thread's setup() failed: ${describeThrown(e instanceof AdapterFailure ? e.message : e)}`);
      });
    }
    return this.worker!;
  }

  /** Queues `items` on the worker (one postMessage for the calls among them) and arms the timer. */
  private post(items: { what: string; args: unknown; message: object; cap?: Capability }[], options: CallOptions, worker: Worker): Promise<unknown>[] {
    const promises: Promise<unknown>[] = [];
    const calls: object[] = [];
    for (const item of items) {
      const id = this.nextId++;
      promises.push(new Promise((resolve, reject) => {
        this.queue.push({ id, what: item.what, args: item.args, tag: options.tag, timeoutMs: options.timeoutMs, message: item.message, resolve, reject });
      }));
      if (item.cap) {
        calls.push({ id, cap: item.cap, args: item.args });
        this.tags.set(id, { what: item.what, tag: options.tag });
        if (this.tags.size > TAGS_KEPT) this.tags.delete(this.tags.keys().next().value!);
      } else worker.postMessage({ ...item.message, id });
    }
    if (calls.length) {
      worker.postMessage({ type: 'calls', calls });
      this.stats.calls += calls.length;
    }
    this.stats.roundTrips++;
    if (this.queue.length === items.length) this.armTimer();
    return promises;
  }

  /** Runs `items` after everything sent before them, on a live worker. */
  private enqueue(items: { what: string; args: unknown; message: object; cap?: Capability }[], options: CallOptions): Promise<unknown>[] {
    const settlers: { resolve(v: unknown): void; reject(e: unknown): void }[] = [];
    const out = items.map(() => new Promise<unknown>((resolve, reject) => settlers.push({ resolve, reject })));
    this.chain = this.chain.then(async () => {
      let worker: Worker;
      try {
        worker = await this.ensure();
      } catch (e) {
        for (const s of settlers) s.reject(e);
        return;
      }
      this.post(items, options, worker).forEach((p, i) => p.then(settlers[i]!.resolve, settlers[i]!.reject));
    });
    return out;
  }

  call(cap: Capability, args: unknown, options: CallOptions): Promise<unknown> {
    return this.callBatch([{ cap, args }], options)[0]!;
  }

  callBatch(calls: readonly Call[], options: CallOptions): Promise<unknown>[] {
    return this.enqueue(calls.map(({ cap, args }) => ({ what: cap, args, cap, message: {} })), options);
  }

  private hook(hook: 'available' | 'setup' | 'teardown', timeoutMs: number): Promise<unknown> {
    return this.enqueue([{ what: `${hook}()`, args: null, message: { type: 'hook', hook } }], { timeoutMs })[0]!;
  }

  async available(timeoutMs: number): Promise<true | string> {
    try {
      const v = await this.hook('available', timeoutMs);
      return v === true ? true : typeof v === 'string' ? v : `available() returned ${describeThrown(v)}; expected true or a reason`;
    } catch (e) {
      return describeThrown(e instanceof AdapterFailure ? e.message : e);
    }
  }

  async setup(timeoutMs: number): Promise<void> {
    await this.hook('setup', timeoutMs);
    this.setupTimeoutMs = timeoutMs;
  }

  async teardown(timeoutMs: number): Promise<void> {
    // a thread that already died has nothing to tear down; do not start one for it
    if (!this.worker) return;
    await this.hook('teardown', timeoutMs);
  }

  async settle(timeoutMs: number): Promise<void> {
    if (this.worker) await this.enqueue([{ what: 'settle', args: null, message: { type: 'settle' } }], { timeoutMs })[0]!.catch(() => undefined);
  }

  takeFaults(): AdapterFailure[] {
    return this.faults.splice(0);
  }

  async kill(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const w = this.worker;
    this.worker = null;
    for (const p of this.queue.splice(0)) p.reject(new NotRun(`${p.what} was not run: the host was closed`));
    await w?.terminate();
  }
}

/** The adapter wrote into an input: make the caller's array show it (hygiene.no_input_mutation). */
function copyBack(sent: unknown, mutated: Record<string, ArrayBufferView> | undefined): void {
  if (!mutated || !sent || typeof sent !== 'object') return;
  for (const [k, v] of Object.entries(mutated)) {
    const target = (sent as Record<string, unknown>)[k];
    if (ArrayBuffer.isView(target) && target.byteLength === v.byteLength) {
      new Uint8Array(target.buffer, target.byteOffset, target.byteLength).set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    }
  }
}
