/**
 * BatchNorm and LayerNorm through TensorFlow.js' Keras-style layers, `tf.layers.batchNormalization` and
 * `tf.layers.layerNormalization`, judged under the Keras profile: channels-last (NHWC, the layer's default
 * axis -1), momentum as the fraction kept, biased moving variance.
 *
 * Each call builds a fresh layer, sets its weights from the arguments, applies it and disposes its
 * variables, because the contract is stateless (the suite passes the running statistics in and reads the
 * new ones back):
 *   layer = batchNormalization({ axis: -1, momentum: 1 - f, epsilon: eps, scale: weight given, center: bias given })
 *   layer.setWeights([gamma?, beta?, moving_mean, moving_variance])
 *   y = layer.apply(x, { training })                 training: batch statistics, moving averages updated
 *   moving_mean, moving_variance = layer.getWeights() after the call
 * f is the suite's momentum (batch fraction), so Keras' momentum is 1 - f: the suite's 0.01 is Keras' 0.99.
 * For momentum null (the cumulative average) f = 1/(numBatchesTracked + 1), a fresh layer per step makes
 * that expressible too.
 *
 * Backward: tf.variableGrads of Σ dy·y over x (held in a tf.Variable) and the layer's gamma and beta, which
 * is how a Keras model's optimizer obtains them; in training mode the layer computes the moments inside the
 * differentiated function, so the gradient is the training one.
 */
import type { Tensor, Variable } from '@tensorflow/tfjs';
import type {
  BatchNormBackwardArgs, BatchNormEvalArgs, BatchNormTrainArgs, BatchNormTrainResult, FloatArray, Grads,
  LayerNormArgs, LayerNormBackwardArgs, LayerNormResult,
} from '../../adapter.js';
import { f32, read, scoped, type TF } from './backend.js';
import type { TfjsImpl } from './make_adapter.js';

type Layer = ReturnType<TF['layers']['batchNormalization']>;

/** Applies `use` to a freshly built layer whose weights are `weights`, then disposes the layer's variables. */
function withLayer<T>(tf: TF, layer: Layer, shape: readonly number[], weights: (FloatArray | null)[], paramShape: readonly number[], use: (layer: Layer) => T): T {
  try {
    layer.build([...shape]);
    scoped(tf, () => layer.setWeights(weights.filter((w): w is FloatArray => w !== null).map((w) => tf.tensor(f32(w), [...paramShape], 'float32'))));
    return use(layer);
  } finally {
    for (const w of layer.weights) w.dispose();
  }
}

function bnLayer(tf: TF, eps: number, keptFraction: number, weight: FloatArray | null, bias: FloatArray | null): Layer {
  return tf.layers.batchNormalization({ axis: -1, momentum: keptFraction, epsilon: eps, scale: weight !== null, center: bias !== null });
}

export function bnTrainForward(tf: TF, args: BatchNormTrainArgs): BatchNormTrainResult {
  const { shape, eps, momentum, numBatchesTracked, weight, bias } = args;
  const C = shape[shape.length - 1]!;
  const f = momentum ?? 1 / (numBatchesTracked + 1);
  const layer = bnLayer(tf, eps, 1 - f, weight, bias);
  // The layer always has moving statistics; without running buffers (track_running_stats = False) it gets
  // zeros and ones, and the update is not returned (in training, y uses the batch statistics alone).
  const tracking = args.runningMean !== null && args.runningVar !== null;
  const moving = [args.runningMean ?? new Float32Array(C), args.runningVar ?? new Float32Array(C).fill(1)];
  return withLayer(tf, layer, shape, [weight, bias, ...moving], [C], (l) => {
    const y = scoped(tf, () => read(l.apply(tf.tensor(f32(args.x), [...shape], 'float32'), { training: true }) as Tensor));
    if (!tracking) return { y };
    // the moving statistics are the last two weights, updated in place by the training call
    const w = l.getWeights();
    return { y, runningMean: read(w[w.length - 2]!), runningVar: read(w[w.length - 1]!) };
  });
}

