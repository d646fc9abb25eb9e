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
 * ADAPTER is a name or '*'; CHECK is an id, a dotted prefix or a glob with '*' (as `--only`).
 */
import { readFileSync } from 'node:fs';
import { matchesPattern } from './catalog.js';

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
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ExpectationsError(`--expect ${file}: cannot read: ${(e as Error).message}`);
  }
  return parseExpectations(text, file);
}

export function findExpectation(list: readonly Expectation[], adapter: string, checkId: string): Expectation | null {
  return list.find((e) => (e.adapter === '*' || e.adapter === adapter) && matchesPattern(checkId, e.check)) ?? null;
}
