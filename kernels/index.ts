/**
 * normcheck/kernels — float32 fast kernels (float64 arithmetic). Never imports reference/.
 * A plain explicit list of exports: each kernel family (one folder each) adds its own lines.
 *
 *   shared/     argument checks, the WebAssembly encoder, runtime (one memory for every module) and shared loops
 *   batchnorm/  gemm/  groupnorm/  instancenorm/  layernorm/  network/  rmsnorm/
 *               one folder per family, the same file roles in each:
 *     api.ts           the public functions: argument checks, defaults, dispatch to a version
 *     version.ts       the one signature every version of the family has
 *     *_impl.ts        the versions' pure computation (TypeScript loops; wasm_impl.ts drives the SIMD module)
 *     wasm_module.ts   the family's WebAssembly SIMD loops
 *     workspace.ts     preallocated scratch, where the family needs any
 *   registry.ts  every version of every family, and each kind's default
 */
// Argument errors (shared by every kernel)
export { KernelArgError, KernelShapeError, KernelValueError } from './shared/args.js';

// Arrays in the kernels' WebAssembly memory: the wasm versions use them in place, with no copy per call
export { wasmFloat32Array, wasmFloat64Array, freeWasmArray, isWasmArray } from './shared/wasm_arrays.js';

// BatchNorm: NCHW and NHWC / (M, C), training and eval forward, backward, fused ReLU
export { batchNormTrainForward, batchNormEvalForward, batchNormBackward, BatchNormWorkspace } from './batchnorm/api.js';
export type {
  BatchNormDims, BatchNormLayout, BatchNormRunning, BatchNormTrainForwardArgs, BatchNormEvalForwardArgs,
  BatchNormBackwardArgs, BatchNormForwardVersion, BatchNormEvalVersion, BatchNormBackwardVersion,
} from './batchnorm/api.js';

// LayerNorm over (R, D)
export { layerNormForward, layerNormBackward, LayerNormWorkspace } from './layernorm/api.js';
export type {
  LayerNormDims, LayerNormForwardArgs, LayerNormBackwardArgs, LayerNormForwardVersion, LayerNormBackwardVersion,
} from './layernorm/api.js';

// GroupNorm: NCHW and NHWC, forward and backward
export { groupNormForward, groupNormBackward, GroupNormWorkspace } from './groupnorm/api.js';
export type {
  ChannelDims, ChannelLayout, GroupDims, GroupNormForwardArgs, GroupNormBackwardArgs, GroupNormForwardVersion, GroupNormBackwardVersion,
} from './groupnorm/api.js';

// InstanceNorm (F.instance_norm): NCHW and NHWC, input or running statistics, forward and backward
export { instanceNormForward, instanceNormBackward, InstanceNormWorkspace } from './instancenorm/api.js';
export type {
  InstanceDims, InstanceNormRunning, InstanceNormForwardArgs, InstanceNormBackwardArgs, InstanceNormForwardVersion, InstanceNormBackwardVersion,
} from './instancenorm/api.js';

// RMSNorm over (R, D)
export { rmsNormForward, rmsNormBackward, RmsNormWorkspace, RMSNORM_DEFAULT_EPS } from './rmsnorm/api.js';
export type { RmsNormDims, RmsNormForwardArgs, RmsNormBackwardArgs, RmsNormForwardVersion, RmsNormBackwardVersion } from './rmsnorm/api.js';

// GEMM in the three Linear forms (x·Wᵀ + bias + ReLU, dyᵀ·x + dbias, dy·W + ReLU mask)
export { gemmXWt, gemmDyTX, gemmDyW } from './gemm/api.js';
export type { GemmDims, GemmVersion, XWtOptions, DyTXOptions, DyWOptions } from './gemm/api.js';

// Registry of every kernel version and each kind's default
export {
  BATCHNORM_FORWARD_VERSIONS, BATCHNORM_EVAL_VERSIONS, BATCHNORM_BACKWARD_VERSIONS, LAYERNORM_FORWARD_VERSIONS,
  LAYERNORM_BACKWARD_VERSIONS, GEMM_VERSIONS, BATCHNORM_FORWARD_DEFAULT, BATCHNORM_EVAL_DEFAULT, BATCHNORM_BACKWARD_DEFAULT, LAYERNORM_FORWARD_DEFAULT, LAYERNORM_BACKWARD_DEFAULT, GEMM_DEFAULT,
  BN_FORWARD_TWO_PASS, BN_FORWARD_ONE_PASS, BN_FORWARD_BLOCKED, BN_FORWARD_WASM, BN_EVAL_BLOCKED, BN_EVAL_WASM, BN_BACKWARD_TWO_PASS, BN_BACKWARD_BLOCKED,
  BN_BACKWARD_WASM,
  LN_FORWARD_TWO_PASS, LN_FORWARD_ONE_PASS,
  LN_BACKWARD_ROW_BY_ROW, LN_BACKWARD_FOUR_ROWS, LN_FORWARD_WASM, LN_BACKWARD_WASM,
  GEMM_NAIVE, GEMM_BLOCKED, GEMM_WASM,
  GROUPNORM_FORWARD_VERSIONS, GROUPNORM_BACKWARD_VERSIONS, GROUPNORM_FORWARD_DEFAULT, GROUPNORM_BACKWARD_DEFAULT,
  INSTANCENORM_FORWARD_VERSIONS, INSTANCENORM_BACKWARD_VERSIONS, INSTANCENORM_FORWARD_DEFAULT, INSTANCENORM_BACKWARD_DEFAULT,
  RMSNORM_FORWARD_VERSIONS, RMSNORM_BACKWARD_VERSIONS, RMSNORM_FORWARD_DEFAULT, RMSNORM_BACKWARD_DEFAULT,
  GN_FORWARD_TWO_PASS, GN_FORWARD_WASM, GN_BACKWARD_TWO_PASS, GN_BACKWARD_WASM, IN_FORWARD_TWO_PASS, IN_FORWARD_WASM,
  RMS_FORWARD_ROW_BY_ROW, RMS_FORWARD_WASM, RMS_BACKWARD_ROW_BY_ROW, RMS_BACKWARD_WASM,
} from './registry.js';

// The seed network's training step and eval forward on a preallocated workspace
export { SeedNetKernel, SEED_NET_KERNEL, seedNetKernelShapes, isBufferName } from './network/api.js';
export type { SeedNetKernelConfig, NormKind, SgdOptions } from './network/api.js';
export { crossEntropyForwardBackward, argmaxRows } from './network/loss.js';
export { mulberry32, fillUniform } from './network/init.js';
