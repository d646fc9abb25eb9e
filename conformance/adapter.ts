/**
 * The adapter contract: how the conformance suite reaches any normalisation implementation — BatchNorm,
 * LayerNorm, GroupNorm, InstanceNorm, RMSNorm.
 *
 * An adapter is a plain object. It declares who it is (name, precision, layout, conventions profile) and
 * implements any subset of the capabilities (CAPABILITIES). A capability it leaves out is reported as
 * "not provided", never as failed. Every function may return a value or a Promise of one.
 *
 * Data crosses the boundary as typed arrays with explicit shapes:
 * - precision 'float64' adapters receive and return Float64Array;
 *   'float32' and 'float16' adapters receive and return Float32Array (for 'float16', every value the suite
 *   passes is exactly representable in half precision, and the results are judged at half precision).
 * - `shape` is in the adapter's own layout: NCHW is (N, C, ...spatial), NHWC is (N, ...spatial, C); this holds
 *   for BatchNorm, GroupNorm and InstanceNorm. LayerNorm and RMSNorm shapes are layout-free:
 *   (...outer, ...normalizedShape).
 * - Semantics are PyTorch's (torch.nn.BatchNorm*d, LayerNorm, GroupNorm, InstanceNorm*d, RMSNorm), with
 *   BatchNorm's conventions (momentum, running variance, eps) configurable by profile (profiles.ts).
 * - Calls are stateless: the suite passes the running statistics in and reads the updated ones back. An
 *   adapter must not modify any array it is given (the hygiene checks verify it).
 */

import type { Feature } from './features.js';

export type { Feature } from './features.js';
export type Precision = 'float16' | 'float32' | 'float64';
export type Layout = 'NCHW' | 'NHWC';
export type ProfileName = 'pytorch' | 'keras' | 'onnx';
export type FloatArray = Float32Array | Float64Array;
export type MaybePromise<T> = T | Promise<T>;

/**
 * The conventions that differ between frameworks, in one normal form.
 * `momentum` is always the fraction of the *batch* statistic in the new running value
 * (PyTorch's meaning): new = (1 - momentum)·old + momentum·batch. Keras' and ONNX's momentum is the
 * fraction *kept*, so Keras 0.99 is momentum 0.01 here and ONNX 0.9 is 0.1.
 */
export interface Conventions {
  /** Fraction of the batch statistic in the new running value; null: cumulative average (PyTorch momentum=None). */
  momentum: number | null;
  /** Which batch variance enters the running variance. */
  runningVar: 'unbiased' | 'biased';
  /** Added to the variance inside the square root. */
  eps: number;
}

export interface BatchNormTrainArgs {
  x: FloatArray; // shape, in the adapter's layout
  shape: readonly number[];
  weight: FloatArray | null; // (C); null: affine = false
  bias: FloatArray | null; // (C)
  /** (C), the values before this step; both null: track_running_stats = False (feature no_running_stats) */
  runningMean: FloatArray | null;
  runningVar: FloatArray | null;
  /** Number of training steps already taken (for momentum = null); 0 when there are no running buffers. */
  numBatchesTracked: number;
  momentum: number | null; // in the normal form above
  eps: number;
}

export interface BatchNormTrainResult {
  y: FloatArray; // shape
  /** (C), after the step: required when running buffers were given; null or absent when they were not */
  runningMean?: FloatArray | null;
  runningVar?: FloatArray | null;
  /**
   * Optional: the step count after this step, as PyTorch's num_batches_tracked (the given count + 1);
   * checked when present. Null or absent without running buffers (PyTorch's is None then).
   */
  numBatchesTracked?: number | null;
  /** Optional saved statistics; checked when present. */
  mean?: FloatArray; // (C) batch mean
  rstd?: FloatArray; // (C) 1/sqrt(var + eps)
}

export interface BatchNormEvalArgs {
  x: FloatArray;
  shape: readonly number[];
  weight: FloatArray | null;
  bias: FloatArray | null;
  runningMean: FloatArray; // (C)
  runningVar: FloatArray; // (C)
  eps: number;
}

export interface BatchNormBackwardArgs {
  dy: FloatArray; // shape
  x: FloatArray; // shape, the forward input
  shape: readonly number[];
  weight: FloatArray | null;
  bias: FloatArray | null;
  /** true: gradient of the training-mode forward (batch statistics depend on x). */
  training: boolean;
  /** Eval mode only: the running statistics the forward used. */
  runningMean: FloatArray | null;
  runningVar: FloatArray | null;
  eps: number;
}

export interface Grads {
  dx: FloatArray;
  dweight: FloatArray | null; // null when weight is null
  dbias: FloatArray | null;
}

