/**
 * Describing what an adapter threw, without throwing again. Adapters throw anything: Errors, strings,
 * `Object.create(null)` (no toString, so `String(e)` and `${e}` throw a TypeError), Proxies whose every
 * trap throws, Errors whose `message` getter throws, Errors from another realm. A description that throws
 * would escape as the suite's own failure and blame the suite for the adapter's value.
 */

function attempt<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

function isErrorLike(e: object): boolean {
  // instanceof misses Errors of another realm (vm contexts); the internal [[ErrorData]] tag does not
  return attempt(() => e instanceof Error) === true || attempt(() => Object.prototype.toString.call(e)) === '[object Error]';
}

/** "TypeError: x is undefined", "a string: 'boom'", "a non-Error object {"code":5}", …; never throws. */
export function describeThrown(e: unknown): string {
  if (typeof e === 'string') return e;
  if (e === null || (typeof e !== 'object' && typeof e !== 'function')) return attempt(() => String(e)) ?? typeof e;
  if (isErrorLike(e)) {
    const name = attempt(() => (e as Error).name);
    const message = attempt(() => (e as Error).message);
    const n = typeof name === 'string' && name ? name : 'Error';
    return typeof message === 'string' && message ? `${n}: ${message}` : n;
  }
  const message = attempt(() => (e as { message?: unknown }).message);
  if (typeof message === 'string' && message) return message;
  const json = attempt(() => JSON.stringify(e));
  if (typeof json === 'string') return `a non-Error ${typeof e} ${json.length > 200 ? `${json.slice(0, 200)}…` : json}`;
  return `a non-Error ${typeof e} that cannot be printed`;
}
