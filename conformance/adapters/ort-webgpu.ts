/**
 * onnxruntime-web's WebGPU execution provider (JSEP, the one `import 'onnxruntime-web'` runs in a page) in
 * Node on Dawn's WebGPU: the WGSL kernels ONNX Runtime ships to browsers. See ort/webgpu.ts for the setup
 * and for why JSEP rather than the native build (`makeOrtWebgpuAdapter('native')` drives that one).
 */
import { makeOrtAdapter, type OrtAdapter } from './ort/ort_adapter.js';
import { loadOrtWebgpu, ORT_WEBGPU_SESSION, type OrtWebgpuBuild } from './ort/webgpu.js';

export function makeOrtWebgpuAdapter(build: OrtWebgpuBuild): OrtAdapter {
  const file = build === 'jsep' ? 'JSEP, dist/ort.mjs' : 'native C++ provider, dist/ort.webgpu.mjs';
  return makeOrtAdapter({
    name: build === 'jsep' ? 'ort-webgpu' : 'ort-webgpu-native',
    description: `ONNX Runtime Web, WebGPU execution provider (${file}) on Dawn, no CPU fallback, one-node opset 15/17 models`,
    runtimePackage: 'onnxruntime-web',
    loadRuntime: () => loadOrtWebgpu(build),
    sessionOptions: ORT_WEBGPU_SESSION as never,
    runOptions: { logSeverityLevel: 4 },
  });
}

export const ortWebgpu = makeOrtWebgpuAdapter('jsep');
export default ortWebgpu;
