/**
 * Prefetching a property's adapter calls in batches, for hosts whose round trip costs far more than a small
 * call (a worker thread, a subprocess: host.batches). Without it a subprocess adapter spends most of a run
 * waiting for ~5,000 round trips, one per call.
 *
 * Before fast-check runs a property, the same cases (the same seed and parameters, so the same values) are
 * evaluated speculatively, all at once: every case's predicate runs concurrently, each of its adapter calls
 * is queued, and whenever every case is waiting on a call (a macrotask turn: setImmediate), the queued calls
 * go to the host as one batch (host.callBatch: one request, answered call by call in order). A case resumes
 * as soon as its answer arrives, so call k of every case travels together and a dependent chain (running
 * statistics fed back into the next step) stays exact: each call is made with the real results of the
 * calls before it. Round trips per property: about the most calls any one case makes.
 *
 * Every answer is kept in a cache keyed by its case (the run), the capability, the exact bytes of its
 * arguments and how many identical calls its case had made before (so the "same call twice" of
 * hygiene.deterministic stays two calls, and two cases asking the same question get their own answers).
 * Then fast-check runs the property for real, sequentially as always, each case's calls answered from the
 * cache when its speculative twin got the answer (once: an answer is used up) and from the host otherwise
 * (shrinking, and anything the speculation did not reach). The speculation changes nothing the real run decides:
 *
 *   - a failed call (threw, timeout, crash, …) ends its speculative case at once, its failure cached: the
 *     real run meets it at the same call, in order, with the check's state (hygiene's record of what threw,
 *     the ledger's first fault) updated by the real run only;
 *   - after a timeout, crash or broken channel the speculation stops sending (the real run would stop there);
 *   - a late fault of a speculative call carries that call's tag (its case and run), as in the real run;
 *   - an input the adapter wrote into is written again into the real run's arguments when the answer is used.
 *
 * A speculative case that ran to its end also keeps what the property returned (its comparisons). While the
 * real run has not failed, its case i is the speculation's case i: the same value, the same answers in the
 * same order, and the same check state — that state (hygiene's record of what threw, the ledger's fault)
 * changes only when a call fails, so as long as no speculative call failed the real run takes the returned
 * comparisons as they are instead of computing the reference and the comparisons a second time (for a worker
 * or a subprocess that second pass cost more than the round trips saved). Once any speculative call failed
 * or was abandoned, every case is run again for real, as described above.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import type { Capability } from './adapter.js';
import { STOPS_THE_CHECK } from './hosts/failure.js';
import { AdapterFailure, NotRun } from './hosts/failure.js';
import type { Call, CallOptions, Host } from './hosts/host.js';

/** Thrown into a speculative case to end it: never an adapter failure, never reported. */
export class Abandoned extends Error {
  constructor() {
    super('speculative case abandoned');
    this.name = 'Abandoned';
  }
}

type Answer = { ok: true; value: unknown; mutated: [string, Uint8Array][] } | { ok: false; error: unknown };

/** A call's identity: its case (run), its capability, the bytes of every argument, and its occurrence in its case. */
function callKey(run: number, cap: Capability, args: unknown, occurrence: Map<string, number>): string {
  const h = createHash('sha1');
  h.update(cap);
  if (args !== null && typeof args === 'object') {
    for (const [k, v] of Object.entries(args)) {
      h.update(`\u0000${k}\u0001`);
      if (ArrayBuffer.isView(v)) {
        h.update(v.constructor.name);
        h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
      } else h.update(JSON.stringify(v) ?? 'undefined');
    }
  }
  const base = h.digest('base64');
  const n = occurrence.get(base) ?? 0;
  occurrence.set(base, n + 1);
  return `${run}|${base}#${n}`;
}

/** The typed arrays of `args`, copied, to tell afterwards which ones a call wrote into. */
function snapshot(args: unknown): [string, ArrayBufferView, Uint8Array][] {
  if (args === null || typeof args !== 'object') return [];
  return Object.entries(args)
    .filter((e): e is [string, ArrayBufferView] => ArrayBuffer.isView(e[1]))
    .map(([k, v]) => [k, v, new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice()]);
}

