/**
 * ONNX Runtime as a peer (issue 8): onnxruntime-node (native CPU execution provider, MLAS/Eigen) and
 * onnxruntime-web (the same kernels in WebAssembly), both single-threaded like everything else here, on the
 * forward computations ONNX Runtime offers — it has no backward:
 *
 *   bn_eval_fwd_nchw   BatchNorm inference forward, (32, 64, 56, 56) NCHW   — a case of its own: kernels, reference,
 *                      tfjs and ORT (the other BatchNorm cases include training)
 *   bn_train_fwd_nchw  BatchNorm training forward (batchnorm.ts's case): `withOrtPeers` adds ORT to it, on data
 *                      drawn with the same seeds as that file's
 *   ln_fwd             LayerNorm forward on (4096, 768) — a case of its own (layernorm.ts's case includes backward)
 *
 * The ORT peers run one-node models (conformance/adapters/ort/onnx_model.ts: BatchNormalization opset 15 with
 * and without training_mode, LayerNormalization opset 17), one session per case, created in setup (not timed).
 * ORT's API is asynchronous, so they are timed through `runAsync`. onnxruntime-node writes into preallocated
 * output tensors (`fetches`), as the kernels do; onnxruntime-web's CPU outputs cannot be preallocated (it leaves
 * a preallocated CPU tensor unwritten — measured), so its timed runs include allocating and copying the outputs
 * out of the wasm heap: that is what a caller of onnxruntime-web pays. Validation reads the outputs of a run.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import {
  BATCHNORM_EVAL_VERSIONS, batchNormEvalForward, BatchNormWorkspace, BN_EVAL_WASM, freeWasmArray, LAYERNORM_FORWARD_VERSIONS, layerNormForward,
  LN_FORWARD_WASM, wasmFloat32Array, wasmFloat64Array, type BatchNormEvalVersion, type LayerNormForwardVersion,
} from '../../../kernels/index.js';
import { batchNormEval as refEval, batchNormTrain as refTrain, layerNormForward as refLayerNorm } from '../../../reference/index.js';
import type { TF } from '../../../conformance/adapters/tfjs/backend.js';
import { ortNode } from '../../../conformance/adapters/ort-node.js';
import { ortWeb } from '../../../conformance/adapters/ort-web.js';
import type { OrtAdapter } from '../../../conformance/adapters/ort/ort_adapter.js';
import { batchNormModel, layerNormModel, requireOnnx, type Onnx } from '../../../conformance/adapters/ort/onnx_model.js';
import { normalF32, uniformF32 } from '../data.js';
import { all, KERNEL_TOL, normwise, PEER_TOL, type BenchCase, type Implementation, type Prepared, type Validation } from '../harness.js';
import { tfjsImplementations } from '../peers.js';
import { pytorchImplementation } from '../pytorch.js';

const EPS = 1e-5;

// ---------------------------------------------------------------------------------------------------------
// Data: BatchNorm (32, 64, 56, 56) with batchnorm.ts's seeds (x 1, weight 3, bias 4), running statistics for
// eval drawn near the batch's (mean ~0.5, var ~4) so y is O(1); LayerNorm (4096, 768) with layernorm.ts's seeds.

const BN_SHAPE = [32, 64, 56, 56] as const;
const [BN_N, BN_C] = BN_SHAPE;
const BN_S = BN_SHAPE[2] * BN_SHAPE[3];
const BN_SIZE = BN_N * BN_C * BN_S;
const LN_R = 4096;
const LN_D = 768;

interface BnData {
  x: Float32Array;
  weight: Float32Array;
  bias: Float32Array;
  runningMean: Float32Array;
  runningVar: Float32Array;
}

let bnDataCache: BnData | undefined;
function bnData(): BnData {
  bnDataCache ??= {
    x: normalF32(1, BN_SIZE, 0.5, 2),
    weight: uniformF32(3, BN_C, 0.5, 1.5),
    bias: uniformF32(4, BN_C, -0.5, 0.5),
    runningMean: uniformF32(5, BN_C, 0.25, 0.75),
    runningVar: uniformF32(6, BN_C, 3, 5),
  };
  return bnDataCache;
}

interface LnData {
  x: Float32Array;
  weight: Float32Array;
  bias: Float32Array;
}

let lnDataCache: LnData | undefined;
function lnData(): LnData {
  lnDataCache ??= { x: normalF32(11, LN_R * LN_D, 0.5, 2), weight: uniformF32(13, LN_D, 0.5, 1.5), bias: uniformF32(14, LN_D, -0.5, 0.5) };
  return lnDataCache;
}

// The float64 references, computed once each.
let bnEvalRef: Float64Array | undefined;
const bnEvalReference = (): Float64Array => {
  const d = bnData();
  bnEvalRef ??= refEval({ x: d.x, shape: [...BN_SHAPE], weight: d.weight, bias: d.bias, running: { runningMean: d.runningMean, runningVar: d.runningVar }, eps: EPS }).y;
  return bnEvalRef;
};
let bnTrainRef: ReturnType<typeof refTrain> | undefined;
/** ONNX conventions for the running statistics: momentum 0.9 kept, biased variance. */
const bnTrainReference = (): ReturnType<typeof refTrain> => {
  const d = bnData();
  bnTrainRef ??= refTrain({
    x: d.x, shape: [...BN_SHAPE], weight: d.weight, bias: d.bias, momentum: 0.1, eps: EPS, unbiasedRunningVar: false,
    running: { runningMean: new Float64Array(BN_C), runningVar: new Float64Array(BN_C).fill(1), numBatchesTracked: 0 },
  });
  return bnTrainRef;
};
let lnRef: Float64Array | undefined;
const lnReference = (): Float64Array => {
  const d = lnData();
  lnRef ??= refLayerNorm({ x: d.x, shape: [LN_R, LN_D], normalizedShape: [LN_D], weight: d.weight, bias: d.bias, eps: EPS }).y;
  return lnRef;
};

