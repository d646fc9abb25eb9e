/**
 * Every conformance check, listed explicitly, in the order reports show them.
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

export const CHECKS: readonly Check[] = [
  ...differentialChecks,
  ...fixtureChecks,
  ...metamorphicChecks,
  ...edgeChecks,
  ...hygieneChecks,
  ...gradcheckChecks,
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

export function selectChecks(patterns?: string): Check[] {
  return CHECKS.filter((c) => matchesPattern(c.id, patterns));
}
