/**
 * Parsing and checking the command line's values: every bad value is a usage error (exit 2) that names the
 * option and what it expected. The limits, and why, are in conformance/run_limits.ts.
 */
import { InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import { parseFeatureList, type Feature } from '../conformance/features.js';
import { MAX_RUNS, MAX_TIMEOUT_MS, REPLAY_PATH, SEED_MAX, SEED_MIN } from '../conformance/run_limits.js';

/** A mistake in how normcheck was called (the CLI prints its message and exits 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const got = (v: string) => (v === '' ? 'an empty string' : `"${v}"`);

/**
 * --seed: a decimal integer (surrounding blanks allowed). An empty value is an error, not seed 0: it is what
 * `--seed "$SEED"` passes when SEED is unset, and that run would never be random.
 */
export function parseSeed(name = '--seed') {
  return (v: string) => {
    const t = v.trim();
    const n = Number(t);
    if (!/^[+-]?\d+$/.test(t) || n < SEED_MIN || n > SEED_MAX) {
      throw new InvalidArgumentError(`${name} needs an integer from ${SEED_MIN} to ${SEED_MAX}, got ${got(v)}` +
        (t === '' ? ' (an unset variable?); leave the option out to draw a seed from the clock' : ''));
    }
    return n;
  };
}

/** A decimal integer from min to max, else a usage error naming the option. */
function integerIn(name: string, min: number, max: number, what: string, why = '') {
  return (v: string) => {
    const t = v.trim();
    const n = Number(t);
    if (!/^\d+$/.test(t) || n < min || n > max) throw new InvalidArgumentError(`${name} must be ${what} from ${min} to ${max}${why}, got ${got(v)}`);
    return n;
  };
}

/** --runs: runs per property, at most MAX_RUNS. */
export const parseRuns = (name = '--runs') => integerIn(name, 1, MAX_RUNS, 'an integer');

/** --timeout, --check-timeout: milliseconds within setTimeout's range. */
export const parseMilliseconds = (name: string) => integerIn(name, 1, MAX_TIMEOUT_MS, 'an integer number of milliseconds', ' (Node\'s timers go no further)');

/** --memory-limit: megabytes of a worker's heap (up to 1 TiB: a larger number is a typo, not a machine). */
export const parseMegabytes = (name: string) => integerIn(name, 1, 1_048_576, 'an integer number of megabytes');

/** --path: fast-check's replay path. */
export function parseReplayPath(v: string): string {
  if (!REPLAY_PATH.test(v)) throw new InvalidArgumentError(`--path must be a fast-check replay path: numbers separated by colons (like "3:1:0"), got ${got(v)}`);
  return v;
}

/**
 * The comma-separated patterns of --only or --skip; none is a usage error (an empty --only would otherwise
 * select everything, an empty --skip skip nothing while the user meant something).
 */
export function onlyPatterns(only: string, name = '--only'): string[] {
  const patterns = only.split(',').map((p) => p.trim()).filter(Boolean);
  if (patterns.length === 0) throw new UsageError(`${name} needs at least one check id or pattern, got "${only}"`);
  return patterns;
}

/** --without: comma-separated feature names (conformance/features.ts), each known; else a usage error naming the option. */
export function parseWithout(v: string): Feature[] {
  try {
    return parseFeatureList(v);
  } catch (e) {
    throw new InvalidArgumentError(`--without: ${(e as Error).message}`);
  }
}

/** Adapter arguments named twice (a path counts once however it is written): a usage error. */
export function checkDistinctSpecs(specs: readonly string[], isFile: (spec: string) => boolean): void {
  const seen = new Set<string>();
  for (const spec of specs) {
    const key = isFile(spec) ? resolve(spec) : spec;
    if (seen.has(key)) throw new UsageError(`adapter ${spec} is named twice; each adapter runs once (reports, expectations and baselines key it by name)`);
    seen.add(key);
  }
}
