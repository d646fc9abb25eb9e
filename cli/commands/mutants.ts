/**
 * `normcheck mutants`: runs the mutant gallery (conformance/mutants) through the catalog and prints, per mutant,
 * the check(s) that must catch it (✓ caught / ✗ missed) and every other check that failed on it; per correct
 * variant, its false alarms (there must be none); then the mutation score. Exit 1 below 100% or on any false
 * alarm, 0 otherwise.
 *
 *   normcheck mutants [--seed N] [--runs N] [--full] [--named-only] [--no-variants] [--json FILE]
 *   normcheck mutants --seeds FROM-TO [--runs N] [--full]
 *
 * --seeds measures how reliably each named check catches its mutant: the gallery once per seed, named checks
 * only, no variants; it prints, per mutant, the seeds whose run missed it. Exit 1 if any seed missed any mutant.
 *
 * Default: quick shapes at 20 runs per property. At the quick profile's 5 runs no named check missed its
 * mutant for any of seeds 1000-1099 (`--seeds 1000-1099 --runs 5`; conformance/mutants/README.md).
 */
import { InvalidArgumentError, type Command } from 'commander';
import Table from 'cli-table3';
import { runGallery, type GalleryReport } from '../../conformance/mutants/gallery.js';
import { COMPACT } from '../../conformance/report/table.js';
import { checkReportTargets, writeReportFile } from '../../conformance/report/write_file.js';
import { MAX_RUNS } from '../../conformance/run_limits.js';
import { parseRuns, parseSeed, UsageError } from '../options.js';

