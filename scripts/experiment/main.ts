/**
 * `npm run experiment`: trains the seed network with none / BatchNorm / LayerNorm on the Float32 kernels over
 * the sweeps of protocol.ts, on 2 worker threads, then writes normcheck.json, the figures and report.md
 * (with PyTorch's results from --torch-results beside normcheck's when that file exists).
 *
 *   npm run experiment                      full protocol, 5 seeds → results/experiment/
 *   npm run experiment -- --quick           1 seed, 1 epoch → a temporary directory (smoke run, < 60 s)
 *   npm run experiment -- --only batchnorm layernorm --seeds 3
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import cliProgress from 'cli-progress';
import Table from 'cli-table3';
import { loadDigits } from './data.js';
import { lossCurveSpec, renderSvg, sweepFile, sweepSpec, type Sources, VARIANT_LABEL } from './plots.js';
import { jobWork, runJobs } from './pool.js';
import { configKey, configurations, FULL_PROTOCOL, QUICK_PROTOCOL, type SweepAxis, type Variant, VARIANTS } from './protocol.js';
import { agreementStats, buildReport, cell } from './report.js';
import { formatResults, mergeResults, readResults, RESULTS_FORMAT, type ResultsFile, summarise } from './results.js';
import type { Job } from './worker.js';

const DEFAULT_OUT = 'results/experiment';
const DEFAULT_TORCH = 'results/experiment/pytorch.json';

function positiveInt(name: string, min: number) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name}: expected an integer >= ${min}, got '${value}'`);
    return n;
  };
}

/** The last commit touching kernels/, and whether the working tree differs from it: best effort, '' without git. */
function kernelsRevision(): string {
  try {
    const commit = execFileSync('git', ['log', '-1', '--format=%h', '--', 'kernels/'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'kernels/'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return commit ? `, kernels at ${commit}${dirty ? ' + uncommitted changes' : ''}` : '';
  } catch {
    return '';
  }
}

interface Options {
  quick: boolean;
  seeds?: number;
  out?: string;
  torchResults: string[];
  only: Variant[];
  workers: number;
  fromResults?: string[];
  config?: string[];
  seedStart: number;
}

async function main(): Promise<void> {
  const program = new Command()
    .name('npm run experiment --')
    .description('BatchNorm vs LayerNorm vs no norm on MNIST digits with normcheck\'s Float32 kernels, beside PyTorch (issue 7)')
    .option('--quick', '1 seed and 1 epoch per configuration (a smoke run); output to a temporary directory unless --out', false)
    .option('--seeds <n>', 'seeds per configuration, 0..n-1 (default 5; 1 with --quick)', positiveInt('--seeds', 1))
    .option('--out <dir>', `output directory (default ${DEFAULT_OUT}; a temporary directory with --quick)`)
    .option('--torch-results <file...>', 'PyTorch results JSON from scripts/experiment/torch_experiment.py (several: merged)', [DEFAULT_TORCH])
    .addOption(new Option('--only <variant...>', 'variants to run').choices(VARIANTS as string[]).default([...VARIANTS]))
    .option('--config <key...>', "only these configurations, named as in the report, e.g. 'batchnorm lr=0.1 init=1 batch=2'")
    .option('--seed-start <n>', 'first seed (seeds are n .. n+seeds-1)', positiveInt('--seed-start', 0), 0)
    .option('--from-results <file...>', 'skip training: rebuild the report and figures from normcheck results JSON (several: merged; --config filters)')
    .option('--workers <n>', 'worker threads (0: run in this thread)', positiveInt('--workers', 0), 2)
    .showHelpAfterError('(run with --help for usage)');
  program.parse();
  const opts = program.opts<Options>();

  const out = resolve(opts.out ?? (opts.quick ? join(tmpdir(), 'normcheck-experiment-quick') : DEFAULT_OUT));
  let normcheck: ResultsFile;
  if (opts.fromResults) {
    normcheck = mergeResults(opts.fromResults.map((f) => readResults(resolve(f))), opts.config ?? null);
    console.error(`normcheck experiment: report from ${opts.fromResults.join(', ')} (${normcheck.runs.length} runs), no training`);
  } else {
    normcheck = await train(opts);
  }
  mkdirSync(out, { recursive: true });
  // a fresh run's results go next to the report; a rebuilt report links to the files it was built from
  const normcheckFiles = opts.fromResults ? opts.fromResults.map((f) => relative(out, resolve(f))) : ['normcheck.json'];
  if (!opts.fromResults) writeFileSync(join(out, 'normcheck.json'), formatResults(normcheck));
  const protocol = { ...FULL_PROTOCOL, epochs: normcheck.protocol.epochs, maxStepsPerEpoch: normcheck.protocol.maxStepsPerEpoch ?? null };
  const runs = normcheck.runs;
  const wallSeconds = normcheck.wallSeconds;
  const order = new Map(configurations().map((c, i) => [configKey(c), i]));

  // PyTorch's results, when present and on the same protocol
  let torch: ResultsFile | null = null;
  let torchNote: string | null = null;
  const torchPaths = opts.torchResults.map((f) => resolve(f));
  const missing = torchPaths.filter((p) => !existsSync(p));
  if (missing.length) {
    torchNote = `No PyTorch results at ${missing.join(', ')}: run \`/usr/bin/python3 scripts/experiment/torch_experiment.py\` (torch 1.13) to produce them.`;
  } else {
    const t = mergeResults(torchPaths.map((p) => readResults(p)), opts.config ?? null);
    if (t.protocol.epochs !== protocol.epochs || (protocol.maxStepsPerEpoch ?? null) !== (t.protocol.maxStepsPerEpoch ?? null)) {
      torchNote = `PyTorch's results (${opts.torchResults.join(', ')}) are for ${t.protocol.epochs} epochs; this run used ${protocol.epochs}` +
        ' (--quick?), so they are not shown beside it.';
    } else {
      torch = t;
    }
  }
  const ncs = summarise(runs);
  const pts = torch ? summarise(torch.runs) : null;

  // figures
  const sources: Sources = { normcheck: ncs, ...(pts ? { PyTorch: pts } : {}) };
  writeFileSync(join(out, 'loss-curves.svg'), await renderSvg(lossCurveSpec(sources, protocol.curvePointsPerEpoch)));
  for (const axis of ['lr', 'initScale', 'batchSize'] as SweepAxis[]) {
    writeFileSync(join(out, sweepFile(axis)), await renderSvg(sweepSpec(sources, axis)));
  }
  const command = `npm run experiment${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}`;
  writeFileSync(join(out, 'report.md'), buildReport({
    normcheck, normcheckSummaries: ncs, torch, torchSummaries: pts, torchNote, command,
    normcheckFiles, torchFiles: torch ? torchPaths.map((p) => relative(out, p)) : [],
  }));

  // terminal summary
  const table = new Table({ head: ['configuration', 'normcheck', ...(pts ? ['PyTorch'] : [])] });
  for (const [key, s] of [...ncs].sort(([a], [b]) => order.get(a)! - order.get(b)!)) table.push([key.replace(s.config.variant, VARIANT_LABEL[s.config.variant]), cell(s), ...(pts ? [cell(pts.get(key))] : [])]);
  console.log(table.toString());
  if (pts) {
    const a = agreementStats(ncs, pts);
    console.log(`normcheck's mean inside PyTorch's seed range in ${a.withinRange} of ${a.compared} configurations; within 2 SE in ${a.withinTwoSe}.`);
  } else if (torchNote) console.log(torchNote);
  console.log(`${runs.length} runs in ${wallSeconds.toFixed(1)} s; report, figures and JSON in ${out}`);
}

/** Trains every run of the protocol on worker threads and returns the results file. */
async function train(opts: Options): Promise<ResultsFile> {
  const protocol = opts.quick ? QUICK_PROTOCOL : FULL_PROTOCOL;
  const seeds = opts.seeds ?? (opts.quick ? 1 : 5);
  const data = loadDigits({ shared: true });
  let configs = configurations(opts.only);
  if (opts.config) {
    const known = new Map(configs.map((c) => [configKey(c), c]));
    const unknown = opts.config.filter((k) => !known.has(k));
    if (unknown.length) throw new Error(`--config: unknown configuration(s) ${unknown.map((k) => `'${k}'`).join(', ')}; expected some of ${[...known.keys()].map((k) => `'${k}'`).join(', ')}`);
    configs = opts.config.map((k) => known.get(k)!);
  }
  const jobs: Job[] = configs.flatMap((config) => Array.from({ length: seeds }, (_, i) => ({ config, seed: opts.seedStart + i })));
  console.error(`normcheck experiment: ${configs.length} configurations × ${seeds} seed(s) = ${jobs.length} runs, ` +
    `${protocol.epochs} epoch(s), ${data.trainSize} train / ${data.testSize} test digits, ${opts.workers} worker thread(s)`);

  const bar = new cliProgress.SingleBar({
    format: 'training [{bar}] {percentage}% | {runs}/{total_runs} runs | elapsed {duration_formatted} | ETA {eta_formatted}',
    etaBuffer: 200, fps: 4,
    // without a terminal (CI, a log file) print a line every 10 s instead of redrawing
    noTTYOutput: !process.stderr.isTTY, notTTYSchedule: 10_000,
  }, cliProgress.Presets.shades_classic);
  const totalWork = jobs.reduce((a, j) => a + jobWork(j, protocol, data.trainSize), 0);
  let work = 0;
  let runsDone = 0;
  bar.start(Math.round(totalWork), 0, { runs: 0, total_runs: jobs.length });
  const loadBefore = loadavg()[0]!;
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const runs = await runJobs(jobs, data, protocol, opts.workers,
    (w) => { work += w; bar.update(Math.round(work)); },
    () => { runsDone++; bar.update(Math.round(work), { runs: runsDone }); });
  bar.stop();
  const wallSeconds = (performance.now() - start) / 1000;
  // CPU time of this process and its worker threads: what the runs cost without contention from other jobs
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const order = new Map(configs.map((c, i) => [configKey(c), i]));
  runs.sort((a, b) => order.get(configKey(a))! - order.get(configKey(b))! || a.seed - b.seed);
  return {
    format: RESULTS_FORMAT,
    implementation: 'normcheck',
    implementationVersion: `normcheck Float32 kernels (kernels/network/api.ts SeedNetKernel${kernelsRevision()}), Node ${process.version}`,
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    host: {
      cpus: cpus().length, workers: opts.workers, threadsPerWorker: 1,
      note: `${cpuSeconds.toFixed(0)} CPU-seconds over ${wallSeconds.toFixed(0)} s wall (${(cpuSeconds / wallSeconds).toFixed(2)} cores busy on average);` +
        ` 1-minute load average ${loadBefore.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end, on ${cpus().length} cores`,
    },
    wallSeconds: Number(wallSeconds.toFixed(1)),
    protocol: {
      epochs: protocol.epochs, trainSize: data.trainSize, testSize: data.testSize, curvePointsPerEpoch: protocol.curvePointsPerEpoch,
      seeds, seedStart: opts.seedStart, initScaleAppliesTo: 'Linear weights only', eps: protocol.eps, bnMomentum: protocol.bnMomentum,
      optimizer: 'SGD, momentum 0, weight decay 0', maxStepsPerEpoch: protocol.maxStepsPerEpoch,
    },
    runs,
  };
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
