/**
 * The tests' own statistics, written here so no test leans on the reference's: two-pass mean and biased
 * variance, plain recursive sums. A recursive sum of n terms is off by at most (n-1)·u·Σ|terms| (Higham,
 * Accuracy and Stability, §4.2), which is what the bounds in the tests that use these count.
 */

/** Two-pass mean and biased variance, and the mean absolute value, of v. */
export function moments(v: ArrayLike<number>): { mean: number; var: number; meanAbs: number } {
  let sum = 0;
  let sumAbs = 0;
  for (let i = 0; i < v.length; i++) {
    sum += v[i]!;
    sumAbs += Math.abs(v[i]!);
  }
  const mean = sum / v.length;
  let sq = 0;
  for (let i = 0; i < v.length; i++) sq += (v[i]! - mean) ** 2;
  return { mean, var: sq / v.length, meanAbs: sumAbs / v.length };
}

/** Σ v, left to right. */
export function sumOf(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]!;
  return s;
}

/** Σ |v|, left to right. */
export function sumAbsOf(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += Math.abs(v[i]!);
  return s;
}
