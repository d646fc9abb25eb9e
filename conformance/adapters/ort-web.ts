/**
 * onnxruntime-web: the same ONNX Runtime kernels compiled to WebAssembly, run in Node through the package's
 * node entry point. Single-threaded (no worker threads) and without the proxy worker.
 */
import { makeOrtAdapter } from './ort/ort_adapter.js';

export const ortWeb = makeOrtAdapter({
  normFamily: true,
  name: 'ort-web',
  description: 'ONNX Runtime Web, WebAssembly execution provider (onnxruntime-web), one-node opset 15/17 models (GroupNorm, InstanceNorm, RMSNorm: opsets 21-23)',
  runtimePackage: 'onnxruntime-web',
  configure(ort) {
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    ort.env.logLevel = 'error';
  },
  sessionOptions: { executionProviders: ['wasm'], logSeverityLevel: 3 },
});

export default ortWeb;
