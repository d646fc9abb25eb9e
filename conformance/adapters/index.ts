/**
 * The built-in adapters: ONE explicit list, name → lazy loader. To add one, write `conformance/adapters/x.ts`
 * with `export default defineAdapter({...})` and add a line here. Loaders are lazy so that an adapter whose
 * backend is missing (tfjs-node, onnxruntime) costs nothing unless it is asked for; such an adapter should
 * say so from `available()` rather than fail to import. An adapter that runs in a child process (torch)
 * also exports `subprocess`, how to start it (hosts/open.ts); its default export then only declares it.
 */
import type { Adapter } from '../adapter.js';
import type { SubprocessLaunch } from '../hosts/subprocess.js';

export type AdapterLoader = () => Promise<{ default: Adapter; subprocess?: SubprocessLaunch }>;

export const BUILTIN_ADAPTERS: Record<string, AdapterLoader> = {
  reference: () => import('./reference.js'),
  kernels: () => import('./kernels.js'),
  'kernels-nhwc': () => import('./kernels-nhwc.js'),
  'ort-node': () => import('./ort-node.js'),
  'ort-web': () => import('./ort-web.js'),
  'ort-webgpu': () => import('./ort-webgpu.js'),
  'tfjs-cpu': () => import('./tfjs-cpu.js'),
  'tfjs-wasm': () => import('./tfjs-wasm.js'),
  'tfjs-node': () => import('./tfjs-node.js'),
  'tfjs-layers-cpu': () => import('./tfjs-layers-cpu.js'),
  'tfjs-layers-wasm': () => import('./tfjs-layers-wasm.js'),
  'tfjs-webgpu': () => import('./tfjs-webgpu.js'),
  'tfjs-webgl': () => import('./tfjs-webgl.js'),
  'tfjs-webgl-f16': () => import('./tfjs-webgl-f16.js'),
  torch: () => import('./torch.js'),
  'torch-float64': () => import('./torch-float64.js'),
};
