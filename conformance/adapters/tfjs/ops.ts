/**
 * BatchNorm and LayerNorm written with TensorFlow.js ops, the way a tfjs user writes them by hand:
 * `tf.moments` for the batch statistics, `tf.batchNorm` to normalise, `tf.grads` for the backward pass.
 * Judged under the PyTorch profile (momentum as the batch fraction, unbiased running variance).
 *
 * Layout is channels-last (NHWC), tfjs' own: x has shape (N, ...spatial, C), and tf.batchNorm with rank-1
 * statistics broadcasts them along the last axis. Sizes: C channels (last axis), M = size / C values per
 * channel; for LayerNorm, the normalised block is the trailing normalizedShape, D values per row.
 *
 * BatchNorm, training mode, per channel:
 *   mean, var  = tf.moments(x, axes = all but the last)      var biased (tfjs divides by M)
 *   y          = tf.batchNorm(x, mean, var, bias, weight, eps) = (x - mean)·weight/sqrt(var + eps) + bias
 *   running_mean ← (1 - f)·running_mean + f·mean
 *   running_var  ← (1 - f)·running_var  + f·var·M/(M - 1)     the PyTorch convention, written with tf ops
 *   f = momentum, or 1/(numBatchesTracked + 1) for the cumulative average (momentum null)
 * Eval mode: tf.batchNorm with the running statistics in place of the batch ones.
 *
 * Backward: tf.grads of the forward function, seeded with dy. In training mode that function computes the
 * moments itself, so the gradient flows through mean and var into x. (tf.batchNorm's own gradient treats
 * mean and variance as independent inputs: differentiating it with precomputed moments gives the
 * eval-mode gradient, not the training one.)
 *
 * LayerNorm: tf.moments over the trailing axes with keepDims, then elementwise ops
 *   y = (x - mean)·rsqrt(var + eps)·weight + bias
 * (tf.batchNorm cannot normalise rows: its cpu kernel walks the statistics cyclically along the flat
 * array instead of broadcasting a (R, 1) mean; tfjs' own layerNormalization tiles them to x's shape to
 * work around it — the layers adapter exercises that path.)
 *
 * Each computation is a graph builder: it creates tensors and returns the outputs as tensors (`*Graph`),
 * without reading them. `opsImpl` reads them synchronously (dataSync: cpu, wasm, tensorflow, webgl);
 * `opsImplAsync` awaits data() (webgpu, whose synchronous read needs an OffscreenCanvas). The build runs
 * inside tf.tidy, right after the backend switch, so no tensor outlives a call and no await separates the
 * switch from the ops.
 */
import type { Tensor } from '@tensorflow/tfjs';
import type {
  BatchNormBackwardArgs, BatchNormEvalArgs, BatchNormTrainArgs, BatchNormTrainResult, Grads,
  LayerNormArgs, LayerNormBackwardArgs, LayerNormResult, Unsupported,
} from '../../adapter.js';
import { f32, readGraph, readGraphAsync, type Outputs, type TF } from './backend.js';
import type { TfjsImpl } from './make_adapter.js';

/** Axes 0 .. rank-2: everything but the channel axis, which is last (NHWC). */
function batchAxes(rank: number): number[] {
  return Array.from({ length: rank - 1 }, (_, i) => i);
}

/** The trailing axes that LayerNorm normalises over. */
function trailingAxes(rank: number, k: number): number[] {
  return Array.from({ length: k }, (_, i) => rank - k + i);
}

