/**
 * CPU time of the calling thread, for timing synchronous implementations (harness.ts says why that clock).
 *
 * Node 20 has no `process.threadCpuUsage` and no clock_gettime(CLOCK_THREAD_CPUTIME_ID); on Linux the kernel
 * publishes the same counter, the thread's `se.sum_exec_runtime` in ns, as the first field of
 * /proc/thread-self/schedstat ("<ns on CPU> <ns waiting for a CPU> <timeslices>"). Read as is, it is stale: the
 * kernel brings it up to date only at a scheduler tick (4 ms at HZ=250 here) or when the thread is switched out,
 * so two reads around a 10 ms run differ by 8 or 12 ms (measured: up to 3.9 ms off process.cpuUsage, which does
 * update the running thread). A timed futex wait of 10 µs (Atomics.wait, allowed on Node's main thread) puts the
 * thread to sleep, and the switch-out updates the counter; read right after, it agrees with process.cpuUsage in a
 * single-threaded process to 0.02–0.19 ms over 40 runs of 17 ms (median 0.08 ms, the other V8 threads' share).
 * The sleep costs ~0.1 ms of wall time and a syscall's worth of CPU; callers keep it outside their wall interval.
 *
 * The file is opened once, on first use, by the thread that uses it: /proc/thread-self names the opening thread,
 * so a reader must not be shared with a worker. Where there is no such file (not Linux), `threadCpuMs` is null
 * and the harness falls back to process.cpuUsage.
 */
import { openSync, readSync } from 'node:fs';

const SCHEDSTAT = '/proc/thread-self/schedstat';

/** The first field of a schedstat line (ns on CPU) in ms; throws on anything else, naming what it got. */
export function parseSchedstat(text: string): number {
  const m = /^(\d+) \d+ \d+\s*$/.exec(text);
  if (!m) throw new Error(`${SCHEDSTAT}: expected "<ns on cpu> <ns waiting> <timeslices>", got ${JSON.stringify(text.slice(0, 80))}`);
  return Number(m[1]) / 1e6;
}

let fd: number | null | undefined;
const buf = Buffer.alloc(128);
const sleeper = new Int32Array(new SharedArrayBuffer(4));

function open(): number | null {
  try {
    const f = openSync(SCHEDSTAT, 'r');
    parseSchedstat(read(f));
    return f;
  } catch {
    return null;
  }
}

function read(f: number): string {
  // position 0: procfs regenerates the line on every read from the start
  const n = readSync(f, buf, 0, buf.length, 0);
  return buf.toString('latin1', 0, n);
}

/**
 * CPU time of the calling thread so far, in ms (ns resolution, up to date: see the file comment), or null where
 * the kernel does not publish it.
 */
export function threadCpuMs(): number | null {
  if (fd === undefined) fd = open();
  if (fd === null) return null;
  Atomics.wait(sleeper, 0, 0, 0.01); // switch out, so that sum_exec_runtime is brought up to date
  return parseSchedstat(read(fd));
}

/** Whether `threadCpuMs` works here. */
export function haveThreadClock(): boolean {
  if (fd === undefined) fd = open();
  return fd !== null;
}
