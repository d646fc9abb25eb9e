/**
 * onnxruntime-node: ONNX Runtime's native CPU execution provider (MLAS/Eigen kernels), loaded from the
 * prebuilt binaries in the package (its install script, which only fetches CUDA files, is not needed).
 */
import { makeOrtAdapter } from './ort/ort_adapter.js';

export const ortNode = makeOrtAdapter({
  normFamily: true,
  name: 'ort-node',
  description: 'ONNX Runtime, native CPU execution provider (onnxruntime-node), one-node opset 15/17 models (GroupNorm, InstanceNorm, RMSNorm: opsets 21-23)',
  runtimePackage: 'onnxruntime-node',
  sessionOptions: { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, logSeverityLevel: 3 },
});

export default ortNode;
