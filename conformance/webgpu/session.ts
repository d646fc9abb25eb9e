/// <reference types="@webgpu/types" />
/**
 * A ready GPUDevice and the plumbing around it, so that a WebGPU adapter writes only its WGSL and its
 * dispatch: `run(code, entryPoint, bindings, workgroups)` compiles the kernel once per device, uploads the
 * typed arrays, dispatches, and reads every writable buffer back as a typed array.
 *
 *   const { y, mean } = await gpu.run(WGSL, 'bn_train', { params: { u32: [N, C, S], f32: [eps] }, x, y: x.length, mean: C }, C);
 *
 * Bindings are found by name in the WGSL source: every `@group(0) @binding(i) var<…> name` declaration.
 *   var<storage, read>        an input: a Float32Array, Uint32Array or Int32Array
 *   var<storage, read_write>  an output: its length (a zeroed Float32Array), or a typed array to start from;
 *                             read back after the dispatch and returned under its name
 *   var<uniform>              a typed array, or { u32, i32, f32 } lists packed in that order, 4 bytes each
 *                             (a WGSL struct of 4-byte scalars declared in the same order)
 * Only the bindings an entry point is given enter its pipeline layout, so one WGSL file can hold several
 * entry points with different bindings. Buffers are at least 4 bytes (16 for uniforms): pass sizes in a
 * uniform rather than relying on arrayLength, which counts the padding of an empty array.
 *
 * Failures are typed and name the kernel: a WGSL compile error (with line, column and the source line), a
 * validation error (a missing or mistyped binding, too many workgroups), a lost device. This file uses only
 * the WebGPU API, so it runs the same under Dawn in Node (dawn.ts) and in a browser page.
 */

export type GpuArray = Float32Array | Uint32Array | Int32Array;
export interface UniformValues {
  u32?: readonly number[];
  i32?: readonly number[];
  f32?: readonly number[];
}
/** An input array, an output length, or uniform values; see the header for which a binding takes. */
export type BindingValue = GpuArray | number | UniformValues;
export type Workgroups = number | readonly [number, number?, number?];

/** What the adapter ran on, from GPUAdapterInfo. */
export interface GpuInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
}

export class WgslCompileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WgslCompileError';
  }
}

export class GpuValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpuValidationError';
  }
}

export class GpuDeviceLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpuDeviceLostError';
  }
}

type Access = 'read' | 'read_write' | 'uniform';
interface Declared {
  binding: number;
  access: Access;
}

/**
 * The group-0 bindings a WGSL source declares, by name. Attributes may come in either order; a binding in
 * another group is refused (the helper builds one bind group).
 */
