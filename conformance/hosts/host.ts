/**
 * The host layer: the one way the runner and the checks reach an adapter. A host runs one adapter somewhere
 * and answers capability calls; timeouts, cancellation, crash detection, restarts and blame live here, once,
 * for every kind of host:
 *
 *   in-process   the adapter object in this thread (built-ins; a path with --in-process). A timeout ends
 *                the wait but cannot stop a synchronous loop, and nothing survives process.exit.
 *   worker       the adapter module in a worker thread (the default for a path). A timeout or a crash
 *                ends the worker; the next call starts a new one and runs setup() again.
 *   subprocess   a child process in any language speaking the wire protocol (docs/protocol.md), given as
 *                `subprocess:<command line>`. The same recovery as a worker, with the process killed.
 *   browser      the adapter module in a headless Chromium page (browser.ts): the GPU built-ins
 *                (tfjs-webgl, tfjs-webgl-f16) and `browser:<path>`. The same recovery, with the browser closed.
 *
 * Blame: a call's failure is the failure of that call. A worker or child runs calls one at a time in the
 * order sent, so when it dies, the oldest unanswered call is the one it was running: that call fails as
 * 'crashed' and the calls queued behind it are re-sent to the restarted worker. A fault that surfaces after
 * its call returned (a timer callback that throws) carries the tag of the call that scheduled it.
 */
import type { Capability, Conventions, Layout, Precision, ProfileName, Unsupported } from '../adapter.js';
import type { AdapterFailure } from './failure.js';

export type HostKind = 'in-process' | 'worker' | 'subprocess' | 'browser';

/** What an adapter declares about itself, as every host reports it. */
export interface HostMeta {
  name: string;
  description: string;
  precision: Precision;
  layout: Layout;
  profile: ProfileName | undefined;
  conventions: Partial<Conventions> | undefined;
  /** the features it declares unsupported (adapter.ts `Unsupported`), as declared */
  unsupported: Unsupported | undefined;
  /** the capabilities it implements, in CAPABILITIES order */
  capabilities: readonly Capability[];
}

export interface CallOptions {
  /** per-call timeout, ms */
  timeoutMs: number;
  /** Who made the call (opaque to the host): returned as AdapterFailure.origin of a late fault. */
  tag?: unknown;
}

export interface Call {
  cap: Capability;
  args: unknown;
  /** this call's tag, when the calls of a batch come from different callers (default: the options' tag) */
  tag?: unknown;
}

/** Counters for benchmarks and reports. */
export interface HostStats {
  /** capability calls answered (or failed) */
  calls: number;
  /** request/response exchanges: one per call, or one per batch */
  roundTrips: number;
  /** workers or child processes started after the first (after a timeout or crash) */
  restarts: number;
  /** property cases taken as the speculation returned them, not evaluated twice (a batching host: prefetch.ts) */
  reused: number;
}

export interface Host {
  readonly kind: HostKind;
  /** how the user named the adapter (built-in name, path, `subprocess:…`): replay commands use it */
  readonly spec: string;
  readonly meta: HostMeta;
  /**
   * Whether a round trip costs much more than a small call (a thread or process boundary). Checks then
   * evaluate their cases together and send their calls in batches (prefetch.ts).
   */
  readonly batches: boolean;
  readonly stats: HostStats;

  /** true, or why the adapter cannot run here (its `available()`); never throws: a throw is the reason. */
  available(timeoutMs: number): Promise<true | string>;
  /** Runs the adapter's setup(); throws AdapterFailure. Remembered: a restarted worker runs it again. */
  setup(timeoutMs: number): Promise<void>;
  /** One capability call; resolves with the adapter's raw result or rejects with an AdapterFailure. */
  call(cap: Capability, args: unknown, options: CallOptions): Promise<unknown>;
  /**
   * Several calls in one request (one round trip); each settles as its own result arrives, in order, each
   * with its own timeout measured from the moment the adapter could start on it.
   */
  callBatch(calls: readonly Call[], options: CallOptions): Promise<unknown>[];
  /** Lets callbacks the adapter scheduled run (a round trip for worker and subprocess). Never throws. */
  settle(timeoutMs: number): Promise<void>;
  /**
   * The late faults reported since the last time (and removes them): AdapterFailures of kind 'fault' or
   * 'crashed' whose origin is the tag of the call that scheduled the callback, or null when no call is known.
   */
  takeFaults(): AdapterFailure[];
  /** Runs the adapter's teardown(); throws AdapterFailure. */
  teardown(timeoutMs: number): Promise<void>;
  /** Ends the worker or child process (idempotent); the host cannot be used afterwards. */
  kill(): Promise<void>;
}

/** Options every host takes. */
export interface HostOptions {
  /** Time a worker or child may take to load the adapter and answer the handshake (default 30 000 ms). */
  loadTimeoutMs?: number;
  /** Worker threads: V8 old-generation heap limit in MB (default 4096); exceeding it ends the worker, not the run. */
  memoryLimitMb?: number;
  /** Where the adapter's own printing goes, one line at a time (default: process.stderr, prefixed with its name). */
  log?: (line: string) => void;
}

export const DEFAULT_LOAD_TIMEOUT_MS = 30_000;
export const DEFAULT_MEMORY_LIMIT_MB = 4096;

/** The adapter's output line as the run shows it: `[name] text`, on stderr, so stdout stays the report's. */
export function defaultLog(name: string): (line: string) => void {
  return (line) => void process.stderr.write(`[${name}] ${line}\n`);
}
