/**
 * What the worker and subprocess hosts share: an adapter at the other end of a channel (a worker thread's
 * message port, a child process's frame pipes), which answers requests one at a time in the order they
 * were sent. On that order rests all blame:
 *
 *   queue     every request sent and not yet answered, oldest first; the oldest is the one running
 *   timeout   the oldest request's timer starts when the adapter could start on it (when it was sent to an
 *             idle adapter, or when the request before it was answered); when it fires the worker or child
 *             is ended, that request fails as 'timeout' and the ones behind it as NotRun
 *   death     the oldest request fails as 'crashed' (unless the adapter's own record names an earlier call,
 *             e.g. process.exit from a timer: then that call is blamed as a late fault), the rest as NotRun
 *   restart   the next request starts a new worker or child, and runs setup() again if the run had run it
 *   faults    late faults are kept with the tag of the call that caused them (takeFaults)
 *
 * A subclass provides the channel: launch (start + handshake), transmit, terminate, and reports back with
 * answered / died / lateFault.
 */
import type { Capability } from '../adapter.js';
import { describeThrown } from '../error_text.js';
import { AdapterFailure, NotRun } from './failure.js';
import type { Call, CallOptions, Host, HostKind, HostMeta, HostOptions, HostStats } from './host.js';
import { DEFAULT_LOAD_TIMEOUT_MS, defaultLog } from './host.js';
import { MAX_TIMER_MS } from './timer.js';

export type Hook = 'available' | 'setup' | 'teardown';

/** One request, as a channel sends it. Every call of a batch has its own id and its own answer. */
export type Outgoing =
  | { kind: 'calls'; calls: { id: number; cap: Capability; args: unknown }[] }
  | { kind: 'hook'; id: number; hook: Hook }
  | { kind: 'settle'; id: number };

export interface Pending {
  id: number;
  /** the capability, or 'setup()' etc., for messages */
  what: string;
  args: unknown;
  tag: unknown;
  timeoutMs: number;
  resolve(value: unknown): void;
  reject(e: unknown): void;
}

/** An answer: the value (and the inputs the adapter wrote into), or how to word the failure for its request. */
export type Answer =
  | { ok: true; value: unknown; mutated?: Record<string, ArrayBufferView> }
  | { ok: false; failure: (p: Pending) => AdapterFailure };

/** Call ids kept for blaming late faults on their call (the most recent ones; older ids name no call). */
const TAGS_KEPT = 10_000;

/** "bnTrainForward threw Error: …" for a capability; "setup() threw: …" for a hook (the runner quotes it as is). */
export function threwPrefix(what: string): string {
  return what.endsWith('()') ? `${what} threw: ` : `${what} threw `;
}

type Item = { what: string; args: unknown; cap?: Capability; hook?: Hook; settle?: true; tag?: unknown };

export abstract class ChannelHost implements Host {
  abstract readonly kind: HostKind;
  readonly batches = true;
  readonly stats: HostStats = { calls: 0, roundTrips: 0, restarts: 0, reused: 0 };
  meta!: HostMeta;

  /** whether a worker or child is running and has completed its handshake */
  protected live = false;
  protected readonly log: (line: string) => void;
  protected readonly loadTimeoutMs: number;
  /** 'worker thread' or 'process', for messages */
  protected abstract readonly noun: string;

  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private tags = new Map<number, { what: string; tag: unknown }>();
  private faults: AdapterFailure[] = [];
  private nextId = 1;
  private launches = 0;
  private setupTimeoutMs: number | null = null;
  /** the last call whose answer said it left threads running in the adapter (subprocess), until a ping says none are */
  private runner: number | null = null;
  private closed = false;
  /** serialises (re)starting and sending */
  private chain: Promise<void> = Promise.resolve();

  constructor(readonly spec: string, options: HostOptions) {
    this.log = options.log ?? defaultLog(spec);
    this.loadTimeoutMs = options.loadTimeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS;
  }

  /** Starts a worker or child and completes its handshake (setting `live`); rejects with AdapterLoadError. */
  protected abstract launch(): Promise<HostMeta>;
  /** Sends one request to the live worker or child. */
  protected abstract transmit(message: Outgoing): void;
  /**
   * Ends the live worker or child; its end must not be reported through died(). `graceful`: at the end of
   * the run (let it exit by itself for a moment); otherwise at once (a timeout, a broken channel).
   */
  protected abstract terminate(graceful: boolean): Promise<void>;

