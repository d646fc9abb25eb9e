/** TensorFlow.js ops on the WebGPU backend (Dawn in Node), PyTorch profile, NHWC */
import { WEBGPU_MARK } from '../webgpu/adapter.js';
import { makeTfjsAdapter } from './tfjs/make_adapter.js';
import { OPS_UNSUPPORTED, opsImplAsync } from './tfjs/ops.js';
import { loadTfjsWebgpu, takeWebgpuErrors } from './tfjs/webgpu.js';

// WEBGPU_MARK: with --isolate the host runs it in a process, not a worker thread (webgpu/adapter.ts)
export default Object.assign(makeTfjsAdapter(
  {
    name: 'tfjs-webgpu', backend: 'webgpu', load: loadTfjsWebgpu, afterCall: takeWebgpuErrors, unsupported: OPS_UNSUPPORTED,
    description: 'TensorFlow.js ops (tf.moments + tf.batchNorm, tf.grads) on the WebGPU backend (Dawn; WEBGPU_CPU_FORWARD off), PyTorch profile, NHWC',
  },
  opsImplAsync,
), { [WEBGPU_MARK]: true });
