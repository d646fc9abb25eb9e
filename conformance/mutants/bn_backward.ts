/**
 * Mutants of the BatchNorm backward. Exact training-mode dx = rstd·(g - mean(g) - x̂·mean(g·x̂)), g = dy·w;
 * the two mean terms are what the batch statistics' dependence on x contributes, and each has a metamorphic
 * signature: Σdx = 0 (from the mean) and Σdx·x̂ = rstd·eps/(var+eps)·Σg·x̂ (from the variance).
 */
import { mutant, type Mutant } from './mutant.js';

export const BN_BACKWARD_MUTANTS: readonly Mutant[] = [
  // dx without -mean(g): the gradient through the batch mean is lost, so Σdx ≠ 0.
  mutant({
    name: 'backward-no-mean-dy', bugClass: 'backward drops the -mean(dy·w) term',
    seenIn: 'a classic mistake in hand-derived BatchNorm backward passes',
    caughtBy: ['bn.backward.sum_dx_zero'],
    parts: { dx: ({ g, xhat, meanGXhat, rstd }, R) => R(rstd * R(g - R(xhat * meanGXhat))) },
  }),
  // dx without -x̂·mean(g·x̂): the gradient through the batch variance is lost, so Σdx·x̂ keeps Σg·x̂.
  mutant({
    name: 'backward-no-xhat-term', bugClass: 'backward drops the -x̂·mean(dy·w·x̂) term',
    seenIn: 'a classic mistake in hand-derived BatchNorm backward passes',
    caughtBy: ['bn.backward.sum_dx_xhat'],
    parts: { dx: ({ g, meanG, rstd }, R) => R(rstd * R(g - meanG)) },
  }),
  // dweight = Σ dy·x instead of Σ dy·x̂: the weight multiplies x̂, not x.
  mutant({
    name: 'dweight-from-x', bugClass: 'dweight accumulated from x instead of x̂',
    seenIn: 'a classic mistake',
    caughtBy: [{ check: 'bn.backward.train', quantity: 'dweight' }],
    parts: { dweightTerm: (dy, _xhat, x, R) => R(dy * x) },
  }),
  // dbias = Σ dy·w: the bias is added after the weight multiply, so its gradient is Σ dy, without w.
  mutant({
    name: 'dbias-times-weight', bugClass: 'dbias accumulated from dy·weight instead of dy',
    seenIn: 'a classic mistake (reusing g = dy·w for the bias)',
    caughtBy: ['bn.backward.dbias_sum_dy'],
    parts: { dbiasTerm: (dy, w, R) => R(dy * w) },
  }),
  // Eval-mode backward differentiated through batch statistics (the training formula), although in eval the
  // running statistics are constants and dx = dy·w·rstd.
  mutant({
    name: 'eval-backward-through-batch-stats', bugClass: 'eval-mode backward uses the training-mode formula and batch statistics',
    seenIn: 'a classic mistake (one backward for both modes)',
    caughtBy: ['bn.backward.eval'],
    parts: { evalBackward: 'batch' },
  }),
];
