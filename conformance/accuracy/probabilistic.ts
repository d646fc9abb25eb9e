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
 * The model needs each addition's rounding error to look random: the terms must vary over many ulps of the
 * partial sum they are added to. Once the partial sum S is so large that ulp(S) is comparable to the terms'
 * spread, every addition rounds the same low bits the same way and the errors add up linearly, like n·u:
 * - Stagnation: terms of one sign and comparable size make partial sums up to n·max|t|, whose ulp is
 *   u·n·max|t|. With κ = max|t| / std(t) (error_model.ts `termsKappa`), the terms' spread covers at least
 *   1/(n·u·κ) ulps of any partial sum; γ̃ is used only while n·u·κ ≤ 1/32 (at least 32 ulps), the worst case
 *   beyond (conformance/README.md, "The strict tier", has the measurements behind the margin). For the mean's terms κ = max|x| / std(x) — data offset far from zero relative to its spread (offset 1e2:
 *   n ≤ 5 000; 1e4: n ≤ 50) keeps the worst case; for the variance's terms (x - mean)², for the gradients' g,
 *   g·x̂, dy·x̂ and dy likewise their own κ.
 * - Repeated identical terms (κ = ∞: a constant group, two-valued data whose squared deviations are all
 *   equal, a constant dy): every addition within a binade of the partial sum rounds by the same amount, and
 *   the error grows like n·u. The guard above gives the worst case for them.
 * - Plain stagnation at κ ≈ 1: n·u ≤ 1/32 (float32: n ≤ 524 288, beyond the realistic sizes; float16,
 *   judged at u = 2^-11: n ≤ 64).
 * Welford's running mean update, m += (x - m)/k, stagnates once |x - m|/k < ulp(m)/2, i.e. k > 1/(u·κ): beyond
 * n·u·κ ≤ 1/32 too.
 * The worst-case tier remains the default: it holds for any data and any summation order, without a model.
 */
import { gamma, type SumConstant } from '../error_model.js';

/** λ of the strict tier (see the header). */
export const LAMBDA = 10;

/** Beyond n·u·κ = 1/32 the probabilistic model is not credible (stagnation); the worst case applies. */
export const MAX_NU = 1 / 32;

/** Higham & Mary's γ̃_n(λ) = exp(λ·√n·u + n·u²/(1 - u)) - 1. */
export function gammaTilde(n: number, u: number, lambda = LAMBDA): number {
  return Math.expm1(lambda * Math.sqrt(n) * u + (n * u * u) / (1 - u));
}

/** The probability, under the model, that one sum of n terms exceeds γ̃_n(λ)·Σ|t|: 2n·exp(-λ²(1 - u)²/2). */
export function failureProbability(n: number, u: number, lambda = LAMBDA): number {
  return Math.min(1, 2 * n * Math.exp(-(lambda ** 2) * (1 - u) ** 2 / 2));
}

/**
 * The strict tier's constant for a sum of n terms whose κ = max|t| / std(t) is `kappa` (≥ 1; ∞ for equal
 * terms): min(γ_n, γ̃_n(λ)) while n·u·κ ≤ 1/32, else γ_n (see the header).
 */
export function strictGamma(n: number, u: number, kappa = 1): number {
  const worst = gamma(n, u);
  return n * u * Math.max(1, kappa) <= MAX_NU ? Math.min(worst, gammaTilde(n, u)) : worst;
}

/** The two tiers: the worst case (default) and the strict, probabilistic one. */
export type Tier = 'worst-case' | 'strict';
export const TIERS: readonly Tier[] = ['worst-case', 'strict'];

/** The summation constant of a tier: γ_n or the strict one. */
export function tierGamma(tier: Tier): SumConstant {
  return tier === 'strict' ? strictGamma : gamma;
}