export interface LayerNormArgs {
  x: FloatArray; // (...outer, ...normalizedShape)
  shape: readonly number[];
  normalizedShape: readonly number[];
  weight: FloatArray | null; // normalizedShape; null: elementwise_affine = false
  bias: FloatArray | null;
  eps: number;
}

export interface LayerNormResult {
  y: FloatArray;
  mean?: FloatArray; // (rows), checked when present
  rstd?: FloatArray; // (rows)
}

export interface LayerNormBackwardArgs extends LayerNormArgs {
  dy: FloatArray;
}

// ---------------------------------------------------------------------------------------------------------
// GroupNorm: torch.nn.GroupNorm(num_groups, num_channels, eps=1e-5, affine=True). Per sample, the C channels
// are split into numGroups consecutive groups of C/numGroups channels; each group's statistics run over its
// channels × spatial positions (biased variance); weight and bias are per channel. No running statistics.
// C % numGroups ≠ 0 is an error the adapter should throw.

export interface GroupNormArgs {
  x: FloatArray; // shape, in the adapter's layout
  shape: readonly number[];
  numGroups: number;
  weight: FloatArray | null; // (C); null: affine = false
  bias: FloatArray | null; // (C)
  eps: number;
}

export interface GroupNormResult {
  y: FloatArray; // shape
  /** Optional saved statistics; checked when present. (N·numGroups), n-major: index n·G + g. */
  mean?: FloatArray;
  rstd?: FloatArray;
}

export interface GroupNormBackwardArgs extends GroupNormArgs {
  dy: FloatArray; // shape
}

// ---------------------------------------------------------------------------------------------------------
// InstanceNorm: torch.nn.functional.instance_norm(input, running_mean, running_var, weight, bias,
// use_input_stats, momentum, eps). Statistics per sample and channel, over the spatial positions.
// useInputStats (PyTorch: training or not track_running_stats): normalise with the instance's own statistics
// and, when running buffers are given, return them updated: each instance takes one BatchNorm step from the
// old buffer, (1 - momentum)·old + momentum·stat (the running variance with the unbiased S/(S-1) variance),
// and the new buffer is the average of those over the batch. Otherwise normalise with the running statistics
// (eval with track_running_stats=True). With useInputStats a spatial extent of 1 is an error.

export interface InstanceNormArgs {
  x: FloatArray; // shape, in the adapter's layout
  shape: readonly number[];
  weight: FloatArray | null; // (C); null: affine = false (PyTorch's default)
  bias: FloatArray | null; // (C)
  /** (C), the values before this call; null: track_running_stats = False */
  runningMean: FloatArray | null;
  runningVar: FloatArray | null;
  useInputStats: boolean;
  /** fraction of the new statistic in the running buffers (PyTorch's meaning) */
  momentum: number;
  eps: number;
}

export interface InstanceNormResult {
  y: FloatArray; // shape
  /** (C), after the call: required when running buffers were given and useInputStats */
  runningMean?: FloatArray;
  runningVar?: FloatArray;
  /** Optional saved statistics of useInputStats calls; checked when present. (N·C), n-major. */
  mean?: FloatArray;
  rstd?: FloatArray;
}

export interface InstanceNormBackwardArgs {
  dy: FloatArray; // shape
  x: FloatArray; // shape, the forward input
  shape: readonly number[];
  weight: FloatArray | null;
  bias: FloatArray | null;
  /** true: the statistics are the instance's own and depend on x; false: the running ones, constants */
  useInputStats: boolean;
  runningMean: FloatArray | null;
  runningVar: FloatArray | null;
  eps: number;
}

// ---------------------------------------------------------------------------------------------------------
// RMSNorm: torch.nn.RMSNorm(normalized_shape, eps=None, elementwise_affine=True) (PyTorch ≥ 2.4):
// y = x / sqrt(mean(x²) + eps) · weight over the normalised dimensions; no mean subtraction, no bias.

export interface RmsNormArgs {
  x: FloatArray; // (...outer, ...normalizedShape)
  shape: readonly number[];
  normalizedShape: readonly number[];
  weight: FloatArray | null; // normalizedShape; null: elementwise_affine = false
  /**
   * null: PyTorch's default, the machine epsilon of the type the arithmetic runs in — 2^-23 (FLT_EPSILON) for
   * float32 and for float16 (ATen computes half in float: rms_norm's `eps.value_or(numeric_limits<float>::epsilon())`;
   * the docs' finfo(x.dtype).eps would be 2^-10), 2^-52 for float64
   */
  eps: number | null;
}

export interface RmsNormResult {
  y: FloatArray;
  /** Optional: 1/sqrt(mean(x²) + eps) per row (rows); checked when present */
  rstd?: FloatArray;
}

