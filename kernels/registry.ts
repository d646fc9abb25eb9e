/**
 * Every kernel version, listed explicitly in one place, and the default of each kind, so the tests and the
 * benchmark loop over all of them (llm.c dev/cuda style: each version is validated against the reference before
 * it is timed) and the public functions (each family's api.ts) take their default from here.
 *
 * The wasm versions fall back to their family's TypeScript loops by themselves where WebAssembly SIMD is
 * unavailable or its memory cannot grow; the GEMM's wasm version is listed only where it runs.
 */
import { BN_BACKWARD_BLOCKED, BN_BACKWARD_TWO_PASS } from './batchnorm/backward_impl.js';
import { BN_EVAL_BLOCKED, BN_FORWARD_BLOCKED, BN_FORWARD_ONE_PASS, BN_FORWARD_TWO_PASS } from './batchnorm/forward_impl.js';
import type { BatchNormBackwardVersion, BatchNormEvalVersion, BatchNormForwardVersion } from './batchnorm/version.js';
import { BN_BACKWARD_WASM, BN_EVAL_WASM, BN_FORWARD_WASM } from './batchnorm/wasm_impl.js';
import { GEMM_BLOCKED } from './gemm/blocked_impl.js';
import { GEMM_NAIVE } from './gemm/naive_impl.js';
import type { GemmVersion } from './gemm/version.js';
import { GEMM_WASM, wasmSimdAvailable } from './gemm/wasm_impl.js';
import { LN_BACKWARD_FOUR_ROWS, LN_BACKWARD_ROW_BY_ROW } from './layernorm/backward_impl.js';
import { LN_FORWARD_ONE_PASS, LN_FORWARD_TWO_PASS } from './layernorm/forward_impl.js';
import type { LayerNormBackwardVersion, LayerNormForwardVersion } from './layernorm/version.js';
import { LN_BACKWARD_WASM, LN_FORWARD_WASM } from './layernorm/wasm_impl.js';
import { GN_BACKWARD_TWO_PASS } from './groupnorm/backward_impl.js';
import { GN_FORWARD_TWO_PASS } from './groupnorm/forward_impl.js';
import type { GroupNormBackwardVersion, GroupNormForwardVersion } from './groupnorm/version.js';
import { GN_BACKWARD_WASM, GN_FORWARD_WASM } from './groupnorm/wasm_impl.js';
import { IN_FORWARD_TWO_PASS } from './instancenorm/forward_impl.js';
import type { InstanceNormBackwardVersion, InstanceNormForwardVersion } from './instancenorm/version.js';
import { IN_FORWARD_WASM } from './instancenorm/wasm_impl.js';
import { RMS_BACKWARD_ROW_BY_ROW } from './rmsnorm/backward_impl.js';
import { RMS_FORWARD_ROW_BY_ROW } from './rmsnorm/forward_impl.js';
import type { RmsNormBackwardVersion, RmsNormForwardVersion } from './rmsnorm/version.js';
import { RMS_BACKWARD_WASM, RMS_FORWARD_WASM } from './rmsnorm/wasm_impl.js';

/**
 * BatchNorm training forward: twoPass (three reads of x), onePass (two reads), blocked (onePass, faster loops),
 * wasm (blocked with WebAssembly SIMD element loops; the default).
 */
export const BATCHNORM_FORWARD_VERSIONS: readonly BatchNormForwardVersion[] = [
  BN_FORWARD_TWO_PASS, BN_FORWARD_ONE_PASS, BN_FORWARD_BLOCKED, BN_FORWARD_WASM,
];
export const BATCHNORM_FORWARD_DEFAULT: BatchNormForwardVersion = BN_FORWARD_WASM;

/** BatchNorm eval forward: blocked (TypeScript), wasm (WebAssembly SIMD; the default). */
export const BATCHNORM_EVAL_VERSIONS: readonly BatchNormEvalVersion[] = [BN_EVAL_BLOCKED, BN_EVAL_WASM];
export const BATCHNORM_EVAL_DEFAULT: BatchNormEvalVersion = BN_EVAL_WASM;

/** BatchNorm backward (training and eval, with or without the fused ReLU): twoPass, blocked, wasm (the default). */
export const BATCHNORM_BACKWARD_VERSIONS: readonly BatchNormBackwardVersion[] = [BN_BACKWARD_TWO_PASS, BN_BACKWARD_BLOCKED, BN_BACKWARD_WASM];
export const BATCHNORM_BACKWARD_DEFAULT: BatchNormBackwardVersion = BN_BACKWARD_WASM;

/** LayerNorm forward: twoPass, onePass, wasm (onePass with SIMD loops; the default). */
export const LAYERNORM_FORWARD_VERSIONS: readonly LayerNormForwardVersion[] = [LN_FORWARD_TWO_PASS, LN_FORWARD_ONE_PASS, LN_FORWARD_WASM];
export const LAYERNORM_FORWARD_DEFAULT: LayerNormForwardVersion = LN_FORWARD_WASM;

