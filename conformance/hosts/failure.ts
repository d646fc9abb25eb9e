/**
 * What can go wrong when the suite calls an adapter, as one error type with a kind. Hosts (host.ts) raise
 * the first four; the capability wrappers (invoke.ts) raise the last three when they validate a result.
 *
 *   threw     the function threw or its Promise rejected (any value: Error, string, undefined, …)   → 'error'
 *   timeout   it did not settle within the per-call timeout                                        → 'error'
 *   crashed   the worker thread or child process running it died during the call (process.exit,
 *             out of memory, a signal), or could not be restarted for it                           → 'error'
 *   fault     a callback the call scheduled threw, or a Promise it left rejected unhandled, after
 *             the call had returned (blamed on the call that scheduled it)                         → 'error'
 *   protocol  a subprocess answered with a malformed frame or a value the protocol cannot carry    → 'error'
 *   shape     an output has the wrong length or is missing                                        → 'fail'
 *   type      an output is not the typed array of its precision                                   → 'fail'
 *   contract  mutated an input, or gave two answers to one question                               → 'fail'
 *
 * 'timeout', 'crashed', 'fault' and 'protocol' end the check they happen in (CheckContext.fault): later calls of that
 * check fail at once with the same failure, so shrinking neither waits out the timeout again nor restarts
 * a dying worker once per shrink step, and the report names the case in which it happened (check.ts).
 */
export type FailureKind = 'threw' | 'timeout' | 'crashed' | 'fault' | 'protocol' | 'shape' | 'type' | 'contract';

/** The kinds that are the adapter's errors (status 'error'); the rest are wrong results (status 'fail'). */
export const ERROR_KINDS: ReadonlySet<FailureKind> = new Set(['threw', 'timeout', 'crashed', 'fault', 'protocol']);

/** The kinds after which a check stops calling the adapter (see the header). */
export const STOPS_THE_CHECK: ReadonlySet<FailureKind> = new Set(['timeout', 'crashed', 'fault', 'protocol']);

export class AdapterFailure extends Error {
  /**
   * @param traceback the adapter's own stack or traceback, when its host could get one (a subprocess's
   *                  Python traceback, a worker's JavaScript stack); shown under the check's error
   * @param origin    the call's tag (host.ts CallOptions.tag): which check and case made the call
   */
  constructor(readonly kind: FailureKind, message: string, readonly traceback: string | null = null, readonly origin: unknown = null) {
    super(message);
    this.name = 'AdapterFailure';
  }

  /** The same failure blamed on another call (a late fault reaches the check through a later call). */
  withOrigin(origin: unknown): AdapterFailure {
    return new AdapterFailure(this.kind, this.message, this.traceback, origin);
  }
}

/**
 * A call that never reached the adapter: it was queued behind a call during which the worker or child
 * died or timed out. Not the adapter's failure and never reported as one: whoever batched it (prefetch.ts)
 * makes the call again later, on its own.
 */
export class NotRun extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotRun';
  }
}
