/**
 * onnxruntime-web's WebGPU execution provider (JSEP, the one `import 'onnxruntime-web'` runs in a page) in
 * Node on Dawn's WebGPU: the WGSL kernels ONNX Runtime ships to browsers. See ort/webgpu.ts for the setup.
 */
import { makeOrtAdapter } from './ort/ort_adapter.js';
import { loadOrtWebgpu, ORT_WEBGPU_SESSION } from './ort/webgpu.js';

export const ortWebgpu = makeOrtAdapter({
  name: 'ort-webgpu',
  description: 'ONNX Runtime Web, WebGPU execution provider (JSEP, dist/ort.mjs) on Dawn, no CPU fallback, one-node opset 15/17 models',
  runtimePackage: 'onnxruntime-web',
  loadRuntime: () => loadOrtWebgpu('jsep'),
  sessionOptions: ORT_WEBGPU_SESSION as never,
  runOptions: { logSeverityLevel: 4 },
});

export default ortWebgpu;
