/**
 * The ONNX Runtime adapters, shared by onnxruntime-node (native CPU execution provider, MLAS/Eigen kernels)
 * and onnxruntime-web (the same C++ kernels compiled to WebAssembly). Each capability builds a one-node
 * model (onnx_model.ts), runs it, and returns the outputs in the adapter contract.
 *
 * Conventions: ONNX's, the `onnx` profile. The contract's momentum is the fraction of the batch statistic,
 * ONNX's attribute the fraction kept, so the model gets momentum = 1 - args.momentum; the cumulative
 * average (momentum = null) is the step's factor 1/(numBatchesTracked + 1), expressible because calls are
 * stateless. affine = false is weight 1 and bias 0: the operator has no optional scale.
 *
 * Provided: bnEvalForward, bnTrainForward (no saved mean/rstd: opset 14+ has no such outputs), lnForward
 * (with Mean and InvStdDev), and with `normFamily` gnForward (GroupNormalization, opset 21), inForward
 * (InstanceNormalization: the instance's own statistics only — ONNX has no running statistics, so a call with
 * running buffers or useInputStats = false throws, naming that) and rmsForward (RMSNormalization, opset 23;
 * eps = null is passed as PyTorch's None for float32, 2^-23, since ONNX's own default is 1e-5). Not provided: any backward — ONNX Runtime's inference API has no gradients,
 * so the suite reports bnBackward and lnBackward as "not provided", never as failed.
 *
 * Sessions are cached per model (shape and attributes): creating one costs ~1 ms, more than most runs.
 * Both runtimes run single-threaded (intra-op 1 thread, wasm numThreads 1): results must not depend on how
 * a reduction is split between threads, and the bench compares against single-threaded kernels.
 */
import type { Env, InferenceSession, Tensor } from 'onnxruntime-node';
import type {
  Adapter, BatchNormEvalArgs, BatchNormTrainArgs, BatchNormTrainResult, FloatArray, GroupNormArgs, InstanceNormArgs, LayerNormArgs,
  LayerNormResult, RmsNormArgs,
} from '../../adapter.js';
import { NOT_INSTALLED } from '../../adapter.js';
import { importEngines, installCommand } from '../engines.js';
import { batchNormModel, groupNormModel, instanceNormModel, layerNormModel, onnxNamespace, rmsNormModel, type Onnx } from './onnx_model.js';

