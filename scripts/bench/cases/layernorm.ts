/**
 * LayerNorm benchmark case (issue 3): forward + backward on (4096, 768), rows of 768 normalised together (a
 * transformer's hidden size). Kernel versions validated against the float64 reference, then timed beside it and
 * the tfjs peers. tfjs has no LayerNorm op: it runs tf.moments over the last axis and the normalisation as
 * elementwise ops inside tf.valueAndGrads (the computation tfjs-layers' LayerNormalization does), eps = 1e-5.
 */
import {
  freeWasmArray, LAYERNORM_BACKWARD_VERSIONS, LAYERNORM_FORWARD_VERSIONS, layerNormBackward, layerNormForward, LayerNormWorkspace,
  LN_BACKWARD_WASM, LN_FORWARD_WASM, wasmFloat32Array, wasmFloat64Array, type LayerNormBackwardVersion, type LayerNormForwardVersion,
} from '../../../kernels/index.js';
import { layerNormBackward as refBackward, layerNormForward as refForward } from '../../../reference/index.js';
import type { TF } from '../../../conformance/adapters/tfjs/backend.js';
import { normalF32, uniformF32 } from '../data.js';
import { all, KERNEL_TOL, normwise, PEER_TOL, type BenchCase, type Implementation, type Prepared } from '../harness.js';
import { tfjsImplementations } from '../peers.js';
import { pytorchImplementation } from '../pytorch.js';

const R = 4096;
const D = 768;

interface LnData {
  x: Float32Array;
  dy: Float32Array;
  weight: Float32Array;
  bias: Float32Array;
}

let data: LnData | undefined;
function lnData(): LnData {
  data ??= { x: normalF32(11, R * D, 0.5, 2), dy: normalF32(12, R * D), weight: uniformF32(13, D, 0.5, 1.5), bias: uniformF32(14, D, -0.5, 0.5) };
  return data;
}

let ref: { y: Float64Array; dx: Float64Array; dweight: Float64Array; dbias: Float64Array } | undefined;
function reference() {
  if (!ref) {
    const d = lnData();
    const args = { shape: [R, D], normalizedShape: [D], weight: d.weight };
    const fwd = refForward({ x: d.x, bias: d.bias, ...args });
    const g = refBackward({ dy: d.dy, x: d.x, mean: fwd.mean, rstd: fwd.rstd, hasBias: true, ...args });
    ref = { y: fwd.y, dx: g.dx, dweight: g.dweight!, dbias: g.dbias! };
  }
  return ref;
}

/** A version pair on ordinary arrays or, with `wasmArrays`, on arrays in the kernels' memory (used in place). */
function kernelImplementation(version: LayerNormForwardVersion, backward: LayerNormBackwardVersion, wasmArrays = false): Implementation {
  return {
    name: `kernels fwd ${version.name} + bwd ${backward.name}${wasmArrays ? ' (wasm arrays)' : ''}`,
    kind: 'kernel',
    setup: (): Prepared => {
      const data = lnData();
      const f32 = (a: Float32Array | number): Float32Array => {
        const n = typeof a === 'number' ? a : a.length;
        const w = wasmArrays ? wasmFloat32Array(n) : new Float32Array(n);
        if (typeof a !== 'number') w.set(a);
        return w;
      };
      const d = { ...data, x: f32(data.x), dy: f32(data.dy) };
      const dims = { R, D };
      const y = f32(R * D);
      const dx = f32(R * D);
      const mean = wasmArrays ? wasmFloat64Array(R) : new Float64Array(R);
      const rstd = wasmArrays ? wasmFloat64Array(R) : new Float64Array(R);
      const dweight = new Float32Array(D);
      const dbias = new Float32Array(D);
      const workspace = new LayerNormWorkspace(D);
      const run = (): void => {
        layerNormForward({ x: d.x, dims, weight: d.weight, bias: d.bias, y, mean, rstd, version });
        layerNormBackward({ dy: d.dy, x: d.x, dims, weight: d.weight, mean, rstd, dx, dweight, dbias, workspace, version: backward });
      };
      return {
        run,
        validate: () => {
          run();
          const r = reference();
          return all(
            normwise('y', y, r.y, KERNEL_TOL), normwise('dx', dx, r.dx, KERNEL_TOL),
            normwise('dweight', dweight, r.dweight, KERNEL_TOL), normwise('dbias', dbias, r.dbias, KERNEL_TOL),
          );
        },
        teardown: () => {
          for (const a of [d.x, d.dy, y, dx, mean, rstd]) freeWasmArray(a);
        },
      };
    },
  };
}

