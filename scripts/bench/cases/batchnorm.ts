/**
 * BatchNorm benchmark cases (issue 3): training forward + backward on (32, 64, 56, 56) NCHW and its channels-last
 * twin, training forward alone on the same shape, and training forward + backward on (256, 256) — BatchNorm1d,
 * where both layouts are one (M, C) matrix.
 *
 * Every kernel version is validated against the float64 reference on the same float32 data, then timed. The
 * reference runs on the NCHW copy of the data in every case (it has no channels-last layout; same values).
 * tfjs computes the moments inside the differentiated function (tf.moments, then, channels-last, tf.batchNorm
 * with eps = 1e-5 passed explicitly — its default is 1e-3), so its gradient is the training-mode one, and gets dy
 * through tf.valueAndGrads. NCHW normalises with elementwise ops: tf.batchNorm with (1, C, 1, 1) statistics
 * returns wrong values (see tfjsBuilder). Timed tfjs runs do not read results back (its backends are
 * synchronous; tf.tidy disposes).
 */
import {
  BATCHNORM_BACKWARD_VERSIONS, BATCHNORM_FORWARD_VERSIONS, batchNormBackward, batchNormTrainForward, BatchNormWorkspace, BN_BACKWARD_WASM,
  BN_FORWARD_WASM, freeWasmArray, wasmFloat32Array, wasmFloat64Array, type BatchNormBackwardVersion, type BatchNormForwardVersion,
  type BatchNormLayout,
} from '../../../kernels/index.js';
import { batchNormBackward as refBackward, batchNormTrain as refTrain } from '../../../reference/index.js';
import type { TF } from '../../../conformance/adapters/tfjs/backend.js';
import { normalF32, toNchw, toNhwc, uniformF32 } from '../data.js';
import { all, KERNEL_TOL, normwise, PEER_TOL, type BenchCase, type Implementation, type Prepared } from '../harness.js';
import { tfjsImplementations } from '../peers.js';
import { pytorchImplementation } from '../pytorch.js';

interface BnData {
  N: number;
  C: number;
  /** spatial dims, [] for (N, C) */
  spatial: number[];
  S: number;
  x: Float32Array; // NCHW
  dy: Float32Array; // NCHW
  weight: Float32Array;
  bias: Float32Array;
}

interface BnReference {
  y: Float64Array;
  dx: Float64Array | null;
  dweight: Float64Array | null;
  dbias: Float64Array | null;
}

const dataCache = new Map<string, BnData>();
const referenceCache = new Map<string, BnReference>();

function bnData(N: number, C: number, spatial: number[]): BnData {
  const key = [N, C, ...spatial].join('x');
  let d = dataCache.get(key);
  if (!d) {
    const S = spatial.reduce((a, b) => a * b, 1);
    d = {
      N, C, spatial, S,
      x: normalF32(1, N * C * S, 0.5, 2), // offset 0.5, spread 2: a typical pre-normalisation activation
      dy: normalF32(2, N * C * S),
      weight: uniformF32(3, C, 0.5, 1.5),
      bias: uniformF32(4, C, -0.5, 0.5),
    };
    dataCache.set(key, d);
  }
  return d;
}

/** The float64 reference on the NCHW data, computed once per shape (with the backward when asked). */
function reference(d: BnData, backward: boolean): BnReference {
  const key = `${d.N}x${d.C}x${d.S}:${backward}`;
  let r = referenceCache.get(key);
  if (!r) {
    const shape = [d.N, d.C, d.S];
    const fwd = refTrain({ x: d.x, shape, weight: d.weight, bias: d.bias });
    if (backward) {
      const g = refBackward({ dy: d.dy, x: d.x, shape, weight: d.weight, mean: fwd.mean, rstd: fwd.rstd, training: true });
      r = { y: fwd.y, dx: g.dx, dweight: g.dweight, dbias: g.dbias };
    } else {
      r = { y: fwd.y, dx: null, dweight: null, dbias: null };
    }
    referenceCache.set(key, r);
  }
  return r;
}

