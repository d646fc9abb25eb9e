/**
 * The built-in adapters: ONE explicit list, name → lazy loader. To add one, write `conformance/adapters/x.ts`
 * with `export default defineAdapter({...})` and add a line here. Loaders are lazy so that an adapter whose
 * backend is missing (tfjs-node, onnxruntime) costs nothing unless it is asked for; such an adapter should
 * say so from `available()` rather than fail to import.
 */
import type { Adapter } from '../adapter.js';

export type AdapterLoader = () => Promise<{ default: Adapter }>;

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
};
