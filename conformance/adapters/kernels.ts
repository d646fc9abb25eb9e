/**
 * The `kernels` adapters: normcheck's own Float32 kernels (kernels/) behind the adapter contract, in both
 * layouts (`kernels` NCHW, `kernels-nhwc` channels-last; GroupNorm and InstanceNorm follow the layout like
 * BatchNorm, LayerNorm and RMSNorm are layout-free). PyTorch conventions.
 *
 * The kernels update the running buffers in place (as PyTorch does); the contract forbids touching inputs,
 * so the adapter hands them copies. The backward needs the forward's saved float64 statistics: the adapter
 * recomputes them with the kernels' own forward (training: batch statistics; eval: running ones). RMSNorm's
 * eps null goes through as null: the kernels' default is PyTorch's eps=None for float32, 2⁻²³.
 */
import {
  batchNormBackward, batchNormEvalForward, batchNormTrainForward, BatchNormWorkspace, groupNormBackward, groupNormForward,
  GroupNormWorkspace, instanceNormBackward, instanceNormForward, InstanceNormWorkspace, layerNormBackward, layerNormForward,
  LayerNormWorkspace, rmsNormBackward, rmsNormForward, RmsNormWorkspace, type BatchNormDims,
} from '../../kernels/index.js';
import { defineAdapter, type Adapter, type FloatArray, type Layout } from '../adapter.js';

const prod = (a: readonly number[]) => a.reduce((p, d) => p * d, 1);

function dimsOf(shape: readonly number[], layout: Layout): BatchNormDims {
  return layout === 'NCHW'
    ? { N: shape[0]!, C: shape[1]!, S: prod(shape.slice(2)) }
    : { N: shape[0]!, C: shape[shape.length - 1]!, S: prod(shape.slice(1, -1)) };
}

/** The kernels take Float32Array; the suite gives a float32 adapter exactly that. */
const f32 = (a: FloatArray | null): Float32Array | null => (a == null ? null : (a as Float32Array));

