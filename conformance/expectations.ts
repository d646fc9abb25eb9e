/**
 * Known failures ("expectations", like xfail): per adapter and check, with a reason. A check that fails or
 * errors as expected is reported as "expected failure" and does not fail the run; one that passes although a
 * failure is expected is reported as "unexpected pass" (the expectation can be removed).
 *
 * Two file formats, chosen by the first non-blank character:
 *
 * JSON ('{' or '['):
 *   { "expectations": [ { "adapter": "tfjs", "check": "bn.train.offset_1e6", "reason": "one-pass variance" } ] }
 *   (or the array alone)
 *
 * Lines (anything else): one expectation per line, `ADAPTER CHECK REASON…`, separated by whitespace; '#' starts
 * a comment; blank lines are ignored:
 *   # adapter   check                  reason
 *   tfjs        bn.train.offset_1e6    tf.moments is one-pass in float32
 *   *           fixtures.*             no fixtures in this checkout
 *
 * A defect confined to some features (features.ts) names them: `"features": ["rank5"]` in JSON, a token
 * `features=rank5,no_affine` after CHECK in lines. The check is then graded on its cases WITHOUT those
 * features (drawn as for an adapter that declares them unsupported: domain.ts), with a normal verdict, and
 * every report says it leaves them out ("passes, excluding rank-5 cases (expected to fail there)"); the
 * cases with them are not run. A check whose every case has one of the features (`rms.forward.huge_values`
 * for huge_values) has nothing left to grade: there the expectation covers the whole check, as one without
 * features. The reason is mandatory either way.
 *
 * ADAPTER is a name or '*'. CHECK is an exact check id, or a pattern with '*' for a family: an id matches
 * `ln.backward` only when it IS `ln.backward` (not `ln.backward.dbias_sum_dy`, which a prefix rule would
 * swallow, turning its pass into a spurious "unexpected pass"); `ln.backward.*` matches every id under
 * `ln.backward.` and `*.offset_*` every offset check. Unlike `--only`, there is no dotted-prefix rule: an
 * expectation claims a failure, so it names what it claims. A CHECK that matches no check of the catalog is
 * an error (`unmatchedExpectations`), so a misspelt or stale line cannot sit there unnoticed.
 */
import { isFeature, unknownFeatureMessage, type Feature } from './features.js';
import { readOptionFile } from './option_file.js';

export interface Expectation {
  adapter: string;
  check: string;
  reason: string;
  /** the features the failure is confined to; absent: the whole check */
  features?: Feature[];
}

export class ExpectationsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExpectationsError';
  }
}

export function parseExpectations(text: string, file = 'expectations'): Expectation[] {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new ExpectationsError(`${file}: invalid JSON: ${(e as Error).message}`);
    }
    const list = Array.isArray(raw) ? raw : (raw as { expectations?: unknown }).expectations;
    if (!Array.isArray(list)) throw new ExpectationsError(`${file}: expected {"expectations": [...]} or an array`);
    return list.map((e, i) => {
      const { adapter, check, reason, features } = (e ?? {}) as Record<string, unknown>;
      if (typeof adapter !== 'string' || typeof check !== 'string' || typeof reason !== 'string' || !reason.trim()) {
        throw new ExpectationsError(`${file}: expectation ${i}: needs string fields adapter, check and a non-empty reason`);
      }
      if (features === undefined) return { adapter, check, reason };
      return { adapter, check, reason, features: featureList(features, `${file}: expectation ${i} (${adapter} ${check}): features`) };
    });
  }
  const out: Expectation[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const content = line.replace(/#.*/, '').trim();
    if (!content) return;
    const m = /^(\S+)\s+(\S+)\s+(?:features=(\S*)\s+)?(.+)$/.exec(content);
    if (!m) throw new ExpectationsError(`${file}:${i + 1}: expected "ADAPTER CHECK [features=F1,F2] REASON…", got "${content}"`);
    const e: Expectation = { adapter: m[1]!, check: m[2]!, reason: m[4]!.trim() };
    if (m[3] !== undefined) e.features = featureList(m[3].split(',').filter(Boolean), `${file}:${i + 1}: features=`);
    out.push(e);
  });
  return out;
}

/** A non-empty list of known feature names, each checked (the closest names for a misspelt one). */
function featureList(v: unknown, where: string): Feature[] {
  if (!Array.isArray(v) || v.length === 0) throw new ExpectationsError(`${where}: expected a non-empty array of feature names, got ${JSON.stringify(v)}`);
  for (const f of v) {
    if (!isFeature(f)) throw new ExpectationsError(`${where}: ${typeof f === 'string' ? unknownFeatureMessage(f) : `expected a feature name, got ${JSON.stringify(f)}`}`);
  }
  return [...new Set(v as Feature[])];
}

export function loadExpectations(file: string): Expectation[] {
  return parseExpectations(readOptionFile('--expect', file, ExpectationsError), file);
}

/** Whether check `id` is covered by an expectation's CHECK: exact, or a glob where `*` stands for any run of characters. */
export function expectationMatches(id: string, pattern: string): boolean {
  if (!pattern.includes('*')) return id === pattern;
  const re = new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(id);
}

export function findExpectation(list: readonly Expectation[], adapter: string, checkId: string): Expectation | null {
  return list.find((e) => (e.adapter === '*' || e.adapter === adapter) && expectationMatches(checkId, e.check)) ?? null;
}

/**
 * How an expectation applies to one check: `whole` (the check is expected to fail: no features, or the
 * check's every case has one of them) or `confined` to features the check's cases can do without, which
 * the run then leaves out and grades the rest.
 */
export function expectationScope(e: Expectation | null, checkFeatures: readonly Feature[] = []): { whole: Expectation | null; confined: Feature[] } {
  if (!e) return { whole: null, confined: [] };
  if (!e.features?.length || e.features.some((f) => checkFeatures.includes(f))) return { whole: e, confined: [] };
  return { whole: null, confined: e.features };
}

/** The expectations whose CHECK matches none of `ids` (the catalog's): misspelt, stale, or an old-style prefix. */
export function unmatchedExpectations(list: readonly Expectation[], ids: readonly string[]): Expectation[] {
  return list.filter((e) => !ids.some((id) => expectationMatches(id, e.check)));
}
