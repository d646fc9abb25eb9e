/**
 * What a page module may import as `normcheck/conformance` (the browser host's import map points here): the
 * parts of the public API that run in a browser — the adapter contract and the WebGPU helper, which takes
 * `navigator.gpu` in a page. The rest of normcheck/conformance (the runner, reports, fast-check) stays in Node.
 */
export * from '../../adapter.js';
export { webgpuAdapter, type WebGpuAdapter, type WebGpuAdapterSpec } from '../../webgpu/adapter.js';
export {
  GpuSession, GpuDeviceLostError, GpuValidationError, WgslCompileError, openSession, describeGpu,
  type BindingValue, type GpuArray, type GpuInfo, type UniformValues, type Workgroups,
} from '../../webgpu/session.js';
