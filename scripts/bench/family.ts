/**
 * GroupNorm, InstanceNorm and RMSNorm benchmark cases (issue 16's kernels; cases/groupnorm.ts, instancenorm.ts and
 * rmsnorm.ts list them), in the harness of the other families:
 * every kernel version validated against the float64 reference on the same float32 data, then timed beside it and
 * the peers that have the operation.
 *
 *   gn_fwd_nchw, gn_fwd_bwd_nchw   GroupNorm, (16, 64, 56, 56) NCHW, 32 groups (a ResNet-GN block's shape)
 *   in_fwd_nchw, in_fwd_bwd_nchw   InstanceNorm with affine weight and bias, no running statistics, same shape
 *   rms_fwd, rms_fwd_bwd           RMSNorm with a weight over rows of 768, (4096, 768) as LayerNorm's case
 * eps = 1e-5 everywhere (RMSNorm's too, passed explicitly: PyTorch's eps=None differs by dtype).
 *
 * Peers: PyTorch (F.group_norm, F.instance_norm; torch 1.13 has no F.rms_norm, so RMSNorm is the module users
 * wrote before 2.4, x·rsqrt(mean(x²) + eps)·w, autograd for its backward), and ONNX Runtime native and web on the
 * forward cases (GroupNormalization opset 21, InstanceNormalization, RMSNormalization opset 23: ORT has no
 * backward). tfjs has none of the three as an op.
 */
import {
  freeWasmArray, GROUPNORM_BACKWARD_VERSIONS, GROUPNORM_FORWARD_VERSIONS, groupNormBackward, groupNormForward, GroupNormWorkspace,
  INSTANCENORM_BACKWARD_VERSIONS, INSTANCENORM_FORWARD_VERSIONS, instanceNormBackward, instanceNormForward, InstanceNormWorkspace,
  RMSNORM_BACKWARD_VERSIONS, RMSNORM_FORWARD_VERSIONS, rmsNormBackward, rmsNormForward, RmsNormWorkspace, wasmFloat32Array, wasmFloat64Array,
} from '../../kernels/index.js';
import {
  groupNormBackward as refGnBackward, groupNormForward as refGnForward, instanceNormBackward as refInBackward,
  instanceNormForward as refInForward, rmsNormBackward as refRmsBackward, rmsNormForward as refRmsForward,
} from '../../reference/index.js';
import { groupNormModel, instanceNormModel, rmsNormModel } from '../../conformance/adapters/ort/onnx_model.js';
import { normalF32, uniformF32 } from './data.js';
import { all, KERNEL_TOL, normwise, PEER_TOL, type BenchCase, type Implementation, type Prepared, type Validation } from './harness.js';
import { pytorchImplementation } from './pytorch.js';
import { ortPeers } from './cases/ort.js';

const EPS = 1e-5;

// ---------------------------------------------------------------------------------------------------------
// Data, drawn once per family: x ~ N(0.5, 2²), dy ~ N(0, 1), weight in [0.5, 1.5), bias in [-0.5, 0.5)

const SHAPE = [16, 64, 56, 56] as const;
const [N, C] = SHAPE;
const S = SHAPE[2] * SHAPE[3];
const SIZE = N * C * S;
const G = 32;
const R = 4096;
const D = 768;

interface Data {
  x: Float32Array;
  dy: Float32Array;
  weight: Float32Array;
  bias: Float32Array;
}

const cache = new Map<string, Data>();
function data(family: 'channel' | 'rms'): Data {
  let d = cache.get(family);
  if (!d) {
    const [n, w, s] = family === 'channel' ? [SIZE, C, 21] : [R * D, D, 31];
    d = { x: normalF32(s, n, 0.5, 2), dy: normalF32(s + 1, n), weight: uniformF32(s + 2, w, 0.5, 1.5), bias: uniformF32(s + 3, w, -0.5, 0.5) };
    cache.set(family, d);
  }
  return d;
}

// ---------------------------------------------------------------------------------------------------------
// The float64 references, computed once each

interface Ref {
  y: Float64Array;
  dx?: Float64Array;
  dweight?: Float64Array;
  dbias?: Float64Array;
}

const refs = new Map<string, Ref>();
function reference(kind: Kind, backward: boolean): Ref {
  const key = `${kind}${backward ? ' bwd' : ''}`;
  let r = refs.get(key);
  if (!r) {
    r = runReference(kind, backward);
    refs.set(key, r);
  }
  return r;
}

export type Kind = 'gn' | 'in' | 'rms';