// ---------------------------------------------------------------------------------------------------------
// The ORT peers

type Feeds = Record<string, { data: Float32Array; dims: readonly number[] }>;

/** One ORT peer: its one-node model, inputs, outputs and how they are judged (families.ts has more). */
export interface OrtSpec {
  model: (onnx: Onnx) => Uint8Array;
  feeds: () => Feeds;
  /** output name → dims */
  outputs: Record<string, readonly number[]>;
  validate(outputs: Record<string, Float32Array>): Validation;
}

/** Whether the runtime writes CPU outputs into preallocated tensors (see the header). */
const PREALLOCATES: Record<string, boolean> = { 'ort-node': true, 'ort-web': false };

function ortImplementation(adapter: OrtAdapter, spec: OrtSpec): Implementation {
  return {
    name: adapter.name,
    kind: 'peer',
    peer: adapter.name,
    available: () => adapter.available(),
    setup: async (): Promise<Prepared> => {
      const ort = await adapter.runtime();
      const session: InferenceSession = await ort.InferenceSession.create(spec.model(await requireOnnx()), adapter.sessionOptions);
      const feeds: Record<string, Tensor> = {};
      for (const [name, { data, dims }] of Object.entries(spec.feeds())) feeds[name] = new ort.Tensor('float32', data, dims);
      const preallocated: Record<string, Float32Array> = {};
      const fetches: Record<string, Tensor> = {};
      if (PREALLOCATES[adapter.name]) {
        for (const [name, dims] of Object.entries(spec.outputs)) {
          preallocated[name] = new Float32Array(dims.reduce((a, b) => a * b, 1));
          fetches[name] = new ort.Tensor('float32', preallocated[name], dims);
        }
      }
      const runOnce = async (): Promise<Record<string, Float32Array>> => {
        if (PREALLOCATES[adapter.name]) {
          await session.run(feeds, fetches);
          return preallocated;
        }
        const out = await session.run(feeds);
        const result: Record<string, Float32Array> = {};
        for (const name of Object.keys(spec.outputs)) result[name] = (out[name] as Tensor).data as Float32Array;
        return result;
      };
      // Validation is asynchronous like the run; the harness's validate() is synchronous, so setup runs once
      // and validate() judges the outputs of that run (the same session and inputs the timed runs use).
      const validation = spec.validate(await runOnce());
      return {
        run: () => {
          throw new Error(`${adapter.name}: asynchronous API, timed through runAsync`);
        },
        runAsync: async () => {
          await runOnce();
        },
        validate: () => validation,
        teardown: () => {
          void session.release();
        },
      };
    },
  };
}

