/**
 * Whether the browser-host tests can run here, and why not: they need playwright-core (a devDependency),
 * a Chromium (Debian's chromium, which .ci/run installs) and the compiled page runtime (npm test builds dist/
 * before running vitest).
 */
import { existsSync } from 'node:fs';
import { browserProblem } from '../../conformance/hosts/browser.js';

async function reason(): Promise<string | null> {
  const problem = await browserProblem();
  if (problem) return problem;
  if (!existsSync('dist/conformance/hosts/browser/page_runtime.js')) return 'the page runtime is not built (npm run build)';
  return null;
}

export const BROWSER_SKIP = await reason();
if (BROWSER_SKIP) console.warn(`browser-host tests skipped: ${BROWSER_SKIP}`);

export function browserTitle(title: string): string {
  return BROWSER_SKIP ? `${title} (skipped: ${BROWSER_SKIP})` : title;
}
