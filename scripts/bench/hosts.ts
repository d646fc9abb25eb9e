/**
 * `npm run bench:hosts` — what running an adapter behind a thread or process boundary costs, in one run.
 *
 *   node dist/scripts/bench/hosts.js [--rounds N] [--json FILE] [--quick]
 *
 * 1. The full profile (50 runs per property, seed 1) on: the kernels in this process (the baseline), the
 *    kernels in a worker thread, PyTorch float32 in a Python child (`torch`), and the textbook numpy adapter
 *    in a Python child; interleaved round by round, so that load from other processes hits all alike.
 *    Per adapter: median time of the checks (and of the whole run, with starting the worker or Python and
 *    the handshake), its ratio to the in-process kernels, calls, round trips, calls/s.
 * 2. The protocol itself: 1,000 small calls (LayerNorm of 2×8 values) sent one per round trip and in
 *    batches of 100, to a worker and to a Python child: calls/s each way.
 * Per adapter also the CPU time of the whole run (this process with its worker threads, plus the Python
 * child from /proc): on a shared machine wall time includes waiting for the cores, CPU time does not.
 * Adapters whose Python (torch, numpy) is missing are left out, saying so.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { Command } from 'commander';
import Table from 'cli-table3';
import { packageFile } from '../../conformance/hosts/package_file.js';
import type { Host } from '../../conformance/hosts/host.js';
import { openHost, type OpenOptions } from '../../conformance/hosts/open.js';
import { findPython } from '../../conformance/hosts/python.js';
import { SubprocessHost } from '../../conformance/hosts/subprocess.js';
import { runConformance } from '../../conformance/runner.js';

interface Candidate {
  label: string;
  spec: string;
  options: OpenOptions;
}

interface Sample {
  checksMs: number;
  /** CPU time of this process (main thread and any worker) plus the child's, over the whole run */
  cpuMs: number;
  wallMs: number;
  calls: number;
  roundTrips: number;
  failures: number;
  reused: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function candidates(): { list: Candidate[]; skipped: string[] } {
  const list: Candidate[] = [
    { label: 'kernels (in-process)', spec: 'kernels', options: {} },
    { label: 'kernels (worker)', spec: 'kernels', options: { host: 'worker' } },
  ];
  const skipped: string[] = [];
  const torch = findPython(['torch', 'numpy']);
  if ('python' in torch) list.push({ label: 'torch (subprocess)', spec: 'torch', options: {} });
  else skipped.push(`torch: ${torch.missing}`);
  const numpy = findPython(['numpy']);
  if ('python' in numpy) list.push({ label: 'numpy-textbook (subprocess)', spec: `subprocess:${numpy.python} ${packageFile('conformance/examples/numpy_textbook.py')}`, options: {} });
  else skipped.push(`numpy-textbook: ${numpy.missing}`);
  return { list, skipped };
}

/** CPU time (user + system) of process `pid` so far, from /proc (clock ticks of 10 ms), or 0 where there is none. */
function childCpuMs(pid: number | null): number {
  if (pid === null) return 0;
  try {
    // the fields after the parenthesised command: state is field 3, utime 14 and stime 15
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return 0;
  }
}

async function fullProfile(c: Candidate, quick: boolean): Promise<Sample> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const host = await openHost(c.spec, { ...c.options, log: () => undefined });
  // the child's CPU time, sampled until it ends with the run
  let child = 0;
  const poll = setInterval(() => (child = Math.max(child, childCpuMs(host instanceof SubprocessHost ? host.pid : null))), 50);
  const report = await runConformance([{ host }], { seed: 1, quick });
  clearInterval(poll);
  const cpu = process.cpuUsage(cpu0);
  const checks = report.adapters[0]!.checks;
  return {
    checksMs: checks.reduce((s, k) => s + k.durationMs, 0),
    cpuMs: (cpu.user + cpu.system) / 1000 + child,
    wallMs: performance.now() - t0,
    calls: host.stats.calls,
    roundTrips: host.stats.roundTrips,
    failures: checks.filter((k) => k.status === 'fail' || k.status === 'error').length,
    reused: host.stats.reused,
  };
}

/** calls/s of `n` LayerNorm calls, one per round trip and in batches of `batch`. */
async function protocol(host: Host, n: number, batch: number): Promise<{ single: number; batched: number }> {
  const args = () => ({ x: new Float32Array(16).map((_, i) => i % 5), shape: [2, 8], normalizedShape: [8], weight: null, bias: null, eps: 1e-5 });
  const options = { timeoutMs: 10_000 };
  for (let i = 0; i < 50; i++) await host.call('lnForward', args(), options);
  let t = performance.now();
  for (let i = 0; i < n; i++) await host.call('lnForward', args(), options);
  const single = n / ((performance.now() - t) / 1000);
  t = performance.now();
  for (let i = 0; i < n; i += batch) await Promise.all(host.callBatch(Array.from({ length: batch }, () => ({ cap: 'lnForward' as const, args: args() })), options));
  const batched = n / ((performance.now() - t) / 1000);
  return { single, batched };
}

