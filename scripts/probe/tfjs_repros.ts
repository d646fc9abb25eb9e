/**
 * The minimal reproductions behind docs/divergences.md's TensorFlow.js section, one function each, so the
 * document, the probe (tfjs_api_probe.ts) and the regression test (test/tfjs/divergences.test.ts) run the
 * same few lines. Each returns what tfjs did: `correct` is false while the divergence is present, and
 * `observed` says what happened (the error message, or the numbers).
 *
 * Every function disposes what it creates, including after an exception (tfjs abandons its gradient tape
 * then: see conformance/adapters/tfjs/backend.ts disposeAbandonedTape).
 */
import type { Tensor } from '@tensorflow/tfjs';
import { disposeAbandonedTape, type TF } from '../../conformance/adapters/tfjs/backend.js';

export interface ReproOutcome {
  correct: boolean;
  observed: string;
}

/** Runs `body` in a tidy; an exception becomes `{ correct: false, observed: message }`. */
function attempt(tf: TF, body: () => ReproOutcome): ReproOutcome {
  try {
    let out!: ReproOutcome;
    tf.tidy(() => {
      out = body();
    });
    return out;
  } catch (err) {
    disposeAbandonedTape(tf);
    return { correct: false, observed: `throws ${(err as Error).constructor.name}: ${(err as Error).message.split('\n')[0]}` };
  }
}

const list = (t: Tensor): string => `[${Array.from(t.dataSync(), (v) => Number(v.toFixed(4))).join(', ')}]`;

/** tfjs-grad-omitted-affine: differentiate training-mode BN with neither scale nor offset. */
export function gradWithoutAffine(tf: TF): ReproOutcome {
  return attempt(tf, () => {
    const x = tf.tensor2d([[1, 2], [3, 5], [4, 4]]);
    const f = (x: Tensor) => {
      const { mean, variance } = tf.moments(x, [0]);
      return tf.batchNorm(x, mean, variance, undefined, undefined, 1e-5);
    };
    const [dx] = tf.grads(f)([x], tf.tensor2d([[1, 0], [0, 1], [1, 1]]));
    return { correct: true, observed: `dx = ${list(dx!)}` };
  });
}

/** Same, scale given and offset omitted (a Linear → BN without bias is common). */
export function gradWithoutOffset(tf: TF): ReproOutcome {
  return attempt(tf, () => {
    const x = tf.tensor2d([[1, 2], [3, 5], [4, 4]]);
    const scale = tf.tensor1d([2, 3]);
    const f = (x: Tensor, s: Tensor) => {
      const { mean, variance } = tf.moments(x, [0]);
      return tf.batchNorm(x, mean, variance, undefined, s, 1e-5);
    };
    const [dx] = tf.grads(f)([x, scale]);
    return { correct: true, observed: `dx = ${list(dx!)}` };
  });
}

/** Eval mode: running statistics as constants, no scale or offset. */
export function evalGradWithoutAffine(tf: TF): ReproOutcome {
  return attempt(tf, () => {
    const x = tf.tensor2d([[1, 2], [3, 5]]);
    const [dx] = tf.grads((x: Tensor) => tf.batchNorm(x, tf.tensor1d([0, 0]), tf.tensor1d([1, 1]), undefined, undefined, 1e-5))([x]);
    return { correct: true, observed: `dx = ${list(dx!)}` };
  });
}

/** tfjs-rank5-backward: BatchNorm3d-shaped input (N, D, H, W, C). The forward works; the gradient throws. */
export function rank5Backward(tf: TF): ReproOutcome {
  return attempt(tf, () => {
    const x = tf.randomNormal([2, 2, 2, 2, 3], 0, 1, 'float32', 1);
    const f = (x: Tensor) => {
      const { mean, variance } = tf.moments(x, [0, 1, 2, 3]);
      return tf.batchNorm(x, mean, variance, tf.zeros([3]), tf.ones([3]), 1e-5);
    };
    const [dx] = tf.grads(f)([x]);
    return { correct: true, observed: `dx has shape [${dx!.shape.join(', ')}]` };
  });
}

/** tfjs-layers-rank5: the batchNormalization layer on a rank-5 input (and layerNormalization on rank 1 or 5). */
export function layerRank5(tf: TF): ReproOutcome {
  const layer = tf.layers.batchNormalization({ epsilon: 1e-5 });
  try {
    return attempt(tf, () => {
      const y = layer.apply(tf.randomNormal([2, 2, 2, 2, 3], 0, 1, 'float32', 1), { training: true }) as Tensor;
      return { correct: true, observed: `y has shape [${y.shape.join(', ')}]` };
    });
  } finally {
    for (const w of layer.weights) w.dispose();
  }
}

export function layerNormRank1(tf: TF): ReproOutcome {
  const layer = tf.layers.layerNormalization({ epsilon: 1e-5 });
  try {
    return attempt(tf, () => {
      const y = layer.apply(tf.tensor1d([1, 2, 4])) as Tensor;
      return { correct: true, observed: `y = ${list(y)}` };
    });
  } finally {
    for (const w of layer.weights) w.dispose();
  }
}

/** tfjs-layers-rank5: layerNormalization over three trailing axes of a rank-5 input (ln.forward.multi_axis). */
export function layerNormRank5(tf: TF): ReproOutcome {
  const layer = tf.layers.layerNormalization({ axis: [2, 3, 4], epsilon: 1e-5 });
  try {
    return attempt(tf, () => {
      const y = layer.apply(tf.randomNormal([2, 2, 2, 2, 3], 0, 1, 'float32', 1)) as Tensor;
      return { correct: true, observed: `y has shape [${y.shape.join(', ')}]` };
    });
  } finally {
    for (const w of layer.weights) w.dispose();
  }
}