export function bnTrainForwardGraph(tf: TF, args: BatchNormTrainArgs): Outputs<BatchNormTrainResult> {
  const { shape, eps, momentum, numBatchesTracked } = args;
  const C = shape[shape.length - 1]!;
  const M = shape.reduce((a, b) => a * b, 1) / C;
  // f: the weight of this batch in the new running value.
  const f = momentum ?? 1 / (numBatchesTracked + 1);
  const x = tf.tensor(f32(args.x), [...shape], 'float32');
  const weight = args.weight ? tf.tensor1d(f32(args.weight)) : undefined;
  const bias = args.bias ? tf.tensor1d(f32(args.bias)) : undefined;
  const { mean, variance } = tf.moments(x, batchAxes(shape.length));
  const y = tf.batchNorm(x, mean, variance, bias, weight, eps);
  // running statistics: (1 - f)·old + f·batch, the variance Bessel-corrected by M/(M - 1)
  const unbiased = tf.mul(variance, M / (M - 1));
  const rstd = tf.rsqrt(tf.add(variance, eps));
  if (!args.runningMean || !args.runningVar) return { y, mean, rstd }; // track_running_stats = False
  const runningMean = tf.add(tf.mul(tf.tensor1d(f32(args.runningMean)), 1 - f), tf.mul(mean, f));
  const runningVar = tf.add(tf.mul(tf.tensor1d(f32(args.runningVar)), 1 - f), tf.mul(unbiased, f));
  return { y, runningMean, runningVar, mean, rstd };
}

export function bnEvalForwardGraph(tf: TF, args: BatchNormEvalArgs): Outputs<{ y: Float32Array }> {
  const x = tf.tensor(f32(args.x), [...args.shape], 'float32');
  const weight = args.weight ? tf.tensor1d(f32(args.weight)) : undefined;
  const bias = args.bias ? tf.tensor1d(f32(args.bias)) : undefined;
  return { y: tf.batchNorm(x, tf.tensor1d(f32(args.runningMean)), tf.tensor1d(f32(args.runningVar)), bias, weight, args.eps) };
}

/**
 * tf.grads over (x, weight?, bias?): the forward is rebuilt from whichever parameters exist, so an omitted
 * scale or offset is omitted from tf.batchNorm too (tfjs then uses 1 and 0).
 */
export function bnBackwardGraph(tf: TF, args: BatchNormBackwardArgs): Outputs<Grads> {
  const { shape, eps, training } = args;
  if (!training && (!args.runningMean || !args.runningVar)) {
    throw new Error('runningMean, runningVar: eval-mode backward needs the running statistics the forward used');
  }
  const x = tf.tensor(f32(args.x), [...shape], 'float32');
  const dy = tf.tensor(f32(args.dy), [...shape], 'float32');
  const inputs: Tensor[] = [x];
  const weightAt = args.weight ? inputs.push(tf.tensor1d(f32(args.weight))) - 1 : -1;
  const biasAt = args.bias ? inputs.push(tf.tensor1d(f32(args.bias))) - 1 : -1;
  const runningMean = training ? null : tf.tensor1d(f32(args.runningMean!));
  const runningVar = training ? null : tf.tensor1d(f32(args.runningVar!));
  const forward = (...t: Tensor[]): Tensor => {
    const xt = t[0]!;
    const weight = weightAt >= 0 ? t[weightAt] : undefined;
    const bias = biasAt >= 0 ? t[biasAt] : undefined;
    if (training) {
      // The moments are computed inside the differentiated function: they depend on x.
      const { mean, variance } = tf.moments(xt, batchAxes(shape.length));
      return tf.batchNorm(xt, mean, variance, bias, weight, eps);
    }
    return tf.batchNorm(xt, runningMean!, runningVar!, bias, weight, eps);
  };
  const g = tf.grads(forward)(inputs, dy);
  return { dx: g[0]!, dweight: weightAt >= 0 ? g[weightAt]! : null, dbias: biasAt >= 0 ? g[biasAt]! : null };
}

function layerNorm(tf: TF, x: Tensor, k: number, weight: Tensor | undefined, bias: Tensor | undefined, eps: number) {
  const { mean, variance } = tf.moments(x, trailingAxes(x.rank, k), true);
  const rstd = tf.rsqrt(tf.add(variance, eps));
  let y = tf.mul(tf.sub(x, mean), rstd);
  if (weight) y = tf.mul(y, weight);
  if (bias) y = tf.add(y, bias);
  return { y, mean, rstd };
}

