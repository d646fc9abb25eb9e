/**
 * `npm run bench` — kernels, the float64 reference and the peers on the same data, one process per case, one thread.
 *
 *   node dist/scripts/bench/main.js [--json FILE] [--filter SUBSTRING[,SUBSTRING…]] [--budget MS] [--no-peers] [--clock cpu|wall]
 *                                   [--one-process]
 *
 * Each case runs in a fresh Node process of its own (forked, this same file with --case): every implementation
 * of a case, kernels and peers alike, in that process and in the same interleaved rounds, so the ratios are
 * same-process, same-moment ratios as before; what the process per case removes is one case's peers slowing the
 * kernels of later cases. Measured in one process: after onnxruntime-web had run BatchNorm on the (32,64,56,56)
 * tensors, the kernels' LayerNorm forward+backward in the next cases took 19.7-20.7 ms instead of 10.3-10.6 ms
 * and the BN eval forward 10.0 ms instead of 5.4 ms (wall time too, not only the thread clock); skipping the
 * ort-web peer alone removed it, onnxruntime-node, tfjs and PyTorch did not cause it, and a trivial ort-web model
 * did not either. The mechanism was not found (not GC: a 60 MB heap; not liftoff: --no-liftoff kept it; not
 * thread affinity). --one-process keeps the old single process (for profiling one process).
 *
 * First the machine's memory bandwidth (bandwidth.ts: TypedArray.set, the memcpy every memory-bound case is held
 * to, and the streaming wasm loops that show what float64 SIMD arithmetic alone reaches here), then per case:
 * every implementation validated against the reference, then timed, interleaved run by run so that load from
 * other processes hits all alike (runCase); printed as median ms, GB/s (or GFLOP/s), and the ratio peer time /
 * this time (so "20×" means twenty times faster than that peer). A memory-bound case (one with bytes and no
 * flops) also times a memcpy of its bytes in the same rounds and prints each implementation's time over
 * two floors: bytes ÷ the bandwidth measured first (the issue's definition) and that interleaved memcpy (the
 * same ratio with the load of the moment in both terms). --json writes the same numbers.
 *
 * Every run is timed on two clocks (harness.ts): CPU time, the default (of the calling thread for synchronous
 * implementations, of the process for asynchronous ones, PyTorch's own), and wall time; the tables, ratios and
 * floors use the chosen one (--clock), the JSON carries both medians and each row's cpu_clock. The load average
 * is printed at the start and the end of the run.
 *
 * The peers: tfjs (wasm, cpu, node: peers.ts), ONNX Runtime native and web (cases/ort.ts adds them to the cases
 * it has a model for), PyTorch in a subprocess (pytorch.ts; OpenBLAS when scripts/bench/fetch_openblas.sh has
 * fetched it). The case files are listed here explicitly; each exports `cases: BenchCase[]`.
 */
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import Table from 'cli-table3';
import { Command, Option } from 'commander';
import { measureBandwidth, type BandwidthResult } from './bandwidth.js';
import { cases as batchNormCases } from './cases/batchnorm.js';
import { cases as gemmCases } from './cases/gemm.js';
import { cases as groupNormCases } from './cases/groupnorm.js';
import { cases as instanceNormCases } from './cases/instancenorm.js';
import { cases as layerNormCases } from './cases/layernorm.js';
import { cases as networkCases } from './cases/network.js';
import { cases as ortCases, withOrtPeers } from './cases/ort.js';
import { cases as rmsNormCases } from './cases/rmsnorm.js';
import { clocks, median, since, SYNC_CPU_CLOCK, type BenchCase, type Clock, type CpuClock, type Implementation, type Prepared, type Sample } from './harness.js';
import { stopPytorch } from './pytorch.js';

const ALL_CASES: BenchCase[] = withOrtPeers([...batchNormCases, ...layerNormCases, ...ortCases, ...groupNormCases, ...instanceNormCases, ...rmsNormCases, ...gemmCases, ...networkCases]);

const PEER_COLUMNS = ['tfjs-wasm', 'tfjs-cpu', 'tfjs-node', 'ort-node', 'ort-web', 'pytorch'] as const;

/** The within-2×-of-memcpy goal of every memory-bound case (issue 17). */
const FLOOR_GOAL = 2;

/**
 * The float32 compute ceiling of a wasm loop on this machine (bandwidth.ts's registers-only f32x4 multiply + add),
 * measured first by the parent and passed to each case's process (--peak): compute-bound cases print their best
 * kernel's share of it and the fastest peer's rate against it. null where it was not measured.
 */
