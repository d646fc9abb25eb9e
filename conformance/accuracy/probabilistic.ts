/**
 * The strict tier's constant: a probabilistic bound on the rounding error of a sum, after Higham & Mary,
 * "A new approach to probabilistic rounding error analysis", SIAM J. Sci. Comput. 41(5), 2019, A2815–A2835.
 *
 * ## The model and the theorem
 * Model: the rounding errors δ_k of the operations (fl(a ∘ b) = (a ∘ b)(1 + δ_k), |δ_k| ≤ u) are independent
 * random variables of mean zero. Then for any λ > 0 (their Theorem 2.4)
 *   |Π_{k=1..n} (1 + δ_k)^{±1} - 1| ≤ γ̃_n(λ) := exp(λ·√n·u + n·u²/(1 - u)) - 1 = λ·√n·u + O(u²)
 * with probability at least P(λ) = 1 - 2·exp(-λ²(1 - u)²/2). A sum (or inner product) of n terms carries such
 * a product on each term, so (their Theorem 3.1)
 *   |ŝ - s| ≤ γ̃_n(λ)·Σ|t_i|     with probability at least 1 - n·(1 - P(λ)) = 1 - 2n·exp(-λ²(1 - u)²/2).
 * The worst-case constant is γ_n = n·u/(1 - n·u) (Higham, Accuracy and Stability, §3.1): linear in n where γ̃
 * grows like √n. The strict tier (`--tolerance strict`) puts min(γ_n, γ̃_n(λ)) wherever the error model sums
 * n terms — the mean, the variance, mean(g), mean(g·x̂), dweight, dbias — and keeps every other term and the
 * SAFETY factor as they are; at n = 2e5 (a (32, ·, 56, 56) BatchNorm channel) that is 45 times tighter, at
 * n = 1000 three times, and below n ≈ λ² = 100 it is the worst case itself.
 *
 * ## λ and the failure probability
 * λ = 10: one sum of n terms exceeds its bound with probability ≤ 2n·e^{-λ²(1-u)²/2} = n·3.9e-22 under the
 * model. A full run sums fewer than 1e9 terms in all (50 runs per property, ~60 checks, groups of at most 2e5
 * values, several sums per group), so the probability that any bound of a run fails for an honest
 * implementation is below 4e-13 — if the model holds. `failureProbability` gives the number for one sum.
 *
 * ## Where the model does not hold
 * - Stagnation: once a partial sum is ~1/u times larger than the terms still to be added, each addition loses
 *   its low bits in the same direction, and the errors are neither independent nor of mean zero. With n terms
 *   of comparable size the partial sums stay below n·max|t|, so a term spans at least 1/(2nu) ulps of the sum:
 *   γ̃ is used only while n·u ≤ 1/32 (every term spans ≥ 16 ulps of the partial sum), the worst case beyond.
 *   In float32 that is n ≤ 524 288 (beyond the realistic sizes); in float16, judged at u = 2^-11, n ≤ 64.
 * - Repeated identical terms: summing one value c again and again rounds every addition within a binade of
 *   the partial sum by the same amount (c mod ulp), so the error grows like n·u, not √n·u. Constant groups are
 *   such data; their outputs are exact in any correct implementation (y = bias), and the checks that use them
 *   are robustness checks (inconclusive.ts). The no-false-alarm measurement runs the honest variants on them.
 * The worst-case tier remains the default: it holds for any data and any summation order, without a model.
 */
import { gamma } from '../error_model.js';

/** λ of the strict tier (see the header). */
export const LAMBDA = 10;

/** Beyond n·u = 1/32 the probabilistic model is not credible (stagnation); the worst case applies. */
export const MAX_NU = 1 / 32;

/** Higham & Mary's γ̃_n(λ) = exp(λ·√n·u + n·u²/(1 - u)) - 1. */
export function gammaTilde(n: number, u: number, lambda = LAMBDA): number {
  return Math.expm1(lambda * Math.sqrt(n) * u + (n * u * u) / (1 - u));
}

/** The probability, under the model, that one sum of n terms exceeds γ̃_n(λ)·Σ|t|: 2n·exp(-λ²(1 - u)²/2). */
export function failureProbability(n: number, u: number, lambda = LAMBDA): number {
  return Math.min(1, 2 * n * Math.exp(-(lambda ** 2) * (1 - u) ** 2 / 2));
}

/** The strict tier's constant for a sum of n terms: min(γ_n, γ̃_n(λ)) while n·u ≤ 1/32, else γ_n. */
export function strictGamma(n: number, u: number): number {
  const worst = gamma(n, u);
  return n * u <= MAX_NU ? Math.min(worst, gammaTilde(n, u)) : worst;
}

/** The two tiers: the worst case (default) and the strict, probabilistic one. */
export type Tier = 'worst-case' | 'strict';

/** The summation constant of a tier: γ_n or the strict one. */
export function tierGamma(tier: Tier): (n: number, u: number) => number {
  return tier === 'strict' ? strictGamma : gamma;
}