export function declaredBindings(code: string): Map<string, Declared> {
  const out = new Map<string, Declared>();
  // comments would hide or fake declarations
  const src = code.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/.*$/gm, '');
  const re = /((?:@(?:group|binding)\s*\(\s*\d+\s*\)\s*){2})var\s*<\s*(storage|uniform)\s*(?:,\s*(read|read_write)\s*)?>\s*([A-Za-z_]\w*)/g;
  for (const m of src.matchAll(re)) {
    const group = Number(/@group\s*\(\s*(\d+)/.exec(m[1]!)![1]);
    const binding = Number(/@binding\s*\(\s*(\d+)/.exec(m[1]!)![1]);
    const name = m[4]!;
    if (group !== 0) throw new GpuValidationError(`binding '${name}' is in @group(${group}); the helper binds @group(0) only`);
    out.set(name, { binding, access: m[2] === 'uniform' ? 'uniform' : m[3] === 'read_write' ? 'read_write' : 'read' });
  }
  return out;
}

function workgroupCounts(w: Workgroups): [number, number, number] {
  const [x, y = 1, z = 1] = typeof w === 'number' ? [w] : w;
  for (const [axis, n] of [['x', x], ['y', y], ['z', z]] as const) {
    if (!Number.isInteger(n) || n! < 1) throw new GpuValidationError(`workgroups.${axis} must be a positive integer, got ${n}`);
  }
  return [x!, y, z];
}

function isUniformValues(v: BindingValue): v is UniformValues {
  return typeof v === 'object' && !ArrayBuffer.isView(v);
}

/** u32, then i32, then f32 values, 4 bytes each, in a buffer padded to a multiple of 16 bytes. */
function packUniform(v: UniformValues): ArrayBuffer {
  const n = (v.u32?.length ?? 0) + (v.i32?.length ?? 0) + (v.f32?.length ?? 0);
  const buf = new ArrayBuffer(Math.max(16, Math.ceil((4 * n) / 16) * 16));
  const view = new DataView(buf);
  let at = 0;
  for (const x of v.u32 ?? []) (view.setUint32(at, x, true), (at += 4));
  for (const x of v.i32 ?? []) (view.setInt32(at, x, true), (at += 4));
  for (const x of v.f32 ?? []) (view.setFloat32(at, x, true), (at += 4));
  return buf;
}

/** The bytes of `v`, copied out of a SharedArrayBuffer (which writeBuffer does not take everywhere). */
function plainBytes(v: ArrayBufferView | ArrayBuffer): ArrayBuffer | ArrayBufferView {
  if (!ArrayBuffer.isView(v) || v.buffer instanceof ArrayBuffer) return v;
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
}

function sourceLine(code: string, line: number): string {
  return code.split('\n')[line - 1]?.trim() ?? '';
}

interface Pipeline {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

type Outputs<B> = { [K in keyof B as B[K] extends number | GpuArray ? K : never]: B[K] extends Uint32Array ? Uint32Array : B[K] extends Int32Array ? Int32Array : Float32Array };

export class GpuSession {
  private modules = new Map<string, Promise<GPUShaderModule>>();
  private pipelines = new Map<string, Promise<Pipeline>>();
  private lostReason: string | null = null;
  private readonly lostPromise: Promise<never>;

  constructor(readonly device: GPUDevice, readonly info: GpuInfo) {
    this.lostPromise = device.lost.then((l) => {
      this.lostReason = `${l.reason}${l.message ? `: ${l.message}` : ''}`;
      throw new GpuDeviceLostError(`the GPU device was lost (${this.lostReason})`);
    });
    // Every await below races this promise; keep its rejection from being reported as unhandled.
    this.lostPromise.catch(() => undefined);
    // Errors outside the helper's error scopes (the adapter's own use of the device) would otherwise be
    // printed by the implementation to the console; the next run reports them instead.
    device.addEventListener('uncapturederror', (e) => {
      e.preventDefault();
      this.uncaptured.push((e as GPUUncapturedErrorEvent).error.message.split('\n')[0]!);
    });
  }

  private uncaptured: string[] = [];

  private running = 0;

  /** Runs started and not yet finished (returned or failed). */
  get inFlight(): number {
    return this.running;
  }

  /** null while the device works, else why it was lost. */
  get lost(): string | null {
    return this.lostReason;
  }

  /** Marks the device unusable without touching it (destroying a device whose queue is stuck blocks). */
  abandon(why: string): void {
    this.lostReason ??= why;
  }

  private async guard<T>(p: Promise<T>): Promise<T> {
    if (this.lostReason) throw new GpuDeviceLostError(`the GPU device was lost (${this.lostReason})`);
    return Promise.race([p, this.lostPromise]);
  }

  private module(code: string, entryPoint: string): Promise<GPUShaderModule> {
    let m = this.modules.get(code);
    if (!m) {
      m = (async () => {
        // in an error scope: the compile error is reported below, from the compilation info, not by Dawn
        this.device.pushErrorScope('validation');
        const mod = this.device.createShaderModule({ code });
        void this.device.popErrorScope();
        const info = await this.guard(mod.getCompilationInfo());
        const errors = info.messages.filter((x) => x.type === 'error');
        if (errors.length) {
          const lines = errors.map((e) => `line ${e.lineNum}:${e.linePos}: ${e.message}${e.lineNum ? ` — ${sourceLine(code, e.lineNum)}` : ''}`);
          throw new WgslCompileError(`WGSL of kernel '${entryPoint}' does not compile: ${lines.join('; ')}`);
        }
        return mod;
      })();
      m.catch(() => this.modules.delete(code));
      this.modules.set(code, m);
    }
    return m;
  }

  private pipeline(code: string, entryPoint: string, decl: Map<string, Declared>, names: readonly string[]): Promise<Pipeline> {
    const key = `${entryPoint}|${names.join(',')}|${code}`;
    let p = this.pipelines.get(key);
    if (!p) {
      p = (async () => {
        const module = await this.module(code, entryPoint);
        const layout = this.device.createBindGroupLayout({
          entries: names.map((name) => {
            const { binding, access } = decl.get(name)!;
            const type: GPUBufferBindingType = access === 'uniform' ? 'uniform' : access === 'read' ? 'read-only-storage' : 'storage';
            return { binding, visibility: GPUShaderStage.COMPUTE, buffer: { type } };
          }),
        });
        this.device.pushErrorScope('validation');
        const pipeline = await this.guard(
          this.device.createComputePipelineAsync({
            layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }), compute: { module, entryPoint },
          }).catch((e: Error) => {
            throw new GpuValidationError(`kernel '${entryPoint}': the pipeline cannot be created: ${e.message}`);
          }),
        ).finally(() => this.device.popErrorScope());
        return { pipeline, layout };
      })();
      p.catch(() => this.pipelines.delete(key));
      this.pipelines.set(key, p);
    }
    return p;
  }

  /**
   * Runs `entryPoint` of `code` once over `workgroups` with `bindings` (by WGSL name) and returns the
   * read_write buffers' contents. Nothing given is modified: inputs are copied to the GPU.
   */
  async run<B extends Record<string, BindingValue>>(code: string, entryPoint: string, bindings: B, workgroups: Workgroups): Promise<Outputs<B>> {
    this.running++;
    try {
      return await this.runOnce(code, entryPoint, bindings, workgroups);
    } finally {
      this.running--;
    }
  }

  private async runOnce<B extends Record<string, BindingValue>>(code: string, entryPoint: string, bindings: B, workgroups: Workgroups): Promise<Outputs<B>> {
    if (this.uncaptured.length) {
      const first = this.uncaptured[0];
      const n = this.uncaptured.length;
      this.uncaptured = [];
      throw new GpuValidationError(`${n === 1 ? 'a GPU error was' : `${n} GPU errors were`} raised outside a run since the last one; first: ${first}`);
    }
    const decl = declaredBindings(code);
    const counts = workgroupCounts(workgroups);
    const names = Object.keys(bindings).sort((a, b) => (decl.get(a)?.binding ?? 0) - (decl.get(b)?.binding ?? 0));
    for (const name of names) {
      const d = decl.get(name);
      if (!d) throw new GpuValidationError(`kernel '${entryPoint}': no binding named '${name}' in the WGSL (declared: ${[...decl.keys()].join(', ') || 'none'})`);
      const v = bindings[name]!;
      const ok = d.access === 'uniform' ? isUniformValues(v) || ArrayBuffer.isView(v) : d.access === 'read' ? ArrayBuffer.isView(v) : typeof v === 'number' || ArrayBuffer.isView(v);
      if (!ok) {
        const want = d.access === 'uniform' ? 'a typed array or { u32, i32, f32 }' : d.access === 'read' ? 'a typed array' : 'an output length or a typed array';
        throw new GpuValidationError(`kernel '${entryPoint}': binding '${name}' (var<${d.access === 'uniform' ? 'uniform' : `storage, ${d.access}`}>) takes ${want}, got ${typeof v === 'object' ? v.constructor.name : typeof v}`);
      }
      if (typeof v === 'number' && !(Number.isInteger(v) && v >= 0)) throw new GpuValidationError(`kernel '${entryPoint}': output '${name}' length must be a non-negative integer, got ${v}`);
    }
    const { pipeline, layout } = await this.pipeline(code, entryPoint, decl, names);
    const device = this.device;
    const created: GPUBuffer[] = [];
    const reads: { name: string; buffer: GPUBuffer; staging: GPUBuffer; ctor: typeof Float32Array | typeof Uint32Array | typeof Int32Array; length: number }[] = [];
    device.pushErrorScope('validation');
    device.pushErrorScope('out-of-memory');
    try {
      const entries: GPUBindGroupEntry[] = names.map((name) => {
        const { binding, access } = decl.get(name)!;
        const v = bindings[name]!;
        let bytes: ArrayBufferView | ArrayBuffer | null;
        let length = 0;
        let ctor: typeof Float32Array | typeof Uint32Array | typeof Int32Array = Float32Array;
        if (typeof v === 'number') {
          bytes = null;
          length = v;
        } else if (isUniformValues(v)) {
          bytes = packUniform(v);
        } else {
          bytes = v;
          length = v.length;
          ctor = v.constructor as typeof ctor;
        }
        const byteLength = bytes ? bytes.byteLength : 4 * length;
        const size = access === 'uniform' ? Math.max(16, Math.ceil(byteLength / 16) * 16) : Math.max(4, Math.ceil(byteLength / 4) * 4);
        const usage = (access === 'uniform' ? GPUBufferUsage.UNIFORM : GPUBufferUsage.STORAGE) | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
        const buffer = device.createBuffer({ size, usage });
        created.push(buffer);
        if (bytes && bytes.byteLength > 0) device.queue.writeBuffer(buffer, 0, plainBytes(bytes));
        if (access === 'read_write') {
          const staging = device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
          created.push(staging);
          reads.push({ name, buffer, staging, ctor, length });
        }
        return { binding, resource: { buffer } };
      });
      const bindGroup = device.createBindGroup({ layout, entries });
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(...counts);
      pass.end();
      for (const r of reads) encoder.copyBufferToBuffer(r.buffer, 0, r.staging, 0, r.staging.size);
      device.queue.submit([encoder.finish()]);
    } finally {
      const oom = await this.guard(device.popErrorScope());
      const invalid = await this.guard(device.popErrorScope());
      const err = invalid ?? oom;
      if (err) {
        for (const b of created) b.destroy();
        // eslint-disable-next-line no-unsafe-finally
        throw new GpuValidationError(`kernel '${entryPoint}': ${oom ? 'out of GPU memory' : 'validation error'}: ${err.message}`);
      }
    }
    try {
      const out: Record<string, GpuArray> = {};
      await this.guard(Promise.all(reads.map((r) => r.staging.mapAsync(GPUMapMode.READ))));
      for (const r of reads) {
        out[r.name] = new r.ctor(r.staging.getMappedRange().slice(0, 4 * r.length));
        r.staging.unmap();
      }
      return out as Outputs<B>;
    } finally {
      if (!this.lostReason) for (const b of created) b.destroy();
    }
  }
}

