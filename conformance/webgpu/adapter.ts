/// <reference types="@webgpu/types" />
/**
 * `webgpuAdapter`: an adapter whose capabilities receive a ready GPU session (session.ts) before their
 * arguments. The user writes the WGSL and the dispatch; this file finds the GPU, keeps the device alive,
 * and turns what goes wrong into one clear message per adapter or per call:
 *
 *   no GPU here           available() says why (webgpu package absent → `not installed: …`, no Vulkan
 *                         driver, Dawn's null backend, an adapter whose canary computation is wrong)
 *   WGSL does not compile the call fails with the compiler's line, column and message (WgslCompileError)
 *   device lost           the call during which it was lost fails (GpuDeviceLostError); the next call
 *                         opens a new device and runs the adapter's setup again
 *   call timed out        the host's timeout fails it; the next call finds a run of the abandoned call
 *                         still in flight, abandons that device (destroying a device whose queue is stuck
 *                         blocks the thread) and opens a new one
 *
 * Where the GPU comes from: `navigator.gpu` when the global exists (a browser page, or a user who set it),
 * else Dawn through the `webgpu` package (dawn.ts, imported only then, so this file also loads in a page).
 */
import type {
  Adapter, BatchNormBackwardArgs, BatchNormEvalArgs, BatchNormTrainArgs, BatchNormTrainResult, FloatArray, Grads,
  LayerNormArgs, LayerNormBackwardArgs, LayerNormResult, MaybePromise,
} from '../adapter.js';
import { describeGpu, openSession, type GpuInfo, type GpuSession } from './session.js';

/**
 * The mark of an adapter that drives WebGPU. A host must not run it in a worker thread: terminating a thread
 * while Dawn has GPU work pending aborts the whole process, so hosts/open.ts runs an adapter given by path
 * that carries the mark in a process of its own. An adapter that uses Dawn without webgpuAdapter can set it
 * too (`[Symbol.for('normcheck.webgpu')]: true`).
 */
export const WEBGPU_MARK: unique symbol = Symbol.for('normcheck.webgpu');

export interface WebGpuAdapterSpec extends Pick<Adapter, 'name' | 'description' | 'layout' | 'profile' | 'conventions'> {
  /** WGSL f32: float32 (float16 needs the shader-f16 feature and is not wired here). */
  precision: 'float32';
  requiredFeatures?: GPUFeatureName[];
  /** Dawn toggles for Node, e.g. ['backend=null'] (ignored when navigator.gpu is used). */
  dawn?: readonly string[];
  /** Once per device, before its first call (e.g. to compile kernels ahead). */
  setup?(gpu: GpuSession): MaybePromise<void>;
  bnTrainForward?(gpu: GpuSession, args: BatchNormTrainArgs): MaybePromise<BatchNormTrainResult>;
  bnEvalForward?(gpu: GpuSession, args: BatchNormEvalArgs): MaybePromise<{ y: FloatArray }>;
  bnBackward?(gpu: GpuSession, args: BatchNormBackwardArgs): MaybePromise<Grads>;
  lnForward?(gpu: GpuSession, args: LayerNormArgs): MaybePromise<LayerNormResult>;
  lnBackward?(gpu: GpuSession, args: LayerNormBackwardArgs): MaybePromise<Grads>;
}

export interface WebGpuAdapter extends Adapter {
  readonly [WEBGPU_MARK]: true;
  available(): Promise<true | string>;
  /** The GPU of the current device, once available() succeeded. */
  gpuInfo(): GpuInfo | null;
}


const CAPS = ['bnTrainForward', 'bnEvalForward', 'bnBackward', 'lnForward', 'lnBackward'] as const;

async function open(spec: WebGpuAdapterSpec): Promise<GpuSession | string> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return openSession(nav.gpu, spec.requiredFeatures ? { requiredFeatures: spec.requiredFeatures } : {});
  const { openDawnSession } = await import('./dawn.js');
  return openDawnSession({ ...(spec.dawn ? { dawn: spec.dawn } : {}), ...(spec.requiredFeatures ? { requiredFeatures: spec.requiredFeatures } : {}) });
}

export function webgpuAdapter(spec: WebGpuAdapterSpec): WebGpuAdapter {
  let session: GpuSession | null = null;
  let opening: Promise<GpuSession | string> | null = null;

  /** The open session; a new one (with setup run on it) when there is none yet or the last was lost. */
  const current = async (): Promise<GpuSession | string> => {
    // Calls reach an adapter one at a time, so a run still in flight when a new call starts belongs to a
    // call the host gave up on (its timeout): that device's queue may never drain.
    if (session && session.inFlight > 0) session.abandon('abandoned: a call timed out while its GPU work was running');
    if (session && !session.lost) return session;
    opening ??= (async () => {
      const s = await open(spec);
      if (typeof s !== 'string' && spec.setup) await spec.setup(s);
      return s;
    })().finally(() => {
      opening = null;
    });
    const s = await opening;
    if (typeof s !== 'string') session = s;
    return s;
  };
  const ready = async (): Promise<GpuSession> => {
    const s = await current();
    if (typeof s === 'string') throw new Error(`${spec.name}: ${s}`);
    return s;
  };

  const adapter: WebGpuAdapter = {
    [WEBGPU_MARK]: true,
    name: spec.name,
    precision: spec.precision,
    layout: spec.layout,
    ...(spec.description !== undefined ? { description: spec.description } : {}),
    ...(spec.profile !== undefined ? { profile: spec.profile } : {}),
    ...(spec.conventions !== undefined ? { conventions: spec.conventions } : {}),
    async available() {
      try {
        const s = await current();
        return typeof s === 'string' ? s : true;
      } catch (e) {
        return `the WebGPU device could not be set up: ${(e as Error).message}`;
      }
    },
    gpuInfo: () => session?.info ?? null,
    async setup() {
      await ready();
    },
    async teardown() {
      const s = session;
      session = null;
      if (s && !s.lost) s.device.destroy();
    },
  };
  for (const cap of CAPS) {
    const fn = spec[cap] as ((gpu: GpuSession, args: unknown) => unknown) | undefined;
    if (fn) (adapter as unknown as Record<string, unknown>)[cap] = async (args: unknown) => fn.call(spec, await ready(), args);
  }
  return adapter;
}

export { describeGpu };
