/**
 * The peers timed beside the kernels: TensorFlow.js on its wasm backend (pinned to one thread, SIMD), its cpu
 * backend (plain JS), and tfjs-node (libtensorflow) when installed — reported "not installed" otherwise.
 * Loading and backend switching are the conformance adapters' (conformance/adapters/tfjs/backend.ts).
 */
import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { loadTf, loadTfjsNode, useBackend, type BackendName, type TF } from '../../conformance/adapters/tfjs/backend.js';
import type { Implementation, Prepared } from './harness.js';

export interface Peer {
  name: 'tfjs-wasm' | 'tfjs-cpu' | 'tfjs-node';
  backend: BackendName;
  load(): Promise<TF | string>;
}

let wasmPinned = false;

export const PEERS: readonly Peer[] = [
  {
    name: 'tfjs-wasm',
    backend: 'wasm',
    load: async () => {
      // one thread, as every other implementation here (must precede the backend's initialisation)
      if (!wasmPinned) setThreadsCount(1);
      wasmPinned = true;
      return loadTf('wasm');
    },
  },
  { name: 'tfjs-cpu', backend: 'cpu', load: () => loadTf('cpu') },
  { name: 'tfjs-node', backend: 'tensorflow', load: loadTfjsNode },
];

/**
 * One Implementation per peer from a builder that gets the tfjs module (backend already selected) and returns
 * the prepared run/validate. `maxReps` per peer: the cpu backend is slow on big shapes.
 */
export function tfjsImplementations(
  build: (tf: TF) => Prepared, maxReps: Partial<Record<Peer['name'], number>> = {},
): Implementation[] {
  return PEERS.map((peer) => {
    let tfm: TF | string | undefined;
    const get = async (): Promise<TF | string> => (tfm ??= await peer.load());
    const impl: Implementation = {
      name: peer.name,
      kind: 'peer',
      peer: peer.name,
      available: async () => {
        const m = await get();
        if (typeof m === 'string') return m;
        try {
          await useBackend(m, peer.backend);
          return true;
        } catch (err) {
          return String((err as Error).message ?? err);
        }
      },
      setup: async () => {
        const m = await get();
        if (typeof m === 'string') throw new Error(m);
        await useBackend(m, peer.backend);
        const prepared = build(m);
        // the global backend may be switched by another tfjs implementation between two timed runs
        prepared.select = () => useBackend(m, peer.backend);
        return prepared;
      },
    };
    // libtensorflow runs ops on its own thread pool, which the calling thread's CPU clock would not see
    if (peer.backend === 'tensorflow') impl.usesOtherThreads = true;
    const cap = maxReps[peer.name];
    if (cap !== undefined) impl.maxReps = cap;
    return impl;
  });
}
