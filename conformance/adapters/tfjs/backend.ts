/**
 * TensorFlow.js loading and backend selection, shared by every tfjs adapter.
 *
 * tfjs keeps one global engine per process: `tf.setBackend(name)` switches every later op, whichever
 * adapter issued it. So each adapter call first selects its own backend (`useBackend`) and then runs its
 * whole computation synchronously (tf.tidy + dataSync): no await sits between the switch and the ops, so
 * checks of two tfjs adapters interleaved on one event loop cannot run on each other's backend.
 *
 * Backends: 'cpu' ships with @tensorflow/tfjs; 'wasm' is registered by importing
 * @tensorflow/tfjs-backend-wasm (in Node it finds its .wasm binaries next to its own dist/ files, so no
 * setWasmPaths is needed); 'tensorflow' is registered by @tensorflow/tfjs-node, whose install step
 * downloads libtensorflow and therefore needs internet access. All three are optional peer dependencies,
 * imported on first use (engines.ts): the module holds only types of them until then.
 */
import type * as tfTypes from '@tensorflow/tfjs';
import type { Tensor } from '@tensorflow/tfjs';
import { importEngines, installCommand, type EnginePackage } from '../engines.js';

export type TF = typeof tfTypes;
export type BackendName = 'cpu' | 'wasm' | 'tensorflow' | 'webgpu' | 'webgl';

/** The packages each backend needs, in import order (tfjs-node re-exports tfjs). */
const PACKAGES: Record<BackendName, readonly EnginePackage[]> = {
  cpu: ['@tensorflow/tfjs'],
  wasm: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm'],
  tensorflow: ['@tensorflow/tfjs-node'],
  // registers itself only if navigator.gpu exists when imported: load it through tfjs/webgpu.ts
  webgpu: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgpu'],
  // in a browser page only (adapters/tfjs/webgl_page.ts): the ESM bundle of @tensorflow/tfjs carries it
  webgl: ['@tensorflow/tfjs'],
};

/** The one command that makes tfjs-node adapters available (the README repeats it). */
export const TFJS_NODE_INSTALL = installCommand(PACKAGES.tensorflow);

const loaded = new Map<BackendName, Promise<TF | string>>();

/**
 * tfjs with `backend` registered, or a one-line reason it cannot be used here (`not installed: npm install
 * …` when a package is absent). Loaded once per backend; every backend shares tfjs' one global engine.
 */
export function loadTf(backend: BackendName = 'cpu'): Promise<TF | string> {
  let p = loaded.get(backend);
  if (!p) {
    p = importEngines(PACKAGES[backend]).then((mods) => {
      if (typeof mods === 'string') return mods;
      const m = mods[0] as TF & { default?: TF };
      const tf = backend === 'tensorflow' ? (m.default ?? m) : m;
      // enableProdMode silences tfjs' console advice ("Hi, looks like you are running TensorFlow.js in
      // Node.js"), which would otherwise land in the middle of a conformance report. It changes no numerics.
      tf.enableProdMode();
      return tf;
    });
    loaded.set(backend, p);
  }
  return p;
}

/** loadTf for callers that cannot go on without tfjs (tests, probes, the bench): throws the reason. */
export async function requireTf(backend: BackendName = 'cpu'): Promise<TF> {
  const tf = await loadTf(backend);
  if (typeof tf === 'string') throw new Error(`tfjs backend '${backend}': ${tf}`);
  return tf;
}

/** @tensorflow/tfjs-node (the 'tensorflow' backend), or why not. */
export function loadTfjsNode(): Promise<TF | string> {
  return loadTf('tensorflow');
}

/** Selects `name` as tfjs' global backend (initialising it on first use) and waits until it is ready. */
export async function useBackend(tfm: TF, name: BackendName): Promise<void> {
  if (tfm.getBackend() !== name) {
    const ok = await tfm.setBackend(name);
    if (!ok) throw new Error(`tfjs backend '${name}' failed to initialise`);
  }
  await tfm.ready();
}

/** true if `name` initialises here, else the reason it does not. */
export async function backendAvailable(tfm: TF, name: BackendName): Promise<true | string> {
  try {
    const ok = await tfm.setBackend(name);
    return ok ? true : `tfjs backend '${name}' failed to initialise`;
  } catch (err) {
    return `tfjs backend '${name}' failed to initialise: ${String((err as Error).message ?? err).split('\n')[0]}`;
  }
}

/** A Float32Array holding `a` (the same values rounded to float32 if `a` is a Float64Array). */
export function f32(a: ArrayLike<number>): Float32Array {
  return a instanceof Float32Array ? a : Float32Array.from(a);
}

/** A copy of a tensor's values: the cpu backend's dataSync hands out its internal buffer. */
export function read(t: { dataSync(): ArrayLike<number> }): Float32Array {
  return Float32Array.from(t.dataSync());
}

/** Counts the tensors alive on the engine, for the leak check in teardown and in the tests. */
export function numTensors(tfm: TF): number {
  return tfm.memory().numTensors;
}

/**
 * Runs `fn` inside tf.tidy and returns its plain (non-tensor) result: every tensor created in `fn` is
 * disposed when it returns, so `fn` must copy out what it needs with `read`.
 */
export function scoped<T>(tfm: TF, fn: () => T): T {
  let out!: T;
  tfm.tidy(() => {
    out = fn();
  });
  return out;
}

/** The tensors a graph builder (ops.ts) returns for a result type R: each array field as a Tensor (or null). */
export type Outputs<R> = { [K in keyof R]: null extends R[K] ? Tensor | null : Tensor };

/** Builds a graph inside tf.tidy and reads its outputs synchronously (dataSync). */
export function readGraph<R>(tfm: TF, build: () => Outputs<R>): R {
  return scoped(tfm, () => {
    const out: Record<string, Float32Array | null> = {};
    for (const [k, t] of Object.entries(build() as Record<string, Tensor | null>)) out[k] = t ? read(t) : null;
    return out as R;
  });
}

/**
 * Builds a graph inside tf.tidy (which keeps the returned tensors), then reads them with await data() and
 * disposes them, whether or not the reads succeed.
 */
export async function readGraphAsync<R>(tfm: TF, build: () => Outputs<R>): Promise<R> {
  const tensors = tfm.tidy(() => build() as unknown as Record<string, Tensor>) as unknown as Record<string, Tensor | null>;
  try {
    const out: Record<string, Float32Array | null> = {};
    await Promise.all(Object.entries(tensors).map(async ([k, t]) => {
      out[k] = t ? Float32Array.from(await t.data()) : null;
    }));
    return out as R;
  } finally {
    for (const t of Object.values(tensors)) t?.dispose();
  }
}

/**
 * After an exception inside tf.grads / tf.variableGrads, tfjs leaves its gradient tape behind: the engine's
 * `activeTape` still holds the tensors the ops recorded so far saved for the backward (tape nodes'
 * `saved`), and the next gradient call replaces the tape without disposing them (tfjs-core engine.ts
 * `gradients`: the disposal sits after the backprop, with no finally). Disposing them here, as the engine
 * would have, keeps them from accumulating. (Clones an op made before it threw while saving its own inputs
 * never reach the tape and cannot be recovered: see docs/divergences.md#tfjs-failed-grads-leak.)
 */
export function disposeAbandonedTape(tfm: TF): void {
  const state = (tfm.engine() as unknown as { state: { gradientDepth: number; activeTape: { saved: { dispose(): void }[] }[] | null } }).state;
  if (state.gradientDepth === 0 && state.activeTape) {
    for (const node of state.activeTape) for (const t of node.saved) t.dispose();
    state.activeTape = null;
  }
}