/**
 * Requests an adapter and a device from `gpu` (Dawn's in Node, navigator.gpu in a page), refusing an
 * adapter that does not compute: Dawn's null backend hands out an adapter whose buffers read back
 * garbage, so the info is checked and a known computation (a canary) must come back exact.
 */
export interface SessionOptions {
  requiredFeatures?: GPUFeatureName[];
  /** Appended to the reason when the GPU API returns no adapter (what to install, where to look). */
  noAdapterHint?: string;
}

export async function openSession(gpu: GPU, options: SessionOptions = {}): Promise<GpuSession | string> {
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return `no WebGPU adapter${options.noAdapterHint ? `: ${options.noAdapterHint}` : ''}`;
  const i = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const info: GpuInfo = {
    vendor: i.vendor ?? '', architecture: i.architecture ?? '', device: i.device ?? '', description: i.description ?? '',
    isFallbackAdapter: i.isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false,
  };
  if (info.device === 'null-backend') return "Dawn's null backend (backend=null): it executes nothing and reads back garbage";
  const missing = (options.requiredFeatures ?? []).filter((f) => !adapter.features.has(f));
  if (missing.length) return `the WebGPU adapter (${describeGpu(info)}) lacks ${missing.join(', ')}`;
  const device = await adapter.requestDevice({ requiredFeatures: options.requiredFeatures ?? [], label: 'normcheck' });
  const session = new GpuSession(device, info);
  const canary = await canaryFails(session);
  if (canary) {
    device.destroy();
    return `the WebGPU adapter (${describeGpu(info)}) does not compute: ${canary}`;
  }
  return session;
}

const CANARY = /* wgsl */ `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(4) fn canary(@builtin(local_invocation_index) i: u32) { y[i] = x[i] * 2.0 + 1.0; }`;

/** null if y = 2x + 1 comes back exact for four small integers, else what came back. */
async function canaryFails(s: GpuSession): Promise<string | null> {
  const { y } = await s.run(CANARY, 'canary', { x: Float32Array.of(0, 1, 2, -3), y: 4 }, 1);
  const want = [1, 3, 5, -5];
  return want.every((w, k) => y[k] === w) ? null : `y = 2x + 1 on [0, 1, 2, -3] returned [${Array.from(y).join(', ')}]`;
}

export function describeGpu(info: GpuInfo): string {
  const name = [info.vendor, info.architecture].filter(Boolean).join('/') || info.device || 'unknown adapter';
  return `${name}${info.description ? `, ${info.description}` : ''}${info.isFallbackAdapter ? ', fallback adapter' : ''}`;
}