/**
 * A kernel version pair on ordinary arrays (copied through the wasm memory by the wasm versions) or, with
 * `wasmArrays`, on arrays in the kernels' memory (kernels/shared/wasm_arrays.ts), which the wasm versions use in place.
 */
function kernelImplementation(
  data: () => BnData, layout: BatchNormLayout, fwd: BatchNormForwardVersion, bwd: BatchNormBackwardVersion | null, wasmArrays = false,
): Implementation {
  const arrays: Float32Array[] = [];
  const f32 = (n: number): Float32Array => {
    const a = wasmArrays ? wasmFloat32Array(n) : new Float32Array(n);
    arrays.push(a);
    return a;
  };
  const held = (a: Float32Array): Float32Array => {
    if (!wasmArrays) return a;
    const w = f32(a.length);
    w.set(a);
    return w;
  };
  return {
    name: `${bwd ? `kernels fwd ${fwd.name} + bwd ${bwd.name}` : `kernels fwd ${fwd.name}`}${wasmArrays ? ' (wasm arrays)' : ''}`,
    kind: 'kernel',
    setup: (): Prepared => {
      const d = data();
      const { N, C, S } = d;
      const dims = { N, C, S };
      const nhwc = layout === 'NHWC';
      const x = held(nhwc ? toNhwc(d.x, N, C, S) : d.x);
      const dy = held(nhwc ? toNhwc(d.dy, N, C, S) : d.dy);
      const y = f32(x.length);
      const dx = f32(x.length);
      const mean = wasmArrays ? wasmFloat64Array(C) : new Float64Array(C);
      const rstd = wasmArrays ? wasmFloat64Array(C) : new Float64Array(C);
      const dweight = new Float32Array(C);
      const dbias = new Float32Array(C);
      const workspace = new BatchNormWorkspace(C);
      const running = { runningMean: new Float32Array(C), runningVar: new Float32Array(C).fill(1), numBatchesTracked: 0 };
      const run = (): void => {
        batchNormTrainForward({ x, dims, layout, weight: d.weight, bias: d.bias, running, y, mean, rstd, workspace, version: fwd });
        if (bwd) {
          batchNormBackward({
            dy, x, dims, layout, weight: d.weight, mean, rstd, training: true, dx, dweight, dbias, workspace, version: bwd,
          });
        }
      };
      return {
        run,
        validate: () => {
          run();
          const ref = reference(d, bwd !== null);
          const checks = [normwise('y', nhwc ? toNchw(y, N, C, S) : y, ref.y, KERNEL_TOL)];
          if (bwd) {
            checks.push(
              normwise('dx', nhwc ? toNchw(dx, N, C, S) : dx, ref.dx!, KERNEL_TOL),
              normwise('dweight', dweight, ref.dweight!, KERNEL_TOL),
              normwise('dbias', dbias, ref.dbias!, KERNEL_TOL),
            );
          }
          return all(...checks);
        },
        teardown: () => {
          for (const a of arrays.splice(0)) freeWasmArray(a);
          freeWasmArray(mean);
          freeWasmArray(rstd);
        },
      };
    },
  };
}

function referenceImplementation(data: () => BnData, backward: boolean, large: boolean): Implementation {
  const impl: Implementation = {
    name: 'reference (float64)',
    kind: 'reference',
    setup: (): Prepared => {
      const d = data();
      const shape = [d.N, d.C, d.S];
      const run = (): void => {
        const fwd = refTrain({ x: d.x, shape, weight: d.weight, bias: d.bias });
        if (backward) refBackward({ dy: d.dy, x: d.x, shape, weight: d.weight, mean: fwd.mean, rstd: fwd.rstd, training: true });
      };
      return { run, validate: () => ({ ok: true, detail: 'is the reference' }) };
    },
  };
  if (large) impl.maxReps = 3;
  return impl;
}

