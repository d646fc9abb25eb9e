/** The shared tfjs cross-checks on the ops-level adapter, cpu backend (see cross_checks.ts). */
import adapter from '../../conformance/adapters/tfjs-cpu.js';
import { tfjsCrossChecks } from './cross_checks.js';

tfjsCrossChecks({
  adapter,
  // tf.grads through tf.batchNorm throws when scale or offset is omitted (docs/divergences.md#tfjs-grad-omitted-affine)
  backwardAffine: ['unit', 'nonUnit'],
  // tf.batchNorm's gradient tiles rank-1 statistics to rank 4 only (docs/divergences.md#tfjs-rank5-backward)
  maxBatchNormRank: 4,
});
