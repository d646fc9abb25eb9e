/**
 * Minimal reproductions of what the suite found in ONNX Runtime's GroupNormalization (opset 21),
 * InstanceNormalization and RMSNormalization (opset 23), each a few lines on the adapters (one ONNX node,
 * inputs fed as given). docs/divergences.md quotes them; test/ort/family_repros.test.ts checks in `npm test`
 * that each still reproduces on both runtimes.
 *
 *   npx tsc -p tsconfig.build.json && node dist/scripts/probe/ort_family_repros.js
 */
import type { OrtAdapter } from '../../conformance/adapters/ort/ort_adapter.js';

const EPS = 1e-5;
type Family = Required<Pick<OrtAdapter, 'gnForward' | 'inForward' | 'rmsForward'>>;

/**
 * ort-groupnorm-one-pass: one group of ten values 1000.5 (zero variance; exact in float32). Two-pass: var 0,
 * y = 0. ONNX's GroupNormalization-21 function body computes Var = ReduceMean(X·X) - Mean², whose float32
 * sum of squares rounds (the squares are ~1e6, their sum ~1e7, spacing 1), so Var < 0 and y = NaN.
 */
export async function groupNormConstantGroup(ort: Family): Promise<number[]> {
  const r = await ort.gnForward({ x: new Float32Array(10).fill(1000.5), shape: [1, 2, 5], numGroups: 1, weight: null, bias: null, eps: EPS });
  return Array.from(r.y);
}

/**
 * ort-groupnorm-one-pass, the accuracy half: one group of 256 values 100 + t (t uniform in [-1, 1], a fixed
 * sequence), κ = max|x|/σ ≈ 170. A two-pass float32 GroupNorm is within ~κ·u ≈ 1e-5 of the exact y; the
 * one-pass variance loses ~κ²·u ≈ 2e-3 of it. Returns the worst |y - exact| (exact in float64).
 */
export async function groupNormOffset(ort: Family, offset = 100): Promise<{ maxErr: number; kappaU: number }> {
  const x = Float32Array.from({ length: 256 }, (_, i) => offset + Math.sin(12.9898 * i));
  const r = await ort.gnForward({ x, shape: [1, 4, 64], numGroups: 1, weight: null, bias: null, eps: EPS });
  const mean = x.reduce((a, b) => a + b, 0) / x.length;
  const v = x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length;
  const rstd = 1 / Math.sqrt(v + EPS);
  let maxErr = 0;
  x.forEach((xi, i) => (maxErr = Math.max(maxErr, Math.abs(r.y[i]! - (xi - mean) * rstd))));
  return { maxErr, kappaU: (offset + 1) * rstd * 2 ** -24 };
}

/**
 * ort-instancenorm-one-value (convention): (2, 3) input, one value per instance, with scale 2 and
 * B = [0.5, 0.25, -1]. PyTorch raises "Expected more than 1 spatial element when training"; ONNX defines
 * the variance of one value as 0, so Y = B.
 */
export async function instanceNormOneValue(ort: Family): Promise<number[]> {
  const r = await ort.inForward({
    x: new Float32Array([5, -7, 11, 2, 3, 4]), shape: [2, 3], weight: new Float32Array([2, 2, 2]), bias: new Float32Array([0.5, 0.25, -1]),
    runningMean: null, runningVar: null, useInputStats: true, momentum: 0.1, eps: EPS,
  });
  return Array.from(r.y);
}

/**
 * ort-rmsnorm-square-overflow: one row x = [1e20, -2e20, 3e20, 5e19] (finite float32 values whose squares
 * overflow float32). Exact y = x/rms(x) = [0.51, -1.02, 1.53, 0.26]; RMSNormalization-23's function body
 * squares in float32 (XSquared = Mul(X, X)), so rms = ∞ and y = 0.
 */
export async function rmsNormSquareOverflow(ort: Family): Promise<{ y: number[]; exact: number[] }> {
  const x = [1e20, -2e20, 3e20, 5e19];
  const r = await ort.rmsForward({ x: Float32Array.from(x), shape: [1, 4], normalizedShape: [4], weight: null, eps: EPS });
  const xs = Array.from(Float32Array.from(x));
  const rms = Math.sqrt(xs.reduce((a, b) => a + b * b, 0) / 4);
  return { y: Array.from(r.y), exact: xs.map((v) => v / rms) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { ortNode } = await import('../../conformance/adapters/ort-node.js');
  const { ortWeb } = await import('../../conformance/adapters/ort-web.js');
  for (const ort of [ortNode, ortWeb]) {
    const f = ort as unknown as Family;
    console.log(`${ort.name}:`);
    console.log('  ort-groupnorm-one-pass, constant group 1000.5: y =', await groupNormConstantGroup(f));
    for (const offset of [0, 10, 100, 1000]) {
      const r = await groupNormOffset(f, offset);
      console.log(`  ort-groupnorm-one-pass, offset ${offset}: max |y - exact| = ${r.maxErr.toExponential(2)} (${(r.maxErr / r.kappaU).toFixed(1)} κu)`);
    }
    console.log('  ort-instancenorm-one-value: y =', await instanceNormOneValue(f), '(PyTorch raises)');
    const r = await rmsNormSquareOverflow(f);
    console.log('  ort-rmsnorm-square-overflow: y =', r.y, 'exact', r.exact.map((v) => +v.toFixed(4)));
    await ort.teardown();
  }
}
