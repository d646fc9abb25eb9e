/**
 * The experiment's seeded random streams: one for the initialisation and one for the shuffles of each run,
 * both derived from the run's seed so a run is reproducible from (configuration, seed) alone.
 *
 * Generator: mulberry32 (32-bit state, period 2³²), plenty for shuffling 7,996 indices 5 times and drawing
 * 235,000 initial weights. The streams are not torch.manual_seed's: normcheck and PyTorch draw different
 * weights and orders from the same distributions, so the comparison between them is statistical.
 */

/** mulberry32, the project's one seeded uniform generator (reference/random.ts). */
export { mulberry32 } from '../../reference/random.js';

/**
 * A 32-bit seed for stream `stream` of run seed `seed`: the murmur3 finaliser of a combination, so seeds 0, 1, 2
 * give unrelated streams (mulberry32 seeded with consecutive integers starts with correlated first outputs).
 */
export function deriveSeed(seed: number, stream: number): number {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`seed: expected an integer in [0, 2³²), got ${seed}`);
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca77)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export const INIT_STREAM = 0;
export const SHUFFLE_STREAM = 1;

/** Fisher–Yates: a uniformly random permutation of `order`, in place. */
export function shuffleInPlace(order: Uint32Array, next: () => number): void {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
}
