/**
 * The limits of a run's numeric options, shared by the CLI's parsers and runConformance's own check.
 *
 * seed      -2^31 … 2^32-1: the runner draws unsigned 32-bit seeds, fast-check reports signed ones; both
 *           replay (fast-check folds any integer into 32 bits, so a larger one would be printed back as
 *           another number).
 * runs      1 … 10 000 per property: 200× the full default of 50. Every run calls the adapter several times,
 *           and each check stops only at its --check-timeout (5 min by default), so `--runs 1e9` would sit
 *           through ~50 check timeouts per adapter, hours, instead of failing at once.
 * timeouts  1 … 2^31-1 ms: Node's setTimeout turns any larger delay into 1 ms (a 3e9 ms timeout fires at
 *           once). A derived timeout (setup's 3× the call timeout) is clamped to the same maximum.
 * path      fast-check's replay path: run index, then shrink steps, separated by colons ("3:1:0").
 * tolerance one of the tiers of accuracy/probabilistic.ts.
 */
import { TIERS } from './accuracy/probabilistic.js';

export const SEED_MIN = -(2 ** 31);
export const SEED_MAX = 2 ** 32 - 1;
export const MAX_RUNS = 10_000;
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export const REPLAY_PATH = /^\d+(:\d+)*$/;

/** A timeout of `factor` × `ms`, within what setTimeout honours. */
export function scaledTimeout(ms: number, factor: number): number {
  return Math.min(ms * factor, MAX_TIMEOUT_MS);
}

export class RunOptionError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'RunOptionError';
  }
}

const inRange = (v: unknown, min: number, max: number) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

/** runConformance's options, as a library caller may pass anything: the same limits as the CLI's. */
export function validateRunOptions(o: { seed?: unknown; runs?: unknown; timeoutMs?: unknown; checkTimeoutMs?: unknown; path?: unknown; tolerance?: unknown }): void {
  const need = (name: string, v: unknown, what: string) => new RunOptionError(`runConformance: ${name} must be ${what}, got ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`);
  if (o.seed !== undefined && !inRange(o.seed, SEED_MIN, SEED_MAX)) throw need('seed', o.seed, `an integer from ${SEED_MIN} to ${SEED_MAX}`);
  if (o.runs !== undefined && !inRange(o.runs, 1, MAX_RUNS)) throw need('runs', o.runs, `an integer from 1 to ${MAX_RUNS}`);
  for (const k of ['timeoutMs', 'checkTimeoutMs'] as const) {
    if (o[k] !== undefined && !inRange(o[k], 1, MAX_TIMEOUT_MS)) throw need(k, o[k], `an integer from 1 to ${MAX_TIMEOUT_MS} (milliseconds; Node's setTimeout limit)`);
  }
  if (o.path !== undefined && (typeof o.path !== 'string' || !REPLAY_PATH.test(o.path))) {
    throw need('path', o.path, 'a fast-check replay path: numbers separated by colons (like "3:1:0")');
  }
  if (o.tolerance !== undefined && !TIERS.includes(o.tolerance as never)) throw need('tolerance', o.tolerance, `one of ${TIERS.map((t) => `'${t}'`).join(', ')}`);
}
