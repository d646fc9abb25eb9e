/**
 * Measures the GPU routes in Node (docs/divergences.md and the README quote the output):
 *
 *   npx tsc -p tsconfig.build.json && VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json node dist/scripts/probe/gpu_probe.js
 *
 *   adapters   what Dawn returns with the given Vulkan driver and with backend=null, and what the null
 *              backend reads back for y = 2x + 1 (the reason the helper runs a canary)
 *   startup    time from nothing to the first result, per route (module load, device, pipelines, first call)
 *   per call   median of 30 calls of a 1024-value BatchNorm (8, 8, 16): training forward, eval for ONNX
 *              Runtime (its WebGPU provider has no training mode); the CPU peers beside them. The page
 *              adapters (tfjs-webgl*) are called one at a time through their adapter objects, each call a
 *              round trip to the page (scripts/bench/gpu_routes.ts measures the batched rate)
 *   accuracy   max |y − y₆₄| on N(offset, 1) inputs, BatchNorm training with 128 values per channel,
 *              LayerNorm rows of 16, against the float64 reference on the same float32 inputs
 */
import type { Adapter, FloatArray } from '../../conformance/adapter.js';
import { nchwToNhwc, nhwcToNchw } from '../../conformance/invoke.js';
import { dawnGpu } from '../../conformance/webgpu/dawn.js';
import { GpuSession, describeGpu } from '../../conformance/webgpu/session.js';
import { batchNormTrain, layerNormForward, seededRng } from '../../reference/index.js';

const SHAPE = [8, 8, 16];
const LN_SHAPE = [64, 16];
const EPS = 1e-5;
const OFFSETS = [0, 1e2, 1e3, 1e4];

function normals(n: number, offset: number, seed: number): Float32Array {
  const rng = seededRng(seed);
  return Float32Array.from({ length: n }, () => offset + rng.normal());
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const fmt = (x: number) => (Number.isFinite(x) ? x.toExponential(1) : String(x));

function maxError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < want.length; i++) e = Math.max(e, Number.isNaN(got[i]!) ? Infinity : Math.abs(got[i]! - want[i]!));
  return e;
}

/** BatchNorm arguments for `a`, in its layout; `train` false: eval with running mean 0, var 1. */
function bnArgs(a: Adapter, x: Float32Array) {
  const C = SHAPE[1]!;
  const xs = a.layout === 'NCHW' ? x : Float32Array.from(nchwToNhwc(x, SHAPE));
  const shape = a.layout === 'NCHW' ? SHAPE : [SHAPE[0]!, SHAPE[2]!, C];
  return { x: xs, shape, weight: null, bias: null, runningMean: new Float32Array(C), runningVar: new Float32Array(C).fill(1), eps: EPS };
}

async function bnY(a: Adapter, x: Float32Array): Promise<FloatArray> {
  const args = bnArgs(a, x);
  const y = a.bnTrainForward && a.name !== 'ort-webgpu'
    ? (await a.bnTrainForward({ ...args, numBatchesTracked: 0, momentum: 0.1 })).y
    : (await a.bnEvalForward!(args)).y;
  return a.layout === 'NCHW' ? y : nhwcToNchw(y, SHAPE);
}

async function adapters(): Promise<void> {
  console.log('## adapters\n');
  for (const options of [[], ['backend=null']]) {
    const gpu = await dawnGpu(options);
    if (typeof gpu === 'string') {
      console.log(`- Dawn ${JSON.stringify(options)}: ${gpu}`);
      continue;
    }
    const adapter = await gpu.requestAdapter();
    if (!adapter) {
      console.log(`- Dawn ${JSON.stringify(options)}: no adapter`);
      continue;
    }
    const i = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
    const info = { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description, isFallbackAdapter: i.isFallbackAdapter ?? false };
    // A session without the canary, to show what the canary guards against.
    const s = new GpuSession(await adapter.requestDevice(), info);
    const { y } = await s.run(`@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(4) fn f(@builtin(local_invocation_index) i: u32) { y[i] = x[i] * 2.0 + 1.0; }`, 'f', { x: Float32Array.of(0, 1, 2, -3), y: 4 }, 1);
    console.log(`- Dawn ${JSON.stringify(options)}: ${describeGpu(info)} (device '${info.device}'); y = 2x + 1 on [0, 1, 2, -3] read back [${Array.from(y).map(fmt).join(', ')}]`);
    s.device.destroy();
  }
}

