/**
 * Accuracy at size: what each tier and the accuracy grade see at real group sizes, case by case.
 *
 *   npm run at-size                           teeth: the at-size mutants over M = 256 … 200 704, 20 seeds
 *   npm run at-size -- --honest               false alarms: the honest variants on realistic shapes, 20 seeds
 *   npm run at-size -- --seeds 5 --first-seed 1
 *
 * Teeth: per mutant, size M (BatchNorm: one channel (1, 1, M); LayerNorm: two rows of D = M) and data kind
 * (typical: offset ≤ 3 spread; offset 1e2, 1e4, 1e6 relative to the spread), the forward is judged over the
 * seeds and the table says, per tier, in how many cases the bound failed, in how many the case was
 * inconclusive (the trivial answer y = bias would pass the same bound: not a plain pass), and the median of
 * the grade's ratio N (y's error in ulps over the least accurate honest algorithm's, accuracy/grade.ts):
 * N > 2 is "worse than honest".
 * Honest: the variants two-pass, Welford, shifted, float64-accumulating, pairwise and float16 on realistic
 * BatchNorm and LayerNorm shapes (accuracy/realistic.ts, full limits: M up to 200 704), forward (y, saved
 * statistics, running buffers) and backward (dx, dweight, dbias), under both tiers: every case must pass.
 * Each case prints nothing unless it fails; the summary gives counts and the worst ratio per variant and tier.
 * Exit 1 on any honest failure (--honest) — the teeth table never fails: it is a measurement.
 */
import fc from 'fast-check';
import { parseArgs } from 'node:util';
import type { Adapter, Precision } from '../conformance/adapter.js';
import { TIERS, type Tier } from '../conformance/accuracy/probabilistic.js';
import { REALISTIC, realisticBnShapes, realisticCase, realisticLnShapes } from '../conformance/accuracy/realistic.js';
import { FULL_DOMAIN } from '../conformance/domain.js';
import { InProcessHost } from '../conformance/hosts/in_process.js';
import type { CheckContext } from '../conformance/invoke.js';
import { judgeBackward, judgeForward } from '../conformance/judge.js';
import { lastBlockDroppedMoments } from '../conformance/mutants/at_size.js';
import { buildAdapter } from '../conformance/mutants/base.js';
import { CORRECT_VARIANTS, MUTANTS } from '../conformance/mutants/gallery.js';
import { BATCHNORM } from '../conformance/norms/batchnorm.js';
import { LAYERNORM } from '../conformance/norms/layernorm.js';
import type { Geometry, GroupKind, NormCase, NormSpec } from '../conformance/norms/spec.js';
import { conventionsFor } from '../conformance/profiles.js';

/** A check's context for one adapter in this process, in a tier. */
export function contextFor(adapter: Adapter, tolerance: Tier, seed = 1): CheckContext {
  const host = new InProcessHost(adapter, adapter.name);
  return {
    host, capabilities: new Set(host.meta.capabilities), precision: adapter.precision, layout: adapter.layout, profile: adapter.profile ?? 'pytorch',
    conventions: conventionsFor(adapter), quick: false, numRuns: 1, seed, timeoutMs: 60_000, checkTimeoutMs: 600_000, ledger: { fault: null },
    origin: null, domain: FULL_DOMAIN, tolerance,
  };
}

export const KINDS: readonly { name: string; kind: GroupKind }[] = [
  { name: 'typical', kind: 'typical' }, { name: 'offset 1e2', kind: { offset: 1e2 } }, { name: 'offset 1e4', kind: { offset: 1e4 } },
  { name: 'offset 1e6', kind: { offset: 1e6 } },
];

/** What one forward case says about an adapter: per tier within bound or not, conclusive or not; the y grade's ratio. */
export interface CaseVerdict {
  ok: Record<Tier, boolean>;
  ratio: Record<Tier, number>;
  conclusive: Record<Tier, boolean>;
  /** y's error in ulps over the least accurate honest algorithm's (≥ 1 ulp) */
  grade: number;
}

