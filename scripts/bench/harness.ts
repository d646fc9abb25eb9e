/**
 * The benchmark harness: what a case file exports, how an implementation is validated and timed.
 *
 * A case file (scripts/bench/cases/*.ts) exports `cases: BenchCase[]`. Each case names its shape and the bytes it
 * must move (or the flops it must do), and lists implementations; each implementation's `setup` builds its inputs
 * and returns `run` (the timed work, synchronous, writing into preallocated outputs where the implementation
 * allows) and `validate` (runs once more and compares with the float64 reference on the same data). main.ts
 * validates every implementation before timing it (llm.c dev/cuda style); a kernel that fails validation is not
 * timed, a peer that fails is timed and flagged (it is someone else's numbers we report, not ours).
 *
 * Timing: one warm-up run, then runs until both `minReps` runs and `budgetMs` have passed (at most `maxReps`);
 * the median is reported. main.ts interleaves the implementations of a case run by run (round-robin), so that
 * a change in the machine's load (other processes share the cores) hits all of them alike and the ratios stay
 * fair; implementations capped at ≤ 3 runs (tfjs-cpu and the reference on big shapes) are timed on their own.
 * Everything runs in one process, one thread (tfjs-wasm is pinned to one thread); main.ts lets the runtimes settle between cases.
 *
 * Clocks: every run is timed twice, wall time (performance.now) and CPU time. On a machine whose cores other
 * processes share, wall time counts the time the run spent waiting for a core; CPU time does not, so the bench
 * reports CPU time by default (--clock wall for the other). Which CPU time (`CpuClock`, in every result row):
 * - synchronous implementations (our kernels, the reference, tfjs-wasm and tfjs-cpu, the memcpy floor): the CPU
 *   time of the calling thread (thread_clock.ts; process.cpuUsage where the kernel does not publish it). Their
 *   work runs on this thread from the call to the return; the process's other threads are not theirs. The
 *   process clock charged them for what other engines left running: V8's background compile and GC threads
 *   after onnxruntime-web's cases (the GN fwd+bwd kernel measured 9.9-10.6 ms filtered, 20.3 ms in a full run).
 *   It under-counts an implementation that hands work to other threads and waits for it; none of those timed
 *   synchronously does (tfjs-wasm is pinned to one thread, so XNNPACK runs on the caller; tfjs-cpu is plain JS)
 *   except tfjs-node, whose libtensorflow has its own pool: it sets `usesOtherThreads` and gets the process clock.
 * - asynchronous ones (ONNX Runtime's session.run, runAsync): the process clock, since the awaited work may run
 *   on a thread of the runtime's own; nothing else runs in between (main.ts runs one implementation at a time).
 * - PyTorch in its subprocess (timedAsync): that process's own time.process_time around its work.
 * Every implementation runs on one thread, so its CPU time is the time one core spends on it.
 */
import { performance } from 'node:perf_hooks';
import { haveThreadClock, threadCpuMs } from './thread_clock.js';

/** The two clocks a run is timed with, in ms. */
export interface Sample {
  wall: number;
  cpu: number;
}

export type Clock = keyof Sample;

/** Which CPU time a sample's `cpu` is (see the file comment). */
export type CpuClock = 'thread' | 'process' | 'subprocess';

/** The CPU clock synchronous implementations are timed with here: the thread's where Linux publishes it. */
export const SYNC_CPU_CLOCK: 'thread' | 'process' = haveThreadClock() ? 'thread' : 'process';

/** CPU time of this process so far (user + system, all threads), in ms; microsecond resolution on Linux. */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e3;
}

function cpuNow(clock: 'thread' | 'process'): number {
  return clock === 'thread' ? threadCpuMs()! : cpuMs();
}

/** Both clocks now; CPU first, so that reading the thread clock (a 10 µs sleep) stays out of the wall interval. */
export function clocks(clock: 'thread' | 'process' = SYNC_CPU_CLOCK): Sample {
  const cpu = cpuNow(clock);
  return { wall: performance.now(), cpu };
}

/** The time from `start` (taken by `clocks` with the same `clock`) to now on both clocks. */
export function since(start: Sample, clock: 'thread' | 'process' = SYNC_CPU_CLOCK): Sample {
  const wall = performance.now();
  const cpu = cpuNow(clock);
  return { wall: wall - start.wall, cpu: cpu - start.cpu };
}

export interface Validation {
  ok: boolean;
  /** one line: the worst error and the bound it was held to */
  detail: string;
}