function runReference(kind: Kind, backward: boolean): Ref {
  const shape = [...SHAPE];
  if (kind === 'gn') {
    const d = data('channel');
    const f = refGnForward({ x: d.x, shape, numGroups: G, weight: d.weight, bias: d.bias, eps: EPS });
    if (!backward) return { y: f.y };
    const g = refGnBackward({ dy: d.dy, x: d.x, shape, numGroups: G, weight: d.weight, mean: f.mean, rstd: f.rstd });
    return { y: f.y, dx: g.dx, dweight: g.dweight!, dbias: g.dbias! };
  }
  if (kind === 'in') {
    const d = data('channel');
    const f = refInForward({ x: d.x, shape, weight: d.weight, bias: d.bias, eps: EPS });
    if (!backward) return { y: f.y };
    const g = refInBackward({ dy: d.dy, x: d.x, shape, weight: d.weight, mean: f.mean, rstd: f.rstd, useInputStats: true });
    return { y: f.y, dx: g.dx, dweight: g.dweight!, dbias: g.dbias! };
  }
  const d = data('rms');
  const args = { shape: [R, D], normalizedShape: [D], weight: d.weight };
  const f = refRmsForward({ x: d.x, eps: EPS, ...args });
  if (!backward) return { y: f.y };
  const g = refRmsBackward({ dy: d.dy, x: d.x, rstd: f.rstd, ...args });
  return { y: f.y, dx: g.dx, dweight: g.dweight! };
}

/** Every output against the reference, normwise at `tol`. */
function judge(kind: Kind, backward: boolean, out: Record<string, Float32Array>, tol: number): Validation {
  const r = reference(kind, backward);
  const checks = [normwise('y', out['y']!, r.y, tol)];
  for (const name of ['dx', 'dweight', 'dbias'] as const) if (r[name]) checks.push(normwise(name, out[name]!, r[name], tol));
  return all(...checks);
}

// ---------------------------------------------------------------------------------------------------------
// Kernels: a forward version alone, or with a backward version; on ordinary arrays or, with `wasmArrays`, on
// arrays in the kernels' memory (used in place)

interface Version {
  name: string;
}

function kernelImplementation(kind: Kind, forward: Version, backward: Version | null, wasmArrays = false): Implementation {
  return {
    name: `kernels fwd ${forward.name}${backward ? ` + bwd ${backward.name}` : ''}${wasmArrays ? ' (wasm arrays)' : ''}`,
    kind: 'kernel',
    setup: (): Prepared => {
      const d = data(kind === 'rms' ? 'rms' : 'channel');
      const owned: (Float32Array | Float64Array)[] = [];
      const f32 = (n: number, from?: Float32Array): Float32Array => {
        const a = wasmArrays ? wasmFloat32Array(n) : new Float32Array(n);
        if (wasmArrays) owned.push(a);
        if (from) a.set(from);
        return a;
      };
      const f64 = (n: number): Float64Array => {
        const a = wasmArrays ? wasmFloat64Array(n) : new Float64Array(n);
        if (wasmArrays) owned.push(a);
        return a;
      };
      const n = d.x.length;
      const x = f32(n, d.x);
      const dy = f32(n, d.dy);
      const y = f32(n);
      const dx = f32(n);
      const out: Record<string, Float32Array> = { y };
      let run: () => void;
      if (kind === 'rms') {
        const rstd = f64(R);
        const dweight = new Float32Array(D);
        const workspace = new RmsNormWorkspace(D);
        const dims = { R, D };
        const fv = forward as (typeof RMSNORM_FORWARD_VERSIONS)[number];
        const bv = backward as (typeof RMSNORM_BACKWARD_VERSIONS)[number] | null;
        if (bv) Object.assign(out, { dx, dweight });
        run = () => {
          rmsNormForward({ x, dims, weight: d.weight, eps: EPS, y, rstd, version: fv });
          if (bv) rmsNormBackward({ dy, x, dims, weight: d.weight, rstd, dx, dweight, workspace, version: bv });
        };
      } else {
        const groups = kind === 'gn' ? G : C;
        const mean = f64(N * groups);
        const rstd = f64(N * groups);
        const dweight = new Float32Array(C);
        const dbias = new Float32Array(C);
        const dims = { N, C, S };
        if (backward) Object.assign(out, { dx, dweight, dbias });
        const grads = { dy, x, dims, weight: d.weight, mean, rstd, dx, dweight, dbias };
        if (kind === 'gn') {
          const workspace = new GroupNormWorkspace(C);
          const fv = forward as (typeof GROUPNORM_FORWARD_VERSIONS)[number];
          const bv = backward as (typeof GROUPNORM_BACKWARD_VERSIONS)[number] | null;
          run = () => {
            groupNormForward({ x, dims, numGroups: G, weight: d.weight, bias: d.bias, eps: EPS, y, mean, rstd, workspace, version: fv });
            if (bv) groupNormBackward({ ...grads, numGroups: G, workspace, version: bv });
          };
        } else {
          const workspace = new InstanceNormWorkspace(C);
          const fv = forward as (typeof INSTANCENORM_FORWARD_VERSIONS)[number];
          const bv = backward as (typeof INSTANCENORM_BACKWARD_VERSIONS)[number] | null;
          run = () => {
            instanceNormForward({ x, dims, weight: d.weight, bias: d.bias, eps: EPS, y, mean, rstd, workspace, version: fv });
            if (bv) instanceNormBackward({ ...grads, useInputStats: true, workspace, version: bv });
          };
        }
      }
      return {
        run,
        validate: () => {
          run();
          return judge(kind, backward !== null, out, KERNEL_TOL);
        },
        teardown: () => {
          for (const a of owned) freeWasmArray(a);
        },
      };
    },
  };
}

