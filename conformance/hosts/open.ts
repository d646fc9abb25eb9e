/**
 * From an ADAPTER argument to a running host: the one place that decides where an adapter runs.
 *
 *   subprocess:<command line>   a child process speaking the wire protocol (docs/protocol.md)
 *   browser:<path>              the module in a headless Chromium page (browser.ts), WebGPU enabled
 *   a browser built-in          (tfjs-webgl, tfjs-webgl-f16) its page module in a Chromium page
 *   a built-in name             in this process (trusted code: the fastest host); a worker with host 'worker';
 *                               a child process for the built-ins that export `subprocess` (torch), whose
 *                               facade answers available() (not installed, without a Python with torch)
 *   a path to a module          a worker thread (an unknown adapter cannot take the run down);
 *                               in this process with host 'in-process' (debugging). A module whose
 *                               adapter carries webgpuAdapter's mark (WEBGPU_MARK) moves, after the
 *                               worker's handshake, to a forked Node process: a thread cannot be stopped
 *                               while Dawn has GPU work pending without aborting this process
 *
 * The CLI maps `--in-process` to host 'in-process' and `--isolate` (its older flag) to host 'worker', which
 * now only changes where the built-ins run. runConformance and the vitest integration take the same specs.
 */
import { AdapterLoadError, adapterFile, builtinModule, isBuiltin, loadAdapter } from '../load.js';
import { describeThrown } from '../error_text.js';
import { BROWSER_PREFIX, BrowserHost, pageTargetOf } from './browser.js';
import type { Host, HostOptions } from './host.js';
import { DEFAULT_LOAD_TIMEOUT_MS } from './host.js';
import { InProcessHost } from './in_process.js';
import { SubprocessHost, type SubprocessLaunch } from './subprocess.js';
import { raceTimeout } from './timer.js';
import { WorkerHost } from './worker.js';

export const SUBPROCESS_PREFIX = 'subprocess:';

export interface OpenOptions extends HostOptions {
  /**
   * Where built-ins and module paths run: default in-process for built-ins and a worker thread for paths;
   * 'in-process' or 'worker' puts both there. `subprocess:` specs always run as subprocesses.
   */
  host?: 'in-process' | 'worker';
}

export function isSubprocessSpec(spec: string): boolean {
  return spec.startsWith(SUBPROCESS_PREFIX);
}

/** Opens the host for `spec`; throws AdapterLoadError (naming the spec or file) when it cannot be loaded. */
export async function openHost(spec: string, options: OpenOptions = {}): Promise<Host> {
  if (isSubprocessSpec(spec)) return SubprocessHost.open(spec, spec.slice(SUBPROCESS_PREFIX.length), options);
  if (spec.startsWith(BROWSER_PREFIX)) {
    const file = adapterFile(spec.slice(BROWSER_PREFIX.length));
    return BrowserHost.open(spec, { file, gpu: 'webgpu' }, spec, options);
  }
  const builtin = isBuiltin(spec);
  if (builtin) {
    // a built-in that runs in a child process (torch): its declaration says whether it can run here
    const mod = await builtinModule(spec);
    const launch = (mod as { subprocess?: SubprocessLaunch }).subprocess;
    if (launch) {
      const facade = await loadAdapter(spec);
      const host = new InProcessHost(facade, spec);
      if ((await host.available(options.loadTimeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS)) !== true) return host;
      return SubprocessHost.openArgv(spec, launch.argv(), { ...options, source: `built-in adapter ${spec}` });
    }
    // a built-in that stands for a page (tfjs-webgl) runs there, whatever host was asked for; without
    // playwright-core or a Chromium its facade reports why (not installed / unavailable)
    const facade = await loadAdapter(spec);
    const page = pageTargetOf(facade);
    if (page) {
      const host = new InProcessHost(facade, spec);
      if ((await host.available(options.loadTimeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS)) !== true) return host;
      return BrowserHost.open(spec, page, `built-in adapter ${spec}`, options);
    }
  }
  const where = options.host ?? (builtin ? 'in-process' : 'worker');
  if (where === 'worker') {
    const target = builtin ? { builtin: spec } : { file: adapterFile(spec) };
    const source = builtin ? `built-in adapter ${spec}` : spec;
    const host = await WorkerHost.open(spec, target, source, options);
    if (!host.drivesWebgpu) return host;
    // it has not touched the GPU yet (available() opens the device): ending the thread is safe
    await host.kill();
    return WorkerHost.open(spec, target, source, options, true);
  }
  const ms = options.loadTimeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS;
  const adapter = await raceTimeout(loadAdapter(spec), ms, () => new AdapterLoadError(`${spec}: did not finish loading within ${ms} ms (a top-level await that never settles?)`))
    .catch((e: unknown) => {
      throw e instanceof AdapterLoadError ? e : new AdapterLoadError(`${spec}: ${describeThrown(e)}`);
    });
  return new InProcessHost(adapter, spec);
}
