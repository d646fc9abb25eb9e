/**
 * Sharding a run across machines (a CI matrix), the way vitest's and Playwright's `--shard i/n` do it.
 *
 * The units are the run's (adapter, check) pairs, numbered adapter-major in the order the run lists them:
 * unit u = a·K + k for adapter a and selected check k (K checks). Shard i of n runs the units with
 * u mod n = i - 1: round-robin, so each shard gets every n-th check of every adapter, and the cheap and
 * expensive checks (a gradcheck costs a hundred differential checks) spread evenly. Every check runs with
 * the run's one seed, so a unit's result does not depend on which shard runs it, and the union of the n
 * shards' reports is the unsharded report, check by check (normcheck merge, merge.ts).
 */

export interface Shard {
  /** 1-based */
  index: number;
  count: number;
}

export class ShardError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShardError';
  }
}

/** `i/n` with 1 ≤ i ≤ n, both integers; anything else is an error saying what was expected (the caller names the option). */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) throw new ShardError('expected i/n: two integers with 1 ≤ i ≤ n, e.g. 2/4');
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) throw new ShardError('the shard count n of i/n must be at least 1');
  if (index < 1 || index > count) throw new ShardError(`the shard index i of i/n must be between 1 and ${count}`);
  return { index, count };
}

/** Whether unit `unit` (adapter-major numbering, see above) belongs to `shard`; every unit does without one. */
export function inShard(unit: number, shard: Shard | undefined): boolean {
  return shard === undefined || unit % shard.count === shard.index - 1;
}

export function formatShard(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}
