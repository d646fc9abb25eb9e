/**
 * How onnxruntime-web's LayerNormalization error grows with the offset and the row length, next to
 * onnxruntime-node's: the median and max over 64 rows of the relative error of InvStdDev, against the float64
 * reference on the same float32 inputs. A two-pass float32 algorithm stays near D·u + (κ·u)² (κ ≈ offset for
 * std-1 rows); a one-pass E[x²] - E[x]² in float32 grows like κ²·u.
 *
 *   npx tsc -p tsconfig.build.json && node dist/scripts/probe/ort_ln_scaling.js
 */
import { layerNormForward, seededRng } from '../../reference/index.js';
import { ortNode } from '../../conformance/adapters/ort-node.js';
import { ortWeb } from '../../conformance/adapters/ort-web.js';

const ROWS = 64;
const EPS = 1e-5;
const U = 2 ** -24;

async function main(): Promise<void> {
  console.log('| runtime | D | offset | median rel err rstd | max rel err rstd | max abs err y / (κu) |');
  console.log('|---|---|---|---|---|---|');
  for (const adapter of [ortNode, ortWeb]) {
    for (const D of [16, 256, 4096]) {
      for (const offset of [0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6]) {
        const rng = seededRng(7 + D);
        const x = Float32Array.from({ length: ROWS * D }, () => offset + rng.normal());
        const ref = layerNormForward({ x, shape: [ROWS, D], normalizedShape: [D], eps: EPS });
        const got = await adapter.lnForward({ x, shape: [ROWS, D], normalizedShape: [D], weight: null, bias: null, eps: EPS });
        const rel = Array.from(got.rstd, (r, i) => Math.abs(r - ref.rstd[i]!) / ref.rstd[i]!).sort((a, b) => a - b);
        let yUnits = 0;
        for (let r = 0; r < ROWS; r++) {
          let mx = 0;
          for (let i = 0; i < D; i++) mx = Math.max(mx, Math.abs(x[r * D + i]!));
          const kappa = mx * ref.rstd[r]!;
          for (let i = 0; i < D; i++) yUnits = Math.max(yUnits, Math.abs(got.y[r * D + i]! - ref.y[r * D + i]!) / (kappa * U));
        }
        console.log(`| ${adapter.name} | ${D} | ${offset.toExponential(0)} | ${rel[ROWS >> 1]!.toExponential(2)} | ${rel[ROWS - 1]!.toExponential(2)} | ${yUnits.toFixed(2)} |`);
      }
    }
    await adapter.teardown();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
