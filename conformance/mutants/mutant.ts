/**
 * What a mutant is: base.ts with one part replaced, the bug class it stands for, where that mistake has been
 * made, and the check(s) that must catch it — the check whose id names the bug, and optionally the quantity
 * whose comparison must be the one out of bound (so "bn.backward.train failed" is not enough for a dweight
 * bug: it must fail on dweight).
 */
import type { Adapter } from '../adapter.js';
import { buildAdapter, type Build, type Parts } from './base.js';

export interface Catch {
  /** a check id of the catalog */
  check: string;
  /** the compared quantity the failure message must name first ('dweight', 'runningVar after step', …) */
  quantity?: string;
}

export interface Mutant {
  /** short kebab-case name, shown in the `normcheck mutants` table */
  name: string;
  /** the mistake, in one line */
  bugClass: string;
  /** where this mistake has been made, or 'a classic mistake' */
  seenIn: string;
  /** every one of these checks must fail */
  caughtBy: readonly Catch[];
  /** a fresh adapter (mutants may keep state, e.g. a call counter) */
  adapter(): Adapter;
}

export interface MutantSpec extends Omit<Mutant, 'adapter' | 'caughtBy'> {
  caughtBy: readonly (string | Catch)[];
  /** the replaced part(s); a function when the part keeps state per adapter */
  parts: Partial<Parts> | (() => Partial<Parts>);
  build?: Omit<Build, 'name' | 'description' | 'parts'>;
}

export function mutant(spec: MutantSpec): Mutant {
  const { parts, build, ...rest } = spec;
  return {
    ...rest,
    caughtBy: spec.caughtBy.map((c) => (typeof c === 'string' ? { check: c } : c)),
    adapter: () => buildAdapter({
      name: `mutant:${spec.name}`, description: spec.bugClass, ...build, parts: typeof parts === 'function' ? parts() : parts,
    }),
  };
}
