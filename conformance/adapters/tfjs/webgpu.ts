/**
 * TensorFlow.js' WebGPU backend (@tensorflow/tfjs-backend-webgpu, an optional peer) in Node, on Dawn's
 * WebGPU (conformance/webgpu/dawn.ts).
 *
 * The backend registers itself at import only if `navigator.gpu` exists, so Dawn's GPU object is installed
 * there first (Node 20 has no navigator; Node 21+ has one without gpu). WEBGPU_CPU_FORWARD is turned off:
 * by default the backend runs an op on the CPU backend when its inputs are small and still on the CPU,
 * which is most of a conformance suite's inputs, and the GPU kernels would go untested.
 *
 * Before the backend is initialised, a canary computation on the same GPU (openDawnSession) must come back
 * exact: it names a missing driver or Dawn's null backend instead of letting tfjs fail obscurely.
 */
import { NOT_INSTALLED } from '../../adapter.js';
import { dawnGpu, installNavigatorGpu, openDawnSession } from '../../webgpu/dawn.js';
import { installCommand } from '../engines.js';
import { loadTf, type TF } from './backend.js';

let loaded: Promise<TF | string> | undefined;
const watched = new WeakSet<GPUDevice>();
const reported: string[] = [];

/**
 * The GPU errors tfjs' WebGPU backend raised since the last call, joined, or null. tfjs neither pushes error
 * scopes nor listens for uncaptured errors: a shader that does not compile leaves its output buffer
 * unwritten and the op returns whatever the buffer held, while Dawn prints the error to stderr. Listening
 * here turns that into a failed call with the compiler's message (and keeps it out of the report).
 */
function watchErrors(tf: TF): void {
  const device = (tf.findBackend('webgpu') as unknown as { device?: GPUDevice } | null)?.device;
  if (device && !watched.has(device)) {
    watched.add(device);
    device.addEventListener('uncapturederror', (e) => {
      e.preventDefault();
      reported.push((e as GPUUncapturedErrorEvent).error.message.split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 3).join(' '));
    });
    void device.lost.then((l) => reported.push(`the GPU device was lost (${l.reason}: ${l.message})`));
  }
}

export function takeWebgpuErrors(tf: TF): string | null {
  watchErrors(tf);
  if (reported.length === 0) return null;
  const first = reported[0]!;
  const n = reported.length;
  reported.length = 0;
  return `the WebGPU backend reported ${n === 1 ? 'a GPU error' : `${n} GPU errors`}; first: ${first}`;
}

export function loadTfjsWebgpu(): Promise<TF | string> {
  loaded ??= (async () => {
    const probe = await openDawnSession();
    if (typeof probe === 'string') return probe.startsWith(NOT_INSTALLED) ? `${NOT_INSTALLED}${installCommand(['@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgpu', 'webgpu'])}` : probe;
    probe.device.destroy();
    const gpu = await dawnGpu();
    if (typeof gpu === 'string') return gpu;
    installNavigatorGpu(gpu);
    const tf = await loadTf('webgpu');
    if (typeof tf === 'string') return tf;
    tf.env().set('WEBGPU_CPU_FORWARD', false);
    // initialise the backend now, so that errors are listened for from its first shader on
    if (!(await tf.setBackend('webgpu'))) return "tfjs backend 'webgpu' failed to initialise";
    watchErrors(tf);
    return tf;
  })();
  return loaded;
}