/** What both packages export and the adapter uses (onnxruntime-common's API). */
export interface OrtRuntime {
  InferenceSession: { create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => Tensor;
  env: Env;
}

export interface OrtAdapterOptions {
  name: string;
  description: string;
  /** The runtime package, an optional peer dependency imported on first use together with onnx-proto. */
  runtimePackage: 'onnxruntime-node' | 'onnxruntime-web';
  /**
   * Imports the runtime another way than by package name (a build file of it: ort/webgpu.ts), or says why
   * it cannot (NOT_INSTALLED form when a package is absent). Default: import `runtimePackage`.
   */
  loadRuntime?(): Promise<OrtRuntime | string>;
  /** Settings that must precede the first session (the wasm module is instantiated once with them). */
  configure?(ort: OrtRuntime): void;
  sessionOptions: InferenceSession.SessionOptions;
  /** Options of every session.run (default none). */
  runOptions?: InferenceSession.RunOptions;
  /** Also provide gnForward, inForward and rmsForward (the opset 21-23 operators; default false). */
  normFamily?: boolean;
}

export interface OrtAdapter extends Adapter {
  available(): Promise<true | string>;
  teardown(): Promise<void>;
  bnEvalForward(args: BatchNormEvalArgs): Promise<{ y: Float32Array }>;
  bnTrainForward(args: BatchNormTrainArgs): Promise<BatchNormTrainResult & { y: Float32Array }>;
  lnForward(args: LayerNormArgs): Promise<LayerNormResult & { y: Float32Array; mean: Float32Array; rstd: Float32Array }>;
  /** with `normFamily` only */
  gnForward?(args: GroupNormArgs): Promise<{ y: Float32Array }>;
  inForward?(args: InstanceNormArgs): Promise<{ y: Float32Array }>;
  rmsForward?(args: RmsNormArgs): Promise<{ y: Float32Array }>;
  /** Sessions currently cached (for tests and the bench). */
  sessionCount(): number;
  /** The configured runtime and session options, for callers that drive sessions themselves (the bench). */
  runtime(): Promise<OrtRuntime>;
  readonly sessionOptions: InferenceSession.SessionOptions;
}

/** The suite passes Float32Array to float32 adapters; anything else is converted rather than reinterpreted. */
function f32(a: FloatArray): Float32Array {
  return a instanceof Float32Array ? a : Float32Array.from(a);
}

/**
 * A private copy of the running statistics. ONNX Runtime registers BatchNormalization with
 * input_mean/input_var aliased to running_mean/running_var (KernelDefBuilder().Alias(3,1).Alias(4,2)), so a
 * runtime may write the update into the input's memory; the contract forbids touching the caller's arrays.
 */
function copyF32(a: FloatArray): Float32Array {
  return Float32Array.from(a);
}

function filled(n: number, value: number): Float32Array {
  return new Float32Array(n).fill(value);
}

/** BatchNormalization's five inputs; absent affine parameters are the identity (scale 1, B 0). */
function batchNormFeeds(a: Pick<BatchNormEvalArgs, 'x' | 'shape' | 'weight' | 'bias' | 'runningMean' | 'runningVar'>) {
  const C = a.shape[1]!;
  return {
    X: { data: f32(a.x), dims: a.shape },
    scale: { data: a.weight ? f32(a.weight) : filled(C, 1), dims: [C] },
    B: { data: a.bias ? f32(a.bias) : filled(C, 0), dims: [C] },
    input_mean: { data: copyF32(a.runningMean), dims: [C] },
    input_var: { data: copyF32(a.runningVar), dims: [C] },
  };
}

function output(results: InferenceSession.OnnxValueMapType, name: string): Float32Array {
  const t = results[name] as Tensor | undefined;
  if (!t || !(t.data instanceof Float32Array)) throw new Error(`ONNX Runtime returned no float32 output '${name}'`);
  return t.data;
}

export function makeOrtAdapter(options: OrtAdapterOptions): OrtAdapter {
  let loaded: Promise<{ ort: OrtRuntime; onnx: Onnx } | string> | null = null;
  const sessions = new Map<string, Promise<InferenceSession>>();

  /** The runtime and onnx-proto, or why not (`not installed: …` naming both packages when one is absent). */
  const load = () => (loaded ??= (async () => {
    // a runtime loaded its own way (the WebGPU build) names every package it needs when one is absent, so
    // it goes first; onnx-proto missing after it is one command with the runtime package
    const own = options.loadRuntime ? await options.loadRuntime() : null;
    if (typeof own === 'string') return own;
    const mods = await importEngines(own ? ['onnx-proto'] : [options.runtimePackage, 'onnx-proto']);
    if (typeof mods === 'string') return own && mods.startsWith(NOT_INSTALLED) ? `${NOT_INSTALLED}${installCommand([options.runtimePackage, 'onnx-proto'])}` : mods;
    const ort = own ?? (mods[0] as OrtRuntime);
    options.configure?.(ort);
    return { ort, onnx: onnxNamespace(mods[mods.length - 1]) };
  })());
  const engines = async () => {
    const e = await load();
    if (typeof e === 'string') throw new Error(`${options.name}: ${e}`);
    return e;
  };
  const ort = async (): Promise<OrtRuntime> => (await engines()).ort;

  /**
   * One runtime operation at a time: onnxruntime-web's WebGPU build refuses a second while one runs
   * ("Session already started"), and a call abandoned at its timeout keeps running, so the next call waits
   * for it instead of failing. Calls reach an adapter one at a time anyway, so this costs nothing otherwise.
   */
  let last: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(op: () => Promise<T>): Promise<T> => {
    const p = last.then(op, op);
    last = p.catch(() => undefined);
    return p;
  };

  /** One session per model; the key is everything that goes into the model. */
  function session(key: string, build: (onnx: Onnx) => Uint8Array): Promise<InferenceSession> {
    let s = sessions.get(key);
    if (!s) {
      s = engines().then(({ ort: rt, onnx }) => exclusive(() => rt.InferenceSession.create(build(onnx), options.sessionOptions)));
      // A failed creation must not poison the cache: the next call retries and reports its own error.
      s.catch(() => sessions.delete(key));
      sessions.set(key, s);
    }
    return s;
  }

  async function run(s: InferenceSession, feeds: Record<string, { data: Float32Array; dims: readonly number[] }>) {
    const rt = await ort();
    const tensors: Record<string, Tensor> = {};
    for (const [name, { data, dims }] of Object.entries(feeds)) tensors[name] = new rt.Tensor('float32', data, dims);
    return exclusive(() => (options.runOptions ? s.run(tensors, options.runOptions) : s.run(tensors)));
  }

  type Feeds = Record<string, { data: Float32Array; dims: readonly number[] }>;
  const family = {
    async gnForward({ x, shape, numGroups, weight, bias, eps }: GroupNormArgs) {
      const C = shape[1]!;
      const s = await session(`gn|${shape.join('x')}|${numGroups}|${eps}`, (onnx) => groupNormModel(onnx, { shape, numGroups, epsilon: eps }));
      const feeds: Feeds = {
        X: { data: f32(x), dims: shape },
        scale: { data: weight ? f32(weight) : filled(C, 1), dims: [C] },
        bias: { data: bias ? f32(bias) : filled(C, 0), dims: [C] },
      };
      return { y: output(await run(s, feeds), 'Y') };
    },

    async inForward({ x, shape, weight, bias, runningMean, runningVar, useInputStats, eps }: InstanceNormArgs) {
      if (!useInputStats || runningMean || runningVar) {
        throw new Error('ONNX InstanceNormalization has no running statistics: track_running_stats=True (its update, and eval with them) is not expressible');
      }
      const C = shape[1]!;
      // the operator takes rank ≥ 3: an (N, C) input is (N, C, 1), the same data
      const dims = shape.length === 2 ? [...shape, 1] : shape;
      const s = await session(`in|${dims.join('x')}|${eps}`, (onnx) => instanceNormModel(onnx, { shape: dims, epsilon: eps }));
      const feeds: Feeds = {
        input: { data: f32(x), dims },
        scale: { data: weight ? f32(weight) : filled(C, 1), dims: [C] },
        B: { data: bias ? f32(bias) : filled(C, 0), dims: [C] },
      };
      return { y: output(await run(s, feeds), 'Y') };
    },

    async rmsForward({ x, shape, normalizedShape, weight, eps }: RmsNormArgs) {
      const k = normalizedShape.length;
      let D = 1;
      for (const d of normalizedShape) D *= d;
      // PyTorch's eps=None for float32 (numeric_limits<float>::epsilon()); ONNX would default to 1e-5
      const epsilon = eps ?? 2 ** -23;
      const s = await session(`rms|${shape.join('x')}|${k}|${epsilon}`, (onnx) => rmsNormModel(onnx, { shape, normalizedRank: k, epsilon }));
      const feeds: Feeds = { X: { data: f32(x), dims: shape }, scale: { data: weight ? f32(weight) : filled(D, 1), dims: normalizedShape } };
      return { y: output(await run(s, feeds), 'Y') };
    },
  };

  return {
    ...(options.normFamily ? family : {}),
    // ONNX InstanceNormalization has no running statistics (inForward throws for them): a limit of the
    // operator, declared, so the running and eval-with-running-statistics checks are not applicable
    ...(options.normFamily ? { unsupported: { inForward: ['track_running_stats'] } as const } : {}),
    name: options.name,
    description: options.description,
    precision: 'float32',
    layout: 'NCHW',
    profile: 'onnx',

    async available() {
      const e = await load();
      if (typeof e === 'string') return e;
      try {
        // Loading the package is not enough (the native binding or the wasm file loads lazily): run one model.
        const probe = await this.bnEvalForward({
          x: new Float32Array([1, 2]), shape: [2, 1], weight: null, bias: null,
          runningMean: new Float32Array([0]), runningVar: new Float32Array([1]), eps: 1e-5,
        });
        return probe.y.length === 2 ? true : `${options.name}: unexpected output length ${probe.y.length}`;
      } catch (e) {
        return `${options.name} cannot run here: ${(e as Error).message.split('\n')[0]}`;
      }
    },

    async teardown() {
      const all = [...sessions.values()];
      sessions.clear();
      for (const s of all) await s.then((x) => x.release(), () => undefined);
    },

    sessionCount: () => sessions.size,
    runtime: ort,
    sessionOptions: options.sessionOptions,

    async bnEvalForward({ x, shape, weight, bias, runningMean, runningVar, eps }) {
      // momentum does not enter eval mode; 0.9 is the spec default.
      const s = await session(`bn|eval|${shape.join('x')}|${eps}`, (onnx) => batchNormModel(onnx, { shape, training: false, epsilon: eps, momentum: 0.9 }));
      const out = await run(s, batchNormFeeds({ x, shape, weight, bias, runningMean, runningVar }));
      return { y: output(out, 'Y') };
    },

    async bnTrainForward({ x, shape, weight, bias, runningMean, runningVar, numBatchesTracked, momentum, eps }) {
      // Contract momentum f is the batch fraction; ONNX keeps 1 - f of the running value.
      const f = momentum === null ? 1 / (numBatchesTracked + 1) : momentum;
      const onnxMomentum = 1 - f;
      const s = await session(`bn|train|${shape.join('x')}|${eps}|${onnxMomentum}`,
        (onnx) => batchNormModel(onnx, { shape, training: true, epsilon: eps, momentum: onnxMomentum }));
      // BatchNormalization always takes running inputs: without them (track_running_stats = False) it gets
      // zeros and ones, whose update no one reads (Y of training mode uses the batch statistics alone)
      const C = shape[1]!;
      const tracking = runningMean !== null && runningVar !== null;
      const out = await run(s, batchNormFeeds({ x, shape, weight, bias, runningMean: runningMean ?? filled(C, 0), runningVar: runningVar ?? filled(C, 1) }));
      return { y: output(out, 'Y'), ...(tracking ? { runningMean: output(out, 'running_mean'), runningVar: output(out, 'running_var') } : {}) };
    },

    async lnForward({ x, shape, normalizedShape, weight, bias, eps }) {
      const k = normalizedShape.length;
      let D = 1;
      for (const d of normalizedShape) D *= d;
      const s = await session(`ln|${shape.join('x')}|${k}|${eps}|${bias !== null}`,
        (onnx) => layerNormModel(onnx, { shape, normalizedRank: k, epsilon: eps, withBias: bias !== null }));
      const feeds: Record<string, { data: Float32Array; dims: readonly number[] }> = {
        X: { data: f32(x), dims: shape },
        Scale: { data: weight ? f32(weight) : filled(D, 1), dims: normalizedShape },
      };
      if (bias) feeds.B = { data: f32(bias), dims: normalizedShape };
      const out = await run(s, feeds);
      return { y: output(out, 'Y'), mean: output(out, 'Mean'), rstd: output(out, 'InvStdDev') };
    },
  };
}
