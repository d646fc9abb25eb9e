/// <reference types="@webgpu/types" />
/**
 * onnxruntime-web's WebGPU execution provider in Node, on Dawn (conformance/webgpu/dawn.ts).
 *
 * onnxruntime-web 1.30 has two WebGPU providers, in two builds of its wasm:
 *   jsep    dist/ort.mjs — the JavaScript execution provider: kernels written in TypeScript that generate
 *           WGSL; what `import 'onnxruntime-web'` runs for executionProviders ['webgpu'] in a page
 *   native  dist/ort.webgpu.mjs — the C++ WebGPU provider compiled to wasm (`onnxruntime-web/webgpu`)
 * The `ort-webgpu` adapter drives jsep: it is the package's default entry point, and it takes its GPU
 * adapter from `env.webgpu.adapter`, so nothing global needs patching. The native build reaches
 * navigator.gpu itself; `loadOrtWebgpu('native')` serves the probe and the divergence test, which found
 * both builds give bit-identical results on every repro (docs/divergences.md#ort-webgpu).
 *
 * Three things stand between these browser builds and Node, each measured:
 *   - the package's `node` export condition selects the wasm-only build, so the browser build is imported
 *     by path;
 *   - the wasm memory is a SharedArrayBuffer, and Dawn's writeBuffer refuses views of one ("no overload
 *     matched"): the device's queue copies such uploads into a plain buffer first;
 *   - V8 compiles the 27 MB module with TurboFan before the first session.run, which blocked 35–77 s on
 *     two shared cores; `--liftoff-only` (set here with v8.setFlagsFromString, before the module compiles)
 *     makes it ~50 ms. The flag is process-wide: WebAssembly compiled after it (tfjs-wasm, ort-web) runs on
 *     the baseline compiler too — the same results, more slowly.
 * Sessions are created with CPU fallback disabled, so a node the WebGPU provider cannot take fails at
 * session creation instead of silently running on the CPU.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import { NOT_INSTALLED } from '../../adapter.js';
import { dawnGpu, installNavigatorGpu, openDawnSession } from '../../webgpu/dawn.js';
import { installCommand } from '../engines.js';
import type { OrtRuntime } from './ort_adapter.js';

export type OrtWebgpuBuild = 'jsep' | 'native';

const BUILD_FILE: Record<OrtWebgpuBuild, string> = { jsep: 'ort.mjs', native: 'ort.webgpu.mjs' };

/** queue.writeBuffer that copies a SharedArrayBuffer-backed source into a plain one first. */
function copySharedUploads(queue: GPUQueue): void {
  const write = queue.writeBuffer.bind(queue) as (b: GPUBuffer, o: number, d: ArrayBufferView | ArrayBuffer | SharedArrayBuffer, dOff?: number, size?: number) => undefined;
  (queue as { writeBuffer: unknown }).writeBuffer = (buffer: GPUBuffer, offset: number, data: ArrayBufferView | ArrayBuffer | SharedArrayBuffer, dataOffset = 0, size?: number) => {
    const view = ArrayBuffer.isView(data);
    const backing = view ? (data as ArrayBufferView).buffer : data;
    if (!(backing instanceof SharedArrayBuffer)) return size === undefined ? write(buffer, offset, data, dataOffset) : write(buffer, offset, data, dataOffset, size);
    // dataOffset and size count elements of a typed array, bytes of an ArrayBuffer (the WebGPU spec)
    const unit = view ? ((data as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1) : 1;
    const start = (view ? (data as ArrayBufferView).byteOffset : 0) + dataOffset * unit;
    const length = size !== undefined ? size * unit : (view ? (data as ArrayBufferView).byteLength : (backing as SharedArrayBuffer).byteLength) - dataOffset * unit;
    return write(buffer, offset, new Uint8Array(backing, start, length).slice());
  };
}

/** A GPU adapter whose devices copy shared-memory uploads (see the header). */
function patchedAdapter(adapter: GPUAdapter): GPUAdapter {
  const request = adapter.requestDevice.bind(adapter);
  (adapter as { requestDevice: unknown }).requestDevice = async (d?: GPUDeviceDescriptor) => {
    const device = await request(d);
    copySharedUploads(device.queue);
    return device;
  };
  return adapter;
}

type OrtModule = OrtRuntime & { env: { wasm: { numThreads: number; proxy: boolean }; logLevel: string; webgpu: { adapter?: unknown } } };
const loaded = new Map<OrtWebgpuBuild, Promise<OrtRuntime | string>>();

/** The runtime of `build`, or a one-line reason it cannot run here (NOT_INSTALLED form when a package is absent). */
export function loadOrtWebgpu(build: OrtWebgpuBuild = 'jsep'): Promise<OrtRuntime | string> {
  let p = loaded.get(build);
  if (!p) {
    p = (async () => {
      const probe = await openDawnSession();
      if (typeof probe === 'string') return probe.startsWith(NOT_INSTALLED) ? `${NOT_INSTALLED}${installCommand(['onnxruntime-web', 'onnx-proto', 'webgpu'])}` : probe;
      probe.device.destroy();
      const gpu = await dawnGpu();
      if (typeof gpu === 'string') return gpu;
      let entry: string;
      try {
        // the package's `node` condition names the wasm-only build; the browser builds sit beside it
        entry = createRequire(import.meta.url).resolve('onnxruntime-web');
      } catch {
        return `${NOT_INSTALLED}${installCommand(['onnxruntime-web', 'onnx-proto', 'webgpu'])}`;
      }
      v8.setFlagsFromString('--liftoff-only');
      const ort = (await import(pathToFileURL(join(dirname(entry), BUILD_FILE[build])).href)) as OrtModule;
      ort.env.wasm.numThreads = 1;
      ort.env.wasm.proxy = false;
      ort.env.logLevel = 'fatal';
      const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
      if (!adapter) return 'Dawn returned no WebGPU adapter';
      if (build === 'jsep') {
        // jsep checks that navigator.gpu exists, then uses the adapter it is given
        installNavigatorGpu(gpu);
        ort.env.webgpu.adapter = patchedAdapter(adapter);
      } else {
        // the native provider asks navigator.gpu itself: hand it a GPU whose adapters are patched
        const wrapped = Object.create(gpu, {
          requestAdapter: { value: async (o?: GPURequestAdapterOptions) => { const a = await gpu.requestAdapter(o); return a && patchedAdapter(a); } },
        }) as GPU;
        installNavigatorGpu(wrapped, true);
      }
      return ort as OrtRuntime;
    })();
    loaded.set(build, p);
  }
  return p;
}

/** Session options of both builds: WebGPU only (no CPU fallback), ONNX Runtime's own logging silenced. */
export const ORT_WEBGPU_SESSION = {
  executionProviders: ['webgpu'],
  logSeverityLevel: 4,
  extra: { session: { disable_cpu_ep_fallback: '1' } },
} as const;
