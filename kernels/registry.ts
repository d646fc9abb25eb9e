/**
 * Every normalisation kernel version, listed explicitly, so the tests and the benchmark loop over all of them
 * (llm.c dev/cuda style: each version is validated against the reference before it is timed).
 * The GEMM versions are listed beside their kernels, in gemm.ts (GEMM_VERSIONS).
 */
import { BN_BACKWARD_BLOCKED, BN_BACKWARD_TWO_PASS, type BatchNormBackwardVersion } from './batchnorm_backward.js';
import { BN_FORWARD_BLOCKED, BN_FORWARD_ONE_PASS, BN_FORWARD_TWO_PASS, type BatchNormForwardVersion } from './batchnorm_forward.js';
import { BN_BACKWARD_WASM, BN_FORWARD_WASM } from './batchnorm_wasm.js';
import { LN_BACKWARD_WASM, LN_FORWARD_WASM } from './layernorm_wasm.js';
import {
  LN_BACKWARD_FOUR_ROWS, LN_BACKWARD_ROW_BY_ROW, LN_FORWARD_ONE_PASS, LN_FORWARD_TWO_PASS,
  type LayerNormBackwardVersion, type LayerNormForwardVersion,
} from './layernorm_impl.js';

/**
 * BatchNorm training forward: twoPass (three reads of x), onePass (two reads), blocked (onePass, faster loops;
 * the default), wasm (blocked with WebAssembly SIMD element loops).
 */
export const BATCHNORM_FORWARD_VERSIONS: readonly BatchNormForwardVersion[] = [
  BN_FORWARD_TWO_PASS, BN_FORWARD_ONE_PASS, BN_FORWARD_BLOCKED, BN_FORWARD_WASM,
];

/** BatchNorm backward (training and eval, with or without the fused ReLU): twoPass, blocked (the default), wasm. */
export const BATCHNORM_BACKWARD_VERSIONS: readonly BatchNormBackwardVersion[] = [BN_BACKWARD_TWO_PASS, BN_BACKWARD_BLOCKED, BN_BACKWARD_WASM];

/** LayerNorm forward: twoPass, onePass, wasm (onePass with SIMD loops; the default). */
export const LAYERNORM_FORWARD_VERSIONS: readonly LayerNormForwardVersion[] = [LN_FORWARD_TWO_PASS, LN_FORWARD_ONE_PASS, LN_FORWARD_WASM];

/** LayerNorm backward: rowByRow, fourRows, wasm (row by row with SIMD loops; the default). */
export const LAYERNORM_BACKWARD_VERSIONS: readonly LayerNormBackwardVersion[] = [LN_BACKWARD_ROW_BY_ROW, LN_BACKWARD_FOUR_ROWS, LN_BACKWARD_WASM];

export {
  BN_FORWARD_TWO_PASS, BN_FORWARD_ONE_PASS, BN_FORWARD_BLOCKED, BN_FORWARD_WASM,
  BN_BACKWARD_TWO_PASS, BN_BACKWARD_BLOCKED, BN_BACKWARD_WASM,
  LN_FORWARD_TWO_PASS, LN_FORWARD_ONE_PASS, LN_FORWARD_WASM,
  LN_BACKWARD_ROW_BY_ROW, LN_BACKWARD_FOUR_ROWS, LN_BACKWARD_WASM,
};
