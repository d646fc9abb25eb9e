/**
 * The engines the built-in adapters drive (TensorFlow.js, ONNX Runtime): optional peer dependencies of
 * normcheck, imported only when an adapter that needs them is asked for. A user who checks their own
 * BatchNorm installs none of them; an adapter whose engine is absent answers `available()` with
 * `not installed: npm install <pkg>@<version> …` (the adapter contract's NOT_INSTALLED form), which
 * fails nothing.
 *
 * ENGINE_VERSIONS are the versions this release is tested with: the ones in package.json's devDependencies
 * (test/package/manifest.test.ts keeps them equal and inside the peerDependencies ranges).
 */
import { NOT_INSTALLED } from '../adapter.js';

export const ENGINE_VERSIONS = {
  '@tensorflow/tfjs': '4.22.0',
  '@tensorflow/tfjs-backend-wasm': '4.22.0',
  '@tensorflow/tfjs-node': '4.22.0',
  'onnxruntime-node': '1.30.0',
  'onnxruntime-web': '1.30.0',
  'onnx-proto': '8.0.1',
  // WebGPU in Node (Dawn) and TensorFlow.js' WebGPU backend: conformance/webgpu/dawn.ts, adapters/tfjs/webgpu.ts
  webgpu: '0.6.2',
  '@tensorflow/tfjs-backend-webgpu': '4.22.0',
  // headless Chromium for the browser host (the browser itself comes from the system: Debian's chromium)
  'playwright-core': '1.65.1',
} as const;

export type EnginePackage = keyof typeof ENGINE_VERSIONS;

/**
 * The one shell command that installs `packages` at the tested versions. onnxruntime-node's postinstall
 * downloads the CUDA execution provider from nuget.org on linux/x64 (not needed: the adapter uses the CPU
 * provider, whose binaries ship in the package); ONNXRUNTIME_NODE_INSTALL=skip turns that download off, so
 * the command works with only the npm registry reachable.
 */
export function installCommand(packages: readonly EnginePackage[]): string {
  const env = packages.includes('onnxruntime-node') ? 'ONNXRUNTIME_NODE_INSTALL=skip ' : '';
  return `${env}npm install ${packages.map((p) => `${p}@${ENGINE_VERSIONS[p]}`).join(' ')}`;
}

/** tfjs-node's install step downloads libtensorflow: a binding that fails to load was usually installed offline. */
const REINSTALL_NOTE: Partial<Record<EnginePackage, string>> = { '@tensorflow/tfjs-node': ' with internet access' };

/**
 * Whether `err` says `specifier` itself is absent, not something it imports: Node's "Cannot find package
 * 'X'", or, under vitest running this repository's sources, its error for a missing optional peer
 * dependency, `Could not resolve "X" imported by "normcheck".`, which has no code.
 */
function isMissing(err: unknown, specifier: string): boolean {
  const e = err as { code?: string; message?: string };
  const message = String(e.message);
  if (e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') return message.includes(`'${specifier}'`);
  return message.startsWith(`Could not resolve "${specifier}" imported by`);
}

/**
 * Imports the optional packages `packages` in order and returns their modules, or a one-line reason they
 * cannot be used: the NOT_INSTALLED form with the command for every one of `packages` when any is absent
 * (so one command fixes it), else the import's first error line. The specifiers are only known at run time,
 * so the typecheck never requires an absent engine; callers cast the modules to their types.
 */
export async function importEngines(packages: readonly EnginePackage[]): Promise<unknown[] | string> {
  const modules: unknown[] = [];
  for (const specifier of packages) {
    try {
      modules.push(await import(specifier));
    } catch (err) {
      if (isMissing(err, specifier)) return `${NOT_INSTALLED}${installCommand(packages)}`;
      const first = String((err as Error).message ?? err).split('\n')[0];
      return `${specifier} is installed but failed to load (${first}); reinstall it${REINSTALL_NOTE[specifier] ?? ''}: ${installCommand([specifier])}`;
    }
  }
  return modules;
}
