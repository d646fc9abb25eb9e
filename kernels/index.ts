/**
 * normcheck/kernels — float32 fast kernels (float64 arithmetic). Never imports reference/.
 * A plain explicit list of exports: each kernel family adds its own lines.
 */
// Argument errors (shared by every kernel)
export { KernelArgError } from './gemm_args.js';

// BatchNorm: NCHW and NHWC / (M, C), training and eval forward, backward, fused ReLU
export {
  batchNormTrainForward, batchNormEvalForward, batchNormBackward, BatchNormWorkspace,
  getBatchNormForwardVersion, setBatchNormForwardVersion,
} from './batchnorm.js';
export type {
  BatchNormDims, BatchNormLayout, BatchNormRunning, BatchNormTrainForwardArgs, BatchNormEvalForwardArgs,
  BatchNormBackwardArgs, BatchNormForwardVersion, BatchNormBackwardVersion,
} from './batchnorm.js';

// LayerNorm over (R, D)
export {
  layerNormForward, layerNormBackward, LayerNormWorkspace, getLayerNormForwardVersion, setLayerNormForwardVersion,
} from './layernorm.js';
export type {
  LayerNormDims, LayerNormForwardArgs, LayerNormBackwardArgs, LayerNormForwardVersion, LayerNormBackwardVersion,
} from './layernorm.js';

// Registry of every normalisation kernel version
export {
  BATCHNORM_FORWARD_VERSIONS, BATCHNORM_BACKWARD_VERSIONS, LAYERNORM_FORWARD_VERSIONS, LAYERNORM_BACKWARD_VERSIONS,
  BN_FORWARD_TWO_PASS, BN_FORWARD_ONE_PASS, BN_FORWARD_BLOCKED, BN_FORWARD_WASM, BN_BACKWARD_TWO_PASS, BN_BACKWARD_BLOCKED,
  BN_BACKWARD_WASM,
  LN_FORWARD_TWO_PASS, LN_FORWARD_ONE_PASS,
  LN_BACKWARD_ROW_BY_ROW, LN_BACKWARD_FOUR_ROWS, LN_FORWARD_WASM, LN_BACKWARD_WASM,
} from './registry.js';

// GEMM in the three Linear forms (x·Wᵀ + bias + ReLU, dyᵀ·x + dbias, dy·W + ReLU mask), every version
export {
  gemmXWt, gemmDyTX, gemmDyW, GEMM_VERSIONS, GEMM_NAIVE, GEMM_BLOCKED, GEMM_WASM, getGemmVersion, setGemmVersion,
} from './gemm.js';
export type { GemmDims, GemmVersion, XWtOptions, DyTXOptions, DyWOptions } from './gemm.js';

// The seed network's training step and eval forward on a preallocated workspace
export { SeedNetKernel, SEED_NET_KERNEL, seedNetKernelShapes, isBufferName } from './network.js';
export type { SeedNetKernelConfig, NormKind, SgdOptions } from './network.js';
export { crossEntropyForwardBackward, argmaxRows } from './network_loss.js';
export { mulberry32, fillUniform } from './network_init.js';
