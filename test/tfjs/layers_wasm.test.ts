/** The shared tfjs cross-checks on the layers-level adapter (Keras profile), wasm backend (see cross_checks.ts). */
import adapter from '../../conformance/adapters/tfjs-layers-wasm.js';
import { tfjsCrossChecks } from './cross_checks.js';

tfjsCrossChecks({
  adapter,
  // batchNormalization without gamma or beta throws in training mode (docs/divergences.md#tfjs-layers-no-affine-training)
  trainAffine: ['unit', 'nonUnit'],
  backwardAffine: ['unit', 'nonUnit'],
  // tfjs-layers' batchNormalization is "not implemented for array of rank 5" (docs/divergences.md#tfjs-layers-rank5)
  maxBatchNormRank: 4,
  // Keras' update old - (old - v)·(1 - momentum) keeps u·|old| of rounding even when the factor is 1, which
  // erases a tiny batch variance on the cumulative average's first step (docs/divergences.md#tfjs-layers-moving-average-form)
  factorOne: false,
  // layerNormalization without gamma/beta differentiates tf.batchNorm without scale/offset (docs/divergences.md#tfjs-grad-omitted-affine)
  lnBackwardAffine: ['unit', 'nonUnit'],
  // layerNormalization normalises through batchNormalization, which takes ranks 2 to 4 only (docs/divergences.md#tfjs-layers-rank5)
  lnRanks: [2, 4],
});