  /** The first launch, for the subclass's open(): throws AdapterLoadError. */
  protected async begin(): Promise<void> {
    this.meta = await this.relaunch();
  }

  private relaunch(): Promise<HostMeta> {
    if (this.launches++ > 0) this.stats.restarts++;
    return this.launch();
  }

  // ------------------------------------------------------------------------------------------------------
  // Reports from the channel

  /** The answer to request `id`; ignored unless it is the oldest one (a late answer after a timeout). */
  protected answered(id: number, answer: Answer): void {
    const p = this.queue[0];
    if (!p || p.id !== id) return;
    this.queue.shift();
    this.armTimer();
    if (answer.ok) {
      copyBack(p.args, answer.mutated);
      p.resolve(answer.value);
    } else p.reject(answer.failure(p));
  }

  /** The request `id` (the oldest) cannot be answered by this channel any more: e.g. a malformed frame. */
  protected broken(failure: (p: Pending) => AdapterFailure): void {
    const [head, ...rest] = this.queue.splice(0);
    clearTimeout(this.timer);
    this.live = false;
    void this.terminate(false);
    if (head) head.reject(failure(head));
    for (const p of rest) p.reject(new NotRun(`${p.what} was not run: the ${this.noun} was stopped during an earlier call`));
  }

  /**
   * The worker or child ended by itself, `how` in words ("called process.exit(0)", "was killed by SIGKILL").
   * `culprit`: the call the adapter's own record names (process.exit from a timer an earlier call scheduled).
   */
  protected died(how: string, culprit: number | null = null): void {
    this.live = false;
    clearTimeout(this.timer);
    // no call running (idle, or a settle or hook in flight): a thread an earlier call left running did it
    if (culprit === null && this.runner !== null && !(this.queue[0] && this.tags.has(this.queue[0].id))) culprit = this.runner;
    this.runner = null;
    const scheduler = culprit === null ? undefined : this.tags.get(culprit);
    const [head, ...rest] = this.queue.splice(0);
    if (head && (!scheduler || culprit === head.id)) {
      head.reject(new AdapterFailure('crashed', `${head.what}: the adapter's ${this.noun} ${how} during the call (the next call starts a new one)`, null, head.tag));
    } else {
      this.faults.push(new AdapterFailure('crashed', scheduler ? `${scheduler.what} returned, then the adapter's ${this.noun} ${how} from ${this.kind === 'subprocess' ? 'a thread it left running' : 'a callback it scheduled'}` : `the adapter's ${this.noun} ${how} between calls`, null, scheduler?.tag ?? null));
      if (head) rest.unshift(head);
    }
    for (const p of rest) p.reject(new NotRun(`${p.what} was not run: the ${this.noun} ended during an earlier call`));
  }

  /**
   * Request `id` was answered and said whether it left threads running (a call: it did; a settle: some still
   * are, or none). A death between calls is then blamed on the last call that left some (died()).
   */
  protected leftRunning(id: number, running: boolean): void {
    if (this.tags.has(id)) {
      if (running) this.runner = id;
    } else if (!running) this.runner = null;
  }

  /** A callback scheduled by call `callId` threw (or a Promise it made rejected unhandled) after it returned. */
  protected lateFault(callId: number, message: string, traceback: string | null): void {
    const call = this.tags.get(callId);
    const what = call ? `${call.what} returned, then ${message}` : `the adapter, between calls: ${message}`;
    this.faults.push(new AdapterFailure('fault', what, traceback, call?.tag ?? null));
  }

  // ------------------------------------------------------------------------------------------------------
  // Queue and timer

  private armTimer(): void {
    clearTimeout(this.timer);
    const head = this.queue[0];
    if (!head) return;
    this.timer = setTimeout(() => this.onTimeout(head), Math.min(head.timeoutMs, MAX_TIMER_MS));
  }

  private onTimeout(head: Pending): void {
    if (this.queue[0] !== head) return;
    this.broken((p) => new AdapterFailure('timeout', `${p.what} did not return within ${p.timeoutMs} ms (its ${this.noun} was stopped; the next call starts a new one)`, null, p.tag));
  }

