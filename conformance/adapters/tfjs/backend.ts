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
 * setWasmPaths is needed); 'tensorflow' is registered by @tensorflow/tfjs-node, an optional package
 * whose install step downloads libtensorflow and therefore needs internet access.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { NOT_INSTALLED } from '../../adapter.js';

export type TF = typeof tf;
export type BackendName = 'cpu' | 'wasm' | 'tensorflow';

/** The one command that makes tfjs-node adapters available (the lead's README repeats it). */
export const TFJS_NODE_INSTALL = 'npm install @tensorflow/tfjs-node@4.22.0';

// enableProdMode silences tfjs' console advice ("Hi, looks like you are running TensorFlow.js in Node.js"),
// which would otherwise land in the middle of a conformance report. It changes no numerics.
tf.enableProdMode();

/** @tensorflow/tfjs with the cpu and wasm backends registered. */
export function loadTf(): TF {
  return tf;
}

let tfjsNode: Promise<TF | string> | undefined;

/**
 * @tensorflow/tfjs-node, which re-exports tfjs and registers the 'tensorflow' backend on the same global
 * engine, or a one-line reason it cannot be used here. Loaded once; the module name is held in a variable
 * so the typecheck does not require the optional package.
 */
export function loadTfjsNode(): Promise<TF | string> {
  tfjsNode ??= (async () => {
    const specifier = '@tensorflow/tfjs-node';
    try {
      const mod = (await import(specifier)) as TF & { default?: TF };
      return mod.default ?? mod;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
        // The adapter contract's NOT_INSTALLED form: a status, not a failure (its install step downloads
        // libtensorflow, so the command needs internet access: see docs/divergences.md, "Other tfjs observations").
        return `${NOT_INSTALLED}${TFJS_NODE_INSTALL}`;
      }
      // Installed, but its native binding did not load (e.g. the libtensorflow download was skipped).
      const first = String((err as Error).message ?? err).split('\n')[0];
      return `installed but not loadable (${first}); reinstall with internet access: ${TFJS_NODE_INSTALL}`;
    }
  })();
  return tfjsNode;
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
