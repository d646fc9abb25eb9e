/**
 * RMSNorm backward versions, float32 storage, float64 arithmetic. No argument checks: api.ts checks, then calls a
 * version. Sizes as forward_impl.ts.
 *
 * Per row, g = dy·weight, x̂ = x·rstd (reference/rmsnorm.ts derives it):
 *   dx = rstd·(g - x̂·mean(g·x̂)) = rstd·g - x·k1,   k1 = rstd³·Σ g·x / D
 * and across rows, in the float64 accumulator of the workspace, rounded once at the end:
 *   dweight = Σ_rows dy·x·rstd
 * The two terms of dx cancel where g is nearly proportional to x̂ (the scale-invariant direction), so the
 * error is bounded by their magnitudes, not by |dx| (test/kernels/family_error_model.ts).
 *
 * Versions, one signature (`RmsNormBackwardVersion`, version.ts), listed in kernels/registry.ts:
 *   rowByRow  per row: the reduction Σ g·x, then dx and the row's dweight terms
 *   wasm      the same in WebAssembly SIMD (wasm_impl.ts; the default)
 */
import type { RmsNormBackwardVersion } from './version.js';

function rowByRowBackward(
  dy: Float32Array, x: Float32Array, R: number, D: number, weight: Float32Array, rstd: Float64Array,
  dx: Float32Array, dweight: Float32Array | null, accWeight: Float64Array,
): void {
  accWeight.fill(0);
  for (let row = 0; row < R; row++) {
    const base = row * D;
    const r = rstd[row]!;
    // reduction over the row: Σ g·x, g = dy·weight
    let sumGX = 0;
    for (let i = 0; i < D; i++) sumGX += dy[base + i]! * weight[i]! * x[base + i]!;
    // per-element terms: dx = rstd·g - x·k1; dweight across rows
    const k1 = (r * r * r * sumGX) / D;
    for (let i = 0; i < D; i++) {
      const d = dy[base + i]!;
      const v = x[base + i]!;
      dx[base + i] = r * (d * weight[i]!) - v * k1;
      accWeight[i] = accWeight[i]! + d * v * r;
    }
  }
  if (dweight !== null) for (let i = 0; i < D; i++) dweight[i] = accWeight[i]!;
}

export const RMS_BACKWARD_ROW_BY_ROW: RmsNormBackwardVersion = {
  name: 'rowByRow',
  description: 'per row: the reduction Σ g·x, then dx with a float64 read-modify-write of dweight per element',
  backward: rowByRowBackward,
};