async function main(): Promise<void> {
  const o = new Command('bench-hosts')
    .option('--rounds <n>', 'interleaved rounds of every full-profile run (medians)', (v) => Number(v), 3)
    .option('--quick', 'the quick profile instead of the full one')
    .option('--json <file>', 'write the numbers as JSON')
    .parse()
    .opts<{ rounds: number; quick?: boolean; json?: string }>();
  const loadBefore = loadavg().map((l) => l.toFixed(1)).join(' ');
  const { list, skipped } = candidates();
  for (const s of skipped) console.log(`left out: ${s}`);
  const samples = new Map<string, Sample[]>(list.map((c) => [c.label, []]));
  for (let r = 0; r < o.rounds; r++) {
    for (const c of list) samples.get(c.label)!.push(await fullProfile(c, o.quick ?? false));
    process.stderr.write(`round ${r + 1}/${o.rounds}\n`);
  }
  const base = median(samples.get(list[0]!.label)!.map((s) => s.checksMs));
  const baseWall = median(samples.get(list[0]!.label)!.map((s) => s.wallMs));
  const baseCpu = median(samples.get(list[0]!.label)!.map((s) => s.cpuMs));
  const style = { head: [], border: [] };
  const table = new Table({ style, head: ['adapter', 'checks ms', '× in-process kernels', 'whole run ms', '× (whole run)', 'CPU ms', '× (CPU)', 'calls', 'round trips', 'cases reused', 'calls/s', 'fail+error'] });
  const rows = list.map((c) => {
    const s = samples.get(c.label)!;
    const checksMs = median(s.map((x) => x.checksMs));
    const row = {
      adapter: c.label, checksMs, ratio: checksMs / base, wallMs: median(s.map((x) => x.wallMs)), wallRatio: 0, cpuMs: median(s.map((x) => x.cpuMs)), cpuRatio: 0, calls: s[0]!.calls,
      roundTrips: s[0]!.roundTrips, reused: s[0]!.reused, callsPerSecond: s[0]!.calls / (checksMs / 1000), failures: s[0]!.failures,
    };
    row.wallRatio = row.wallMs / baseWall;
    row.cpuRatio = row.cpuMs / baseCpu;
    table.push([row.adapter, row.checksMs.toFixed(0), `${row.ratio.toFixed(2)}×`, row.wallMs.toFixed(0), `${row.wallRatio.toFixed(2)}×`, row.cpuMs.toFixed(0), `${row.cpuRatio.toFixed(2)}×`, row.calls, row.roundTrips, row.reused, row.callsPerSecond.toFixed(0), row.failures]);
    return row;
  });
  console.log(`normcheck bench:hosts — node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} ×${cpus().length}; load average ${loadBefore} before, ${loadavg().map((l) => l.toFixed(1)).join(' ')} after`);
  console.log(`${o.quick ? 'quick' : 'full'} profile, seed 1, median of ${o.rounds} interleaved rounds (checks ms: the checks' own time; whole run: from opening the host, with starting the worker or Python and the handshake; CPU: this process's threads plus the Python child's, over the whole run — what the load of other processes does not inflate)`);
  console.log(table.toString());

  const proto = new Table({ style, head: ['host', 'calls/s, one per round trip', 'calls/s, batches of 100', 'batching gains'] });
  const protoRows: { host: string; single: number; batched: number }[] = [];
  const protoHosts: [string, string, OpenOptions][] = [['worker thread (kernels)', packageFile('dist/conformance/adapters/kernels.js'), {}]];
  const numpy = findPython(['numpy']);
  if ('python' in numpy) protoHosts.push(['Python subprocess (numpy)', `subprocess:${numpy.python} ${packageFile('conformance/examples/numpy_textbook.py')}`, {}]);
  for (const [label, spec, options] of protoHosts) {
    const host = await openHost(spec, { ...options, log: () => undefined });
    if (!host.meta.capabilities.includes('lnForward')) {
      await host.kill();
      continue;
    }
    const r = await protocol(host, 1000, 100);
    await host.kill();
    protoRows.push({ host: label, ...r });
    proto.push([label, r.single.toFixed(0), r.batched.toFixed(0), `${(r.batched / r.single).toFixed(1)}×`]);
  }
  console.log('\nthe protocol: 1,000 LayerNorm calls of 2×8 values');
  console.log(proto.toString());
  if (o.json) writeFileSync(o.json, `${JSON.stringify({ node: process.version, loadBefore, loadAfter: loadavg(), quick: o.quick ?? false, rounds: o.rounds, fullProfile: rows, protocol: protoRows, skipped }, null, 2)}\n`);
}

await main();