/**
 * An arbitrary that keeps every value it generates, in order. fast-check generates run i's value from a
 * random generator of its own (the seed's, jumped i times: its Tosser), so the i-th value generated is run
 * i's, whatever the other runs drew.
 */
class Recording<T> extends fc.Arbitrary<T> {
  readonly values: fc.Value<T>[] = [];
  constructor(private readonly inner: fc.Arbitrary<T>) {
    super();
  }
  generate(mrng: fc.Random, biasFactor: number | undefined): fc.Value<T> {
    const v = this.inner.generate(mrng, biasFactor);
    this.values.push(v);
    return v;
  }
  canShrinkWithoutContext(value: unknown): value is T {
    return this.inner.canShrinkWithoutContext(value);
  }
  shrink(value: T, context: unknown): fc.Stream<fc.Value<T>> {
    return this.inner.shrink(value, context);
  }
}

/**
 * The real run's arbitrary: its i-th value is the one the recording generated i-th (the same seed and run,
 * so the same value and shrinking context), without generating it again; past the recording, and for
 * shrinking, the inner arbitrary's own.
 */
class Replaying<T> extends Recording<T> {
  private next = 0;
  constructor(inner: fc.Arbitrary<T>, private readonly recorded: readonly fc.Value<T>[]) {
    super(inner);
  }
  override generate(mrng: fc.Random, biasFactor: number | undefined): fc.Value<T> {
    return this.recorded[this.next++] ?? super.generate(mrng, biasFactor);
  }
}

/** Counters of one property's prefetch, for benchmarks (bench/protocol). */
export interface PrefetchStats {
  /** calls answered by the speculation */
  prefetched: number;
  /** batches sent (round trips) */
  batches: number;
  /** calls the real run took from the cache */
  hits: number;
  /** cases whose speculative outcome the real run took as it was */
  reused: number;
}

export class CallCache {
  private answers = new Map<string, Answer>();
  readonly stats: PrefetchStats = { prefetched: 0, batches: 0, hits: 0, reused: 0 };
  private queue: { call: Call; options: CallOptions; resolve(v: unknown): void; reject(e: unknown): void }[] = [];
  private flushing = false;
  /** set by a timeout, crash or broken channel: the speculation sends nothing more */
  private stopped = false;
  /** what each speculative case that ran to its end returned, by run, with the value it was run on */
  private outcomes = new Map<number, { value: unknown; result: unknown }>();
  /** a speculative call failed or was abandoned: the check's state may differ, no outcome is reused */
  private diverged = false;

  constructor(private readonly host: Host, private readonly deadline: number) {}

  /** The host as speculative case `run` sees it: calls queue up and go out in batches. */
  speculative(run: number): Host {
    const occurrence = new Map<string, number>();
    return this.view((cap, args, options) => this.speculate(callKey(run, cap, args, occurrence), cap, args, options));
  }

  /** the values the speculation generated, by run */
  private recorded: fc.Value<unknown>[] = [];

  /** `arbitrary`, keeping the values it generates for the speculation: `replay` gives them to the real run. */
  record<T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T> {
    const r = new Recording(arbitrary);
    this.recorded = r.values as fc.Value<unknown>[];
    return r;
  }

  /**
   * The real run's arbitrary: run i's value the one the speculation generated (generating a case costs as
   * much as judging it). Replaying a path (params.path) generates only the runs the path names, not in order:
   * then the arbitrary is left as it is.
   */
  replay<T>(arbitrary: fc.Arbitrary<T>, params: fc.Parameters<[T]>): fc.Arbitrary<T> {
    return params.path ? arbitrary : new Replaying(arbitrary, this.recorded as fc.Value<T>[]);
  }

  /** Keeps what speculative case `run` (on `value`) returned when it ran to its end. */
  keepOutcome(run: number, value: unknown, result: unknown): void {
    this.outcomes.set(run, { value, result });
  }

