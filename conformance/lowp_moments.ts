/**
 * Emulated low-precision statistics shared by the suite's second reference (reference_lowp.ts) and the mutant
 * gallery's correct implementation (mutants/base.ts): one definition of "an honest two-pass in precision u",
 * below both, so the judging code does not import the bug gallery.
 *
 * `R` rounds one arithmetic result to the emulated precision (Math.fround for float32), the way stdlib-js's
 * float32 functions emulate single precision: an algorithm written with it loses exactly the digits it would
 * lose in plain code of that precision.
 */

/** Rounds one arithmetic result to the emulated precision. */
export type Round = (v: number) => number;

export interface Moments {
  mean: number;
  /** biased (population) variance */
  var: number;
}

/** Two passes over the group's flat indices: mean = Σx/M, then var = Σ(x - mean)²/M. Error ∝ u·(1 + κ), κ = offset/spread. */
export function twoPassMoments(x: ArrayLike<number>, idx: Int32Array, R: Round): Moments {
  const M = idx.length;
  let sum = 0;
  for (const i of idx) sum = R(sum + x[i]!);
  const mean = R(sum / M);
  let sq = 0;
  for (const i of idx) {
    const d = R(x[i]! - mean);
    sq = R(sq + R(d * d));
  }
  return { mean, var: R(sq / M) };
}