/** Judges the forward of one case in both tiers; conclusiveness and the y grade as the checks compute them (judge.ts). */
export async function judgeCase(adapter: Adapter, spec: NormSpec, c: NormCase): Promise<CaseVerdict> {
  const verdict: CaseVerdict = { ok: { 'worst-case': true, strict: true }, ratio: { 'worst-case': 0, strict: 0 }, conclusive: { 'worst-case': true, strict: true }, grade: 0 };
  for (const tier of TIERS) {
    const ctx = contextFor(adapter, tier);
    // y and the saved statistics, as the offset checks judge them (running buffers are bn.train.running_*'s)
    const comps = await judgeForward(ctx, spec, c, { eps: ctx.conventions.eps });
    const y = comps.find((x) => x.quantity === 'y')!;
    verdict.ok[tier] = comps.every((x) => x.ok);
    verdict.ratio[tier] = Math.max(...comps.map((x) => x.worstRatio));
    verdict.conclusive[tier] = y.conclusive !== false;
    verdict.grade = y.accuracy?.grade.ratio ?? NaN;
  }
  return verdict;
}

/** One case of a fixed geometry and kind, seeded (realistic.ts fills the values). */
export function sizedCase(spec: NormSpec, precision: Precision, geometry: Geometry, kind: GroupKind, seed: number): NormCase {
  return fc.sample(realisticCase(spec, precision, fc.constant(geometry), { label: 'at_size', kind, affine: true }), { seed, numRuns: 1 })[0]!;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (v: number) => (!Number.isFinite(v) ? '∞' : v >= 100 ? v.toExponential(0).replace('+', '') : v >= 10 ? v.toFixed(0) : v.toFixed(1));

/** The mutants, each at the sizes and data kinds where its error scale changes (M: BatchNorm channel; D: LayerNorm row). */
const ONE_OVER_M = [256, 1024, 4096, 16385, 65537, 200704];
const TEETH: readonly { mutant: string; norm: 'bn' | 'ln'; sizes: number[]; kinds: number }[] = [
  { mutant: 'variance-off-1e-3', norm: 'bn', sizes: ONE_OVER_M, kinds: 3 },
  { mutant: 'bn-forward-unbiased-var', norm: 'bn', sizes: ONE_OVER_M, kinds: 3 },
  { mutant: 'ln-unbiased-var', norm: 'ln', sizes: [768, 1024, 4096, 8192], kinds: 3 },
  { mutant: 'last-block-dropped', norm: 'bn', sizes: [4096, 4097, 5000, 8193, 65537], kinds: 3 },
  { mutant: 'accurate-to-offset-1e2', norm: 'bn', sizes: [256, 4096, 65537], kinds: 4 },
  { mutant: 'y-equals-bias', norm: 'bn', sizes: [256, 4096, 65537], kinds: 4 },
];

async function teeth(seeds: number[]): Promise<void> {
  console.log('| mutant | data | M | worst-case: fail / inconclusive | strict: fail / inconclusive | grade N (median) |');
  console.log('|---|---|---|---|---|---|');
  for (const t of TEETH) {
    const m = MUTANTS.find((x) => x.name === t.mutant)
      ?? (t.mutant === 'last-block-dropped' ? { adapter: () => buildAdapter({ name: 'mutant:last-block-dropped', description: '', parts: { moments: lastBlockDroppedMoments } }) } : null);
    if (!m) {
      console.log(`| ${t.mutant} | (not in the gallery) | | | | |`);
      continue;
    }
    const spec = t.norm === 'bn' ? BATCHNORM : LAYERNORM;
    for (const k of KINDS.slice(0, t.kinds)) {
      for (const M of t.sizes) {
        const geometry: Geometry = t.norm === 'bn' ? { shape: [1, 1, M] } : { shape: [2, M], normalizedShape: [M] };
        const n = { fail: { 'worst-case': 0, strict: 0 }, inconclusive: { 'worst-case': 0, strict: 0 } };
        const grades: number[] = [];
        for (const seed of seeds) {
          const a = m.adapter();
          const v = await judgeCase(a, spec, sizedCase(spec, a.precision, geometry, k.kind, seed));
          for (const tier of TIERS) {
            if (!v.ok[tier]) n.fail[tier]++;
            else if (!v.conclusive[tier]) n.inconclusive[tier]++;
          }
          grades.push(v.grade);
        }
        const cell = (tier: Tier) => `${n.fail[tier]} / ${n.inconclusive[tier]}`;
        console.log(`| ${t.mutant} | ${k.name} | ${M} | ${cell('worst-case')} | ${cell('strict')} | ${fmt(median(grades))} |`);
      }
    }
  }
  console.log(`\n${seeds.length} seeds (${seeds[0]}…${seeds.at(-1)}) per row; fail / inconclusive count cases out of ${seeds.length} (the rest are plain passes)`);
}

const HONEST = ['f32-two-pass', 'f32-welford', 'f32-shifted', 'f32-float64-accumulate', 'f32-pairwise', 'f16-storage'];

async function honest(seeds: number[], casesPerSeed: number): Promise<number> {
  let failures = 0;
  const t0 = Date.now();
  for (const name of HONEST) {
    const v = CORRECT_VARIANTS.find((x) => x.name === name)!;
    const worst: Record<Tier, number> = { 'worst-case': 0, strict: 0 };
    let cases = 0;
    const bad: Record<Tier, number> = { 'worst-case': 0, strict: 0 };
    for (const seed of seeds) {
      const adapter = v.adapter();
      const eps = conventionsFor(adapter).eps;
      for (const k of KINDS) {
        const draws: [NormSpec, NormCase][] = [
          ...fc.sample(realisticCase(BATCHNORM, adapter.precision, realisticBnShapes(REALISTIC).map((shape) => ({ shape })), { label: 'bn', kind: k.kind, affine: 'random' }), { seed, numRuns: casesPerSeed })
            .map((c): [NormSpec, NormCase] => [BATCHNORM, c]),
          ...fc.sample(realisticCase(LAYERNORM, adapter.precision, realisticLnShapes(REALISTIC), { label: 'ln', kind: k.kind, affine: 'random' }), { seed, numRuns: casesPerSeed })
            .map((c): [NormSpec, NormCase] => [LAYERNORM, c]),
        ];
        for (const [spec, c] of draws) {
          cases++;
          for (const tier of TIERS) {
            const ctx = contextFor(adapter, tier, seed);
            const comps = [
              ...await judgeForward(ctx, spec, c, { eps, ...(spec.runningStats ? { running: true } : {}) }),
              ...await judgeBackward(ctx, spec, c, { eps }),
            ];
            const r = Math.max(...comps.map((x) => x.worstRatio));
            worst[tier] = Math.max(worst[tier], r);
            if (comps.some((x) => !x.ok)) {
              bad[tier]++;
              failures++;
              console.log(`FALSE ALARM ${name} ${tier} seed ${seed} ${c.label}: ${comps.filter((x) => !x.ok).map((x) => `${x.quantity} ${x.worstRatio.toFixed(2)}`).join(', ')}`);
            }
          }
        }
      }
    }
    console.log(`${name.padEnd(24)} ${cases} cases (forward + backward)  worst-case: ${bad['worst-case']} failed, worst ${worst['worst-case'].toExponential(2)} of bound  ` +
      `strict: ${bad.strict} failed, worst ${worst.strict.toExponential(2)} of bound`);
  }
  console.log(`\n${failures === 0 ? 'NO FALSE ALARMS' : `${failures} FALSE ALARM(S)`} (${seeds.length} seeds, ${KINDS.length} kinds, ${casesPerSeed} BN + ${casesPerSeed} LN realistic cases each), ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return failures;
}

const isMain = process.argv[1]?.endsWith('at_size.js');
if (isMain) {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string', default: '20' }, 'first-seed': { type: 'string', default: '1' }, honest: { type: 'boolean', default: false },
      cases: { type: 'string', default: '2' },
    },
  });
  const numSeeds = Number(values.seeds);
  const first = Number(values['first-seed']);
  const casesPerSeed = Number(values.cases);
  if (!Number.isInteger(numSeeds) || numSeeds < 1) throw new Error(`--seeds: expected a positive integer, got ${values.seeds}`);
  if (!Number.isInteger(first)) throw new Error(`--first-seed: expected an integer, got ${values['first-seed']}`);
  if (!Number.isInteger(casesPerSeed) || casesPerSeed < 1) throw new Error(`--cases: expected a positive integer, got ${values.cases}`);
  const seeds = Array.from({ length: numSeeds }, (_, k) => first + k);
  if (values.honest) process.exit((await honest(seeds, casesPerSeed)) === 0 ? 0 : 1);
  await teeth(seeds);
}
