/**
 * onnxruntime-web's WebGPU execution provider (JSEP, the one `import 'onnxruntime-web'` runs in a page) in
 * Node on Dawn's WebGPU: the WGSL kernels ONNX Runtime ships to browsers. See ort/webgpu.ts for the setup
 * and for why JSEP rather than the native build (`makeOrtWebgpuAdapter('native')` drives that one).
 */
import { WEBGPU_MARK } from '../webgpu/adapter.js';
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

/**
 * The built-in: without bnTrainForward, which the WebGPU provider refuses at run time ("BatchNormalization
 * trainingMode is not supported yet", docs/divergences.md#ort-webgpu-bn-no-training): declared as not
 * provided, so the training checks say so instead of erroring, and hygiene judges what it does provide.
 * `makeOrtWebgpuAdapter` keeps the method, for the repro that shows the refusal.
 */
const { bnTrainForward: _refusedAtRunTime, ...provided } = makeOrtWebgpuAdapter('jsep');
// WEBGPU_MARK: with --isolate the host runs it in a process, not a worker thread (webgpu/adapter.ts)
export const ortWebgpu: Omit<OrtAdapter, 'bnTrainForward'> = Object.assign(provided, { [WEBGPU_MARK]: true });
export default ortWebgpu;
