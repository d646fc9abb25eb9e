/**
 * Mutants of LayerNorm: which axes form a row, which variance, and how parameter gradients are summed over rows.
 */
import { type Groups } from './base.js';
import { mutant, type Mutant } from './mutant.js';

/** Rows over the LAST dimension only, whatever normalizedShape says; weight indexed over the whole normalizedShape. */
function lastAxisRows(shape: readonly number[], normalizedShape: readonly number[]): Groups {
  const total = shape.reduce((a, b) => a * b, 1);
  const D = normalizedShape.reduce((a, b) => a * b, 1);
  const L = shape[shape.length - 1]!;
  const groups: Int32Array[] = [];
  const param = new Int32Array(total);
  for (let r = 0; r < total / L; r++) groups.push(Int32Array.from({ length: L }, (_, j) => r * L + j));
  for (let i = 0; i < total; i++) param[i] = i % D;
  return { groups, param };
}

export const LN_MUTANTS: readonly Mutant[] = [
  // Normalising over the last axis only (x.mean(-1)) when normalized_shape has two or more dimensions.
  mutant({
    name: 'ln-last-axis-only', bugClass: 'LayerNorm normalises over the last axis instead of all of normalizedShape',
    seenIn: 'a classic mistake (mean(-1) hard-coded in a hand-written LayerNorm)',
    caughtBy: [{ check: 'ln.forward.multi_axis', quantity: 'y' }],
    parts: { lnGroups: lastAxisRows },
  }),
  // LayerNorm with the unbiased variance var·D/(D-1) (torch.var's default) instead of the biased one.
  mutant({
    name: 'ln-unbiased-var', bugClass: 'LayerNorm normalises with the unbiased variance var·D/(D-1)',
    seenIn: 'a classic mistake (torch.var / x.var() default unbiased=True in hand-written LayerNorms)',
    caughtBy: [{ check: 'ln.forward', quantity: 'y' }],
    parts: { lnVariance: (v, D, R) => R(R(v * D) / (D - 1)) },
  }),
  // Parameter gradients assigned instead of accumulated (`dbias[j] = …` for `+=`): only the last row counts.
  mutant({
    name: 'param-grads-overwritten', bugClass: 'dweight/dbias assigned per row instead of summed over rows',
    seenIn: 'a classic mistake (= for += in the row loop)',
    caughtBy: ['ln.backward.dbias_sum_dy'],
    parts: { accumulate: (_sum, term) => term },
  }),
];
