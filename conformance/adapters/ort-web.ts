/**
 * onnxruntime-web: the same ONNX Runtime kernels compiled to WebAssembly, run in Node through the package's
 * node entry point. Single-threaded (no worker threads) and without the proxy worker.
 */
import { makeOrtAdapter, type OrtRuntime } from './ort/ort_adapter.js';

export const ortWeb = makeOrtAdapter({
  name: 'ort-web',
  description: 'ONNX Runtime Web, WebAssembly execution provider (onnxruntime-web), one-node opset 15/17 models',
  async load(): Promise<OrtRuntime> {
    const ort = await import('onnxruntime-web');
    // Must be set before the first session: the wasm module is instantiated once with these settings.
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    ort.env.logLevel = 'error';
    return ort;
  },
  sessionOptions: { executionProviders: ['wasm'], logSeverityLevel: 3 },
});

export default ortWeb;
