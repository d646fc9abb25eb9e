/**
 * The WebGPU helper (conformance/webgpu): a session runs WGSL by binding name and reads outputs back, and
 * everything that goes wrong on the way is one clear error naming the kernel or the adapter — a shader that
 * does not compile, a binding that does not exist or has the wrong kind, Dawn's null backend, a missing
 * Vulkan driver, a device lost mid-run (the next call gets a new device), a call that never finishes (the
 * runner's timeout fails it; the next check gets a new device).
 */
import { describe, expect, it } from 'vitest';
import { runConformance } from '../../conformance/runner.js';
import { webgpuAdapter } from '../../conformance/webgpu/adapter.js';
import { openDawnSession, vulkanProblem } from '../../conformance/webgpu/dawn.js';
import { GpuDeviceLostError, GpuValidationError, WgslCompileError, type GpuSession } from '../../conformance/webgpu/session.js';
import { GPU_SKIP, gpuTitle } from './gpu_env.js';

const AXPY = /* wgsl */ `
struct Params { n: u32, a: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> count: array<u32>;
@compute @workgroup_size(64) fn axpy(@builtin(global_invocation_id) g: vec3u) {
  if (g.x < p.n) { y[g.x] = p.a * x[g.x] + y[g.x]; }
  if (g.x == 0u) { count[0] = p.n; }
}`;

async function session(): Promise<GpuSession> {
  const s = await openDawnSession();
  if (typeof s === 'string') throw new Error(s);
  return s;
}