const bnEvalOrt: OrtSpec = {
  model: (onnx) => batchNormModel(onnx, { shape: BN_SHAPE, training: false, epsilon: EPS, momentum: 0.9 }),
  feeds: () => {
    const d = bnData();
    return {
      X: { data: d.x, dims: BN_SHAPE }, scale: { data: d.weight, dims: [BN_C] }, B: { data: d.bias, dims: [BN_C] },
      input_mean: { data: d.runningMean, dims: [BN_C] }, input_var: { data: d.runningVar, dims: [BN_C] },
    };
  },
  outputs: { Y: BN_SHAPE },
  validate: (o) => normwise('y', o.Y!, bnEvalReference(), PEER_TOL),
};

const bnTrainOrt: OrtSpec = {
  model: (onnx) => batchNormModel(onnx, { shape: BN_SHAPE, training: true, epsilon: EPS, momentum: 0.9 }),
  feeds: () => {
    const d = bnData();
    return {
      X: { data: d.x, dims: BN_SHAPE }, scale: { data: d.weight, dims: [BN_C] }, B: { data: d.bias, dims: [BN_C] },
      input_mean: { data: new Float32Array(BN_C), dims: [BN_C] }, input_var: { data: new Float32Array(BN_C).fill(1), dims: [BN_C] },
    };
  },
  outputs: { Y: BN_SHAPE, running_mean: [BN_C], running_var: [BN_C] },
  validate: (o) => {
    const r = bnTrainReference();
    return all(
      normwise('y', o.Y!, r.y, PEER_TOL),
      normwise('running_mean', o.running_mean!, r.running!.runningMean, PEER_TOL),
      normwise('running_var', o.running_var!, r.running!.runningVar, PEER_TOL),
    );
  },
};

const lnOrt: OrtSpec = {
  model: (onnx) => layerNormModel(onnx, { shape: [LN_R, LN_D], normalizedRank: 1, epsilon: EPS, withBias: true }),
  feeds: () => {
    const d = lnData();
    return { X: { data: d.x, dims: [LN_R, LN_D] }, Scale: { data: d.weight, dims: [LN_D] }, B: { data: d.bias, dims: [LN_D] } };
  },
  outputs: { Y: [LN_R, LN_D], Mean: [LN_R, 1], InvStdDev: [LN_R, 1] },
  validate: (o) => normwise('y', o.Y!, lnReference(), PEER_TOL),
};

/** ort-node and ort-web on one model. */
export const ortPeers = (spec: OrtSpec): Implementation[] => [ortImplementation(ortNode, spec), ortImplementation(ortWeb, spec)];

// ---------------------------------------------------------------------------------------------------------
// The cases of their own: kernels, reference and tfjs beside ORT

/** A Float32Array of n values (a copy of `from` when given), in the kernels' memory when `wasm`. */
function array(wasm: boolean, n: number, from?: Float32Array): Float32Array {
  const a = wasm ? wasmFloat32Array(n) : new Float32Array(n);
  if (from) a.set(from);
  return a;
}

