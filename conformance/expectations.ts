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
 * ADAPTER is a name or '*'. CHECK is an exact check id, or a pattern with '*' for a family: an id matches
 * `ln.backward` only when it IS `ln.backward` (not `ln.backward.dbias_sum_dy`, which a prefix rule would
 * swallow, turning its pass into a spurious "unexpected pass"); `ln.backward.*` matches every id under
 * `ln.backward.` and `*.offset_*` every offset check. Unlike `--only`, there is no dotted-prefix rule: an
 * expectation claims a failure, so it names what it claims. A CHECK that matches no check of the catalog is
 * an error (`unmatchedExpectations`), so a misspelt or stale line cannot sit there unnoticed.
 */
import { readOptionFile } from './option_file.js';

export interface Expectation {
  adapter: string;
  check: string;
  reason: string;
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
      const { adapter, check, reason } = (e ?? {}) as Record<string, unknown>;
      if (typeof adapter !== 'string' || typeof check !== 'string' || typeof reason !== 'string' || !reason.trim()) {
        throw new ExpectationsError(`${file}: expectation ${i}: needs string fields adapter, check and a non-empty reason`);
      }
      return { adapter, check, reason };
    });
  }
  const out: Expectation[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const content = line.replace(/#.*/, '').trim();
    if (!content) return;
    const m = /^(\S+)\s+(\S+)\s+(.+)$/.exec(content);
    if (!m) throw new ExpectationsError(`${file}:${i + 1}: expected "ADAPTER CHECK REASON…", got "${content}"`);
    out.push({ adapter: m[1]!, check: m[2]!, reason: m[3]!.trim() });
  });
  return out;
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

/** The expectations whose CHECK matches none of `ids` (the catalog's): misspelt, stale, or an old-style prefix. */
export function unmatchedExpectations(list: readonly Expectation[], ids: readonly string[]): Expectation[] {
  return list.filter((e) => !ids.some((id) => expectationMatches(id, e.check)));
}
