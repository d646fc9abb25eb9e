/**
 * The normalisation kernels allocate no typed array in the hot path (issue 3): after a first call at a given size
 * (the wasm versions grow their memory and make their views then), further calls of every version, both layouts,
 * create no typed array, ArrayBuffer or subarray view. Counted by wrapping the constructors and `subarray` on
 * the global object for the duration of the calls, so a count of 0 is not a GC artefact.
 */
import { describe, expect, it } from 'vitest';
import {
  BATCHNORM_BACKWARD_VERSIONS, BATCHNORM_EVAL_VERSIONS, BATCHNORM_FORWARD_VERSIONS, batchNormBackward, batchNormEvalForward, batchNormTrainForward,
  BatchNormWorkspace, LAYERNORM_BACKWARD_VERSIONS, LAYERNORM_FORWARD_VERSIONS, layerNormBackward, layerNormForward,
  LayerNormWorkspace, type BatchNormLayout,
} from '../../kernels/index.js';
import { countTypedArrays } from '../helpers/allocations.js';
import { seededRng } from '../helpers/arbitraries.js';

function normals(seed: number, n: number): Float32Array {
  const rng = seededRng(seed);
  return Float32Array.from({ length: n }, () => 3 + rng.normal());
}

describe('normalisation kernels allocate nothing per call', () => {
  it('the counter sees a typed array and a view made inside it (so 0 means something)', () => {
    expect(countTypedArrays(() => void new Float32Array(4).subarray(1))).toBe(2);
  });

  it.each(['NCHW', 'NHWC'] as BatchNormLayout[])('%s BatchNorm: every training, eval and backward version, 0 typed arrays after the first call', (layout) => {
    const dims = { N: 3, C: 6, S: 10 };
    const n = dims.N * dims.C * dims.S;
    const x = normals(1, n);
    const dy = normals(2, n);
    const weight = normals(3, dims.C);
    const bias = normals(4, dims.C);
    const y = new Float32Array(n);
    const dx = new Float32Array(n);
    const mean = new Float64Array(dims.C);
    const rstd = new Float64Array(dims.C);
    const dweight = new Float32Array(dims.C);
    const dbias = new Float32Array(dims.C);
    const workspace = new BatchNormWorkspace(dims.C);
    const running = { runningMean: new Float32Array(dims.C), runningVar: new Float32Array(dims.C).fill(1), numBatchesTracked: 0 };
    const calls = (): void => {
      for (const version of BATCHNORM_FORWARD_VERSIONS) {
        for (const relu of [false, true]) {
          batchNormTrainForward({ x, dims, layout, weight, bias, relu, running, y, mean, rstd, workspace, version });
        }
      }
      for (const version of BATCHNORM_BACKWARD_VERSIONS) {
        batchNormBackward({ dy, x, dims, layout, weight, mean, rstd, training: true, dx, dweight, dbias, workspace, version });
        batchNormBackward({ dy, x, dims, layout, weight, mean, rstd, training: true, reluOutput: y, dx, dweight, dbias, workspace, version });
      }
      for (const version of BATCHNORM_EVAL_VERSIONS) batchNormEvalForward({ x, dims, layout, weight, bias, running, y, mean, rstd, workspace, version });
    };
    calls();
    expect(countTypedArrays(() => { for (let k = 0; k < 5; k++) calls(); })).toBe(0);
  });

  it('LayerNorm: every forward and backward version, with and without weight, 0 typed arrays after the first call', () => {
    const dims = { R: 5, D: 9 };
    const n = dims.R * dims.D;
    const x = normals(5, n);
    const dy = normals(6, n);
    const weight = normals(7, dims.D);
    const bias = normals(8, dims.D);
    const y = new Float32Array(n);
    const dx = new Float32Array(n);
    const mean = new Float64Array(dims.R);
    const rstd = new Float64Array(dims.R);
    const dweight = new Float32Array(dims.D);
    const dbias = new Float32Array(dims.D);
    const workspace = new LayerNormWorkspace(dims.D);
    const calls = (): void => {
      for (const version of LAYERNORM_FORWARD_VERSIONS) {
        layerNormForward({ x, dims, weight, bias, y, mean, rstd, version });
        layerNormForward({ x, dims, y, mean, rstd, version });
      }
      for (const version of LAYERNORM_BACKWARD_VERSIONS) {
        layerNormBackward({ dy, x, dims, weight, mean, rstd, dx, dweight, dbias, workspace, version });
        layerNormBackward({ dy, x, dims, mean, rstd, dx, workspace, version });
      }
    };
    calls();
    expect(countTypedArrays(() => { for (let k = 0; k < 5; k++) calls(); })).toBe(0);
  });
});