function bnEvalKernel(version: BatchNormEvalVersion, wasmArrays = false): Implementation {
  return {
    name: `kernels eval fwd ${version.name}${wasmArrays ? ' (wasm arrays)' : ''}`,
    kind: 'kernel',
    setup: (): Prepared => {
      const d = bnData();
      const x = wasmArrays ? array(true, BN_SIZE, d.x) : d.x;
      const y = array(wasmArrays, BN_SIZE);
      const mean = wasmArrays ? wasmFloat64Array(BN_C) : new Float64Array(BN_C);
      const rstd = wasmArrays ? wasmFloat64Array(BN_C) : new Float64Array(BN_C);
      const workspace = new BatchNormWorkspace(BN_C);
      const run = (): void => {
        batchNormEvalForward({
          x, dims: { N: BN_N, C: BN_C, S: BN_S }, layout: 'NCHW', weight: d.weight, bias: d.bias,
          running: { runningMean: d.runningMean, runningVar: d.runningVar }, eps: EPS, y, mean, rstd, workspace, version,
        });
      };
      return {
        run,
        validate: () => (run(), normwise('y', y, bnEvalReference(), KERNEL_TOL)),
        teardown: () => {
          for (const a of [x, y, mean, rstd]) freeWasmArray(a);
        },
      };
    },
  };
}

function tfjsBnEval(tf: TF): Prepared {
  const d = bnData();
  const paramShape = [1, BN_C, 1, 1];
  const x = tf.tensor(d.x, [...BN_SHAPE]);
  const mean = tf.tensor(d.runningMean, paramShape);
  const variance = tf.tensor(d.runningVar, paramShape);
  const w = tf.tensor(d.weight, paramShape);
  const b = tf.tensor(d.bias, paramShape);
  // Elementwise ops, not tf.batchNorm: with statistics of shape (1, C, 1, 1) tf.batchNorm walks them cyclically
  // along the last axis instead of broadcasting (docs/divergences.md, tfjs-batchnorm-no-broadcast).
  const f = () => x.sub(mean).mul(tf.rsqrt(variance.add(EPS))).mul(w).add(b);
  return tfjsPrepared(tf, f, [x, mean, variance, w, b], bnEvalReference);
}

type TfTensor = ReturnType<TF['tensor']>;

/** A tfjs peer: runs `f` inside tf.tidy, validates its y against `reference()`, disposes `inputs` at teardown. */
function tfjsPrepared(tf: TF, f: () => TfTensor, inputs: TfTensor[], reference: () => ArrayLike<number>): Prepared {
  return {
    run: () => {
      tf.tidy(f);
    },
    validate: () => {
      let y!: Float32Array;
      tf.tidy(() => {
        y = Float32Array.from(f().dataSync());
      });
      return normwise('y', y, reference(), PEER_TOL);
    },
    teardown: () => {
      for (const t of inputs) t.dispose();
    },
  };
}

function lnKernel(version: LayerNormForwardVersion, wasmArrays = false): Implementation {
  return {
    name: `kernels fwd ${version.name}${wasmArrays ? ' (wasm arrays)' : ''}`,
    kind: 'kernel',
    setup: (): Prepared => {
      const d = lnData();
      const x = wasmArrays ? array(true, LN_R * LN_D, d.x) : d.x;
      const y = array(wasmArrays, LN_R * LN_D);
      const mean = wasmArrays ? wasmFloat64Array(LN_R) : new Float64Array(LN_R);
      const rstd = wasmArrays ? wasmFloat64Array(LN_R) : new Float64Array(LN_R);
      const run = (): void => {
        layerNormForward({ x, dims: { R: LN_R, D: LN_D }, weight: d.weight, bias: d.bias, eps: EPS, y, mean, rstd, version });
      };
      return {
        run,
        validate: () => (run(), normwise('y', y, lnReference(), KERNEL_TOL)),
        teardown: () => {
          for (const a of [x, y, mean, rstd]) freeWasmArray(a);
        },
      };
    },
  };
}