const referenceImplementation: Implementation = {
  name: 'reference (float64)',
  kind: 'reference',
  maxReps: 5,
  setup: (): Prepared => {
    const d = lnData();
    const args = { shape: [R, D], normalizedShape: [D], weight: d.weight };
    return {
      run: () => {
        const fwd = refForward({ x: d.x, bias: d.bias, ...args });
        refBackward({ dy: d.dy, x: d.x, mean: fwd.mean, rstd: fwd.rstd, hasBias: true, ...args });
      },
      validate: () => ({ ok: true, detail: 'is the reference' }),
    };
  },
};

function tfjsBuild(tf: TF): Prepared {
  const d = lnData();
  const x = tf.tensor2d(d.x, [R, D]);
  const dy = tf.tensor2d(d.dy, [R, D]);
  const w = tf.tensor1d(d.weight);
  const b = tf.tensor1d(d.bias);
  type T = import('@tensorflow/tfjs').Tensor;
  const f = (xt: T, wt: T, bt: T): T => {
    const { mean, variance } = tf.moments(xt, [1], true);
    return xt.sub(mean).mul(tf.rsqrt(variance.add(1e-5))).mul(wt).add(bt);
  };
  const valueAndGrads = tf.valueAndGrads(f);
  return {
    run: () => {
      tf.tidy(() => {
        valueAndGrads([x, w, b], dy);
      });
    },
    validate: () => {
      const r = reference();
      let out!: Float32Array[];
      tf.tidy(() => {
        const { value, grads } = valueAndGrads([x, w, b], dy);
        out = [value, grads[0]!, grads[1]!, grads[2]!].map((t) => Float32Array.from(t.dataSync()));
      });
      return all(
        normwise('y', out[0]!, r.y, PEER_TOL), normwise('dx', out[1]!, r.dx, PEER_TOL),
        normwise('dweight', out[2]!, r.dweight, PEER_TOL), normwise('dbias', out[3]!, r.dbias, PEER_TOL),
      );
    },
    teardown: () => {
      x.dispose();
      dy.dispose();
      w.dispose();
      b.dispose();
    },
  };
}

export const cases: BenchCase[] = [
  {
    name: 'ln_fwd_bwd',
    shape: `(${R}, ${D})`,
    bytes: 4 * 4 * R * D, // read x, dy; write y, dx
    goal: { peer: 'tfjs-wasm', factor: 10 },
    implementations: [
      // version i of the forward with version i of the backward (twoPass + rowByRow, onePass + fourRows, wasm + wasm)
      ...LAYERNORM_FORWARD_VERSIONS.map((f, i) => kernelImplementation(f, LAYERNORM_BACKWARD_VERSIONS[Math.min(i, LAYERNORM_BACKWARD_VERSIONS.length - 1)]!)),
      kernelImplementation(LN_FORWARD_WASM, LN_BACKWARD_WASM, true),
      referenceImplementation,
      ...tfjsImplementations(tfjsBuild, { 'tfjs-cpu': 5 }),
      pytorchImplementation({
        case: 'ln_fwd_bwd', inputs: () => ({ x: lnData().x, dy: lnData().dy, weight: lnData().weight, bias: lnData().bias }), request: { shape: [R, D] },
        validate: (out) => {
          const r = reference();
          return all(
            normwise('y', out('y'), r.y, PEER_TOL), normwise('dx', out('dx'), r.dx, PEER_TOL),
            normwise('dweight', out('dweight'), r.dweight, PEER_TOL), normwise('dbias', out('dbias'), r.dbias, PEER_TOL),
          );
        },
      }),
    ],
  },
];
