/** TensorFlow.js ops (tf.moments + tf.batchNorm, tf.grads) on @tensorflow/tfjs-node (libtensorflow), PyTorch profile, NHWC */
import { loadTfjsNode } from './tfjs/backend.js';
import { makeTfjsAdapter } from './tfjs/make_adapter.js';
import { opsImpl } from './tfjs/ops.js';

export default makeTfjsAdapter(
  { name: 'tfjs-node', backend: 'tensorflow', load: loadTfjsNode, description: 'TensorFlow.js ops (tf.moments + tf.batchNorm, tf.grads) on @tensorflow/tfjs-node (libtensorflow), PyTorch profile, NHWC' },
  opsImpl,
);