function tfjsLn(tf: TF): Prepared {
  const d = lnData();
  const x = tf.tensor2d(d.x, [LN_R, LN_D]);
  const w = tf.tensor1d(d.weight);
  const b = tf.tensor1d(d.bias);
  // tfjs has no LayerNorm op: moments over the last axis and elementwise ops, as tfjs-layers does.
  const f = () => {
    const { mean, variance } = tf.moments(x, [1], true);
    return x.sub(mean).mul(tf.rsqrt(variance.add(EPS))).mul(w).add(b);
  };
  return tfjsPrepared(tf, f, [x, w, b], lnReference);
}

function referenceImpl(run: () => void, maxReps: number): Implementation {
  return {
    name: 'reference (float64)', kind: 'reference', maxReps,
    setup: (): Prepared => ({ run, validate: () => ({ ok: true, detail: 'is the reference' }) }),
  };
}

export const cases: BenchCase[] = [
  {
    name: 'bn_eval_fwd_nchw',
    shape: `(${BN_SHAPE.join(', ')}) NCHW`,
    bytes: 2 * 4 * BN_SIZE, // read x, write y
    implementations: [
      ...BATCHNORM_EVAL_VERSIONS.map((v) => bnEvalKernel(v)),
      bnEvalKernel(BN_EVAL_WASM, true),
      referenceImpl(() => {
        const d = bnData();
        refEval({ x: d.x, shape: [...BN_SHAPE], weight: d.weight, bias: d.bias, running: { runningMean: d.runningMean, runningVar: d.runningVar }, eps: EPS });
      }, 3),
      ...tfjsImplementations(tfjsBnEval, { 'tfjs-cpu': 3 }),
      ...ortPeers(bnEvalOrt),
      pytorchImplementation({
        case: 'bn_eval_fwd_nchw', request: { shape: [...BN_SHAPE], layout: 'NCHW' },
        inputs: () => {
          const d = bnData();
          return { x: d.x, weight: d.weight, bias: d.bias, running_mean: d.runningMean, running_var: d.runningVar };
        },
        validate: (out) => normwise('y', out('y'), bnEvalReference(), PEER_TOL),
      }),
    ],
  },
  {
    name: 'ln_fwd',
    shape: `(${LN_R}, ${LN_D})`,
    bytes: 2 * 4 * LN_R * LN_D, // read x, write y
    implementations: [
      ...LAYERNORM_FORWARD_VERSIONS.map((v) => lnKernel(v)),
      lnKernel(LN_FORWARD_WASM, true),
      referenceImpl(() => {
        const d = lnData();
        refLayerNorm({ x: d.x, shape: [LN_R, LN_D], normalizedShape: [LN_D], weight: d.weight, bias: d.bias, eps: EPS });
      }, 5),
      ...tfjsImplementations(tfjsLn, { 'tfjs-cpu': 5 }),
      ...ortPeers(lnOrt),
      pytorchImplementation({
        case: 'ln_fwd', request: { shape: [LN_R, LN_D] },
        inputs: () => ({ x: lnData().x, weight: lnData().weight, bias: lnData().bias }),
        validate: (out) => normwise('y', out('y'), lnReference(), PEER_TOL),
      }),
    ],
  },
];

/** ORT peers for cases defined elsewhere, by case name; the data match those cases' seeds and shapes. */
const PEERS_FOR: Record<string, OrtSpec> = { bn_train_fwd_nchw: bnTrainOrt };

/** Appends the ORT peers to the cases that have them (cases without are returned unchanged). */
export function withOrtPeers(all: BenchCase[]): BenchCase[] {
  return all.map((c) => {
    const spec = PEERS_FOR[c.name];
    return spec ? { ...c, implementations: [...c.implementations, ...ortPeers(spec)] } : c;
  });
}
