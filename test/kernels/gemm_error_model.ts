/**
 * The error model of the float32 GEMM kernels against the float64 reference, shared by the GEMM and network tests.
 *
 * A kernel output is ŷ = fl32(s + e) where s = Σ_j a_j·b_j (+ bias) over k terms. The inputs are float32, so
 * every product is exact in float64 (24 + 24 significant bits ≤ 53) and only the k - 1 float64 additions round:
 *   |e| ≤ γ_k(u64)·S,         S = Σ|a_j||b_j| (+|bias|),  γ_k(u) = k·u / (1 - k·u),  u64 = 2⁻⁵³
 * The reference computes the same sum in float64 with the same model, ref = s + e', |e'| ≤ γ_k(u64)·S.
 * The one rounding to float32 adds at most u32·|s + e| with u32 = 2⁻²⁴ in the normal range, and at most
 * half the smallest subnormal, 2⁻¹⁵⁰, below it. So
 *   |ŷ - ref| ≤ u32·|ref| + (2 + u32)·γ_k(u64)·S + 2⁻¹⁵⁰   →   bound = u32·|ref| + 3·γ_k(u64)·S + 2⁻¹⁴⁹
 * A ReLU after the sum is 1-Lipschitz and |relu(ref)| ≤ |ref|, so the same bound holds with the pre-ReLU |ref|.
 * S itself is computed by the reference on |a|, |b|; its own relative error γ_k(u64) is a factor 1 + 1e-13 on a
 * term that is already a small fraction of the bound, absorbed by using 3 rather than 2 + u32.
 *
 * Float32 accumulation (the wasm-simd version): every product and every partial sum rounds to float32, the
 * classic dot-product bound |ŝ - s| ≤ γ_k(u32)·S (Higham, Accuracy and Stability, §3.1); the output is then
 * already float32. A bias added afterwards in float64 and rounded once is one more rounded term, inside γ_{k+1}.
 * Products that underflow lose at most 2⁻¹⁵⁰ each (half the subnormal spacing), k of them at most. So
 *   bound = γ_{k+1}(u32)·S + 2·γ_k(u64)·S + k·2⁻¹⁴⁹      (the γ(u64) term is the reference's own error)
 * with k counting the bias when there is one (hence k + 1 covers the final rounding of the bias add).
 */

export const U32 = 2 ** -24;
export const U64 = 2 ** -53;

export function gamma(k: number, u: number): number {
  return (k * u) / (1 - k * u);
}

/**
 * The bound on |kernel - reference| for one output: k terms, reference value `ref`, Σ|a||b| = `absSum`,
 * for a kernel that accumulates in `accumulation`.
 */
export function gemmBound(k: number, ref: number, absSum: number, accumulation: 'float64' | 'float32' = 'float64'): number {
  if (accumulation === 'float32') return gamma(k + 1, U32) * absSum + 2 * gamma(k, U64) * absSum + k * 2 ** -149;
  return U32 * Math.abs(ref) + 3 * gamma(k, U64) * absSum + 2 ** -149;
}

export interface Mismatch {
  index: number;
  got: number;
  want: number;
  bound: number;
}

/**
 * Every element of `got` against `want` within `bound(i)`; NaN matches only NaN and an infinity only the same
 * infinity (never "both non-finite"). Returns the worst mismatches (error/bound largest) or [] when all pass.
 */
export function compareWithBound(got: ArrayLike<number>, want: ArrayLike<number>, bound: (i: number) => number): Mismatch[] {
  if (got.length !== want.length) throw new Error(`length mismatch: got ${got.length}, want ${want.length}`);
  const bad: (Mismatch & { ratio: number })[] = [];
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Number.isNaN(w) || !Number.isFinite(w)) {
      if (!Object.is(g, w) && !(Number.isNaN(g) && Number.isNaN(w))) bad.push({ index: i, got: g, want: w, bound: 0, ratio: Infinity });
      continue;
    }
    const b = bound(i);
    const err = Math.abs(g - w);
    if (!(err <= b)) bad.push({ index: i, got: g, want: w, bound: b, ratio: err / b });
  }
  bad.sort((p, q) => q.ratio - p.ratio);
  return bad.slice(0, 5).map(({ index, got: g, want: w, bound: b }) => ({ index, got: g, want: w, bound: b }));
}

/** A float64 copy of |values|. */
export function absOf(values: ArrayLike<number>): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Math.abs(values[i]!);
  return out;
}
