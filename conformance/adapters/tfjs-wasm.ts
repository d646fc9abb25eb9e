/** TensorFlow.js ops (tf.moments + tf.batchNorm, tf.grads) on the wasm backend, PyTorch profile, NHWC */
import { loadTf } from './tfjs/backend.js';
import { makeTfjsAdapter } from './tfjs/make_adapter.js';
import { opsImpl } from './tfjs/ops.js';

export default makeTfjsAdapter(
  { name: 'tfjs-wasm', backend: 'wasm', load: () => loadTf('wasm'), description: 'TensorFlow.js ops (tf.moments + tf.batchNorm, tf.grads) on the wasm backend, PyTorch profile, NHWC' },
  opsImpl,
);
