/**
 * The cancellation test of the one-pass shifted variance, shared by every normalisation family.
 *
 * With a shift K (one of the group's values) the one-pass variance var = Σ(x - K)²/M - (Σ(x - K)/M)² of M values,
 * summed recursively in float64, errs by at most 3·γ_M·E[(x - K)²], γ_M = M·u64/(1 - M·u64), u64 = 2⁻⁵³
 * (the derivation is in batchnorm/forward_impl.ts). Below 2⁻³⁰·var that error leaves y within a small fraction
 * of its float32 ulp; above it the caller recomputes the group with the exact second pass Σ(x - mean)².
 */

const U64 = 2 ** -53;

/** True when the one-pass variance `v` of M values with mean square `meanSq` about K is accurate to 2⁻³⁰. */
export function onePassVarianceIsAccurate(v: number, meanSq: number, M: number): boolean {
  const gammaM = (M * U64) / (1 - M * U64);
  return v >= 0 && 3 * gammaM * meanSq <= 2 ** -30 * v;
}
