/// <reference types="@webgpu/types" />
/**
 * WebGPU in Node: Dawn, Chromium's WebGPU implementation, through the `webgpu` npm package (an optional
 * peer dependency, imported only when a WebGPU adapter is used).
 *
 * Dawn drives the machine's Vulkan driver. On a machine with a GPU that is the GPU's own driver; without
 * one, SwiftShader — Google's CPU implementation of Vulkan, which Debian's `chromium` package ships — is a
 * complete Vulkan device: `apt-get install -y chromium libvulkan1` and
 * `VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json`. SwiftShader runs the shaders' float32
 * arithmetic on the CPU (IEEE float32 per operation), so it validates the WGSL and the engines' algorithms,
 * not a particular GPU's hardware rounding.
 *
 * Before Dawn is touched, the Vulkan loader's own search (the loader's documented Linux search path) is
 * repeated here: with no driver Dawn prints the loader's warnings to the process's stderr, in the middle
 * of a report, and returns no adapter; checking first gives one clear reason instead.
 */
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { importEngines } from '../adapters/engines.js';
import { openSession, type GpuSession } from './session.js';

/** SwiftShader's Vulkan ICD as Debian's chromium package installs it. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const SWIFTSHADER_HINT = `without a GPU, use SwiftShader (a CPU Vulkan): apt-get install -y chromium libvulkan1 and VK_ICD_FILENAMES=${SWIFTSHADER_ICD}`;

function icdFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => join(dir, f));
  } catch {
    return [];
  }
}

/**
 * null when a Vulkan loader and at least one driver manifest (ICD) can be found, else why not. Linux only;
 * elsewhere Dawn uses Metal or D3D and this returns null.
 */
export function vulkanProblem(env: NodeJS.ProcessEnv = process.env): string | null {
  if (process.platform !== 'linux') return null;
  const libDirs = [...(env.LD_LIBRARY_PATH ?? '').split(delimiter).filter(Boolean), '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu', '/lib64'];
  if (!libDirs.some((d) => existsSync(join(d, 'libvulkan.so.1')))) return `no Vulkan loader (libvulkan.so.1; Debian package libvulkan1); ${SWIFTSHADER_HINT}`;
  const override = env.VK_DRIVER_FILES || env.VK_ICD_FILENAMES;
  if (override) {
    const named = override.split(':').filter(Boolean);
    const found = named.flatMap((p) => (p.endsWith('.json') ? (existsSync(p) ? [p] : []) : icdFiles(p)));
    if (found.length === 0) return `VK_ICD_FILENAMES/VK_DRIVER_FILES names no existing driver manifest (${override}); ${SWIFTSHADER_HINT}`;
    return null;
  }
  const home = env.HOME ?? homedir();
  const configDirs = [env.XDG_CONFIG_HOME ?? join(home, '.config'), ...(env.XDG_CONFIG_DIRS ?? '/etc/xdg').split(':'), '/etc'];
  const dataDirs = [env.XDG_DATA_HOME ?? join(home, '.local/share'), ...(env.XDG_DATA_DIRS ?? '/usr/local/share:/usr/share').split(':')];
  const dirs = [...configDirs, ...dataDirs].filter(Boolean).map((d) => join(d, 'vulkan/icd.d'));
  if (dirs.some((d) => icdFiles(d).length > 0)) return null;
  return `no Vulkan driver: no manifest in ${dirs.join(', ')} and VK_ICD_FILENAMES is unset; ${SWIFTSHADER_HINT}`;
}

type DawnModule = { create(options: string[]): GPU; globals: Record<string, unknown> };
let dawnModule: Promise<DawnModule | string> | undefined;
const instances = new Map<string, GPU>();

/** The `webgpu` package, its WebGPU globals (GPUBufferUsage, …) installed on globalThis, or why not. */
export function loadDawn(): Promise<DawnModule | string> {
  dawnModule ??= importEngines(['webgpu']).then((mods) => {
    if (typeof mods === 'string') return mods;
    const mod = mods[0] as DawnModule;
    // The WebGPU API's enums are globals in a browser; engines written for one (tfjs, ONNX Runtime) expect them.
    for (const [k, v] of Object.entries(mod.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
    return mod;
  });
  return dawnModule;
}

/**
 * Dawn's GPU object for `options` (Dawn toggles such as 'backend=null'; default none), created once per
 * option list, or why there is none.
 */
export async function dawnGpu(options: readonly string[] = []): Promise<GPU | string> {
  const mod = await loadDawn();
  if (typeof mod === 'string') return mod;
  const nullBackend = options.includes('backend=null');
  if (!nullBackend) {
    const problem = vulkanProblem();
    if (problem) return problem;
  }
  const key = options.join(' ');
  let gpu = instances.get(key);
  if (!gpu) {
    gpu = mod.create([...options]);
    instances.set(key, gpu);
  }
  return gpu;
}

/**
 * Makes `gpu` the page-style `navigator.gpu` unless one is there: engines written for browsers (tfjs'
 * WebGPU backend, ONNX Runtime's) look for it. Node 20 has no navigator, Node 21+ one without gpu.
 * `replace` swaps an existing one (the native ONNX Runtime build needs a wrapped GPU).
 */
export function installNavigatorGpu(gpu: GPU, replace = false): void {
  const g = globalThis as { navigator?: { gpu?: GPU } };
  if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  if (!g.navigator!.gpu || replace) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
}

/** A ready session on Dawn's first adapter, or why there is none (not installed, no driver, null backend). */
export async function openDawnSession(options: { dawn?: readonly string[]; requiredFeatures?: GPUFeatureName[] } = {}): Promise<GpuSession | string> {
  const gpu = await dawnGpu(options.dawn);
  if (typeof gpu === 'string') return gpu;
  return openSession(gpu, {
    ...(options.requiredFeatures ? { requiredFeatures: options.requiredFeatures } : {}),
    noAdapterHint: `Dawn found none (its Vulkan driver did not load; Dawn printed why above); ${SWIFTSHADER_HINT}`,
  });
}
