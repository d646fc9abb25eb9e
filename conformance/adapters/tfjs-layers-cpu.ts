/** TensorFlow.js layers (tf.layers.batchNormalization, layerNormalization) on the cpu backend, Keras profile, NHWC */
import { loadTf } from './tfjs/backend.js';
import { makeTfjsAdapter } from './tfjs/make_adapter.js';
import { layersImpl } from './tfjs/layers.js';

export default makeTfjsAdapter(
  { name: 'tfjs-layers-cpu', backend: 'cpu', load: () => loadTf('cpu'), description: 'TensorFlow.js layers (tf.layers.batchNormalization, layerNormalization) on the cpu backend, Keras profile, NHWC' },
  layersImpl,
);