/** tfjs: moments inside the differentiated function, eps 1e-5, dy through valueAndGrads. */
function tfjsBuilder(data: () => BnData, layout: BatchNormLayout, backward: boolean) {
  return (tf: TF): Prepared => {
    const d = data();
    const { N, C, S, spatial } = d;
    const nhwc = layout === 'NHWC';
    const shape = nhwc ? [N, ...spatial, C] : [N, C, ...spatial];
    const rank = shape.length;
    // reduce over every axis but the channel's. Channels last: moments and parameters of shape (C), broadcast
    // along the last axis, through tf.batchNorm. NCHW: keepDims moments (1, C, 1, 1), parameters reshaped to match.
    const channelAxis = nhwc ? rank - 1 : 1;
    const axes = shape.map((_, i) => i).filter((i) => i !== channelAxis);
    const paramShape = shape.map((s, i) => (i === channelAxis ? s : 1));
    const x = tf.tensor(nhwc ? toNhwc(d.x, N, C, S) : d.x, shape);
    const dy = tf.tensor(nhwc ? toNhwc(d.dy, N, C, S) : d.dy, shape);
    const w = tf.tensor1d(d.weight);
    const b = tf.tensor1d(d.bias);
    const f = (xt: import('@tensorflow/tfjs').Tensor, wt: import('@tensorflow/tfjs').Tensor, bt: import('@tensorflow/tfjs').Tensor) => {
      if (nhwc) {
        const { mean, variance } = tf.moments(xt, axes, false);
        return tf.batchNorm(xt, mean, variance, bt, wt, 1e-5);
      }
      // NCHW: tf.batchNorm cannot be used with (1, C, 1, 1) statistics — its cpu and wasm kernels index them as
      // if they broadcast along the last axis (element i takes statistic i mod C) and silently return wrong values
      // (measured: x (1, 2, 1, 2) = [1, 2, 10, 20] normalises to [-1, -2.6, 17, 1], not [-1, 1, -1, 1]), and its
      // gradient throws on them. So NCHW is written with elementwise ops, which broadcast correctly.
      const { mean, variance } = tf.moments(xt, axes, true);
      return xt.sub(mean).mul(tf.rsqrt(variance.add(1e-5))).mul(wt.reshape(paramShape)).add(bt.reshape(paramShape));
    };
    const valueAndGrads = tf.valueAndGrads(f);
    const run = (): void => {
      tf.tidy(() => {
        if (backward) valueAndGrads([x, w, b], dy);
        else f(x, w, b);
      });
    };
    return {
      run,
      validate: () => {
        const ref = reference(d, backward);
        let out!: { y: Float32Array; dx: Float32Array | null; dw: Float32Array | null; db: Float32Array | null };
        tf.tidy(() => {
          if (backward) {
            const { value, grads } = valueAndGrads([x, w, b], dy);
            out = {
              y: Float32Array.from(value.dataSync()), dx: Float32Array.from(grads[0]!.dataSync()),
              dw: Float32Array.from(grads[1]!.dataSync()), db: Float32Array.from(grads[2]!.dataSync()),
            };
          } else {
            out = { y: Float32Array.from(f(x, w, b).dataSync()), dx: null, dw: null, db: null };
          }
        });
        const checks = [normwise('y', nhwc ? toNchw(out.y, N, C, S) : out.y, ref.y, PEER_TOL)];
        if (backward) {
          checks.push(
            normwise('dx', nhwc ? toNchw(out.dx!, N, C, S) : out.dx!, ref.dx!, PEER_TOL),
            normwise('dweight', out.dw!, ref.dweight!, PEER_TOL),
            normwise('dbias', out.db!, ref.dbias!, PEER_TOL),
          );
        }
        return all(...checks);
      },
      teardown: () => {
        x.dispose();
        dy.dispose();
        w.dispose();
        b.dispose();
      },
    };
  };
}

