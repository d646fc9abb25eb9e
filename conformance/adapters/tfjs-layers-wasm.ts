/** TensorFlow.js layers (tf.layers.batchNormalization, layerNormalization) on the wasm backend, Keras profile, NHWC */
import { loadTf } from './tfjs/backend.js';
import { makeTfjsAdapter } from './tfjs/make_adapter.js';
import { layersImpl } from './tfjs/layers.js';

export default makeTfjsAdapter(
  { name: 'tfjs-layers-wasm', backend: 'wasm', load: () => loadTf('wasm'), description: 'TensorFlow.js layers (tf.layers.batchNormalization, layerNormalization) on the wasm backend, Keras profile, NHWC' },
  layersImpl,
);