export interface RmsNormBackwardArgs extends RmsNormArgs {
  dy: FloatArray;
}

/**
 * What an implementation does not support, as feature tags (conformance/features.ts: rank5, no_affine,
 * eval_backward, …): a list for every capability, or an object by capability ('*': every one), e.g.
 * `{ bnBackward: ['no_affine', 'rank5'] }`. Cases with those features are not drawn for it (the generators
 * draw supported cases instead), a check whose every case has one is 'not applicable', and every report
 * says what was left out ("passes, excluding rank-5 cases").
 */
export type Unsupported = readonly Feature[] | { readonly [K in Capability | '*']?: readonly Feature[] };

export interface Adapter {
  /** Unique, shown in every report line. */
  name: string;
  /** One line for `normcheck list`. */
  description?: string;
  precision: Precision;
  /** Layout of BatchNorm inputs. */
  layout: Layout;
  /** Conventions profile the implementation follows (default 'pytorch'). */
  profile?: ProfileName;
  /** Single conventions that differ from the profile. */
  conventions?: Partial<Conventions>;
  /** Features it does not support (see Unsupported); default: it supports every one. */
  unsupported?: Unsupported;
  /**
   * Whether the adapter can run here: true, or a one-line reason it cannot. An unavailable adapter is
   * reported, not failed; but one the user named on the command line makes the run a loading error (exit 2),
   * unless its reason is `not installed: COMMAND` (NOT_INSTALLED): the optional package it drives is absent
   * and COMMAND, one shell command, installs it. That is reported as the adapter's status and fails nothing,
   * named or not. Called once.
   */
  available?(): MaybePromise<true | string>;
  /** Called once before the first check and once after the last. */
  setup?(): MaybePromise<void>;
  teardown?(): MaybePromise<void>;

  bnTrainForward?(args: BatchNormTrainArgs): MaybePromise<BatchNormTrainResult>;
  bnEvalForward?(args: BatchNormEvalArgs): MaybePromise<{ y: FloatArray }>;
  bnBackward?(args: BatchNormBackwardArgs): MaybePromise<Grads>;
  lnForward?(args: LayerNormArgs): MaybePromise<LayerNormResult>;
  lnBackward?(args: LayerNormBackwardArgs): MaybePromise<Grads>;
  gnForward?(args: GroupNormArgs): MaybePromise<GroupNormResult>;
  gnBackward?(args: GroupNormBackwardArgs): MaybePromise<Grads>;
  inForward?(args: InstanceNormArgs): MaybePromise<InstanceNormResult>;
  inBackward?(args: InstanceNormBackwardArgs): MaybePromise<Grads>;
  rmsForward?(args: RmsNormArgs): MaybePromise<RmsNormResult>;
  /** dbias is always null: RMSNorm has no bias */
  rmsBackward?(args: RmsNormBackwardArgs): MaybePromise<Grads>;
}

/** Each capability's argument and result, by name: what a host or a wrapper passes and gets back. */
export interface CapabilitySignatures {
  bnTrainForward: { args: BatchNormTrainArgs; result: BatchNormTrainResult };
  bnEvalForward: { args: BatchNormEvalArgs; result: { y: FloatArray } };
  bnBackward: { args: BatchNormBackwardArgs; result: Grads };
  lnForward: { args: LayerNormArgs; result: LayerNormResult };
  lnBackward: { args: LayerNormBackwardArgs; result: Grads };
  gnForward: { args: GroupNormArgs; result: GroupNormResult };
  gnBackward: { args: GroupNormBackwardArgs; result: Grads };
  inForward: { args: InstanceNormArgs; result: InstanceNormResult };
  inBackward: { args: InstanceNormBackwardArgs; result: Grads };
  rmsForward: { args: RmsNormArgs; result: RmsNormResult };
  rmsBackward: { args: RmsNormBackwardArgs; result: Grads };
}

export type Capability = keyof CapabilitySignatures;
export type CapabilityArgs<K extends Capability> = CapabilitySignatures[K]['args'];
export type CapabilityResult<K extends Capability> = CapabilitySignatures[K]['result'];

export const CAPABILITIES: readonly Capability[] = [
  'bnTrainForward', 'bnEvalForward', 'bnBackward', 'lnForward', 'lnBackward',
  'gnForward', 'gnBackward', 'inForward', 'inBackward', 'rmsForward', 'rmsBackward',
];

/** The prefix of an `available()` reason that means "the package is absent; this command installs it". */
export const NOT_INSTALLED = 'not installed: ';

/** Identity helper that gives an adapter literal its type: `export default defineAdapter({ ... })`. */
export function defineAdapter<A extends Adapter>(adapter: A): A {
  return adapter;
}
