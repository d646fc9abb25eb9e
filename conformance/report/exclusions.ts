/**
 * How every report says what a verdict leaves out: the features excluded from a check's cases (the adapter's
 * `unsupported`, `--without`, an expectation's features) in one sentence — "excluding rank-5 and non-affine
 * cases" — and an adapter's declaration in one line. The table, the JSON-reading tools and JUnit all use these.
 */
import type { Exclusion } from '../check.js';
import type { UnsupportedFeatures } from '../domain.js';
import { featureSentence } from '../features.js';

const BY: Record<Exclusion['source'], string> = { adapter: 'declared unsupported', without: '--without', expectation: 'expected to fail there' };

/** "excluding rank-5 and non-affine cases (declared unsupported)"; '' when nothing was excluded. */
export function excludingPhrase(excluded: readonly Exclusion[] | undefined): string {
  if (!excluded?.length) return '';
  const sources = [...new Set(excluded.map((e) => e.source))];
  const parts = sources.map((s) => {
    const fs = excluded.filter((e) => e.source === s).map((e) => e.feature);
    return `${featureSentence(fs)}${sources.length > 1 ? ` (${BY[s]})` : ''}`;
  });
  return `excluding ${parts.join(' and ')} cases${sources.length === 1 ? ` (${BY[sources[0]!]})` : ''}`;
}

/** "rank5, no_affine (3 of 5 cases moved), …": every exclusion with its source and count, for JUnit properties and details. */
export function exclusionList(excluded: readonly Exclusion[]): string {
  return excluded.map((e) => `${e.feature} (${BY[e.source]}${e.cases ? `, ${e.cases} case${e.cases === 1 ? '' : 's'}` : ''})`).join(', ');
}

/** "rank5 for every capability; bnBackward: no_affine"; '' when the adapter declares nothing. */
export function unsupportedLine(u: UnsupportedFeatures): string {
  const parts: string[] = [];
  if (u.all.length) parts.push(`${u.all.join(', ')} for every capability`);
  for (const [cap, fs] of Object.entries(u.byCapability)) if (fs?.length) parts.push(`${cap}: ${fs.join(', ')}`);
  return parts.join('; ');
}