/** tfjs-layers-no-affine-training: batchNormalization({ scale: false }) in training mode. */
export function layerWithoutScaleTraining(tf: TF): ReproOutcome {
  const layer = tf.layers.batchNormalization({ scale: false, epsilon: 1e-5 });
  try {
    return attempt(tf, () => {
      const y = layer.apply(tf.tensor2d([[1, 2], [3, 5], [4, 4]]), { training: true }) as Tensor;
      return { correct: true, observed: `y = ${list(y)}` };
    });
  } finally {
    for (const w of layer.weights) w.dispose();
  }
}

/** tfjs-batchnorm-no-broadcast: per-row statistics of shape (R, 1) are walked cyclically, not broadcast. */
export function rowStatisticsNotBroadcast(tf: TF): ReproOutcome {
  return attempt(tf, () => {
    const x = tf.tensor2d([[1, 2, 3], [10, 20, 30]]);
    const { mean, variance } = tf.moments(x, [1], true); // shape (2, 1): one mean per row
    const y = tf.batchNorm(x, mean, variance, undefined, undefined, 1e-5);
    const expected = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5)));
    const err = tf.max(tf.abs(tf.sub(y, expected))).dataSync()[0]!;
    return { correct: err < 1e-5, observed: `y = ${list(y)}, expected ${list(expected)}` };
  });
}

/** tfjs-batchnorm-no-broadcast (NCHW): statistics of shape (1, C, 1, 1) are walked along the last axis. */
export function nchwStatisticsNotBroadcast(tf: TF): ReproOutcome {
  return attempt(tf, () => {
    const x = tf.tensor4d([1, 2, 10, 20], [1, 2, 1, 2]); // N = 1, C = 2, H = 1, W = 2
    const mean = tf.tensor4d([1.5, 15], [1, 2, 1, 1]);
    const variance = tf.tensor4d([0.25, 25], [1, 2, 1, 1]);
    const y = tf.batchNorm(x, mean, variance, undefined, undefined, 0);
    const expected = tf.mul(tf.sub(x, mean), tf.rsqrt(variance)); // elementwise ops broadcast: [-1, 1, -1, 1]
    const err = tf.max(tf.abs(tf.sub(y, expected))).dataSync()[0]!;
    return { correct: err < 1e-5, observed: `y = ${list(y)}, expected ${list(expected)}` };
  });
}

/** tfjs-layers-moving-average-form: momentum 0 (replace the moving variance by the batch's) loses a tiny variance. */
export function movingAverageAtFactorOne(tf: TF): ReproOutcome {
  const layer = tf.layers.batchNormalization({ momentum: 0, epsilon: 1e-5 });
  try {
    return attempt(tf, () => {
      layer.build([2, 1]);
      layer.setWeights([tf.ones([1]), tf.zeros([1]), tf.zeros([1]), tf.tensor1d([1.184])]);
      // two values 1.5e-6 apart: biased variance 5.78e-13
      layer.apply(tf.tensor2d([[-0.4671411514282227], [-0.46714267134666443]]), { training: true });
      const movingVariance = layer.getWeights()[3]!.dataSync()[0]!;
      return { correct: Math.abs(movingVariance - 5.78e-13) < 1e-14, observed: `moving_variance = ${movingVariance} (batch variance 5.78e-13)` };
    });
  } finally {
    for (const w of layer.weights) w.dispose();
  }
}

/** tfjs-failed-grads-leak: the tensors a failed tf.grads saved stay alive (without our cleanup). */
export function failedGradsLeak(tf: TF): ReproOutcome {
  const before = tf.memory().numTensors;
  try {
    tf.tidy(() => {
      const x = tf.tensor2d([[1, 2], [3, 5]]);
      tf.grads((x: Tensor) => tf.batchNorm(x, tf.tensor1d([0, 0]), tf.tensor1d([1, 1]), undefined, undefined, 1e-5))([x]);
    });
  } catch {
    // the failure itself is gradWithoutAffine's finding; here we count what it leaves behind
  }
  const leaked = tf.memory().numTensors - before;
  disposeAbandonedTape(tf);
  return { correct: leaked === 0, observed: `${leaked} tensors alive after the failed call (${tf.memory().numTensors - before} after disposing the abandoned tape)` };
}

/** Every reproduction, by its anchor in docs/divergences.md. */
export const TFJS_REPROS: Record<string, (tf: TF) => ReproOutcome> = {
  'tfjs-grad-omitted-affine': gradWithoutAffine,
  'tfjs-grad-omitted-affine (offset only)': gradWithoutOffset,
  'tfjs-grad-omitted-affine (eval)': evalGradWithoutAffine,
  'tfjs-rank5-backward': rank5Backward,
  'tfjs-layers-rank5': layerRank5,
  'tfjs-layers-rank5 (layerNormalization, rank 1)': layerNormRank1,
  'tfjs-layers-rank5 (layerNormalization, three axes of rank 5)': layerNormRank5,
  'tfjs-layers-no-affine-training': layerWithoutScaleTraining,
  'tfjs-batchnorm-no-broadcast': rowStatisticsNotBroadcast,
  'tfjs-batchnorm-no-broadcast (NCHW)': nchwStatisticsNotBroadcast,
  'tfjs-layers-moving-average-form': movingAverageAtFactorOne,
  'tfjs-failed-grads-leak': failedGradsLeak,
};
