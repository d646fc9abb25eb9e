/**
 * Racing a Promise against a timeout, for every host. Node's timers take at most 2³¹−1 ms (a larger delay
 * becomes 1 ms), so longer timeouts are clamped to that (~24.8 days): effectively no timeout.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Settles like `p`, or rejects with `onTimeout()` after `ms`; the timer never outlives the race. */
export async function raceTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(onTimeout()), Math.min(Math.max(ms, 0), MAX_TIMER_MS));
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