  /** A live worker or child: the current one, or a new one with setup() run again. */
  private async ensure(): Promise<void> {
    if (this.closed) throw new AdapterFailure('crashed', 'the host was closed');
    if (this.live) return;
    try {
      await this.relaunch();
    } catch (e) {
      throw new AdapterFailure('crashed', `could not restart the adapter's ${this.noun}: ${describeThrown(e instanceof Error ? e.message : e)}`);
    }
    if (this.setupTimeoutMs !== null) {
      const [setup] = this.send([{ what: 'setup()', args: null, hook: 'setup' }], { timeoutMs: this.setupTimeoutMs });
      await setup!.catch((e: unknown) => {
        throw new AdapterFailure('crashed', `the restarted ${this.noun}'s setup() failed: ${e instanceof AdapterFailure ? e.message : describeThrown(e)}`);
      });
    }
  }

  /** Queues `items` and transmits them (the calls among them as one request: one round trip). */
  private send(items: readonly Item[], options: CallOptions): Promise<unknown>[] {
    const promises: Promise<unknown>[] = [];
    const calls: { id: number; cap: Capability; args: unknown }[] = [];
    const wasIdle = this.queue.length === 0;
    for (const item of items) {
      const id = this.nextId++;
      const tag = 'tag' in item ? item.tag : options.tag;
      promises.push(new Promise((resolve, reject) => {
        this.queue.push({ id, what: item.what, args: item.args, tag, timeoutMs: options.timeoutMs, resolve, reject });
      }));
      if (item.cap) {
        calls.push({ id, cap: item.cap, args: item.args });
        this.tags.set(id, { what: item.what, tag });
        if (this.tags.size > TAGS_KEPT) this.tags.delete(this.tags.keys().next().value!);
      } else if (item.hook) this.transmit({ kind: 'hook', id, hook: item.hook });
      else this.transmit({ kind: 'settle', id });
    }
    if (calls.length) {
      this.transmit({ kind: 'calls', calls });
      this.stats.calls += calls.length;
    }
    this.stats.roundTrips++;
    if (wasIdle) this.armTimer();
    return promises;
  }

  /** Runs `items` after everything sent before them, on a live worker or child. */
  private enqueue(items: readonly Item[], options: CallOptions): Promise<unknown>[] {
    const settlers: { resolve(v: unknown): void; reject(e: unknown): void }[] = [];
    const out = items.map(() => new Promise<unknown>((resolve, reject) => settlers.push({ resolve, reject })));
    this.chain = this.chain.then(async () => {
      try {
        await this.ensure();
      } catch (e) {
        for (const s of settlers) s.reject(e);
        return;
      }
      this.send(items, options).forEach((p, i) => p.then(settlers[i]!.resolve, settlers[i]!.reject));
    });
    return out;
  }

  // ------------------------------------------------------------------------------------------------------
  // Host

  call(cap: Capability, args: unknown, options: CallOptions): Promise<unknown> {
    return this.callBatch([{ cap, args }], options)[0]!;
  }

  callBatch(calls: readonly Call[], options: CallOptions): Promise<unknown>[] {
    return this.enqueue(calls.map((c) => ({ what: c.cap, args: c.args, cap: c.cap, ...('tag' in c ? { tag: c.tag } : {}) })), options);
  }

  private hook(hook: Hook, timeoutMs: number): Promise<unknown> {
    return this.enqueue([{ what: `${hook}()`, args: null, hook }], { timeoutMs })[0]!;
  }

  async available(timeoutMs: number): Promise<true | string> {
    try {
      const v = await this.hook('available', timeoutMs);
      return v === true ? true : typeof v === 'string' ? v : `available() returned ${describeThrown(v)}; expected true or a reason`;
    } catch (e) {
      return e instanceof AdapterFailure ? e.message : describeThrown(e);
    }
  }

  async setup(timeoutMs: number): Promise<void> {
    await this.hook('setup', timeoutMs);
    this.setupTimeoutMs = timeoutMs;
  }

  async teardown(timeoutMs: number): Promise<void> {
    // a worker or child that already died has nothing to tear down; do not start one for it
    if (!this.live) return;
    await this.hook('teardown', timeoutMs);
  }

  async settle(timeoutMs: number): Promise<void> {
    if (this.live) await this.enqueue([{ what: 'settle', args: null, settle: true }], { timeoutMs })[0]!.catch(() => undefined);
  }

  takeFaults(): AdapterFailure[] {
    return this.faults.splice(0);
  }

  async kill(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    for (const p of this.queue.splice(0)) p.reject(new NotRun(`${p.what} was not run: the host was closed`));
    if (this.live) {
      this.live = false;
      await this.terminate(true);
    }
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
