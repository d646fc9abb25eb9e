/**
 * The GPU routes side by side: what each costs to start and how many calls per second it answers, through
 * the same host interface the suite uses (in-process for the Node WebGPU adapters, the browser host for the
 * page adapters).
 *
 *   npx tsc -p tsconfig.build.json && VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json \
 *     node dist/scripts/bench/gpu_routes.js [--json FILE] [--calls N]
 *
 *   startup    openHost → available → setup → the first call answered (module loads, device or browser,
 *              shader compiles)
 *   one by one calls/s of a 1024-value BatchNorm (8, 8, 16), each call awaited before the next
 *   batched    calls/s of the same calls sent as one batch (Host.callBatch: one round trip for a browser page)
 * Training forward; eval for ort-webgpu, whose WebGPU provider has no training mode. The `kernels` adapter
 * (CPU, in-process) is the baseline. Every number is a median of three rounds; timings on a shared machine
 * are noisy, so compare within one run.
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Command } from 'commander';
import { nchwToNhwc } from '../../conformance/invoke.js';
import type { Host } from '../../conformance/hosts/host.js';
import { openHost } from '../../conformance/hosts/open.js';
import { seededRng } from '../../reference/index.js';

const SHAPE = [8, 8, 16];

const ROUTES: { spec: string; note: string }[] = [
  { spec: 'kernels', note: 'CPU, in-process (baseline)' },
  { spec: 'dist/conformance/examples/wgsl-norms.js', note: 'your WGSL on Dawn in Node (a process of its own, as WebGPU paths run)' },
  { spec: 'tfjs-webgpu', note: 'tfjs WebGPU backend on Dawn, in-process' },
  { spec: 'ort-webgpu', note: 'ONNX Runtime WebGPU (JSEP) on Dawn, in-process; eval' },
  { spec: 'tfjs-webgl', note: 'tfjs WebGL in headless Chromium (browser host)' },
  { spec: 'tfjs-webgl-f16', note: 'the same with half-float textures' },
  { spec: 'browser:dist/conformance/examples/wgsl-norms.js', note: 'your WGSL in a Chromium page (its WebGPU)' },
];

function bnArgs(host: Host, seed: number) {
  const rng = seededRng(seed);
  const x = Float32Array.from({ length: 1024 }, () => rng.normal());
  const C = SHAPE[1]!;
  const nhwc = host.meta.layout === 'NHWC';
  return {
    x: nhwc ? Float32Array.from(nchwToNhwc(x, SHAPE)) : x, shape: nhwc ? [SHAPE[0]!, SHAPE[2]!, C] : SHAPE,
    weight: new Float32Array(C).fill(1), bias: new Float32Array(C), runningMean: new Float32Array(C), runningVar: new Float32Array(C).fill(1),
    numBatchesTracked: 0, momentum: 0.1, eps: 1e-5,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

interface Row {
  route: string;
  note: string;
  host: string | null;
  startup_ms: number | null;
  one_by_one_per_s: number | null;
  batched_per_s: number | null;
  round_trips_batched: number | null;
  error: string | null;
}

async function measure(spec: string, note: string, calls: number): Promise<Row> {
  const row: Row = { route: spec, note, host: null, startup_ms: null, one_by_one_per_s: null, batched_per_s: null, round_trips_batched: null, error: null };
  const t0 = performance.now();
  let host: Host | null = null;
  try {
    host = await openHost(spec);
    row.host = host.kind;
    const ok = await host.available(60_000);
    if (ok !== true) throw new Error(ok);
    await host.setup(60_000);
    const cap = spec === 'ort-webgpu' ? 'bnEvalForward' : 'bnTrainForward';
    await host.call(cap, bnArgs(host, 0), { timeoutMs: 60_000 });
    row.startup_ms = performance.now() - t0;
    const one: number[] = [];
    const batched: number[] = [];
    for (let round = 0; round < 3; round++) {
      const inputs = Array.from({ length: calls }, (_, k) => bnArgs(host!, 1 + k));
      let t = performance.now();
      for (const args of inputs) await host.call(cap, args, { timeoutMs: 60_000 });
      one.push(calls / ((performance.now() - t) / 1000));
      const trips = host.stats.roundTrips;
      t = performance.now();
      await Promise.all(host.callBatch(inputs.map((args) => ({ cap, args })), { timeoutMs: 60_000 }));
      batched.push(calls / ((performance.now() - t) / 1000));
      row.round_trips_batched = host.stats.roundTrips - trips;
    }
    row.one_by_one_per_s = median(one);
    row.batched_per_s = median(batched);
    await host.teardown(60_000);
  } catch (e) {
    row.error = (e as Error).message.split('\n')[0]!;
  } finally {
    await host?.kill();
  }
  return row;
}

const program = new Command('gpu_routes').option('--json <file>').option('--calls <n>', 'calls per round', (v) => Number(v), 40);
program.parse();
const o = program.opts<{ json?: string; calls: number }>();
const rows: Row[] = [];
// the machine is shared: the load average says how much of it these numbers had
const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');
const loadBefore = load();
for (const r of ROUTES) rows.push(await measure(r.spec, r.note, o.calls));
const loadAfter = load();
const f = (x: number | null, d = 0) => (x === null ? '—' : x.toFixed(d));
console.log(`| route | host | startup (ms) | calls/s one by one | calls/s batched (${o.calls} per batch) | |`);
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(`| \`${r.route}\` | ${r.host ?? '—'} | ${f(r.startup_ms)} | ${f(r.one_by_one_per_s)} | ${f(r.batched_per_s)} | ${r.error ?? r.note} |`);
console.log(`\nload average (1, 5, 15 min) before: ${loadBefore}; after: ${loadAfter}; ${new Date().toISOString()}`);
if (o.json) writeFileSync(o.json, `${JSON.stringify({ calls: o.calls, shape: SHAPE, loadBefore, loadAfter, rows }, null, 2)}\n`);
process.exit(0);