/** LayerNorm backward: rowByRow, fourRows, wasm (row by row with SIMD loops; the default). */
export const LAYERNORM_BACKWARD_VERSIONS: readonly LayerNormBackwardVersion[] = [LN_BACKWARD_ROW_BY_ROW, LN_BACKWARD_FOUR_ROWS, LN_BACKWARD_WASM];
export const LAYERNORM_BACKWARD_DEFAULT: LayerNormBackwardVersion = LN_BACKWARD_WASM;

/** GroupNorm forward, NCHW and NHWC: twoPass, wasm (one-pass checked, WebAssembly SIMD; the default). */
export const GROUPNORM_FORWARD_VERSIONS: readonly GroupNormForwardVersion[] = [GN_FORWARD_TWO_PASS, GN_FORWARD_WASM];
export const GROUPNORM_FORWARD_DEFAULT: GroupNormForwardVersion = GN_FORWARD_WASM;

/** GroupNorm backward: twoPass, wasm (the default). InstanceNorm's backward runs these with G = C. */
export const GROUPNORM_BACKWARD_VERSIONS: readonly GroupNormBackwardVersion[] = [GN_BACKWARD_TWO_PASS, GN_BACKWARD_WASM];
export const GROUPNORM_BACKWARD_DEFAULT: GroupNormBackwardVersion = GN_BACKWARD_WASM;

/** InstanceNorm forward (input statistics: GroupNorm's version with G = C; eval: its own loop): twoPass, wasm (the default). */
export const INSTANCENORM_FORWARD_VERSIONS: readonly InstanceNormForwardVersion[] = [IN_FORWARD_TWO_PASS, IN_FORWARD_WASM];
export const INSTANCENORM_FORWARD_DEFAULT: InstanceNormForwardVersion = IN_FORWARD_WASM;

/** InstanceNorm backward: the GroupNorm backward versions with G = C. */
export const INSTANCENORM_BACKWARD_VERSIONS: readonly InstanceNormBackwardVersion[] = GROUPNORM_BACKWARD_VERSIONS;
export const INSTANCENORM_BACKWARD_DEFAULT: InstanceNormBackwardVersion = GROUPNORM_BACKWARD_DEFAULT;

/** RMSNorm forward: rowByRow, wasm (the default). */
export const RMSNORM_FORWARD_VERSIONS: readonly RmsNormForwardVersion[] = [RMS_FORWARD_ROW_BY_ROW, RMS_FORWARD_WASM];
export const RMSNORM_FORWARD_DEFAULT: RmsNormForwardVersion = RMS_FORWARD_WASM;

/** RMSNorm backward: rowByRow, wasm (the default). */
export const RMSNORM_BACKWARD_VERSIONS: readonly RmsNormBackwardVersion[] = [RMS_BACKWARD_ROW_BY_ROW, RMS_BACKWARD_WASM];
export const RMSNORM_BACKWARD_DEFAULT: RmsNormBackwardVersion = RMS_BACKWARD_WASM;

/** GEMM, the three Linear forms: naive, blocked, wasm-simd (the default where this engine runs it, else blocked). */
export const GEMM_VERSIONS: readonly GemmVersion[] = wasmSimdAvailable() ? [GEMM_NAIVE, GEMM_BLOCKED, GEMM_WASM] : [GEMM_NAIVE, GEMM_BLOCKED];
export const GEMM_DEFAULT: GemmVersion = wasmSimdAvailable() ? GEMM_WASM : GEMM_BLOCKED;

export {
  BN_FORWARD_TWO_PASS, BN_FORWARD_ONE_PASS, BN_FORWARD_BLOCKED, BN_FORWARD_WASM, BN_EVAL_BLOCKED, BN_EVAL_WASM,
  BN_BACKWARD_TWO_PASS, BN_BACKWARD_BLOCKED, BN_BACKWARD_WASM,
  LN_FORWARD_TWO_PASS, LN_FORWARD_ONE_PASS, LN_FORWARD_WASM,
  LN_BACKWARD_ROW_BY_ROW, LN_BACKWARD_FOUR_ROWS, LN_BACKWARD_WASM,
  GEMM_NAIVE, GEMM_BLOCKED, GEMM_WASM,
  GN_FORWARD_TWO_PASS, GN_FORWARD_WASM, GN_BACKWARD_TWO_PASS, GN_BACKWARD_WASM, IN_FORWARD_TWO_PASS, IN_FORWARD_WASM,
  RMS_FORWARD_ROW_BY_ROW, RMS_FORWARD_WASM, RMS_BACKWARD_ROW_BY_ROW, RMS_BACKWARD_WASM,
};
