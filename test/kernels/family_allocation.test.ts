/**
 * The GroupNorm, InstanceNorm and RMSNorm kernels allocate no typed array in the hot path: after a first call at
 * a given size (the wasm versions grow their memory and make their views then; InstanceNorm's workspace sizes
 * its variance buffer), further calls of every version, both layouts, every mode, create no typed array,
 * ArrayBuffer or subarray view (test/helpers/allocations.ts counts them; norm_allocation.test.ts shows the count
 * sees an allocation).
 */
import { describe, expect, it } from 'vitest';
import {
  GROUPNORM_BACKWARD_VERSIONS, GROUPNORM_FORWARD_VERSIONS, groupNormBackward, groupNormForward, GroupNormWorkspace,
  INSTANCENORM_BACKWARD_VERSIONS, INSTANCENORM_FORWARD_VERSIONS, instanceNormBackward, instanceNormForward, InstanceNormWorkspace,
  RMSNORM_BACKWARD_VERSIONS, RMSNORM_FORWARD_VERSIONS, rmsNormBackward, rmsNormForward, RmsNormWorkspace, type ChannelLayout,
} from '../../kernels/index.js';
import { countTypedArrays } from '../helpers/allocations.js';
import { seededRng } from '../helpers/arbitraries.js';

function normals(seed: number, n: number): Float32Array {
  const rng = seededRng(seed);
  return Float32Array.from({ length: n }, () => 3 + rng.normal());
}

describe('GroupNorm, InstanceNorm and RMSNorm kernels allocate nothing per call', () => {
  it.each(['NCHW', 'NHWC'] as ChannelLayout[])('%s GroupNorm and InstanceNorm: every version and mode, 0 typed arrays after the first call', (layout) => {
    const dims = { N: 3, C: 6, S: 10 };
    const n = dims.N * dims.C * dims.S;
    const x = normals(1, n);
    const dy = normals(2, n);
    const weight = normals(3, dims.C);
    const bias = normals(4, dims.C);
    const y = new Float32Array(n);
    const dx = new Float32Array(n);
    const gMean = new Float64Array(dims.N * 3);
    const gRstd = new Float64Array(dims.N * 3);
    const iMean = new Float64Array(dims.N * dims.C);
    const iRstd = new Float64Array(dims.N * dims.C);
    const dweight = new Float32Array(dims.C);
    const dbias = new Float32Array(dims.C);
    const gws = new GroupNormWorkspace(dims.C);
    const iws = new InstanceNormWorkspace(dims.C);
    const running = { runningMean: new Float32Array(dims.C), runningVar: new Float32Array(dims.C).fill(1) };
    const calls = (): void => {
      for (const version of GROUPNORM_FORWARD_VERSIONS) {
        groupNormForward({ x, dims, numGroups: 3, layout, weight, bias, y, mean: gMean, rstd: gRstd, workspace: gws, version });
        groupNormForward({ x, dims, numGroups: 3, layout, y, mean: gMean, rstd: gRstd, workspace: gws, version });
      }
      for (const version of GROUPNORM_BACKWARD_VERSIONS) {
        groupNormBackward({ dy, x, dims, numGroups: 3, layout, weight, mean: gMean, rstd: gRstd, dx, dweight, dbias, workspace: gws, version });
      }
      for (const version of INSTANCENORM_FORWARD_VERSIONS) {
        instanceNormForward({ x, dims, layout, weight, bias, running, y, mean: iMean, rstd: iRstd, workspace: iws, version });
        instanceNormForward({ x, dims, layout, weight, bias, running, useInputStats: false, y, mean: iMean, rstd: iRstd, workspace: iws, version });
      }
      for (const version of INSTANCENORM_BACKWARD_VERSIONS) {
        for (const useInputStats of [true, false]) {
          instanceNormBackward({ dy, x, dims, layout, weight, mean: iMean, rstd: iRstd, useInputStats, dx, dweight, dbias, workspace: iws, version });
        }
      }
    };
    calls();
    expect(countTypedArrays(() => { for (let k = 0; k < 5; k++) calls(); })).toBe(0);
  });

  it('RMSNorm: every forward and backward version, with and without weight, 0 typed arrays after the first call', () => {
    const dims = { R: 5, D: 9 };
    const n = dims.R * dims.D;
    const x = normals(5, n);
    const dy = normals(6, n);
    const weight = normals(7, dims.D);
    const y = new Float32Array(n);
    const dx = new Float32Array(n);
    const rstd = new Float64Array(dims.R);
    const dweight = new Float32Array(dims.D);
    const workspace = new RmsNormWorkspace(dims.D);
    const calls = (): void => {
      for (const version of RMSNORM_FORWARD_VERSIONS) {
        rmsNormForward({ x, dims, weight, y, rstd, version });
        rmsNormForward({ x, dims, y, rstd, version });
      }
      for (const version of RMSNORM_BACKWARD_VERSIONS) {
        rmsNormBackward({ dy, x, dims, weight, rstd, dx, dweight, workspace, version });
        rmsNormBackward({ dy, x, dims, rstd, dx, workspace, version });
      }
    };
    calls();
    expect(countTypedArrays(() => { for (let k = 0; k < 5; k++) calls(); })).toBe(0);
  });
});
