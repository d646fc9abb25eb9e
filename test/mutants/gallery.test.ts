/**
 * The suite's teeth (issue 5): every mutant of conformance/mutants fails the check whose id names its bug —
 * not merely "something failed" — and every correct variant (two-pass, Welford, shifted data, float64
 * accumulation, NHWC, async, float16 storage, Keras profile) passes the whole quick catalog.
 *
 * Seed: the project's fixed fast-check seed (NORMCHECK_FC_SEED picks another; the seed is printed on failure).
 * The same gallery across 20 seeds in the full profile is scripts/no_false_alarms.ts (not part of npm test).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CORRECT_VARIANTS, MUTANTS, messageNames, runGallery, type GalleryReport } from '../../conformance/mutants/gallery.js';
import { CHECKS } from '../../conformance/catalog.js';
import { DEFAULT_FAST_CHECK_SEED } from '../helpers/arbitraries.js';
import { mutant } from '../../conformance/mutants/mutant.js';
import { runCli } from '../../cli/program.js';

const requested = process.env['NORMCHECK_FC_SEED'];
const seed = requested === undefined ? DEFAULT_FAST_CHECK_SEED
  : requested === 'random' ? (Date.now() % 0x7fffffff) : Number(requested);

let mutantsRun: GalleryReport;
const MUTANT_RUNS = 20;
let variantsRun: GalleryReport;

beforeAll(async () => {
  // Mutants: only their named checks (the assertion is about those), at 20 runs per property — at the quick
  // profile's 5, some named checks miss their mutant for a few seeds in a hundred (the nan-as-zero mutant is
  // caught only when the generator draws NaN, one case in three); at 20, none of 50 seeds missed any.
  // Variants: the whole quick catalog at its default runs.
  mutantsRun = await runGallery({ seed, quick: true, runs: MUTANT_RUNS, namedChecksOnly: true, variants: [] });
  variantsRun = await runGallery({ seed, quick: true, mutants: [] });
}, 120_000);

describe('the gallery', () => {
  it('holds at least 15 distinct bug classes, each saying where it was seen and naming checks that exist', () => {
    const ids = new Set(CHECKS.map((c) => c.id));
    expect(new Set(MUTANTS.map((m) => m.bugClass)).size).toBe(MUTANTS.length);
    expect(new Set(MUTANTS.map((m) => m.name)).size).toBe(MUTANTS.length);
    expect(MUTANTS.length).toBeGreaterThanOrEqual(15);
    for (const m of MUTANTS) {
      expect(m.seenIn.length, m.name).toBeGreaterThan(0);
      expect(m.caughtBy.length, m.name).toBeGreaterThan(0);
      for (const c of m.caughtBy) expect(ids.has(c.check), `${m.name}: ${c.check} is not a check id`).toBe(true);
    }
  });

  it('has the correct variants the issues ask for: two-pass, Welford, shifted, float64-accumulating, pairwise, NHWC, async, float16', () => {
    const names = CORRECT_VARIANTS.map((v) => v.name);
    for (const n of ['two-pass', 'welford', 'shifted', 'float64-accumulate', 'pairwise', 'nhwc', 'async', 'f16']) {
      expect(names.some((x) => x.includes(n)), n).toBe(true);
    }
    const f16 = CORRECT_VARIANTS.find((v) => v.name.startsWith('f16'))!.adapter();
    expect(f16.precision).toBe('float16');
  });
});

describe(`every mutant fails the check that names its bug (seed ${seed})`, () => {
  for (const m of MUTANTS) {
    it(`${m.name}: ${m.bugClass} → ${m.caughtBy.map((c) => c.check + (c.quantity ? ` (${c.quantity})` : '')).join(', ')}`, () => {
      const r = mutantsRun.mutants.find((x) => x.name === m.name)!;
      const missed = r.named.filter((n) => !n.caught).map((n) => `${n.check}: ${n.detail}`);
      expect(missed, `replay: NORMCHECK_FC_SEED=${seed}`).toEqual([]);
      expect(r.killed).toBe(true);
    });
  }
  it('the mutation score is 100%', () => {
    expect(mutantsRun.score).toEqual({ killed: MUTANTS.length, total: MUTANTS.length, fraction: 1 });
  });
});

describe(`every correct variant passes the whole quick catalog (seed ${seed})`, () => {
  for (const v of CORRECT_VARIANTS) {
    it(`${v.name}: ${v.description}`, () => {
      const r = variantsRun.variants.find((x) => x.name === v.name)!;
      expect(r.falseAlarms.map((f) => `${f.id} (${f.status}): ${f.message.slice(0, 300)} — ${f.replay}`)).toEqual([]);
      // most of the catalog must actually have run (not skipped or not provided)
      expect(r.passed).toBeGreaterThan(CHECKS.length * 0.9);
    });
  }
});

describe('a failure counts for a mutant only when it names the quantity', () => {
  it('finds the quantity at the start of any comparison of the message', () => {
    const msg = 'y: 3 of 12 values out of bound; worst [0, 1] error 1e-3 = 4.00 of bound 2e-4 (9 ulp); dweight: 2 of 3 values out of bound; worst [1]';
    expect(messageNames(msg, 'dweight')).toBe(true);
    expect(messageNames(msg, 'y')).toBe(true);
    expect(messageNames(msg, 'dbias')).toBe(false);
  });
  it('does not take a longer name for the quantity (rstd is not runningVar, runningVar after step 2 is runningVar after step)', () => {
    expect(messageNames('rstdx: 1 of 1', 'rstd')).toBe(false);
    expect(messageNames('runningVar after step 2: 1 of 3 values out of bound', 'runningVar after step')).toBe(true);
    expect(messageNames('fixtures/bn_case.json: dweight: 1 of 4 values out of bound', 'dweight')).toBe(true);
  });
});

describe('the score', () => {
  it('does not count a "mutant" that is no bug at all: it survives and the score drops below 100%', async () => {
    const notABug = mutant({ name: 'no-change', bugClass: 'nothing replaced', seenIn: 'this test', caughtBy: ['bn.train.forward'], parts: {} });
    const r = await runGallery({ seed, quick: true, namedChecksOnly: true, mutants: [MUTANTS[0]!, notABug], variants: [] });
    expect(r.mutants.map((m) => m.killed)).toEqual([true, false]);
    expect(r.mutants[1]!.named[0]!.detail).toMatch(/^pass/);
    expect(r.score).toEqual({ killed: 1, total: 2, fraction: 0.5 });
  });

  it('normcheck mutants prints the table and a 100% score and exits 0', async () => {
    const out: string[] = [];
    const io = { stdout: (t: string) => void out.push(t), stderr: () => undefined, stderrIsTTY: false };
    const code = await runCli(['mutants', '--seed', String(seed), '--named-only', '--no-variants'], io);
    const text = out.join('');
    expect(text).toContain(`mutation score: ${MUTANTS.length}/${MUTANTS.length} = 100%`);
    expect(text).toMatch(/one-pass-variance-f32.*✓ bn\.train\.offset_1e4/s);
    expect(code).toBe(0);
    // one named-checks gallery run of 39 mutants: ~8 s of CPU, 74 s wall at load average 27
  }, 180_000);
});