interface Route {
  name: string;
  load: () => Promise<Adapter>;
}

const ROUTES: Route[] = [
  { name: 'wgsl-norms (example, two-pass)', load: async () => (await import('../../conformance/examples/wgsl-norms.js')).default },
  { name: 'wgsl-norms-one-pass', load: async () => (await import('../../conformance/examples/wgsl-norms-one-pass.js')).default },
  { name: 'tfjs-webgpu', load: async () => (await import('../../conformance/adapters/tfjs-webgpu.js')).default },
  { name: 'ort-webgpu', load: async () => (await import('../../conformance/adapters/ort-webgpu.js')).default },
  { name: 'tfjs-webgl (Chromium)', load: async () => (await import('../../conformance/adapters/tfjs-webgl.js')).default },
  { name: 'tfjs-webgl-f16 (Chromium, half-float textures; judged here as float32)', load: async () => (await import('../../conformance/adapters/tfjs-webgl-f16.js')).default },
  { name: 'tfjs-cpu (CPU peer)', load: async () => (await import('../../conformance/adapters/tfjs-cpu.js')).default },
  { name: 'ort-web (CPU peer, wasm)', load: async () => (await import('../../conformance/adapters/ort-web.js')).default },
  { name: 'kernels (CPU peer)', load: async () => (await import('../../conformance/adapters/kernels.js')).default },
];

async function routes(): Promise<void> {
  console.log('\n## startup, per call, accuracy\n');
  console.log('| route | startup to first result | per call, 1024-value BN (median of 30) | BN y error at offset 0 / 1e2 / 1e3 / 1e4 | LN y error at offset 0 / 1e2 / 1e3 / 1e4 |');
  console.log('|---|---|---|---|---|');
  for (const route of ROUTES) {
    const t0 = performance.now();
    const a = await route.load();
    const ok = a.available ? await a.available() : true;
    if (ok !== true) {
      console.log(`| ${route.name} | ${ok} | | | |`);
      continue;
    }
    await a.setup?.();
    const x0 = normals(1024, 0, 1);
    await bnY(a, x0);
    const startup = performance.now() - t0;
    const times: number[] = [];
    for (let k = 0; k < 30; k++) {
      const t = performance.now();
      await bnY(a, x0);
      times.push(performance.now() - t);
    }
    const bnErr: string[] = [];
    const lnErr: string[] = [];
    for (const offset of OFFSETS) {
      const x = normals(1024, offset, 2);
      const train = a.name !== 'ort-webgpu';
      const ref = train
        ? batchNormTrain({ x: Float64Array.from(x), shape: SHAPE, eps: EPS })
        : null;
      try {
        const y = await bnY(a, x);
        const want = ref ? ref.y : Float64Array.from(x, (v) => v / Math.sqrt(1 + EPS));
        bnErr.push(fmt(maxError(y, want)) + (train ? '' : ' (eval)'));
      } catch (e) {
        bnErr.push(`threw: ${(e as Error).message.slice(0, 40)}`);
      }
      const xl = normals(1024, offset, 3);
      const lnRef = layerNormForward({ x: Float64Array.from(xl), shape: LN_SHAPE, normalizedShape: [16], eps: EPS });
      const r = await a.lnForward!({ x: xl, shape: LN_SHAPE, normalizedShape: [16], weight: null, bias: null, eps: EPS });
      lnErr.push(fmt(maxError(r.y, lnRef.y)));
    }
    await a.teardown?.();
    console.log(`| ${route.name} | ${startup.toFixed(0)} ms | ${median(times).toFixed(2)} ms | ${bnErr.join(' / ')} | ${lnErr.join(' / ')} |`);
  }
}

await adapters();
await routes();
process.exit(0);
