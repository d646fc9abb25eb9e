/** TensorFlow.js ops (tf.moments + tf.batchNorm, tf.grads) on the cpu backend, PyTorch profile, NHWC */
import { loadTf } from './tfjs/backend.js';
import { makeTfjsAdapter } from './tfjs/make_adapter.js';
import { opsImpl } from './tfjs/ops.js';

export default makeTfjsAdapter(
  { name: 'tfjs-cpu', backend: 'cpu', load: () => loadTf('cpu'), description: 'TensorFlow.js ops (tf.moments + tf.batchNorm, tf.grads) on the cpu backend, PyTorch profile, NHWC' },
  opsImpl,
);