let computeCeilingGflops: number | null = null;

interface Row {
  case: string;
  shape: string;
  implementation: string;
  kind: Implementation['kind'];
  status: 'ok' | 'failed validation' | 'unavailable' | 'error';
  validation: string;
  /** on the run's clock */
  median_ms: number | null;
  min_ms: number | null;
  median_wall_ms: number | null;
  median_cpu_ms: number | null;
  /** which CPU time median_cpu_ms is (harness.ts): this thread's, this process's, or PyTorch's subprocess's */
  cpu_clock: CpuClock | null;
  reps: number;
  gb_per_s: number | null;
  gflop_per_s: number | null;
  /** peer → peer time / this time */
  ratios: Record<string, number | null>;
  /** memory-bound cases: this time / (bytes ÷ the memcpy bandwidth measured first) */
  floor_ratio: number | null;
  /** memory-bound cases: this time / the case's memcpy timed in the same rounds */
  floor_ratio_interleaved: number | null;
}

function fmtMs(ms: number | null): string {
  if (ms === null) return '—';
  return ms >= 100 ? ms.toFixed(0) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3);
}

function fmtRatio(r: number | null | undefined): string {
  return r == null ? '—' : `${fmtNum(r)}×`;
}

function fmtNum(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

interface Entry {
  impl: Implementation;
  row: Row;
  prepared: Prepared;
  samples: Sample[];
}

/** The CPU clock an implementation is timed with (harness.ts says why). */
function cpuClockOf(p: Prepared, impl: Implementation): CpuClock {
  if (p.timedAsync) return 'subprocess';
  return p.runAsync || impl.usesOtherThreads ? 'process' : SYNC_CPU_CLOCK;
}

/** One run of an implementation, timed on both clocks; `select` (untimed) first. */
async function sample(e: Entry): Promise<Sample> {
  if (e.prepared.select) await e.prepared.select();
  if (e.prepared.timedAsync) return e.prepared.timedAsync();
  const clock = cpuClockOf(e.prepared, e.impl) as 'thread' | 'process';
  const t0 = clocks(clock);
  if (e.prepared.runAsync) await e.prepared.runAsync();
  else e.prepared.run();
  return since(t0, clock);
}

/**
 * Between cases, after peers that own a runtime (tfjs, ONNX Runtime): half a second for V8's background compile
 * and GC threads to finish what those left (the wasm tier-up of onnxruntime-web's module, their garbage), and a
 * full GC where node runs with --expose-gc. The thread clock does not charge that work to the next case's kernels
 * any more, but it competes with them for the two cores and the memory bus, which wall time and the shared
 * caches do see.
 */
async function settle(entries: Entry[]): Promise<void> {
  if (!entries.some((e) => e.impl.kind === 'peer' && !e.prepared.timedAsync)) return;
  await new Promise((resolve) => setTimeout(resolve, 500));
  (globalThis as { gc?: () => void }).gc?.();
}

const memoryBound = (c: BenchCase): boolean => c.bytes !== undefined && c.flops === undefined;

/** The memcpy of a case's bytes (half read, half written), timed with the case's implementations. */
function floorImplementation(bytes: number): Implementation {
  return {
    name: 'memcpy of the bytes (TypedArray.set)',
    kind: 'floor',
    setup: (): Prepared => {
      const n = Math.ceil(bytes / 8);
      const src = new Float32Array(n).fill(1);
      const dst = new Float32Array(n);
      return { run: () => dst.set(src), validate: () => ({ ok: true, detail: `${(bytes / 2 / 1e6).toFixed(1)} MB read, as many written` }) };
    },
  };
}

/**
 * Validates every implementation, then times them: the fast ones interleaved round by round (each round runs
 * each once, after one warm-up round) until every one has 5 runs and the case's budget (budgetMs per
 * implementation) is spent, at most 50 rounds; the slow ones (capped at ≤ 3 runs, or over a second per run) on
 * their own afterwards, at most 3 runs.
 */
async function runCase(c: BenchCase, opts: { budgetMs: number; peers: boolean; memcpyGBps: number; clock: Clock }): Promise<Row[]> {
  const rows: Row[] = [];
  const entries: Entry[] = [];
  const implementations = memoryBound(c) ? [floorImplementation(c.bytes!), ...c.implementations] : c.implementations;
  for (const impl of implementations) {
    const row: Row = {
      case: c.name, shape: c.shape, implementation: impl.name, kind: impl.kind, status: 'ok', validation: '',
      median_ms: null, min_ms: null, median_wall_ms: null, median_cpu_ms: null, cpu_clock: null, reps: 0, gb_per_s: null, gflop_per_s: null, ratios: {}, floor_ratio: null, floor_ratio_interleaved: null,
    };
    rows.push(row);
    if (impl.kind === 'peer' && !opts.peers) {
      row.status = 'unavailable';
      row.validation = 'skipped (--no-peers)';
      continue;
    }
    process.stderr.write(`  ${c.name}: ${impl.name} … `);
    try {
      const available = impl.available ? await impl.available() : true;
      if (available !== true) {
        row.status = 'unavailable';
        row.validation = available;
        process.stderr.write(`${available}\n`);
        continue;
      }
      const prepared = await impl.setup();
      if (prepared.select) await prepared.select();
      const v = prepared.validate();
      row.validation = v.detail;
      if (!v.ok) {
        row.status = 'failed validation';
        // our kernels are not timed when wrong; a peer's numbers are reported, flagged
        if (impl.kind !== 'peer') {
          process.stderr.write(`FAILED validation: ${v.detail}\n`);
          prepared.teardown?.();
          continue;
        }
      }
      process.stderr.write(`${v.ok ? 'valid' : 'flagged'}\n`);
      entries.push({ impl, row, prepared, samples: [] });
    } catch (err) {
      row.status = 'error';
      row.validation = String((err as Error).message ?? err).split('\n')[0]!;
      process.stderr.write(`error: ${row.validation}\n`);
    }
  }
  try {
    const cap = (e: Entry): number => Math.min(e.impl.maxReps ?? 50, 50);
    // warm-up round; an implementation whose warm-up run takes over a second (tfjs-cpu on big shapes) would make
    // every round that slow, so it is timed on its own, like those capped at ≤ 3 runs
    const candidates = entries.filter((e) => cap(e) > 3);
    const warm = new Map<Entry, number>();
    for (const e of candidates) warm.set(e, (await sample(e)).wall);
    const fast = candidates.filter((e) => warm.get(e)! <= 1000);
    const slow = entries.filter((e) => !fast.includes(e));
    const start = performance.now();
    for (let round = 0; round < 50; round++) {
      if (round >= 5 && performance.now() - start >= opts.budgetMs * fast.length) break;
      for (const e of fast) if (e.samples.length < cap(e)) e.samples.push(await sample(e));
    }
    // slow: on their own, no warm-up beyond the validation run
    for (const e of slow) {
      const runs = Math.min(cap(e), 3);
      process.stderr.write(`  ${c.name}: timing ${e.impl.name} (${runs} runs) …\n`);
      for (let k = 0; k < runs; k++) e.samples.push(await sample(e));
    }
  } finally {
    for (const e of entries) e.prepared.teardown?.();
  }
  await settle(entries);
  for (const e of entries) {
    if (e.samples.length === 0) continue;
    const times = e.samples.map((s) => s[opts.clock]);
    const m = median(times);
    e.row.median_ms = m;
    e.row.min_ms = Math.min(...times);
    e.row.median_wall_ms = median(e.samples.map((s) => s.wall));
    e.row.median_cpu_ms = median(e.samples.map((s) => s.cpu));
    e.row.cpu_clock = cpuClockOf(e.prepared, e.impl);
    e.row.reps = e.samples.length;
    if (c.bytes) e.row.gb_per_s = c.bytes / (m * 1e6);
    if (c.flops) e.row.gflop_per_s = c.flops / (m * 1e6);
    process.stderr.write(`  ${c.name}: ${e.impl.name} ${fmtMs(m)} ms (${e.samples.length} runs)\n`);
  }
  // ratios: peer time / this time; memory-bound: this time over the two memcpy floors
  const peerMs = new Map<string, number>();
  for (const r of rows) {
    const impl = implementations.find((i) => i.name === r.implementation);
    if (impl?.peer && r.median_ms !== null) peerMs.set(impl.peer, r.median_ms);
  }
  const floorFirst = memoryBound(c) ? c.bytes! / (opts.memcpyGBps * 1e6) : null;
  const floorInterleaved = rows.find((r) => r.kind === 'floor')?.median_ms ?? null;
  for (const r of rows) {
    if (r.median_ms === null) continue;
    for (const p of PEER_COLUMNS) r.ratios[p] = peerMs.has(p) ? peerMs.get(p)! / r.median_ms : null;
    if (floorFirst !== null) r.floor_ratio = r.median_ms / floorFirst;
    if (floorInterleaved !== null) r.floor_ratio_interleaved = r.median_ms / floorInterleaved;
  }
  return rows;
}

/** The fastest kernel row that passed validation. */
function bestKernel(rows: Row[]): Row | undefined {
  return rows.filter((r) => r.kind === 'kernel' && r.status === 'ok' && r.median_ms !== null).sort((a, b) => a.median_ms! - b.median_ms!)[0];
}

function goals(c: BenchCase, rows: Row[], memcpyGBps: number): string[] {
  const best = bestKernel(rows);
  if (!best) return ['  goals: no kernel measured'];
  const lines: string[] = [];
  const peers = rows.filter((r) => r.kind === 'peer' && r.median_ms !== null);
  const fastest = peers.sort((a, b) => a.median_ms! - b.median_ms!)[0];
  if (fastest) {
    const ratio = fastest.median_ms! / best.median_ms!;
    lines.push(`  goal: best kernel (${best.implementation}) faster than every peer: fastest peer ${fastest.implementation} ${fmtMs(fastest.median_ms)} ms, ${fmtNum(ratio)}× → ${ratio > 1 ? 'met' : 'NOT met'}`);
  }
  if (c.goal) {
    const peerRow = rows.find((r) => r.implementation === c.goal!.peer || implementationPeer(c, r) === c.goal!.peer);
    if (peerRow?.median_ms != null) {
      const ratio = peerRow.median_ms / best.median_ms!;
      const want = c.goal.factor >= 1 ? `≥ ${c.goal.factor}× as fast as` : `at most ${fmtNum(1 / c.goal.factor)}× the time of`;
      lines.push(`  goal: best kernel ${want} ${c.goal.peer}: ${fmtNum(ratio)}× → ${ratio >= c.goal.factor ? 'met' : 'NOT met'}`);
    } else {
      lines.push(`  goal: vs ${c.goal.peer}: not measured`);
    }
  }
  if (c.flops && computeCeilingGflops !== null && best.gflop_per_s !== null) {
    const peerRate = fastest?.gflop_per_s ?? null;
    lines.push(
      `  limit: best kernel ${best.gflop_per_s.toFixed(1)} GFLOP/s = ${(100 * best.gflop_per_s / computeCeilingGflops).toFixed(0)}% of the wasm f32x4 multiply + add ceiling `
      + `(${computeCeilingGflops.toFixed(1)} GFLOP/s, registers only)${peerRate === null ? '' : `; the fastest peer's ${peerRate.toFixed(1)} GFLOP/s is ${fmtNum(peerRate / computeCeilingGflops)}× that ceiling`}`,
    );
  }
  if (memoryBound(c)) {
    const floorMs = c.bytes! / (memcpyGBps * 1e6);
    lines.push(
      `  goal: within ${FLOOR_GOAL}× of the memcpy floor (${fmtMs(floorMs)} ms = ${(c.bytes! / 1e6).toFixed(1)} MB ÷ ${memcpyGBps.toFixed(1)} GB/s): `
      + `best kernel ${fmtNum(best.floor_ratio!)}× (${best.floor_ratio_interleaved === null ? '—' : `${fmtNum(best.floor_ratio_interleaved)}×`} of the interleaved memcpy) → ${best.floor_ratio! <= FLOOR_GOAL ? 'met' : 'NOT met'}`,
    );
  }
  return lines;
}

function implementationPeer(c: BenchCase, r: Row): string | undefined {
  return c.implementations.find((i) => i.name === r.implementation)?.peer;
}

function printCase(c: BenchCase, rows: Row[], memcpyGBps: number, clock: Clock): void {
  const rate = c.flops ? 'GFLOP/s' : 'GB/s';
  const floors = memoryBound(c) ? ['× floor', '× memcpy (same rounds)'] : [];
  const other: Clock = clock === 'cpu' ? 'wall' : 'cpu';
  const head = ['implementation', `median ${clock} ms`, `${other} ms`, rate, 'runs', ...floors, ...PEER_COLUMNS.map((p) => `vs ${p}`), 'validation'];
  const table = new Table({ head, style: { head: [], border: [] }, colWidths: head.map((_, i) => (i === head.length - 1 ? 60 : null)), wordWrap: true });
  for (const r of rows) {
    const rateValue = c.flops ? r.gflop_per_s : r.gb_per_s;
    table.push([
      r.implementation, fmtMs(r.median_ms), fmtMs(other === 'wall' ? r.median_wall_ms : r.median_cpu_ms), rateValue === null ? '—' : rateValue.toFixed(2), r.reps ? String(r.reps) : '—',
      ...(memoryBound(c) ? [fmtRatio(r.floor_ratio), fmtRatio(r.floor_ratio_interleaved)] : []),
      ...PEER_COLUMNS.map((p) => fmtRatio(r.ratios[p])),
      r.status === 'ok' ? r.validation : `${r.status}: ${r.validation}`,
    ]);
  }
  const volume = c.flops ? `${(c.flops / 1e6).toFixed(1)} MFLOP` : c.bytes ? `${(c.bytes / 1e6).toFixed(1)} MB moved` : '';
  console.log(`\n${c.name}  ${c.shape}  ${volume}`);
  console.log(table.toString());
  for (const line of goals(c, rows, memcpyGBps)) console.log(line);
}

async function main(): Promise<void> {
  const program = new Command()
    .name('bench')
    .description('normcheck benchmark: kernels vs the reference and the peers, one process per case, one thread')
    .option('--json <file>', 'write the results as JSON')
    .option('--filter <substrings>', 'only cases whose name contains this (or one of these, comma-separated)')
    .option('--budget <ms>', 'time budget per implementation (after the minimum of 5 runs)', '2000')
    .option('--no-peers', 'skip the peers (tfjs, ONNX Runtime, PyTorch)')
    .option('--one-process', 'run every case in this process (default: a fresh process per case)')
    .addOption(new Option('--case <name>', 'run only this case, in this process, and send its rows to the parent (internal)').hideHelp())
    .addOption(new Option('--memcpy <GBps>', 'the memcpy bandwidth the parent measured (internal, with --case)').hideHelp())
    .addOption(new Option('--peak <GFLOPs>', 'the wasm f32x4 compute ceiling the parent measured (internal, with --case)').hideHelp())
    .addOption(new Option('--clock <clock>', 'the clock of the tables and ratios: CPU time (of the calling thread for synchronous implementations) or wall time').choices(['cpu', 'wall']).default('cpu'))
    .parse();
  const opts = program.opts<{ json?: string; filter?: string; budget: string; peers: boolean; clock: Clock; oneProcess?: boolean; case?: string; memcpy?: string; peak?: string }>();
  const budgetMs = Number(opts.budget);
  const clock = opts.clock;
  if (!Number.isFinite(budgetMs) || budgetMs < 0) throw new Error(`--budget: expected a non-negative number of ms, got ${JSON.stringify(opts.budget)}`);
  if (opts.case !== undefined) {
    if (opts.peak !== undefined) computeCeilingGflops = Number(opts.peak);
    await runChild(opts.case, { budgetMs, peers: opts.peers, memcpyGBps: Number(opts.memcpy), clock });
    // the runtimes' handles (ONNX Runtime, tfjs) need not keep it alive; stdout to a file or pipe is written synchronously
    process.exit(0);
  }
  const loadStart = os.loadavg();

  console.log(`normcheck bench — node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} ×${os.cpus().length}, one thread per implementation`);
  console.log(`Timings are medians of ${clock === 'cpu' ? `CPU time (${CPU_CLOCK_NOTE})` : 'wall time'} on a shared machine; load average at the start ${fmtLoad(loadStart)}.`);
  const bandwidth: BandwidthResult[] = measureBandwidth(clock);
  console.log('\nmemory bandwidth (64 MiB arrays, this process; bytes = read + written):');
  for (const b of bandwidth) {
    const rate = b.gflopPerS === undefined ? `${b.gbPerS.toFixed(2)} GB/s` : `${b.gflopPerS.toFixed(1)} GFLOP/s`;
    console.log(`  ${b.name.padEnd(44)} ${rate}  (${fmtMs(b.medianMs)} ms)`);
  }
  const memcpyGBps = bandwidth.find((b) => b.memcpy)!.gbPerS;
  computeCeilingGflops = bandwidth.find((b) => b.gflopPerS !== undefined)?.gflopPerS ?? null;

  const filters = opts.filter?.split(',').filter((f) => f !== '') ?? [];
  const selected = ALL_CASES.filter((c) => filters.length === 0 || filters.some((f) => c.name.includes(f)));
  const rows: Row[] = [];
  try {
    for (const c of selected) {
      process.stderr.write(`${c.name}\n`);
      if (opts.oneProcess) {
        const caseRows = await runCase(c, { budgetMs, peers: opts.peers, memcpyGBps, clock });
        printCase(c, caseRows, memcpyGBps, clock);
        rows.push(...caseRows);
      } else {
        rows.push(...await runInChild(c.name, [`--budget=${budgetMs}`, `--clock=${clock}`, `--memcpy=${memcpyGBps}`, ...(computeCeilingGflops === null ? [] : [`--peak=${computeCeilingGflops}`]), ...(opts.peers ? [] : ['--no-peers'])]));
      }
    }
  } finally {
    await stopPytorch();
  }
  const loadEnd = os.loadavg();
  console.log(`\nload average at the end ${fmtLoad(loadEnd)}`);
  if (opts.json) {
    const out = {
      environment: {
        node: process.version, cpu: os.cpus()[0]?.model ?? null, cores: os.cpus().length, date: new Date().toISOString(),
        clock, cpu_clock: CPU_CLOCK_NOTE, load_average_start: loadStart, load_average_end: loadEnd, note: 'shared machine; medians of interleaved runs',
        process_per_case: !opts.oneProcess,
      },
      bandwidth: bandwidth.map((b) => ({ name: b.name, gb_per_s: b.gbPerS, median_ms: b.medianMs, ...(b.gflopPerS === undefined ? {} : { gflop_per_s: b.gflopPerS }) })),
      memcpy_gb_per_s: memcpyGBps,
      compute_ceiling_gflop_per_s: computeCeilingGflops,
      results: rows.map((r) => ({
        name: r.case, shape: r.shape, implementation: r.implementation, kind: r.kind, status: r.status, median_ms: r.median_ms, min_ms: r.min_ms,
        median_wall_ms: r.median_wall_ms, median_cpu_ms: r.median_cpu_ms, cpu_clock: r.cpu_clock,
        runs: r.reps, gb_per_s: r.gb_per_s, gflop_per_s: r.gflop_per_s, ratios: r.ratios, floor_ratio: r.floor_ratio,
        floor_ratio_interleaved: r.floor_ratio_interleaved, validation: r.validation,
      })),
    };
    writeFileSync(opts.json, `${JSON.stringify(out, null, 2)}\n`);
    console.log(`\nwrote ${opts.json}`);
  }
}

/** The child's side of --case: runs that one case, prints its table, sends its rows over IPC. */
async function runChild(name: string, opts: { budgetMs: number; peers: boolean; memcpyGBps: number; clock: Clock }): Promise<void> {
  const c = ALL_CASES.find((k) => k.name === name);
  if (!c) throw new Error(`--case: no case named ${JSON.stringify(name)} (cases: ${ALL_CASES.map((k) => k.name).join(', ')})`);
  if (!(opts.memcpyGBps > 0)) throw new Error('--case needs --memcpy=<GB/s> (the parent passes it)');
  try {
    const caseRows = await runCase(c, opts);
    printCase(c, caseRows, opts.memcpyGBps, opts.clock);
    await new Promise<void>((resolve, reject) => process.send!({ rows: caseRows }, (e: Error | null) => (e ? reject(e) : resolve())));
  } finally {
    await stopPytorch();
  }
}

/** Runs case `name` in a fresh process (this file with --case), its output inherited; resolves with its rows. */
function runInChild(name: string, args: string[]): Promise<Row[]> {
  return new Promise((resolve, reject) => {
    const child = fork(process.argv[1]!, [`--case=${name}`, ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: process.execArgv });
    let rows: Row[] | null = null;
    child.on('message', (m: { rows?: Row[] }) => {
      if (Array.isArray(m.rows)) rows = m.rows;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (rows !== null && code === 0) resolve(rows);
      else reject(new Error(`bench case ${name}: its process ${signal ? `was killed by ${signal}` : `exited with code ${code}`}${rows === null ? ' before sending its results' : ''}`));
    });
  });
}

/** Which CPU time the run's `cpu` numbers are, per kind of implementation (rows carry theirs as cpu_clock). */
const CPU_CLOCK_NOTE = `synchronous implementations: ${SYNC_CPU_CLOCK === 'thread' ? 'CPU time of the calling thread (/proc/thread-self/schedstat)' : 'user + system of this process (no thread clock here)'}; `
  + 'asynchronous ones (ONNX Runtime) and tfjs-node: user + system of this process; PyTorch: its own process time';

/** 1, 5 and 15 minute load averages. */
function fmtLoad(l: number[]): string {
  return l.map((x) => x.toFixed(2)).join(', ');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