  /**
   * What the speculation's case `run` returned, for the real run's case `run` on `value` (a value equal to
   * the speculative one: `same` tells), or undefined when it must be run for real.
   */
  outcome<R>(run: number, value: unknown, same: (a: unknown, b: unknown) => boolean): R | undefined {
    if (this.diverged) return undefined;
    const o = this.outcomes.get(run);
    if (!o || !same(o.value, value)) return undefined;
    this.outcomes.delete(run);
    this.stats.reused++;
    this.host.stats.reused++;
    return o.result as R;
  }

  /**
   * The host as the real run's case `run` sees it: the answers speculative case `run` got, else the host's.
   * While shrinking (run null) the cases are new ones: every call goes to the host.
   */
  cached(run: number | null): Host {
    if (run === null) return this.host;
    const occurrence = new Map<string, number>();
    return this.view(async (cap, args, options) => {
      const key = callKey(run, cap, args, occurrence);
      const answer = this.answers.get(key);
      if (!answer) return this.host.call(cap, args, options);
      this.answers.delete(key);
      this.stats.hits++;
      if (!answer.ok) throw answer.error;
      for (const [k, bytes] of answer.mutated) {
        const v = (args as Record<string, ArrayBufferView>)[k]!;
        new Uint8Array(v.buffer, v.byteOffset, v.byteLength).set(bytes);
      }
      return answer.value;
    });
  }

  /** A Host whose calls go through `call`, everything else to the real host. */
  private view(call: (cap: Capability, args: unknown, options: CallOptions) => Promise<unknown>): Host {
    const host = this.host;
    return {
      kind: host.kind, spec: host.spec, meta: host.meta, batches: host.batches, stats: host.stats,
      available: (t) => host.available(t),
      setup: (t) => host.setup(t),
      call,
      callBatch: (calls, options) => calls.map(({ cap, args }) => call(cap, args, options)),
      settle: (t) => host.settle(t),
      takeFaults: () => host.takeFaults(),
      teardown: (t) => host.teardown(t),
      kill: () => host.kill(),
    };
  }

  private speculate(key: string, cap: Capability, args: unknown, options: CallOptions): Promise<unknown> {
    if (this.stopped || Date.now() > this.deadline) {
      this.diverged = true;
      return Promise.reject(new Abandoned());
    }
    const before = snapshot(args);
    return new Promise<unknown>((resolve, reject) => {
      this.queue.push({ call: { cap, args }, options, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        // every case that can run has run up to its next call (or its end) by the next macrotask
        setImmediate(() => this.flush());
      }
    }).then(
      (value) => {
        const mutated: [string, Uint8Array][] = before
          .filter(([, v, then]) => Buffer.compare(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), then) !== 0)
          .map(([k, v]) => [k, new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice()]);
        this.answers.set(key, { ok: true, value, mutated });
        this.stats.prefetched++;
        return value;
      },
      (error: unknown) => {
        this.diverged = true;
        if (error instanceof NotRun || error instanceof Abandoned) throw new Abandoned();
        this.answers.set(key, { ok: false, error });
        if (error instanceof AdapterFailure && STOPS_THE_CHECK.has(error.kind)) this.stopped = true;
        // the case ends at its first failure; the real run meets that failure in its own order
        throw new Abandoned();
      },
    );
  }

  private flush(): void {
    this.flushing = false;
    const batch = this.queue.splice(0);
    if (batch.length === 0) return;
    if (this.stopped) {
      this.diverged = true;
      for (const q of batch) q.reject(new Abandoned());
      return;
    }
    this.stats.batches++;
    // one request; each call keeps its own tag (its case), for blame
    const calls = batch.map((q) => ({ ...q.call, tag: q.options.tag }));
    this.host.callBatch(calls, { timeoutMs: batch[0]!.options.timeoutMs }).forEach((p, i) => p.then(batch[i]!.resolve, batch[i]!.reject));
  }
}
