/**
 * Minimal reproductions of what the ONNX Runtime probes found, each a few lines on the adapters (which are
 * thin: one ONNX node, inputs fed as given). docs/divergences.md (section "ONNX Runtime") quotes them, and
 * test/ort/repros.test.ts checks in `npm test` that each still reproduces on both runtimes.
 *
 *   npx tsc -p tsconfig.build.json && node dist/scripts/probe/ort_repros.js
 */
import type { OrtAdapter } from '../../conformance/adapters/ort/ort_adapter.js';

const EPS = 1e-5;

/**
 * ort-running-var-biased (convention): one training step on x = [1, 3] (mean 2, biased var 1, unbiased 2)
 * from running_var 1 with ONNX momentum 0.9. ONNX: 0.9·1 + 0.1·1 = 1; PyTorch: 0.9·1 + 0.1·2 = 1.1.
 */
export async function runningVarBiased(ort: OrtAdapter): Promise<{ runningVar: number; onnx: number; pytorch: number }> {
  const r = await ort.bnTrainForward({
    x: new Float32Array([1, 3]), shape: [2, 1], weight: null, bias: null,
    runningMean: new Float32Array([0]), runningVar: new Float32Array([1]), numBatchesTracked: 0, momentum: 0.1, eps: EPS,
  });
  return { runningVar: r.runningVar![0]!, onnx: 1, pytorch: 1.1 };
}

/**
 * ort-one-value-per-channel (convention): training on (1, 3), one value per channel. PyTorch raises
 * "Expected more than 1 value per channel when training"; ONNX defines var = 0, so Y = B and
 * running_var = 0.9·input_var.
 */
export async function oneValuePerChannel(ort: OrtAdapter): Promise<{ y: number[]; runningVar: number[] }> {
  const r = await ort.bnTrainForward({
    x: new Float32Array([5, -7, 11]), shape: [1, 3], weight: new Float32Array([2, 2, 2]), bias: new Float32Array([0.5, 0.25, -1]),
    runningMean: new Float32Array(3), runningVar: new Float32Array([1, 1, 1]), numBatchesTracked: 0, momentum: 0.1, eps: EPS,
  });
  return { y: Array.from(r.y), runningVar: Array.from(r.runningVar!) };
}

/**
 * ort-eval-fused-form (accuracy, within the bound): eval mode at offset 1e6 with running_mean = 1e6 exactly.
 * x - running_mean is exact in float32 here (x is within a few ulps of the mean), so y = (x - mean)·rstd
 * could be correct to 1 ulp; ONNX Runtime computes x·a + (B - mean·a), a = scale·rstd, and rounds two
 * products of size 1e6 (ulp 0.0625): errors up to ~0.06 on outputs of size 0.06.
 */
export async function evalFusedForm(ort: OrtAdapter): Promise<{ y: number[]; exact: number[]; maxErr: number }> {
  const x = new Float32Array([1e6, 1e6 + 0.0625, 1e6 + 0.125, 1e6 - 0.0625, 1e6 + 0.1875]);
  const runningVar = new Float32Array([0.7]);
  const r = await ort.bnEvalForward({
    x, shape: [5, 1], weight: null, bias: null, runningMean: new Float32Array([1e6]), runningVar, eps: EPS,
  });
  const rstd = 1 / Math.sqrt(runningVar[0]! + EPS);
  const exact = Array.from(x, (v) => (v - 1e6) * rstd);
  const maxErr = Math.max(...exact.map((e, i) => Math.abs(r.y[i]! - e)));
  return { y: Array.from(r.y), exact, maxErr };
}

/**
 * ort-web-layernorm-variance (accuracy, within the bound): one LayerNorm row of 256 values 1e4 + N(0,1).
 * onnxruntime-web's InvStdDev is off by ~1e-4 relative, growing linearly with the offset; onnxruntime-node's
 * stays at ~1e-7 (two-pass level). Returns the relative error of InvStdDev against float64.
 */
export async function layerNormRstdAtOffset(ort: OrtAdapter, offset = 1e4, D = 256): Promise<number> {
  // deterministic values: offset + sin-spread, std ~0.7, float32
  const x = Float32Array.from({ length: D }, (_, i) => offset + Math.sin(i * 12.9898) * 1.0);
  let m = 0;
  for (const v of x) m += v;
  m /= D;
  let s = 0;
  for (const v of x) s += (v - m) ** 2;
  const rstd = 1 / Math.sqrt(s / D + EPS);
  const r = await ort.lnForward({ x, shape: [1, D], normalizedShape: [D], weight: null, bias: null, eps: EPS });
  return Math.abs(r.rstd[0]! - rstd) / rstd;
}

/**
 * ort-square-overflow (float32 range, shared with PyTorch float32): values ±{0.5, 1, 2}·1e19. Their squares
 * overflow float32 (max 3.4e38), so the variance is +Inf, InvStdDev 0 and y = B = 0 for every element, where
 * the normalised values are ±0.38, ±0.76, ±1.51. No NaN signals it.
 */
export async function squareOverflow(ort: OrtAdapter): Promise<{ bnY: number[]; lnY: number[]; runningVar: number }> {
  const x = Float32Array.from([1, -1, 2, -2, 0.5, -0.5], (v) => v * 1e19);
  const bn = await ort.bnTrainForward({
    x, shape: [6, 1], weight: null, bias: null, runningMean: new Float32Array(1), runningVar: new Float32Array([1]), numBatchesTracked: 0, momentum: 0.1, eps: EPS,
  });
  const ln = await ort.lnForward({ x, shape: [1, 6], normalizedShape: [6], weight: null, bias: null, eps: EPS });
  return { bnY: Array.from(bn.y), lnY: Array.from(ln.y), runningVar: bn.runningVar![0]! };
}

async function main(): Promise<void> {
  const { ortNode } = await import('../../conformance/adapters/ort-node.js');
  const { ortWeb } = await import('../../conformance/adapters/ort-web.js');
  for (const ort of [ortNode, ortWeb]) {
    console.log(`## ${ort.name}`);
    console.log('runningVarBiased', await runningVarBiased(ort));
    console.log('oneValuePerChannel', await oneValuePerChannel(ort));
    console.log('evalFusedForm', await evalFusedForm(ort));
    for (const offset of [0, 1e2, 1e4, 1e6]) console.log(`layerNormRstdAtOffset(${offset})`, (await layerNormRstdAtOffset(ort, offset)).toExponential(2));
    console.log('squareOverflow', await squareOverflow(ort));
    await ort.teardown();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
