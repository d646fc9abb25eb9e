/**
 * Whether the GPU-route tests can run here, and why not. They need the `webgpu` package (a devDependency)
 * and a Vulkan driver; on a machine without a GPU that is SwiftShader from Debian's chromium package
 * (.ci/run installs `chromium libvulkan1`). When VK_ICD_FILENAMES is unset and Debian's SwiftShader ICD is
 * present, the tests use it, as .ci/run does, so `npm test` needs no environment variable.
 */
import { existsSync } from 'node:fs';
import { SWIFTSHADER_ICD, loadDawn, vulkanProblem } from '../../conformance/webgpu/dawn.js';

if (!process.env.VK_ICD_FILENAMES && !process.env.VK_DRIVER_FILES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;

async function reason(): Promise<string | null> {
  const dawn = await loadDawn();
  if (typeof dawn === 'string') return dawn;
  return vulkanProblem();
}

/** null when the GPU tests can run, else the reason they are skipped (printed once per file). */
export const GPU_SKIP = await reason();
if (GPU_SKIP) console.warn(`GPU-route tests skipped: ${GPU_SKIP}`);

/** A describe title that carries the skip reason, so the report shows it too. */
export function gpuTitle(title: string): string {
  return GPU_SKIP ? `${title} (skipped: ${GPU_SKIP})` : title;
}