export interface Prepared {
  run(): void;
  /** For implementations whose API is asynchronous (ONNX Runtime's session.run): awaited and timed instead of `run`. */
  runAsync?(): Promise<void>;
  /**
   * For implementations in another process (PyTorch): runs once and returns the wall and CPU milliseconds that
   * process measured around its own work, so the pipe's latency is not counted.
   */
  timedAsync?(): Promise<Sample>;
  validate(): Validation;
  teardown?(): void;
  /**
   * Untimed, awaited before every timed run: restores what other implementations may have changed in between
   * (tfjs's global backend: main.ts interleaves implementations, see there).
   */
  select?(): Promise<void>;
}

/** 'floor': the memcpy of the case's bytes, timed interleaved with the others (main.ts adds it). */
export type ImplKind = 'kernel' | 'reference' | 'peer' | 'floor';

export interface Implementation {
  /** 'kernels onePass', 'reference (float64)', 'tfjs-wasm', … */
  name: string;
  kind: ImplKind;
  /** a peer's name for the ratio columns ('tfjs-wasm', 'tfjs-cpu', 'tfjs-node', 'ort-node', 'ort-web', 'pytorch'); absent for kernels */
  peer?: string;
  /** true, or the reason it cannot run here ("not installed: …") */
  available?(): Promise<true | string>;
  setup(): Promise<Prepared> | Prepared;
  /** cap on timed runs for slow implementations (tfjs-cpu, the reference on big shapes) */
  maxReps?: number;
  /** its synchronous run hands work to threads of its own (tfjs-node's libtensorflow): timed on the process clock */
  usesOtherThreads?: boolean;
}

export interface BenchCase {
  name: string;
  /** 'N×C×H×W NCHW', '(4096, 768)', … */
  shape: string;
  /**
   * minimum bytes the computation must move (inputs read once, outputs written once): for GB/s, and for a
   * memory-bound case (bytes without flops) the memcpy floor, bytes ÷ the TypedArray.set bandwidth
   */
  bytes?: number;
  /** floating-point operations: for GFLOP/s */
  flops?: number;
  /**
   * the goals stated in the issues: the best kernel at least `factor`× as fast as `peer` (`factor` < 1: at most
   * 1/factor times slower); every case also has the goal of beating every peer, and a memory-bound one of
   * staying within 2× of its memcpy floor
   */
  goal?: { peer: string; factor: number };
  implementations: Implementation[];
}

export interface TimingOptions {
  minReps: number;
  maxReps: number;
  budgetMs: number;
  /** one untimed run first (default true); main.ts skips it for implementations capped at ≤ 3 runs, whose
   *  validation run has already warmed them up */
  warmup?: boolean;
}

export interface Timing {
  medianMs: number;
  minMs: number;
  reps: number;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Median time of `run` on `clock` (after one warm-up call unless told otherwise); the budget is wall time. */
export function time(run: () => void, { minReps, maxReps, budgetMs, warmup = true }: TimingOptions, clock: Clock = 'wall'): Timing {
  if (warmup) run(); // JIT tiers, first-touch page faults of the outputs
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < maxReps && (samples.length < minReps || performance.now() - start < budgetMs)) {
    const t0 = clocks();
    run();
    samples.push(since(t0)[clock]);
  }
  return { medianMs: median(samples), minMs: Math.min(...samples), reps: samples.length };
}

// ---------------------------------------------------------------------------------------------------------
// Validation helpers

/**
 * Normwise comparison for the benchmark's sanity check (the element-wise error model is the tests' job,
 * test/kernels/): max |got - want| ≤ tol·max|want|. Kernels are held to tol = 8·u32 = 2⁻²¹: one float32
 * rounding per output plus the float64 arithmetic, with margin for outputs whose terms cancel; peers that
 * compute in float32 are reported against the same scale, flagged but still timed.
 */
export function normwise(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: number): Validation {
  if (got.length !== want.length) return { ok: false, detail: `${what}: length ${got.length}, expected ${want.length}` };
  let maxErr = 0;
  let worst = -1;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    scale = Math.max(scale, Math.abs(w));
    const e = Math.abs(g - w);
    if (!(e <= maxErr)) {
      maxErr = Number.isNaN(e) ? Infinity : e;
      worst = i;
    }
  }
  const rel = scale > 0 ? maxErr / scale : maxErr;
  const ok = rel <= tol;
  return { ok, detail: `${what} ${rel.toExponential(1)}·max|ref|${ok ? '' : ` at [${worst}] > ${tol.toExponential(1)}`}` };
}

/** Combines several validations: ok if all are, details joined. */
export function all(...vs: Validation[]): Validation {
  return { ok: vs.every((v) => v.ok), detail: vs.map((v) => v.detail).join('; ') };
}

/** u32·8: the kernels' normwise tolerance, see `normwise`. */
export const KERNEL_TOL = 2 ** -21;
/** What a peer is flagged at: 1e-3 of the output scale, far beyond float32 rounding, a real disagreement. */
export const PEER_TOL = 1e-3;
