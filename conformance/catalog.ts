/**
 * Every conformance check, built from the norm specs (norms/index.ts) by the check families (checks/*.ts), in
 * the order reports show them: by category, and within a category norm by norm.
 * Ids name a bug class: a mutant with a missing Bessel correction must fail `bn.train.running_var`, a one-pass
 * variance `bn.train.offset_1e4`, a backward without the mean terms `bn.backward.sum_dx_zero`.
 */
import type { Check } from './check.js';
import { differentialChecks } from './checks/differential.js';
import { edgeChecks } from './checks/edge_cases.js';
import { fixtureChecks } from './checks/fixtures.js';
import { gradcheckChecks } from './checks/gradcheck.js';
import { hygieneChecks } from './checks/hygiene.js';
import { metamorphicChecks } from './checks/metamorphic.js';
import { NORMS } from './norms/index.js';
import type { NormSpec } from './norms/spec.js';

/** A check family for every norm, each norm's own checks of the family's category after it. */
const perNorm = (family: (spec: NormSpec) => Check[], category: Check['category']): Check[] =>
  NORMS.flatMap((n) => [...family(n), ...(n.extra ?? []).filter((c) => c.category === category)]);

export const CHECKS: readonly Check[] = [
  ...perNorm(differentialChecks, 'differential'),
  ...perNorm(fixtureChecks, 'fixtures'),
  ...perNorm(metamorphicChecks, 'metamorphic'),
  ...perNorm(edgeChecks, 'edge'),
  ...hygieneChecks,
  ...perNorm(gradcheckChecks, 'gradcheck'),
];

/**
 * `--only` patterns, comma-separated: a pattern matches an id exactly, as a dotted prefix
 * (`bn.backward` selects every `bn.backward.*`), or as a glob with `*` (`*.offset_*`).
 */
export function matchesPattern(id: string, patterns: string | undefined): boolean {
  if (!patterns) return true;
  return patterns.split(',').map((p) => p.trim()).filter(Boolean).some((p) => {
    if (p.includes('*')) {
      const re = new RegExp(`^${p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
      return re.test(id);
    }
    return id === p || id.startsWith(`${p}.`);
  });
}

/**
 * The checks `--only`, `--norm` and `--skip` select. `norms`: ids of NORMS; a check of another norm is left
 * out, and the checks that span norms (hygiene, norm null) stay, judging only the selected norms'
 * capabilities. `skip`: patterns as `--only`'s (id, dotted prefix, glob); a check matching one is left out.
 */
export function selectChecks(patterns?: string, norms?: readonly string[] | null, skip?: string): Check[] {
  return CHECKS.filter((c) => matchesPattern(c.id, patterns) && (!norms || c.norm === null || norms.includes(c.norm)) && !(skip && matchesPattern(c.id, skip)));
}
