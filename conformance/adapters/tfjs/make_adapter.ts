/**
 * The wiring shared by every tfjs adapter: loading, backend selection before each call, the leak check.
 * The computations live in ops.ts (tf.moments + tf.batchNorm, PyTorch profile) and layers.ts
 * (tf.layers.*, Keras profile); each takes the tfjs module first and runs synchronously.
 */
import type {
  Adapter, BatchNormBackwardArgs, BatchNormEvalArgs, BatchNormTrainArgs, BatchNormTrainResult, FloatArray, Grads,
  LayerNormArgs, LayerNormBackwardArgs, LayerNormResult, MaybePromise, ProfileName, Unsupported,
} from '../../adapter.js';
import { disposeAbandonedTape, numTensors, useBackend, type BackendName, type TF } from './backend.js';

/**
 * The computations. Each issues its ops synchronously; it may return a Promise only for the read-back
 * (ops.ts opsImplAsync), which is tied to the tensors' own backend, not to the global one.
 */
export interface TfjsImpl {
  profile: ProfileName;
  /** what these tfjs APIs cannot take (adapter.ts `unsupported`), on every backend; an adapter's own `unsupported` option wins */
  unsupported?: Unsupported;
  bnTrainForward(tf: TF, args: BatchNormTrainArgs): MaybePromise<BatchNormTrainResult>;
  bnEvalForward(tf: TF, args: BatchNormEvalArgs): MaybePromise<{ y: FloatArray }>;
  bnBackward(tf: TF, args: BatchNormBackwardArgs): MaybePromise<Grads>;
  lnForward(tf: TF, args: LayerNormArgs): MaybePromise<LayerNormResult>;
  lnBackward(tf: TF, args: LayerNormBackwardArgs): MaybePromise<Grads>;
}

export interface TfjsAdapterOptions {
  name: string;
  description: string;
  backend: BackendName;
  /** Resolves tfjs (with the backend registered) or says why it cannot be used here. */
  load: () => Promise<TF | string>;
  /**
   * What the backend stores and computes in (default float32). 'float16' for half-float textures: the
   * suite then passes half-representable inputs and judges at half precision (still in Float32Arrays).
   */
  precision?: 'float32' | 'float16';
  /**
   * After each successful call: why its results cannot be trusted (errors the backend reported out of
   * band, such as a GPU shader that did not compile), or null. The call then fails with that reason.
   */
  afterCall?: (tf: TF) => string | null;
  /** The features it does not support (adapter.ts `Unsupported`), e.g. OPS_UNSUPPORTED. */
  unsupported?: Unsupported;
}

/**
 * Every capability first selects the adapter's backend, then runs `impl` synchronously: no await separates
 * the (re-)selection from the ops, so interleaved calls of two tfjs adapters cannot run on each other's backend.
 * setup and teardown count the engine's live tensors; a run whose successful calls leave any behind fails
 * teardown.
 */
export function makeTfjsAdapter(opts: TfjsAdapterOptions, impl: TfjsImpl): Adapter {
  let tf: TF | undefined;
  let tensorsAtSetup = 0;
  const ready = async (): Promise<TF> => {
    if (!tf) {
      const loaded = await opts.load();
      if (typeof loaded === 'string') throw new Error(`${opts.name}: ${loaded}`);
      tf = loaded;
    }
    await useBackend(tf, opts.backend);
    return tf;
  };
  /**
   * Tensors tfjs itself strands when one of its ops throws while recording a gradient (the inputs it had
   * already cloned for the backward; docs/divergences.md#tfjs-failed-grads-leak). They are unreachable, so
   * the leak check counts them apart: teardown fails only for tensors left by calls that succeeded.
   */
  let strandedByFailedCalls = 0;
  /**
   * Selects the backend, then runs one call synchronously; a tfjs exception leaves no tape behind.
   * `ready()` awaits (the backend's first initialisation, tf.ready()), and while it waits another tfjs
   * adapter's call may switch the global backend: two calls in flight at once (Promise.all over a cpu and a
   * wasm adapter) then ran the first on the second's backend, which showed as results one ulp apart. So the
   * backend is selected again after the last await: for a backend already initialised, tf.setBackend
   * switches synchronously (engine.setBackend reaches its first await only while initialising), and the
   * check below confirms it before any op runs.
   */
  const run = async <A, R>(fn: (tfm: TF, args: A) => MaybePromise<R>, args: A): Promise<R> => {
    const tfm = await ready();
    if (tfm.getBackend() !== opts.backend) void tfm.setBackend(opts.backend);
    if (tfm.getBackend() !== opts.backend) throw new Error(`${opts.name}: tfjs backend is '${tfm.getBackend()}', could not select '${opts.backend}'`);
    const before = numTensors(tfm);
    let result: R;
    try {
      result = await fn(tfm, args);
    } catch (err) {
      disposeAbandonedTape(tfm);
      strandedByFailedCalls += numTensors(tfm) - before;
      // what the backend reported out of band belongs to this call too, and says more than the symptom
      const problem = opts.afterCall?.(tfm);
      if (problem && err instanceof Error) err.message += ` (${problem})`;
      throw err;
    }
    const problem = opts.afterCall?.(tfm);
    if (problem) throw new Error(problem);
    return result;
  };
  return {
    name: opts.name,
    description: opts.description,
    precision: opts.precision ?? 'float32',
    layout: 'NHWC',
    profile: impl.profile,
    // the adapter's own declaration, else the one of the tfjs APIs it calls (the same on every backend)
    ...((opts.unsupported ?? impl.unsupported) ? { unsupported: opts.unsupported ?? impl.unsupported } : {}),
    async available() {
      const loaded = await opts.load();
      if (typeof loaded === 'string') return loaded;
      try {
        await useBackend(loaded, opts.backend);
        return true;
      } catch (err) {
        return String((err as Error).message ?? err);
      }
    },
    async setup() {
      tensorsAtSetup = numTensors(await ready());
    },
    async teardown() {
      const leaked = numTensors(await ready()) - tensorsAtSetup - strandedByFailedCalls;
      if (leaked !== 0) throw new Error(`${opts.name}: ${leaked} tensors leaked over the run (tf.memory().numTensors)`);
    },
    bnTrainForward: (args) => run(impl.bnTrainForward, args),
    bnEvalForward: (args) => run(impl.bnEvalForward, args),
    bnBackward: (args) => run(impl.bnBackward, args),
    lnForward: (args) => run(impl.lnForward, args),
    lnBackward: (args) => run(impl.lnBackward, args),
  };
}
