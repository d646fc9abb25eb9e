/**
 * Every TensorFlow.js divergence in docs/divergences.md still reproduces, on cpu and on wasm, by running
 * the document's own reproductions (scripts/probe/tfjs_repros.ts). When one of these fails, tfjs fixed the
 * behaviour: delete its entry from the document and its lines from conformance/expectations.json.
 */
import type { Tensor } from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { requireTf, useBackend } from '../../conformance/adapters/tfjs/backend.js';
import { TFJS_REPROS } from '../../scripts/probe/tfjs_repros.js';

const tf = await requireTf('wasm');

describe.each(['cpu', 'wasm'] as const)('tfjs %s backend', (backend) => {
  for (const [anchor, repro] of Object.entries(TFJS_REPROS)) {
    it(`the documented divergence ${anchor} still reproduces`, async () => {
      await useBackend(tf, backend);
      const outcome = repro(tf);
      expect(outcome.correct, outcome.observed).toBe(false);
    });
  }

  it('the documented workaround for omitted scale and offset (pass ones and zeros) differentiates', async () => {
    await useBackend(tf, backend);
    // One channel of four values: the output ignores a shift of the channel, so Σ dx = 0.
    const sum = tf.tidy(() => {
      const x = tf.tensor2d([[1], [3], [4], [8]]);
      const f = (x: Tensor) => {
        const { mean, variance } = tf.moments(x, [0]);
        return tf.batchNorm(x, mean, variance, tf.zeros([1]), tf.ones([1]), 1e-5);
      };
      const [dx] = tf.grads(f)([x], tf.tensor2d([[1], [-2], [0.5], [3]]));
      return tf.sum(dx!).dataSync()[0]!;
    });
    // Σ dx = rstd·(Σg - M·mean(g) - Σx̂·mean(g·x̂)) = 0 exactly; in float32 each |dx| ≲ 2 carries a few
    // ulps (2^-23 ≈ 1.2e-7 each), so four of them sum to far less than 1e-5.
    expect(Math.abs(sum)).toBeLessThan(1e-5);
  });
});
