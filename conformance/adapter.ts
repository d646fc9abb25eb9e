/**
 * The adapter contract: how the conformance suite reaches any BatchNorm / LayerNorm implementation.
 *
 * An adapter is a plain object. It declares who it is (name, precision, layout, conventions profile) and
 * implements any subset of five capabilities. A capability it leaves out is reported as "not provided",
 * never as failed. Every function may return a value or a Promise of one.
 *
 * Data crosses the boundary as typed arrays with explicit shapes:
 * - precision 'float64' adapters receive and return Float64Array;
 *   'float32' and 'float16' adapters receive and return Float32Array (for 'float16', every value the suite
 *   passes is exactly representable in half precision, and the results are judged at half precision).
 * - `shape` is in the adapter's own layout: NCHW is (N, C, ...spatial), NHWC is (N, ...spatial, C).
 *   LayerNorm shapes are layout-free: (...outer, ...normalizedShape).
 * - Calls are stateless: the suite passes the running statistics in and reads the updated ones back. An
 *   adapter must not modify any array it is given (the hygiene checks verify it).
 */

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
  runningMean: FloatArray; // (C), the values before this step
  runningVar: FloatArray; // (C)
  /** Number of training steps already taken (for momentum = null). */
  numBatchesTracked: number;
  momentum: number | null; // in the normal form above
  eps: number;
}

export interface BatchNormTrainResult {
  y: FloatArray; // shape
  runningMean: FloatArray; // (C), after the step
  runningVar: FloatArray; // (C), after the step
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
}

export type Capability = 'bnTrainForward' | 'bnEvalForward' | 'bnBackward' | 'lnForward' | 'lnBackward';
export const CAPABILITIES: readonly Capability[] = ['bnTrainForward', 'bnEvalForward', 'bnBackward', 'lnForward', 'lnBackward'];

/** The prefix of an `available()` reason that means "the package is absent; this command installs it". */
export const NOT_INSTALLED = 'not installed: ';

/** Identity helper that gives an adapter literal its type: `export default defineAdapter({ ... })`. */
export function defineAdapter<A extends Adapter>(adapter: A): A {
  return adapter;
}
