/**
 * The gallery: every mutant (each must fail the check that names its bug) and every correct variant (each
 * must pass everything), run through the ordinary runner, and the mutation score.
 *
 * A mutant is KILLED when every check in its `caughtBy` list fails (status 'fail': a wrong result, not an
 * exception) and, where a quantity is named, the failure message names that quantity — "something failed"
 * does not count. The score is killed / total; `normcheck mutants` exits non-zero below 100%.
 */
import type { CheckResult, RunOptions } from '../runner.js';
import { runConformance } from '../runner.js';
import { AT_SIZE_MUTANTS } from './at_size.js';
import { BN_BACKWARD_MUTANTS } from './bn_backward.js';
import { BN_FORWARD_MUTANTS } from './bn_forward.js';
import { BN_RUNNING_MUTANTS } from './bn_running.js';
import { CONTRACT_MUTANTS } from './contract.js';
import { GN_MUTANTS } from './groupnorm.js';
import { IN_MUTANTS } from './instancenorm.js';
import { LN_MUTANTS } from './layernorm.js';
import { RMS_MUTANTS } from './rmsnorm.js';
import type { Catch, Mutant } from './mutant.js';
import { CORRECT_VARIANTS, type CorrectVariant } from './variants.js';

export type { Catch, Mutant } from './mutant.js';
export type { CorrectVariant } from './variants.js';
export { CORRECT_VARIANTS } from './variants.js';

export const MUTANTS: readonly Mutant[] = [
  ...BN_FORWARD_MUTANTS,
  ...BN_RUNNING_MUTANTS,
  ...BN_BACKWARD_MUTANTS,
  ...LN_MUTANTS,
  ...GN_MUTANTS,
  ...IN_MUTANTS,
  ...RMS_MUTANTS,
  ...CONTRACT_MUTANTS,
  ...AT_SIZE_MUTANTS,
];

export interface NamedCatch extends Catch {
  caught: boolean;
  /** status and first line of the check's message, or why it does not count */
  detail: string;
}

export interface MutantResult {
  name: string;
  bugClass: string;
  seenIn: string;
  /** every failing check (status fail or error), in catalog order */
  failing: { id: string; status: 'fail' | 'error'; message: string }[];
  /** the checks that must catch it, and whether they did */
  named: NamedCatch[];
  killed: boolean;
}

export interface VariantResult {
  name: string;
  description: string;
  /** checks that failed or errored: each is a false alarm */
  falseAlarms: { id: string; status: string; message: string; replay: string | null }[];
  passed: number;
  worstRatio: number;
}

export interface GalleryReport {
  seed: number;
  quick: boolean;
  runs: number;
  only: string | null;
  mutants: MutantResult[];
  variants: VariantResult[];
  score: { killed: number; total: number; fraction: number };
  durationMs: number;
}

/** quick, runs and only as in a conformance run (only: default the whole catalog); the seed is required */
export interface GalleryOptions extends Pick<RunOptions, 'quick' | 'runs' | 'only'> {
  seed: number;
  /** run only the mutants' named checks (fast; variants still get `only`) */
  namedChecksOnly?: boolean;
  mutants?: readonly Mutant[];
  variants?: readonly CorrectVariant[];
  onAdapterDone?(kind: 'mutant' | 'variant', name: string, ok: boolean): void;
}

/**
 * Whether a failure message names the quantity first in one of its comparisons. Property failures read
 * "quantity: n of m values out of bound; worst …; quantity2: …" (check.ts); fixture failures prefix "case: ".
 */
export function messageNames(message: string, quantity: string): boolean {
  const startsWithQuantity = (s: string) => s.startsWith(quantity) && /^($|[:\s])/.test(s.slice(quantity.length));
  return message.split('; ').some((part) => {
    const afterLabel = part.indexOf(': ') >= 0 ? part.slice(part.indexOf(': ') + 2) : '';
    return startsWithQuantity(part) || startsWithQuantity(afterLabel);
  });
}

function judgeCatch(c: Catch, results: readonly CheckResult[]): NamedCatch {
  const r = results.find((x) => x.id === c.check);
  if (!r) return { ...c, caught: false, detail: 'not run (unknown check id, or excluded by --only)' };
  const head = r.message.split('\n')[0]!.slice(0, 200);
  if (r.status !== 'fail') return { ...c, caught: false, detail: `${r.status}: ${head}` };
  if (c.quantity && !messageNames(r.message, c.quantity)) return { ...c, caught: false, detail: `failed, but not on ${c.quantity}: ${head}` };
  return { ...c, caught: true, detail: `fail: ${head}` };
}

export async function runGallery(o: GalleryOptions): Promise<GalleryReport> {
  const t0 = Date.now();
  const quick = o.quick ?? true;
  const base: RunOptions = { quick, seed: o.seed, ...(o.runs ? { runs: o.runs } : {}) };
  const mutants: MutantResult[] = [];
  for (const m of o.mutants ?? MUTANTS) {
    const only = o.namedChecksOnly ? m.caughtBy.map((c) => c.check).join(',') : o.only;
    const report = await runConformance([{ adapter: m.adapter(), spec: m.name }], { ...base, ...(only ? { only } : {}) });
    const checks = report.adapters[0]!.checks;
    const named = m.caughtBy.map((c) => judgeCatch(c, checks));
    const result: MutantResult = {
      name: m.name, bugClass: m.bugClass, seenIn: m.seenIn, named, killed: named.every((n) => n.caught),
      failing: checks.filter((c) => c.status === 'fail' || c.status === 'error')
        .map((c) => ({ id: c.id, status: c.status as 'fail' | 'error', message: c.message })),
    };
    mutants.push(result);
    o.onAdapterDone?.('mutant', m.name, result.killed);
  }
  const variants: VariantResult[] = [];
  for (const v of o.variants ?? CORRECT_VARIANTS) {
    const report = await runConformance([{ adapter: v.adapter(), spec: v.name }], { ...base, ...(o.only ? { only: o.only } : {}) });
    const checks = report.adapters[0]!.checks;
    const result: VariantResult = {
      name: v.name, description: v.description,
      falseAlarms: checks.filter((c) => c.status === 'fail' || c.status === 'error')
        .map((c) => ({ id: c.id, status: c.status, message: c.message, replay: c.replay })),
      passed: checks.filter((c) => (c.status === 'pass' || c.status === 'robust')).length,
      worstRatio: Math.max(0, ...checks.filter((c) => (c.status === 'pass' || c.status === 'robust')).map((c) => c.worst?.ratio ?? 0)),
    };
    variants.push(result);
    o.onAdapterDone?.('variant', v.name, result.falseAlarms.length === 0);
  }
  const killed = mutants.filter((m) => m.killed).length;
  return {
    seed: o.seed, quick, runs: o.runs ?? (quick ? 5 : 50), only: o.only ?? null, mutants, variants,
    score: { killed, total: mutants.length, fraction: mutants.length ? killed / mutants.length : 1 },
    durationMs: Date.now() - t0,
  };
}
