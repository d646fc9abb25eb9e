/**
 * The in-process host: the adapter object runs in this thread. Used for the built-in adapters (trusted,
 * and the fastest: no copies, no round trips) and for a path given with `--in-process` (debugging: a
 * breakpoint in the adapter works). What it cannot do, by construction: stop a synchronous infinite loop
 * (the timeout fires only when the loop yields), survive process.exit or an out-of-memory abort, or keep an
 * exception thrown from the adapter's own timer from reaching the process. Everything else is as in the
 * other hosts: any thrown value or rejection (undefined, null, Object.create(null)) is the call's 'threw'
 * failure, and a Promise that never settles is a 'timeout'.
 */
import type { Adapter, Capability } from '../adapter.js';
import { CAPABILITIES } from '../adapter.js';
import { describeThrown } from '../error_text.js';
import { AdapterFailure } from './failure.js';
import type { Call, CallOptions, Host, HostMeta, HostStats } from './host.js';
import { threwPrefix } from './channel_host.js';
import { raceTimeout } from './timer.js';

export function metaOf(adapter: Adapter): HostMeta {
  return {
    name: adapter.name,
    description: adapter.description ?? '',
    precision: adapter.precision,
    layout: adapter.layout,
    profile: adapter.profile,
    conventions: adapter.conventions,
    unsupported: adapter.unsupported,
    capabilities: CAPABILITIES.filter((c) => typeof adapter[c] === 'function'),
  };
}

type Hook = 'available' | 'setup' | 'teardown';

export class InProcessHost implements Host {
  readonly kind = 'in-process' as const;
  readonly batches = false;
  readonly meta: HostMeta;
  readonly stats: HostStats = { calls: 0, roundTrips: 0, restarts: 0, reused: 0 };

  constructor(readonly adapter: Adapter, readonly spec: string) {
    this.meta = metaOf(adapter);
  }

  /** Calls `fn` with a timeout; a throw or rejection of any value becomes AdapterFailure('threw'). */
  private async invoke(what: string, fn: () => unknown, timeoutMs: number): Promise<unknown> {
    const running = Promise.resolve().then(fn);
    // a call abandoned at its timeout may still reject later: that is not an unhandled rejection of the run
    running.catch(() => undefined);
    try {
      return await raceTimeout(running, timeoutMs, () => new AdapterFailure('timeout', `${what} did not return within ${timeoutMs} ms`));
    } catch (e) {
      if (e instanceof AdapterFailure) throw e;
      throw new AdapterFailure('threw', `${threwPrefix(what)}${describeThrown(e)}`, stackOf(e));
    }
  }

  private hook(name: Hook, timeoutMs: number): Promise<unknown> {
    const fn = this.adapter[name] as (() => unknown) | undefined;
    if (typeof fn !== 'function') return Promise.resolve(name === 'available' ? true : undefined);
    return this.invoke(`${name}()`, () => fn.call(this.adapter), timeoutMs);
  }

  async available(timeoutMs: number): Promise<true | string> {
    try {
      const v = await this.hook('available', timeoutMs);
      return v === true ? true : typeof v === 'string' ? v : `available() returned ${describeThrown(v)}; expected true or a reason`;
    } catch (e) {
      return (e as AdapterFailure).message;
    }
  }

  async setup(timeoutMs: number): Promise<void> {
    await this.hook('setup', timeoutMs);
  }

  async teardown(timeoutMs: number): Promise<void> {
    await this.hook('teardown', timeoutMs);
  }

  async call(cap: Capability, args: unknown, options: CallOptions): Promise<unknown> {
    const fn = this.adapter[cap] as ((a: unknown) => unknown) | undefined;
    if (typeof fn !== 'function') throw new AdapterFailure('contract', `${cap} is not provided`);
    this.stats.calls++;
    this.stats.roundTrips++;
    return this.invoke(cap, () => fn.call(this.adapter, args), options.timeoutMs);
  }

  callBatch(calls: readonly Call[], options: CallOptions): Promise<unknown>[] {
    // one after the other, as every host runs them: a batch never runs two calls of one adapter at once
    const out: Promise<unknown>[] = [];
    let previous: Promise<unknown> = Promise.resolve();
    for (const c of calls) {
      const p = previous.catch(() => undefined).then(() => this.call(c.cap, c.args, 'tag' in c ? { ...options, tag: c.tag } : options));
      out.push(p);
      previous = p;
    }
    return out;
  }

  async settle(): Promise<void> {}

  takeFaults(): AdapterFailure[] {
    return [];
  }

  async kill(): Promise<void> {}
}

/** The stack of an Error-like thrown value, if it has a readable one. */
export function stackOf(e: unknown): string | null {
  try {
    const s = (e as { stack?: unknown } | null)?.stack;
    return typeof s === 'string' ? s : null;
  } catch {
    return null;
  }
}