function bnCase(
  name: string, N: number, C: number, spatial: number[], layout: BatchNormLayout, backward: boolean,
  extra: Pick<BenchCase, 'goal'>,
): BenchCase {
  const d = (): BnData => bnData(N, C, spatial); // generated on first use, shared by the cases of one shape
  const n = N * C * spatial.reduce((a, b) => a * b, 1);
  const large = n > 1e6;
  const shapeText = layout === 'NCHW' ? `(${[N, C, ...spatial].join(', ')}) NCHW` : `(${[N, ...spatial, C].join(', ')}) NHWC`;
  const kernels: Implementation[] = [];
  // every forward version, paired for fwd+bwd with the backward version of the same name (twoPass where there is
  // none), so every version of both lists is validated and timed once
  for (const fwd of BATCHNORM_FORWARD_VERSIONS) {
    const bwd = BATCHNORM_BACKWARD_VERSIONS.find((b) => b.name === fwd.name) ?? BATCHNORM_BACKWARD_VERSIONS[0]!;
    kernels.push(kernelImplementation(d, layout, fwd, backward ? bwd : null));
  }
  // the default versions on arrays that live in the kernels' memory: no copy in or out
  kernels.push(kernelImplementation(d, layout, BN_FORWARD_WASM, backward ? BN_BACKWARD_WASM : null, true));
  return {
    name,
    shape: spatial.length === 0 ? `(${N}, ${C})` : shapeText,
    // minimum traffic: read x (and dy), write y (and dx), 4 bytes each
    bytes: (backward ? 4 : 2) * 4 * n,
    ...extra,
    implementations: [
      ...kernels,
      referenceImplementation(d, backward, large),
      ...tfjsImplementations(tfjsBuilder(d, layout, backward), large ? { 'tfjs-cpu': 2 } : {}),
      pytorchImplementation(torchCase(name, d, layout, backward)),
    ],
  };
}

/** PyTorch (pytorch_peer.py) on the same data in the same layout: F.batch_norm in training mode, backward by autograd. */
function torchCase(name: string, data: () => BnData, layout: BatchNormLayout, backward: boolean) {
  const nhwc = layout === 'NHWC';
  return {
    case: name,
    inputs: () => {
      const d = data();
      const { N, C, S } = d;
      return { x: nhwc ? toNhwc(d.x, N, C, S) : d.x, dy: nhwc ? toNhwc(d.dy, N, C, S) : d.dy, weight: d.weight, bias: d.bias };
    },
    request: { shape: [data().N, data().C, ...data().spatial], layout },
    validate: (out: (name: string) => Float32Array) => {
      const d = data();
      const { N, C, S } = d;
      const ref = reference(d, backward);
      const back = (a: Float32Array): Float32Array => (nhwc ? toNchw(a, N, C, S) : a);
      const checks = [normwise('y', back(out('y')), ref.y, PEER_TOL)];
      if (backward) {
        checks.push(
          normwise('dx', back(out('dx')), ref.dx!, PEER_TOL), normwise('dweight', out('dweight'), ref.dweight!, PEER_TOL),
          normwise('dbias', out('dbias'), ref.dbias!, PEER_TOL),
        );
      }
      return all(...checks);
    },
  };
}

export const cases: BenchCase[] = [
  bnCase('bn_train_fwd_bwd_nchw', 32, 64, [56, 56], 'NCHW', true, { goal: { peer: 'tfjs-wasm', factor: 20 } }),
  bnCase('bn_train_fwd_bwd_nhwc', 32, 64, [56, 56], 'NHWC', true, { goal: { peer: 'tfjs-wasm', factor: 20 } }),
  bnCase('bn_train_fwd_nchw', 32, 64, [56, 56], 'NCHW', false, { goal: { peer: 'tfjs-wasm', factor: 6 } }),
  bnCase('bn1d_train_fwd_bwd', 256, 256, [], 'NHWC', true, { goal: { peer: 'tfjs-wasm', factor: 20 } }),
];