export function kernelsAdapter(layout: Layout): Adapter {
  return defineAdapter({
    name: layout === 'NCHW' ? 'kernels' : 'kernels-nhwc',
    description: `Float32 kernels (kernels/), ${layout}`,
    precision: 'float32',
    layout,
    profile: 'pytorch',

    bnTrainForward({ x, shape, weight, bias, runningMean, runningVar, numBatchesTracked, momentum, eps }) {
      const dims = dimsOf(shape, layout);
      // no running buffers: track_running_stats = False (the kernel takes running: null)
      const running = runningMean && runningVar ? { runningMean: Float32Array.from(runningMean), runningVar: Float32Array.from(runningVar), numBatchesTracked } : null;
      const y = new Float32Array(x.length);
      const mean = new Float64Array(dims.C);
      const rstd = new Float64Array(dims.C);
      batchNormTrainForward({
        x: f32(x)!, dims, layout, weight: f32(weight), bias: f32(bias), eps, running, momentum, y, mean, rstd,
        workspace: new BatchNormWorkspace(dims.C),
      });
      return {
        y, mean: Float32Array.from(mean), rstd: Float32Array.from(rstd),
        ...(running ? { runningMean: running.runningMean, runningVar: running.runningVar, numBatchesTracked: running.numBatchesTracked } : {}),
      };
    },

    bnEvalForward({ x, shape, weight, bias, runningMean, runningVar, eps }) {
      const dims = dimsOf(shape, layout);
      const y = new Float32Array(x.length);
      batchNormEvalForward({
        x: f32(x)!, dims, layout, weight: f32(weight), bias: f32(bias), running: { runningMean: f32(runningMean)!, runningVar: f32(runningVar)! }, eps, y,
        mean: new Float64Array(dims.C), rstd: new Float64Array(dims.C), workspace: new BatchNormWorkspace(dims.C),
      });
      return { y };
    },

    bnBackward({ dy, x, shape, weight, bias, training, runningMean, runningVar, eps }) {
      const dims = dimsOf(shape, layout);
      const workspace = new BatchNormWorkspace(dims.C);
      const mean = new Float64Array(dims.C);
      const rstd = new Float64Array(dims.C);
      const scratch = new Float32Array(x.length);
      if (training) {
        batchNormTrainForward({ x: f32(x)!, dims, layout, weight: f32(weight), bias: f32(bias), eps, y: scratch, mean, rstd, workspace });
      } else {
        if (!runningMean || !runningVar) throw new Error('runningMean, runningVar: required for the eval-mode backward');
        batchNormEvalForward({
          x: f32(x)!, dims, layout, weight: f32(weight), bias: f32(bias), running: { runningMean: f32(runningMean)!, runningVar: f32(runningVar)! }, eps,
          y: scratch, mean, rstd, workspace,
        });
      }
      const dx = new Float32Array(x.length);
      const dweight = weight ? new Float32Array(dims.C) : null;
      const dbias = bias ? new Float32Array(dims.C) : null;
      batchNormBackward({ dy: f32(dy)!, x: f32(x)!, dims, layout, weight: f32(weight), mean, rstd, training, dx, dweight, dbias, workspace });
      return { dx, dweight, dbias };
    },

    lnForward({ x, normalizedShape, weight, bias, eps }) {
      const D = prod(normalizedShape);
      const dims = { R: x.length / D, D };
      const y = new Float32Array(x.length);
      const mean = new Float64Array(dims.R);
      const rstd = new Float64Array(dims.R);
      layerNormForward({ x: f32(x)!, dims, weight: f32(weight), bias: f32(bias), eps, y, mean, rstd });
      return { y, mean: Float32Array.from(mean), rstd: Float32Array.from(rstd) };
    },

    lnBackward({ dy, x, normalizedShape, weight, bias, eps }) {
      const D = prod(normalizedShape);
      const dims = { R: x.length / D, D };
      const mean = new Float64Array(dims.R);
      const rstd = new Float64Array(dims.R);
      layerNormForward({ x: f32(x)!, dims, weight: f32(weight), bias: f32(bias), eps, y: new Float32Array(x.length), mean, rstd });
      const dx = new Float32Array(x.length);
      const dweight = weight ? new Float32Array(D) : null;
      const dbias = bias ? new Float32Array(D) : null;
      layerNormBackward({ dy: f32(dy)!, x: f32(x)!, dims, weight: f32(weight), mean, rstd, dx, dweight, dbias, workspace: new LayerNormWorkspace(D) });
      return { dx, dweight, dbias };
    },

    gnForward({ x, shape, numGroups, weight, bias, eps }) {
      const dims = dimsOf(shape, layout);
      const NG = dims.N * numGroups;
      const y = new Float32Array(x.length);
      const mean = new Float64Array(Number.isInteger(NG) && NG > 0 ? NG : 0);
      const rstd = new Float64Array(mean.length);
      groupNormForward({
        x: f32(x)!, dims, numGroups, layout, weight: f32(weight), bias: f32(bias), eps, y, mean, rstd, workspace: new GroupNormWorkspace(dims.C),
      });
      return { y, mean: Float32Array.from(mean), rstd: Float32Array.from(rstd) };
    },

    gnBackward({ dy, x, shape, numGroups, weight, bias, eps }) {
      const dims = dimsOf(shape, layout);
      const NG = dims.N * numGroups;
      const workspace = new GroupNormWorkspace(dims.C);
      const mean = new Float64Array(Number.isInteger(NG) && NG > 0 ? NG : 0);
      const rstd = new Float64Array(mean.length);
      groupNormForward({
        x: f32(x)!, dims, numGroups, layout, weight: f32(weight), bias: f32(bias), eps, y: new Float32Array(x.length), mean, rstd, workspace,
      });
      const dx = new Float32Array(x.length);
      const dweight = weight ? new Float32Array(dims.C) : null;
      const dbias = bias ? new Float32Array(dims.C) : null;
      groupNormBackward({ dy: f32(dy)!, x: f32(x)!, dims, numGroups, layout, weight: f32(weight), mean, rstd, dx, dweight, dbias, workspace });
      return { dx, dweight, dbias };
    },

    inForward({ x, shape, weight, bias, runningMean, runningVar, useInputStats, momentum, eps }) {
      const dims = dimsOf(shape, layout);
      const running = runningMean && runningVar ? { runningMean: Float32Array.from(runningMean), runningVar: Float32Array.from(runningVar) } : null;
      const y = new Float32Array(x.length);
      const mean = new Float64Array(dims.N * dims.C);
      const rstd = new Float64Array(dims.N * dims.C);
      instanceNormForward({
        x: f32(x)!, dims, layout, weight: f32(weight), bias: f32(bias), running, useInputStats, momentum, eps, y, mean, rstd,
        workspace: new InstanceNormWorkspace(dims.C),
      });
      return {
        y, mean: Float32Array.from(mean), rstd: Float32Array.from(rstd),
        ...(running ? { runningMean: running.runningMean, runningVar: running.runningVar } : {}),
      };
    },

    inBackward({ dy, x, shape, weight, bias, useInputStats, runningMean, runningVar, eps }) {
      const dims = dimsOf(shape, layout);
      const workspace = new InstanceNormWorkspace(dims.C);
      const mean = new Float64Array(dims.N * dims.C);
      const rstd = new Float64Array(dims.N * dims.C);
      // the forward's statistics: the instances' own, or (eval) the running ones; momentum 0 leaves copies unchanged
      const running = runningMean && runningVar ? { runningMean: Float32Array.from(runningMean), runningVar: Float32Array.from(runningVar) } : null;
      instanceNormForward({
        x: f32(x)!, dims, layout, weight: f32(weight), bias: f32(bias), running: useInputStats ? null : running, useInputStats, eps,
        y: new Float32Array(x.length), mean, rstd, workspace,
      });
      const dx = new Float32Array(x.length);
      const dweight = weight ? new Float32Array(dims.C) : null;
      const dbias = bias ? new Float32Array(dims.C) : null;
      instanceNormBackward({ dy: f32(dy)!, x: f32(x)!, dims, layout, weight: f32(weight), mean, rstd, useInputStats, dx, dweight, dbias, workspace });
      return { dx, dweight, dbias };
    },

    rmsForward({ x, normalizedShape, weight, eps }) {
      const D = prod(normalizedShape);
      const dims = { R: x.length / D, D };
      const y = new Float32Array(x.length);
      const rstd = new Float64Array(Number.isInteger(dims.R) && dims.R > 0 ? dims.R : 0);
      rmsNormForward({ x: f32(x)!, dims, weight: f32(weight), eps, y, rstd });
      return { y, rstd: Float32Array.from(rstd) };
    },

    rmsBackward({ dy, x, normalizedShape, weight, eps }) {
      const D = prod(normalizedShape);
      const dims = { R: x.length / D, D };
      const rstd = new Float64Array(Number.isInteger(dims.R) && dims.R > 0 ? dims.R : 0);
      rmsNormForward({ x: f32(x)!, dims, weight: f32(weight), eps, y: new Float32Array(x.length), rstd });
      const dx = new Float32Array(x.length);
      const dweight = weight ? new Float32Array(D) : null;
      rmsNormBackward({ dy: f32(dy)!, x: f32(x)!, dims, weight: f32(weight), rstd, dx, dweight, workspace: new RmsNormWorkspace(D) });
      return { dx, dweight, dbias: null };
    },
  });
}

export default kernelsAdapter('NCHW');