interface Out {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

interface MutantsOptions {
  seed?: number;
  seeds?: [number, number];
  runs: number;
  full?: boolean;
  namedOnly?: boolean;
  variants: boolean;
  json?: string;
}

const DEFAULT_RUNS = 20;

function parseSeedRange(v: string): [number, number] {
  const m = /^(\d+)-(\d+)$/.exec(v);
  if (!m || Number(m[2]) < Number(m[1])) throw new InvalidArgumentError(`--seeds must be FROM-TO with FROM ≤ TO, got "${v}"`);
  return [Number(m[1]), Number(m[2])];
}

/** One gallery run per seed, named checks only: per mutant, the seeds that missed it. */
async function sweepSeeds(o: MutantsOptions, io: Out): Promise<number> {
  const [from, to] = o.seeds!;
  const missed = new Map<string, number[]>();
  const t0 = Date.now();
  for (let seed = from; seed <= to; seed++) {
    const r = await runGallery({ seed, quick: !o.full, runs: o.runs, namedChecksOnly: true, variants: [] });
    for (const m of r.mutants) {
      if (!missed.has(m.name)) missed.set(m.name, []);
      if (!m.killed) missed.get(m.name)!.push(seed);
    }
  }
  const n = to - from + 1;
  const table = new Table({ head: ['mutant', 'seeds missed', 'which'], style: { head: [], border: [] }, chars: COMPACT, wordWrap: true, colWidths: [32, 14, 60] });
  for (const [name, seeds] of missed) table.push([name, `${seeds.length} of ${n}`, seeds.length ? seeds.join(', ') : '—']);
  const total = [...missed.values()].reduce((a, s) => a + s.length, 0);
  io.stdout(`${table.toString()}
seeds ${from}-${to}, ${o.full ? 'full profile' : 'quick shapes'}, ${o.runs} runs per property, named checks only: ` +
    `${total} misses, ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  return total > 0 ? 1 : 0;
}

/** The --json file: schema first (how write_file.ts recognises it as ours when it is written again), then the exit code. */
export function galleryJson(r: GalleryReport, exitCode: 0 | 1): string {
  return `${JSON.stringify({ schema: 'normcheck-mutants/1', exitCode, ...r }, null, 2)}\n`;
}

export function formatGallery(r: GalleryReport): string {
  const mutants = new Table({
    head: ['mutant', 'bug class', 'named check(s)', 'also caught by'], style: { head: [], border: [] }, chars: COMPACT, wordWrap: true,
    colWidths: [30, 40, 36, 60],
  });
  for (const m of r.mutants) {
    const named = m.named.map((n) => `${n.caught ? '✓' : '✗'} ${n.check}${n.quantity ? ` (${n.quantity})` : ''}${n.caught ? '' : `: ${n.detail}`}`);
    const namedIds = new Set(m.named.map((n) => n.check));
    const others = m.failing.filter((f) => !namedIds.has(f.id)).map((f) => f.id + (f.status === 'error' ? ' (error)' : ''));
    mutants.push([m.name, m.bugClass, named.join('\n'), others.length ? others.join(', ') : '—']);
  }
  const parts = [mutants.toString()];
  if (r.variants.length) {
    const variants = new Table({
      head: ['correct variant', 'what differs', 'passed', 'false alarms', 'worst/bound'], style: { head: [], border: [] }, chars: COMPACT, wordWrap: true,
      colWidths: [26, 56, 8, 30, 13],
    });
    for (const v of r.variants) {
      variants.push([v.name, v.description, String(v.passed), v.falseAlarms.length ? v.falseAlarms.map((f) => `${f.id} (${f.status})`).join(', ') : 'none', v.worstRatio.toFixed(3)]);
    }
    parts.push(variants.toString());
  }
  const pct = (100 * r.score.fraction).toFixed(r.score.fraction === 1 ? 0 : 1);
  const alarms = r.variants.reduce((n, v) => n + v.falseAlarms.length, 0);
  parts.push(
    `mutation score: ${r.score.killed}/${r.score.total} = ${pct}% (each mutant counted only when the check that names its bug fails)` +
    (r.variants.length ? `; false alarms on ${r.variants.length} correct variants: ${alarms}` : ''),
    `seed ${r.seed}, ${r.quick ? 'quick shapes' : 'full profile'}, ${r.runs} runs per property, ${(r.durationMs / 1000).toFixed(1)} s` +
    ` — replay: npx normcheck mutants --seed ${r.seed} --runs ${r.runs}${r.quick ? '' : ' --full'}`,
  );
  return parts.join('\n\n');
}

export function registerMutantsCommand(cmd: Command, io: Out, result: { code: number }): void {
  cmd
    .command('mutants')
    .description('run the gallery of buggy adapters (each must fail the check that names its bug) and correct variants (each must pass); exit 1 below a 100% mutation score')
    .option('--seed <n>', 'fast-check seed, an integer (default: from the clock; always printed)', parseSeed('--seed'))
    .option('--seeds <from-to>', 'measure: one named-checks-only gallery run per seed in FROM-TO; print the seeds that missed each mutant', parseSeedRange)
    .option('--runs <n>', `fast-check runs per property, at most ${MAX_RUNS} (default ${DEFAULT_RUNS})`, parseRuns('--runs'), DEFAULT_RUNS)
    .option('--full', 'full-profile shapes instead of the quick ones')
    .option('--named-only', 'run only each mutant\'s named checks (fast; the table then shows no other catches)')
    .option('--no-variants', 'skip the correct variants')
    .option('--json <file>', 'write the gallery report as JSON')
    .action(async (o: MutantsOptions) => {
      if (o.seeds && (o.json || o.seed !== undefined || o.namedOnly || !o.variants)) {
        const flag = o.json ? '--json' : o.seed !== undefined ? '--seed' : o.namedOnly ? '--named-only' : '--no-variants';
        throw new UsageError(`${flag} does not apply to --seeds (a sweep runs the named checks only, one gallery per seed, and prints a table)`);
      }
      if (o.json) checkReportTargets([{ option: '--json', file: o.json, kind: 'mutants-json' }]);
      if (o.seeds) {
        result.code = await sweepSeeds(o, io);
        return;
      }
      const seed = o.seed ?? ((Date.now() ^ (Math.random() * 0x7fffffff)) >>> 0);
      const report = await runGallery({
        seed, quick: !o.full, runs: o.runs, namedChecksOnly: o.namedOnly ?? false, ...(o.variants ? {} : { variants: [] }),
        onAdapterDone: (kind, name, ok) => io.stderr(`${kind} ${name}: ${kind === 'mutant' ? (ok ? 'caught' : 'MISSED') : ok ? 'passed' : 'FALSE ALARM'}\n`),
      });
      io.stdout(`${formatGallery(report)}\n`);
      const alarms = report.variants.some((v) => v.falseAlarms.length > 0);
      const code = report.score.fraction < 1 || alarms ? 1 : 0;
      // schema first: how write_file.ts recognises this file as ours when it is written again
      if (o.json) writeReportFile('--json', o.json, galleryJson(report, code), 'mutants-json');
      result.code = code;
    });
}
