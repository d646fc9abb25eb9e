// Your own WebGPU kernels under test: BatchNorm and LayerNorm in WGSL (wgsl/norms_wgsl.ts), forward and
// backward, through webgpuAdapter, which hands every capability a ready GPU session. A capability only
// packs its arguments and dispatches: `gpu.run(WGSL, entryPoint, bindings by WGSL name, workgroups)`
// uploads the typed arrays and returns every read_write buffer.
//
//   normcheck check dist/conformance/examples/wgsl-norms.js          (Node: Dawn, the `webgpu` package)
// Outside this repository, import from 'normcheck/conformance' instead of '../webgpu/adapter.js'.
import type { BatchNormTrainArgs, FloatArray } from '../adapter.js';
import { webgpuAdapter, type WebGpuAdapterSpec } from '../webgpu/adapter.js';
import type { GpuSession } from '../webgpu/session.js';
import { batchNormWgsl, layerNormWgsl, type Moments } from './wgsl/norms_wgsl.js';

/** Dispatch size for a loop over `count` items: the kernels stride by it, so the 65 535 limit never binds. */
const groups = (count: number) => Math.max(1, Math.min(count, 65535));

/** weight then bias, as the kernels read them; absent parameters are the identity (1, 0). */
function affine(n: number, weight: FloatArray | null, bias: FloatArray | null): Float32Array {
  const a = new Float32Array(2 * n);
  if (weight) a.set(weight, 0);
  else a.fill(1, 0, n);
  if (bias) a.set(bias, n);
  return a;
}

function pair(a: FloatArray, b: FloatArray): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function rows(shape: readonly number[], normalizedShape: readonly number[]) {
  const D = normalizedShape.reduce((a, b) => a * b, 1);
  return { D, R: shape.reduce((a, b) => a * b, 1) / D };
}

/** The example adapter; `moments: 'one-pass'` swaps in the E[x²] - E[x]² variance (a known bug). */
export function wgslNormsAdapter(name: string, moments: Moments, description: string) {
  const BN = batchNormWgsl(moments);
  const LN = layerNormWgsl(moments);
  const bnSizes = (shape: readonly number[], length: number) => {
    const [N, C] = shape as [number, number];
    return { N, C, S: length / (N * C) };
  };
  const spec: WebGpuAdapterSpec = {
    name, description, precision: 'float32', layout: 'NCHW', profile: 'pytorch',

    async bnTrainForward(gpu: GpuSession, a: BatchNormTrainArgs) {
      const { N, C, S } = bnSizes(a.shape, a.x.length);
      const f = a.momentum ?? 1 / (a.numBatchesTracked + 1); // momentum null: cumulative average
      const { y, stats } = await gpu.run(BN, 'bn_train_forward', {
        p: { u32: [N, C, S], f32: [a.eps, f] }, x: a.x as Float32Array, affine: affine(C, a.weight, a.bias),
        // no running buffers (track_running_stats=False): the shader updates zeros and ones, which are not returned
        running: pair(a.runningMean ?? new Float32Array(C), a.runningVar ?? new Float32Array(C).fill(1)), y: a.x.length, stats: 4 * C,
      }, groups(C));
      const running = a.runningMean && a.runningVar ? { runningMean: stats.slice(2 * C, 3 * C), runningVar: stats.slice(3 * C) } : {};
      return { y, mean: stats.slice(0, C), rstd: stats.slice(C, 2 * C), ...running };
    },

    async bnEvalForward(gpu, a) {
      const { N, C, S } = bnSizes(a.shape, a.x.length);
      const { y } = await gpu.run(BN, 'bn_eval_forward', {
        p: { u32: [N, C, S], f32: [a.eps, 0] }, x: a.x as Float32Array, affine: affine(C, a.weight, a.bias),
        running: pair(a.runningMean, a.runningVar), y: a.x.length,
      }, groups(Math.ceil(a.x.length / 64)));
      return { y };
    },

    async bnBackward(gpu, a) {
      const { N, C, S } = bnSizes(a.shape, a.x.length);
      const common = { p: { u32: [N, C, S], f32: [a.eps, 0] }, x: a.x as Float32Array, dy: a.dy as Float32Array, affine: affine(C, a.weight, a.bias), dx: a.x.length, dparams: 2 * C };
      const { dx, dparams } = a.training
        ? await gpu.run(BN, 'bn_backward_train', common, groups(C))
        : await gpu.run(BN, 'bn_backward_eval', { ...common, running: pair(a.runningMean!, a.runningVar!) }, groups(C));
      return { dx, dweight: a.weight ? dparams.slice(0, C) : null, dbias: a.bias ? dparams.slice(C) : null };
    },

    async lnForward(gpu, a) {
      const { R, D } = rows(a.shape, a.normalizedShape);
      const { y, stats } = await gpu.run(LN, 'ln_forward', {
        p: { u32: [R, D], f32: [a.eps] }, x: a.x as Float32Array, affine: affine(D, a.weight, a.bias), y: a.x.length, stats: 2 * R,
      }, groups(R));
      return { y, mean: stats.slice(0, R), rstd: stats.slice(R) };
    },

    async lnBackward(gpu, a) {
      const { R, D } = rows(a.shape, a.normalizedShape);
      const p = { u32: [R, D], f32: [a.eps] };
      const x = a.x as Float32Array, dy = a.dy as Float32Array;
      const { dx, stats } = await gpu.run(LN, 'ln_backward_dx', { p, x, dy, affine: affine(D, a.weight, a.bias), dx: x.length, stats: 2 * R }, groups(R));
      const { dparams } = await gpu.run(LN, 'ln_backward_dparams', { p, x, dy, saved: stats, dparams: 2 * D }, groups(Math.ceil(D / 64)));
      return { dx, dweight: a.weight ? dparams.slice(0, D) : null, dbias: a.bias ? dparams.slice(D) : null };
    },
  };
  return webgpuAdapter(spec);
}

export default wgslNormsAdapter('wgsl-norms', 'two-pass',
  'example WebGPU adapter: WGSL BatchNorm/LayerNorm forward and backward, two-pass moments, one workgroup per channel/row');
