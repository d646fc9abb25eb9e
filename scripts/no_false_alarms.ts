/**
 * No false alarms: every correct variant of the mutant gallery (conformance/mutants/variants.ts), the built-in
 * kernels (NCHW and channels-last) and the float64 reference pass EVERY check of the full profile (50 runs per
 * property, the larger shapes), across 20 different seeds. A failure here is a false alarm of the suite — a
 * bound too tight, or a generator posing a case the contract does not — or a real bug in a built-in: either
 * way it must be looked at, with the replay command printed for it.
 *
 * Scheduled-style, not part of `npm test` (minutes, not seconds):
 *   npm run no-false-alarms                       20 seeds from 20261127, full profile
 *   npm run no-false-alarms -- --seeds 5 --first-seed 1 --quick
 *   npm run no-false-alarms -- --norm gn,in,rms   only these norms' checks (hygiene judges only their capabilities)
 *   npm run no-false-alarms -- --tolerance strict the strict tier's bounds (accuracy/probabilistic.ts)
 * Prints one line per seed and adapter, the total wall time, and exits 1 on any failure or error.
 */
import { parseArgs } from 'node:util';
import type { Adapter } from '../conformance/adapter.js';
import { TIERS, type Tier } from '../conformance/accuracy/probabilistic.js';
import { BUILTIN_ADAPTERS } from '../conformance/adapters/index.js';
import { CORRECT_VARIANTS } from '../conformance/mutants/gallery.js';
import { NORM_IDS, type NormId } from '../conformance/norms/index.js';
import { runConformance } from '../conformance/runner.js';

const BUILTINS = ['reference', 'kernels', 'kernels-nhwc'];

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '20' },
    'first-seed': { type: 'string', default: '20261127' },
    quick: { type: 'boolean', default: false },
    norm: { type: 'string' },
    tolerance: { type: 'string', default: 'worst-case' },
  },
});
if (!TIERS.includes(values.tolerance as Tier)) throw new Error(`--tolerance: expected one of ${TIERS.join(', ')}, got ${values.tolerance}`);
const tolerance = values.tolerance as Tier;
const numSeeds = Number(values.seeds);
const firstSeed = Number(values['first-seed']);
if (!Number.isInteger(numSeeds) || numSeeds < 1) throw new Error(`--seeds: expected a positive integer, got ${values.seeds}`);
if (!Number.isInteger(firstSeed)) throw new Error(`--first-seed: expected an integer, got ${values['first-seed']}`);
const norms = values.norm === undefined ? undefined : values.norm.split(',').map((s) => s.trim()) as NormId[];
if (norms && (norms.length === 0 || norms.some((n) => !NORM_IDS.includes(n)))) {
  throw new Error(`--norm: expected comma-separated norm ids (${NORM_IDS.join(', ')}), got ${values.norm}`);
}

async function adapters(): Promise<{ adapter: Adapter; spec: string }[]> {
  const list: { adapter: Adapter; spec: string }[] = [];
  for (const name of BUILTINS) list.push({ adapter: (await BUILTIN_ADAPTERS[name]!()).default, spec: name });
  // a fresh variant per seed is not needed: the variants keep no state between calls
  for (const v of CORRECT_VARIANTS) list.push({ adapter: v.adapter(), spec: v.name });
  return list;
}

const t0 = Date.now();
const entries = await adapters();
let failures = 0;
let checksRun = 0;
console.log(`no false alarms: ${entries.length} adapters × ${numSeeds} seeds (${firstSeed}…${firstSeed + numSeeds - 1}), ${values.quick ? 'quick' : 'full'} profile, ${tolerance} tolerance${norms ? `, norms ${norms.join(',')}` : ''}`);
for (let k = 0; k < numSeeds; k++) {
  const seed = firstSeed + k;
  for (const entry of entries) {
    const t = Date.now();
    const report = await runConformance([entry], { quick: values.quick, seed, required: [entry.spec], tolerance, ...(norms ? { norms } : {}) });
    const a = report.adapters[0]!;
    const bad = a.checks.filter((c) => c.status === 'fail' || c.status === 'error');
    const passed = a.checks.filter((c) => (c.status === 'pass' || c.status === 'robust')).length;
    const worst = Math.max(0, ...a.checks.filter((c) => (c.status === 'pass' || c.status === 'robust')).map((c) => c.worst?.ratio ?? 0));
    checksRun += a.checks.length;
    const state = a.state === 'ran' ? '' : ` ${a.state.toUpperCase()}: ${a.message}`;
    console.log(`seed ${seed}  ${entry.spec.padEnd(24)} ${bad.length || state ? 'FAIL' : 'ok  '}  ${passed} passed, ${bad.length} failed, ` +
      `worst ${worst.toFixed(3)} of bound, ${Date.now() - t} ms${state}`);
    if (a.state !== 'ran') failures++;
    for (const c of bad) {
      failures++;
      console.log(`    ${c.id} (${c.status}): ${c.message.split('\n')[0]!.slice(0, 300)}`);
      if (c.counterexample) console.log(`      counterexample: ${c.counterexample.slice(0, 300)}`);
      // built-ins replay through the CLI; a gallery variant is not a loadable spec, so give what replays it in code
      if (BUILTINS.includes(entry.spec)) console.log(`      replay: ${c.replay}`);
      else console.log(`      replay: runConformance([{ adapter: CORRECT_VARIANTS '${entry.spec}' }], { only: '${c.id}', seed: ${seed}${c.path ? `, path: '${c.path}'` : ''}${values.quick ? ', quick: true' : ''}${norms ? `, norms: ${JSON.stringify(norms)}` : ''}${tolerance === 'strict' ? ", tolerance: 'strict'" : ''} })`);
    }
  }
}
const seconds = ((Date.now() - t0) / 1000).toFixed(1);
console.log(`\n${failures === 0 ? 'NO FALSE ALARMS' : `${failures} FAILURE(S)`}: ${checksRun} check runs, ${entries.length} adapters × ${numSeeds} seeds, wall time ${seconds} s`);
process.exit(failures === 0 ? 0 : 1);