export function lnForwardGraph(tf: TF, args: LayerNormArgs): Outputs<LayerNormResult> {
  const { shape, normalizedShape, eps } = args;
  const x = tf.tensor(f32(args.x), [...shape], 'float32');
  // weight and bias have normalizedShape, which broadcasting aligns with x's trailing axes
  const weight = args.weight ? tf.tensor(f32(args.weight), [...normalizedShape], 'float32') : undefined;
  const bias = args.bias ? tf.tensor(f32(args.bias), [...normalizedShape], 'float32') : undefined;
  return layerNorm(tf, x, normalizedShape.length, weight, bias, eps);
}

export function lnBackwardGraph(tf: TF, args: LayerNormBackwardArgs): Outputs<Grads> {
  const { shape, normalizedShape, eps } = args;
  const x = tf.tensor(f32(args.x), [...shape], 'float32');
  const dy = tf.tensor(f32(args.dy), [...shape], 'float32');
  const inputs: Tensor[] = [x];
  const weightAt = args.weight ? inputs.push(tf.tensor(f32(args.weight), [...normalizedShape], 'float32')) - 1 : -1;
  const biasAt = args.bias ? inputs.push(tf.tensor(f32(args.bias), [...normalizedShape], 'float32')) - 1 : -1;
  const forward = (...t: Tensor[]): Tensor =>
    layerNorm(tf, t[0]!, normalizedShape.length, weightAt >= 0 ? t[weightAt] : undefined, biasAt >= 0 ? t[biasAt] : undefined, eps).y;
  const g = tf.grads(forward)(inputs, dy);
  return { dx: g[0]!, dweight: weightAt >= 0 ? g[weightAt]! : null, dbias: biasAt >= 0 ? g[biasAt]! : null };
}

/** Read synchronously (dataSync). */
/**
 * What these ops cannot do, on every backend: differentiate tf.batchNorm without scale and offset
 * (docs/divergences.md#tfjs-grad-omitted-affine: cloning the absent scale throws) or at rank 5
 * (#tfjs-rank5-backward: the gradient reshapes to a hard-coded rank 4).
 */
export const OPS_UNSUPPORTED: Unsupported = { bnBackward: ['no_affine', 'rank5'] };

export const opsImpl: TfjsImpl = {
  profile: 'pytorch',
  unsupported: OPS_UNSUPPORTED,
  bnTrainForward: (tf, a) => readGraph(tf, () => bnTrainForwardGraph(tf, a)),
  bnEvalForward: (tf, a) => readGraph(tf, () => bnEvalForwardGraph(tf, a)),
  bnBackward: (tf, a) => readGraph(tf, () => bnBackwardGraph(tf, a)),
  lnForward: (tf, a) => readGraph(tf, () => lnForwardGraph(tf, a)),
  lnBackward: (tf, a) => readGraph(tf, () => lnBackwardGraph(tf, a)),
};

/** Read asynchronously (await data()), for backends without a synchronous read. */
export const opsImplAsync: TfjsImpl = {
  profile: 'pytorch',
  unsupported: OPS_UNSUPPORTED,
  bnTrainForward: (tf, a) => readGraphAsync(tf, () => bnTrainForwardGraph(tf, a)),
  bnEvalForward: (tf, a) => readGraphAsync(tf, () => bnEvalForwardGraph(tf, a)),
  bnBackward: (tf, a) => readGraphAsync(tf, () => bnBackwardGraph(tf, a)),
  lnForward: (tf, a) => readGraphAsync(tf, () => lnForwardGraph(tf, a)),
  lnBackward: (tf, a) => readGraphAsync(tf, () => lnBackwardGraph(tf, a)),
};