/** Version i of the forward with version i of the backward, then the last pair on wasm arrays. */
function kernelImplementations(kind: Kind, forwards: readonly Version[], backwards: readonly Version[] | null): Implementation[] {
  const pairs = forwards.map((f, i) => kernelImplementation(kind, f, backwards ? backwards[Math.min(i, backwards.length - 1)]! : null));
  const last = forwards[forwards.length - 1]!;
  return [...pairs, kernelImplementation(kind, last, backwards ? backwards[backwards.length - 1]! : null, true)];
}

const referenceImplementation = (kind: Kind, backward: boolean): Implementation => ({
  name: 'reference (float64)',
  kind: 'reference',
  maxReps: 3,
  setup: (): Prepared => ({ run: () => void runReference(kind, backward), validate: () => ({ ok: true, detail: 'is the reference' }) }),
});

// ---------------------------------------------------------------------------------------------------------
// Peers

function torchPeer(kind: Kind, backward: boolean): Implementation {
  const rms = kind === 'rms';
  return pytorchImplementation({
    case: `${kind}_fwd${backward ? '_bwd' : ''}`,
    request: { shape: rms ? [R, D] : [...SHAPE], numGroups: G, eps: EPS },
    inputs: () => {
      const d = data(rms ? 'rms' : 'channel');
      return { x: d.x, dy: d.dy, weight: d.weight, bias: d.bias };
    },
    validate: (out) => judge(kind, backward, backward ? { y: out('y'), dx: out('dx'), dweight: out('dweight'), ...(rms ? {} : { dbias: out('dbias') }) } : { y: out('y') }, PEER_TOL),
  });
}

function ortPeer(kind: Kind): Implementation[] {
  if (kind === 'rms') {
    return ortPeers({
      model: (onnx) => rmsNormModel(onnx, { shape: [R, D], normalizedRank: 1, epsilon: EPS }),
      feeds: () => ({ X: { data: data('rms').x, dims: [R, D] }, scale: { data: data('rms').weight, dims: [D] } }),
      outputs: { Y: [R, D] },
      validate: (o) => judge(kind, false, { y: o['Y']! }, PEER_TOL),
    });
  }
  const d = (): Data => data('channel');
  return ortPeers(kind === 'gn'
    ? {
      model: (onnx) => groupNormModel(onnx, { shape: SHAPE, numGroups: G, epsilon: EPS }),
      feeds: () => ({ X: { data: d().x, dims: SHAPE }, scale: { data: d().weight, dims: [C] }, bias: { data: d().bias, dims: [C] } }),
      outputs: { Y: SHAPE },
      validate: (o) => judge(kind, false, { y: o['Y']! }, PEER_TOL),
    }
    : {
      model: (onnx) => instanceNormModel(onnx, { shape: SHAPE, epsilon: EPS }),
      feeds: () => ({ input: { data: d().x, dims: SHAPE }, scale: { data: d().weight, dims: [C] }, B: { data: d().bias, dims: [C] } }),
      outputs: { Y: SHAPE },
      validate: (o) => judge(kind, false, { y: o['Y']! }, PEER_TOL),
    });
}

// ---------------------------------------------------------------------------------------------------------
// The cases

const VERSIONS: Record<Kind, { forwards: readonly Version[]; backwards: readonly Version[] }> = {
  gn: { forwards: GROUPNORM_FORWARD_VERSIONS, backwards: GROUPNORM_BACKWARD_VERSIONS },
  in: { forwards: INSTANCENORM_FORWARD_VERSIONS, backwards: INSTANCENORM_BACKWARD_VERSIONS },
  rms: { forwards: RMSNORM_FORWARD_VERSIONS, backwards: RMSNORM_BACKWARD_VERSIONS },
};

function familyCase(kind: Kind, backward: boolean): BenchCase {
  const rms = kind === 'rms';
  const n = rms ? R * D : SIZE;
  return {
    name: `${kind}_fwd${backward ? '_bwd' : ''}${rms ? '' : '_nchw'}`,
    shape: rms ? `(${R}, ${D})` : `(${SHAPE.join(', ')}) NCHW${kind === 'gn' ? `, ${G} groups` : ''}`,
    // read x (and dy), write y (and dx)
    bytes: (backward ? 4 : 2) * 4 * n,
    implementations: [
      ...kernelImplementations(kind, VERSIONS[kind].forwards, backward ? VERSIONS[kind].backwards : null),
      referenceImplementation(kind, backward),
      torchPeer(kind, backward),
      ...(backward ? [] : ortPeer(kind)),
    ],
  };
}

/** The forward case and the forward + backward case of one family. */
export function familyCases(kind: Kind): BenchCase[] {
  return [familyCase(kind, false), familyCase(kind, true)];
}