describe.skipIf(GPU_SKIP !== null)(gpuTitle('a GPU session on Dawn'), () => {
  it('runs a kernel by binding name: inputs uploaded and left untouched, read_write buffers returned in their own array type', async () => {
    const s = await session();
    const x = Float32Array.of(1, 2, 3);
    const y0 = Float32Array.of(10, 20, 30);
    const out = await s.run(AXPY, 'axpy', { p: { u32: [3], f32: [0.5] }, x, y: y0, count: 1 }, 1);
    expect(Array.from(out.y)).toEqual([10.5, 21, 31.5]); // 0.5·x + y, exact in float32
    expect(out.count).toBeInstanceOf(Float32Array); // a length gives a Float32Array …
    const typed = await s.run(AXPY, 'axpy', { p: { u32: [3], f32: [1] }, x, y: 3, count: new Uint32Array(1) }, 1);
    expect(typed.count).toBeInstanceOf(Uint32Array); // … a typed array its own type
    expect(Array.from(typed.count)).toEqual([3]);
    expect(Array.from(x)).toEqual([1, 2, 3]);
    expect(Array.from(y0)).toEqual([10, 20, 30]);
    s.device.destroy();
  });

  it('reports a WGSL compile error with the kernel name, line, column and the offending source line', async () => {
    const s = await session();
    const broken = AXPY.replace('p.a * x[g.x]', 'p.a * x[g.x] * undefined_thing');
    const err = await s.run(broken, 'axpy', { p: { u32: [1], f32: [1] }, x: Float32Array.of(1), y: 1, count: 1 }, 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WgslCompileError);
    expect((err as Error).message).toMatch(/^WGSL of kernel 'axpy' does not compile: line 8:\d+: .*undefined_thing.* — if \(g\.x < p\.n\)/);
    s.device.destroy();
  });

  it('names a binding the WGSL does not declare, one given the wrong kind of value, a missing entry point and an empty dispatch', async () => {
    const s = await session();
    const base = { p: { u32: [1], f32: [1] }, x: Float32Array.of(1), y: 1, count: 1 };
    await expect(s.run(AXPY, 'axpy', { ...base, z: 4 }, 1)).rejects.toThrow("kernel 'axpy': no binding named 'z' in the WGSL (declared: p, x, y, count)");
    await expect(s.run(AXPY, 'axpy', { ...base, x: 3 }, 1)).rejects.toThrow("binding 'x' (var<storage, read>) takes a typed array, got number");
    await expect(s.run(AXPY, 'axpy', { ...base, y: -1 }, 1)).rejects.toThrow("output 'y' length must be a non-negative integer, got -1");
    await expect(s.run(AXPY, 'nope', base, 1)).rejects.toThrow(GpuValidationError);
    await expect(s.run(AXPY, 'axpy', base, 0)).rejects.toThrow('workgroups.x must be a positive integer, got 0');
    // a binding the shader uses but the call leaves out fails validation, with Dawn's reason
    const { count: _omitted, ...partial } = base;
    await expect(s.run(AXPY, 'axpy', partial, 1)).rejects.toThrow(/kernel 'axpy': the pipeline cannot be created: .*/);
    s.device.destroy();
  });

  it("refuses Dawn's null backend, whose buffers read back garbage, by name: the adapter is unavailable", async () => {
    const s = await openDawnSession({ dawn: ['backend=null'] });
    expect(s).toBe("Dawn's null backend (backend=null): it executes nothing and reads back garbage");
    const a = webgpuAdapter({ name: 'on-null', precision: 'float32', layout: 'NCHW', dawn: ['backend=null'], bnEvalForward: () => ({ y: new Float32Array(0) }) });
    expect(await a.available()).toBe(s);
  });

  it('names a Vulkan driver manifest that does not exist and says how to get SwiftShader: the adapter is unavailable', async () => {
    const why = vulkanProblem({ ...process.env, VK_ICD_FILENAMES: '/nonexistent/icd.json', VK_DRIVER_FILES: '' });
    expect(why).toMatch(/^VK_ICD_FILENAMES\/VK_DRIVER_FILES names no existing driver manifest \(\/nonexistent\/icd\.json\); .*apt-get install -y chromium libvulkan1 and VK_ICD_FILENAMES=\/usr\/lib\/chromium\/vk_swiftshader_icd\.json/);
    const saved = { VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES, VK_DRIVER_FILES: process.env.VK_DRIVER_FILES };
    process.env.VK_ICD_FILENAMES = '/nonexistent/icd.json';
    delete process.env.VK_DRIVER_FILES;
    try {
      const a = webgpuAdapter({ name: 'no-driver', precision: 'float32', layout: 'NCHW', bnEvalForward: () => ({ y: new Float32Array(0) }) });
      expect(await a.available()).toBe(why);
    } finally {
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    }
  });

  it('fails the call during which the device is lost, then opens a new device (running setup again) for the next call', async () => {
    let setups = 0;
    let destroyNext = true;
    const a = webgpuAdapter({
      name: 'loses-its-device', precision: 'float32', layout: 'NCHW',
      setup: () => void setups++,
      async bnEvalForward(gpu, { x }) {
        if (destroyNext) {
          destroyNext = false;
          gpu.device.destroy();
        }
        const { y } = await gpu.run(AXPY, 'axpy', { p: { u32: [x.length], f32: [1] }, x: x as Float32Array, y: x.length, count: 1 }, 1);
        return { y };
      },
    });
    expect(await a.available()).toBe(true);
    const args = { x: Float32Array.of(1, 2), shape: [2, 1], weight: null, bias: null, runningMean: Float32Array.of(0), runningVar: Float32Array.of(1), eps: 1e-5 };
    const lost = await Promise.resolve(a.bnEvalForward!(args)).catch((e: unknown) => e);
    expect(lost).toBeInstanceOf(GpuDeviceLostError);
    expect((lost as Error).message).toMatch(/^the GPU device was lost \(destroyed/);
    const again = await a.bnEvalForward!(args);
    expect(Array.from(again.y)).toEqual([1, 2]);
    expect(setups).toBe(2);
    await a.teardown!();
  });

  it('a kernel that runs past the per-call timeout fails its check as a timeout, and the next check runs on a new device', async () => {
    // About 5 s of SwiftShader time at 2e8 iterations: past the 2 s timeout (which must also leave room for a
    // new device on a loaded machine), short enough that the abandoned dispatch ends soon after the test.
    const SLOW = /* wgsl */ `
struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(1) fn spin() { var acc = 0.0; for (var i = 0u; i < p.n; i++) { acc = acc * 0.5 + 1.0; } y[0] = acc; }`;
    let slowOnce = true;
    const a = webgpuAdapter({
      name: 'hangs-once', precision: 'float32', layout: 'NCHW',
      async bnEvalForward(gpu, { x, runningMean, runningVar, eps, shape }) {
        if (slowOnce) {
          slowOnce = false;
          await gpu.run(SLOW, 'spin', { p: { u32: [200_000_000] }, y: 1 }, 1);
        }
        // the correct answer, computed on the CPU: the test is about the lifecycle, not the kernel
        const C = shape[1]!, S = x.length / (shape[0]! * C);
        return { y: Float32Array.from(x, (v, i) => (v - runningMean[Math.floor(i / S) % C]!) / Math.sqrt(runningVar[Math.floor(i / S) % C]! + eps)) };
      },
    });
    expect(await a.available()).toBe(true); // the device opens outside the runner's timeout
    const report = await runConformance([{ adapter: a, spec: 'hangs-once' }], { quick: true, seed: 7, only: 'bn.eval.forward,bn.eval.affine_map', timeoutMs: 2000 });
    expect(report.adapters[0]!.state).toBe('ran');
    const [first, second] = report.adapters[0]!.checks;
    expect(first!.status).toBe('error');
    expect(first!.message).toMatch(/bnEvalForward did not return within 2000 ms/);
    expect(second!.status).toBe('pass');
  });
});
