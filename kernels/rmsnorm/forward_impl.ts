/**
 * RMSNorm forward versions, float32 storage, float64 arithmetic. No argument checks: api.ts checks, then calls a
 * version. Sizes: R rows, D values normalised together; row r is x[r·D .. r·D + D). weight has D values.
 *
 * Per row:  ms = Σx²/D,  rstd = 1/sqrt(ms + eps),  y = (x·rstd)·weight.
 * What float32 storage allows, and these loops reach: nothing cancels (no mean is subtracted, every term of
 * the sum is ≥ 0, eps > 0 is added to a non-negative number), so the only errors are roundings of positive
 * quantities. x² of a float32 is exact in float64 (a 48-bit significand; 2⁻²⁹⁸ ≤ x² ≤ 1.2e77, inside float64's
 * normal range, so neither underflow nor overflow), the recursive sum of D non-negative terms errs by at most
 * γ_{D-1} relative, the division, the eps addition, the square root and the reciprocal by u64 each (the root
 * halves its input's error), and the two products of y by u64 each:
 *   |ŷ - y| ≤ ε·|y|,   ε = ½·γ_{D+1} + 4·u64 ≈ (D/2 + 5)·2⁻⁵³
 * before the one rounding to float32, which adds at most ½ ulp32(y). Since ulp32(y) ≥ 2⁻²⁴·|y|, the stored y
 * is within ½ + 2²⁴·ε ulp of the exact result — 0.500004 ulp at D = 4096 — at every scale of x, for any
 * D below 2²⁰: correctly rounded except within 2²⁴·ε ulp of a rounding boundary, at any offset or magnitude
 * (subnormal inputs and outputs included, float32's largest values included: x² ≤ 1.2e77 stays finite).
 *
 * Versions, one signature (`RmsNormForwardVersion`, version.ts), listed in kernels/registry.ts:
 *   rowByRow  per row: sum-of-squares pass, then the scale pass (the row is 3 kB at D = 768: read from L1)
 *   wasm      the same passes in WebAssembly SIMD (wasm_impl.ts; the default)
 */
import type { RmsNormForwardVersion } from './version.js';

function rowByRowForward(x: Float32Array, R: number, D: number, weight: Float32Array | null, eps: number, y: Float32Array, rstd: Float64Array): void {
  for (let row = 0; row < R; row++) {
    const base = row * D;
    const end = base + D;
    // mean square: even and odd elements apart, so no add waits on the previous one
    let a = 0;
    let b = 0;
    let i = base;
    for (; i + 1 < end; i += 2) {
      const v0 = x[i]!;
      const v1 = x[i + 1]!;
      a += v0 * v0;
      b += v1 * v1;
    }
    if (i < end) a += x[i]! * x[i]!;
    // rstd
    const r = 1 / Math.sqrt((a + b) / D + eps);
    rstd[row] = r;
    // normalise, then scale
    if (weight !== null) for (let j = 0; j < D; j++) y[base + j] = x[base + j]! * r * weight[j]!;
    else for (let j = base; j < end; j++) y[j] = x[j]! * r;
  }
}

export const RMS_FORWARD_ROW_BY_ROW: RmsNormForwardVersion = {
  name: 'rowByRow',
  description: 'per row: sum of squares (two interleaved sums), then y = (x·rstd)·weight',
  forward: rowByRowForward,
};
