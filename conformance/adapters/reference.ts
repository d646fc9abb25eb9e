/**
 * The `reference` adapter: the float64 reference (reference/) behind the adapter contract, PyTorch
 * conventions, NCHW, every capability of every norm. It should pass every check; when it does not, the suite
 * (or the reference) is wrong.
 */
import {
  batchNormBackward, batchNormEval, batchNormTrain, groupNormBackward, groupNormForward, instanceNormBackward, instanceNormForward,
  layerNormBackward, layerNormForward, rmsNormBackward, rmsNormDefaultEps, rmsNormForward,
} from '../../reference/index.js';
import { defineAdapter } from '../adapter.js';

export default defineAdapter({
  name: 'reference',
  description: 'float64 reference implementation (reference/), PyTorch semantics',
  precision: 'float64',
  layout: 'NCHW',
  profile: 'pytorch',

  bnTrainForward({ x, shape, weight, bias, runningMean, runningVar, numBatchesTracked, momentum, eps }) {
    // no running buffers: track_running_stats = False
    const running = runningMean && runningVar ? { runningMean: Float64Array.from(runningMean), runningVar: Float64Array.from(runningVar), numBatchesTracked } : null;
    const r = batchNormTrain({ x, shape, weight, bias, momentum, eps, unbiasedRunningVar: true, running });
    return {
      y: r.y, mean: r.mean, rstd: r.rstd,
      ...(r.running ? { runningMean: r.running.runningMean, runningVar: r.running.runningVar, numBatchesTracked: r.running.numBatchesTracked } : {}),
    };
  },

  bnEvalForward({ x, shape, weight, bias, runningMean, runningVar, eps }) {
    return { y: batchNormEval({ x, shape, weight, bias, running: { runningMean, runningVar }, eps }).y };
  },

  bnBackward({ dy, x, shape, weight, training, runningMean, runningVar, eps }) {
    let mean: ArrayLike<number>;
    let rstd: ArrayLike<number>;
    if (training) {
      ({ mean, rstd } = batchNormTrain({ x, shape, eps }));
    } else {
      if (!runningMean || !runningVar) throw new Error('runningMean, runningVar: required for the eval-mode backward');
      mean = runningMean;
      rstd = Float64Array.from(runningVar, (v) => 1 / Math.sqrt(v + eps));
    }
    return batchNormBackward({ dy, x, shape, weight, mean, rstd, training });
  },

  lnForward({ x, shape, normalizedShape, weight, bias, eps }) {
    return layerNormForward({ x, shape, normalizedShape, weight, bias, eps });
  },

  lnBackward({ dy, x, shape, normalizedShape, weight, bias, eps }) {
    const { mean, rstd } = layerNormForward({ x, shape, normalizedShape, eps });
    return layerNormBackward({ dy, x, shape, normalizedShape, weight, hasBias: bias != null, mean, rstd });
  },

  gnForward({ x, shape, numGroups, weight, bias, eps }) {
    return groupNormForward({ x, shape, numGroups, weight, bias, eps });
  },

  gnBackward({ dy, x, shape, numGroups, weight, bias, eps }) {
    const { mean, rstd } = groupNormForward({ x, shape, numGroups, eps });
    return groupNormBackward({ dy, x, shape, numGroups, weight, hasBias: bias != null, mean, rstd });
  },

  inForward({ x, shape, weight, bias, runningMean, runningVar, useInputStats, momentum, eps }) {
    const running = runningMean && runningVar ? { runningMean, runningVar } : null;
    const r = instanceNormForward({ x, shape, weight, bias, running, useInputStats, momentum, eps });
    return { y: r.y, mean: r.mean, rstd: r.rstd, ...(r.running ? { runningMean: r.running.runningMean, runningVar: r.running.runningVar } : {}) };
  },

  inBackward({ dy, x, shape, weight, bias, useInputStats, runningMean, runningVar, eps }) {
    const running = runningMean && runningVar ? { runningMean, runningVar } : null;
    const { mean, rstd } = instanceNormForward({ x, shape, running: useInputStats ? null : running, useInputStats, eps });
    return instanceNormBackward({ dy, x, shape, weight, hasBias: bias != null, mean, rstd, useInputStats });
  },

  rmsForward({ x, shape, normalizedShape, weight, eps }) {
    // eps null: PyTorch's None for float64, the double epsilon
    return rmsNormForward({ x, shape, normalizedShape, weight, eps: eps ?? rmsNormDefaultEps('float64') });
  },

  rmsBackward({ dy, x, shape, normalizedShape, weight, eps }) {
    const { rstd } = rmsNormForward({ x, shape, normalizedShape, eps: eps ?? rmsNormDefaultEps('float64') });
    return { ...rmsNormBackward({ dy, x, shape, normalizedShape, weight, rstd }), dbias: null };
  },
});
