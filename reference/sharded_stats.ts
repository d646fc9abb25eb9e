/**
 * Sharded batch statistics, float64: what SyncBatchNorm computes when a batch is split across devices.
 *
 * Each shard summarises its values as (count, mean, M2), M2 = Σ (x - mean)². Two summaries merge with
 * Chan, Golub and LeVeque's parallel formula (1979):
 *   n    = n_a + n_b
 *   δ    = mean_b - mean_a
 *   mean = mean_a + δ · n_b / n
 *   M2   = M2_a + M2_b + δ² · n_a · n_b / n
 * which is exact algebra, not an approximation: the merged (mean, M2/n) equal the whole batch's mean and
 * biased variance. It never forms Σx² - n·mean², so it keeps the two-pass accuracy at large offsets.
 */
import { checkArgs, checkArray, checkCount, checkNumber, ShapeError, ValueError } from './args.js';

export interface Moments {
  count: number;
  mean: number;
  m2: number;
}

/** The summary of one shard, computed in two passes. */
export function shardMoments(values: ArrayLike<number>): Moments {
  checkArray('values', values, null, "an array of one shard's values");
  const count = values.length;
  if (count === 0) return { count: 0, mean: 0, m2: 0 };
  let sum = 0;
  for (let i = 0; i < count; i++) sum += values[i]!;
  const mean = sum / count;
  let m2 = 0;
  for (let i = 0; i < count; i++) m2 += (values[i]! - mean) ** 2;
  return { count, mean, m2 };
}

function checkMoments(name: string, m: Moments): void {
  checkArgs('mergeMoments', m, { required: ['count', 'mean', 'm2'], optional: {} }, `${name}.`);
  checkCount(`${name}.count`, m.count);
  checkNumber(`${name}.mean`, m.mean, () => true, 'a number');
  checkNumber(`${name}.m2`, m.m2, (v) => !(v < 0), 'a number >= 0 (a sum of squares)');
}

export function mergeMoments(a: Moments, b: Moments): Moments {
  checkMoments('a', a);
  checkMoments('b', b);
  if (a.count === 0) return b;
  if (b.count === 0) return a;
  const count = a.count + b.count;
  const delta = b.mean - a.mean;
  return {
    count,
    mean: a.mean + (delta * b.count) / count,
    m2: a.m2 + b.m2 + (delta * delta * a.count * b.count) / count,
  };
}

/** Mean and biased variance of the union of the shards. */
export function mergeAll(shards: readonly Moments[]): { count: number; mean: number; var: number } {
  if (!Array.isArray(shards)) throw new ValueError(`shards: expected an array of shard summaries { count, mean, m2 }, got ${typeof shards}`);
  shards.forEach((m, i) => checkMoments(`shards[${i}]`, m));
  const total = shards.reduce((a, b) => mergeMoments(a, b), { count: 0, mean: 0, m2: 0 });
  if (total.count === 0) throw new ShapeError('shards: expected at least one value across the shards, got an empty batch');
  return { count: total.count, mean: total.mean, var: total.m2 / total.count };
}