export function bnEvalForward(tf: TF, args: BatchNormEvalArgs): { y: Float32Array } {
  const { shape, eps, weight, bias } = args;
  const C = shape[shape.length - 1]!;
  const layer = bnLayer(tf, eps, 0.99, weight, bias);
  return withLayer(tf, layer, shape, [weight, bias, args.runningMean, args.runningVar], [C], (l) => ({
    y: scoped(tf, () => read(l.apply(tf.tensor(f32(args.x), [...shape], 'float32'), { training: false }) as Tensor)),
  }));
}

/** Gradients of Σ dy·layer(x) with respect to x, gamma and beta, via tf.variableGrads. */
function layerGrads(tf: TF, l: Layer, x: FloatArray, dy: FloatArray, shape: readonly number[], training: boolean, hasWeight: boolean, hasBias: boolean): Grads {
  const x0 = tf.tensor(f32(x), [...shape], 'float32');
  const xVar = tf.variable(x0); // shares x0's data and holds its own reference to it
  x0.dispose();
  try {
    return scoped(tf, () => {
      const dyT = tf.tensor(f32(dy), [...shape], 'float32');
      // The layer's trainable weights, in order: gamma (if scale), beta (if center).
      const trainable = l.trainableWeights.map((w) => w.read() as Variable);
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(l.apply(xVar, { training }) as Tensor, dyT)), [xVar, ...trainable]);
      value.dispose();
      const gamma = hasWeight ? trainable[0] : undefined;
      const beta = hasBias ? trainable[hasWeight ? 1 : 0] : undefined;
      return {
        dx: read(grads[xVar.name]!),
        dweight: gamma ? read(grads[gamma.name]!) : null,
        dbias: beta ? read(grads[beta.name]!) : null,
      };
    });
  } finally {
    xVar.dispose();
  }
}

export function bnBackward(tf: TF, args: BatchNormBackwardArgs): Grads {
  const { shape, eps, weight, bias, training } = args;
  const C = shape[shape.length - 1]!;
  // In training mode the moving statistics only receive the update; their values do not enter y.
  const runningMean = args.runningMean ?? new Float32Array(C);
  const runningVar = args.runningVar ?? new Float32Array(C).fill(1);
  const layer = bnLayer(tf, eps, 0.99, weight, bias);
  return withLayer(tf, layer, shape, [weight, bias, runningMean, runningVar], [C], (l) =>
    layerGrads(tf, l, args.x, args.dy, shape, training, weight !== null, bias !== null));
}

function lnLayer(tf: TF, args: LayerNormArgs): Layer {
  const { shape, normalizedShape, eps, weight, bias } = args;
  const axis = Array.from({ length: normalizedShape.length }, (_, i) => shape.length - normalizedShape.length + i);
  return tf.layers.layerNormalization({ axis, epsilon: eps, scale: weight !== null, center: bias !== null }) as unknown as Layer;
}

export function lnForward(tf: TF, args: LayerNormArgs): LayerNormResult {
  return withLayer(tf, lnLayer(tf, args), args.shape, [args.weight, args.bias], args.normalizedShape, (l) => ({
    y: scoped(tf, () => read(l.apply(tf.tensor(f32(args.x), [...args.shape], 'float32')) as Tensor)),
  }));
}

export function lnBackward(tf: TF, args: LayerNormBackwardArgs): Grads {
  return withLayer(tf, lnLayer(tf, args), args.shape, [args.weight, args.bias], args.normalizedShape, (l) =>
    layerGrads(tf, l, args.x, args.dy, args.shape, true, args.weight !== null, args.bias !== null));
}

/**
 * What tf.layers cannot take (docs/divergences.md): batchNormalization is not implemented for rank-5 inputs
 * (BatchNorm3d shapes; layerNormalization normalises through it, so a LayerNorm input of rank 5 too), its
 * training mode throws with scale and center false, and the gradient through tf.batchNorm without scale or
 * offset throws (tf-grad-omitted-affine). Declared, so each capability is graded on what it takes.
 */
const LAYERS_UNSUPPORTED = {
  '*': ['rank5'],
  bnTrainForward: ['no_affine'],
  bnBackward: ['no_affine'],
  lnBackward: ['no_affine'],
} as const;

export const layersImpl: TfjsImpl = { profile: 'keras', unsupported: LAYERS_UNSUPPORTED, bnTrainForward, bnEvalForward, bnBackward, lnForward, lnBackward };
