/**
 * The shared tfjs cross-checks on @tensorflow/tfjs-node (backend 'tensorflow'), when it is installed;
 * otherwise the suite is reported as skipped with the command that installs it.
 */
import adapter from '../../conformance/adapters/tfjs-node.js';
import { tfjsCrossChecks } from './cross_checks.js';

const status = await adapter.available!();

tfjsCrossChecks({
  adapter,
  ...(status === true ? {} : { unavailable: status }),
  // tf.grads through tf.batchNorm throws when scale or offset is omitted (docs/divergences.md#tfjs-grad-omitted-affine)
  backwardAffine: ['unit', 'nonUnit'],
  // tf.batchNorm's gradient tiles rank-1 statistics to rank 4 only (docs/divergences.md#tfjs-rank5-backward)
  maxBatchNormRank: 4,
});
