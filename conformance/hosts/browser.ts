/**
 * The browser host: the adapter module runs inside a real page of headless Chromium, driven through
 * playwright-core (an optional peer; no browser download: the system's Chromium, /usr/bin/chromium by
 * default, NORMCHECK_CHROMIUM to override). It is one more host behind host.ts's interface, with the worker
 * host's protocol (calls answered one at a time, in order) and the wire protocol's frames for arrays
 * (browser/frame.ts), carried as base64 over the DevTools connection.
 *
 *   the page       http://localhost/ (a secure context, as WebGPU requires), every request answered from
 *                  disk by a route handler: nothing is fetched from the network. An import map names
 *                  `@tensorflow/tfjs` (its ESM bundle) and `normcheck/conformance` (browser/page_api.ts).
 *   flags          --no-sandbox --disable-background-networking --disable-component-update --no-first-run
 *                  --disable-sync, a fresh profile per launch; WebGL pages add --disable-gpu (WebGL2 then
 *                  runs on SwiftShader through ANGLE), WebGPU pages --enable-unsafe-webgpu instead
 *   batching       a batch of calls is one message; each answer comes back as it is ready (a binding the
 *                  page calls), and each call's timeout starts when the page could start on it
 *   blame          a call that does not answer in time, or during which the page crashes, fails as
 *                  'timeout' / 'crashed'; the browser is closed, the calls
 *                  behind it are not run, and the next call launches a new browser and runs setup() again.
 *                  A page that throws at load or never finishes loading is a load error naming the module.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Adapter, Capability } from '../adapter.js';
import { CAPABILITIES, NOT_INSTALLED } from '../adapter.js';
import { importEngines, installCommand, type EnginePackage } from '../adapters/engines.js';
import { describeThrown } from '../error_text.js';
import { AdapterLoadError } from '../load.js';
import { AdapterShapeError, validateAdapter } from '../validate_adapter.js';
import { decodeFrame, encodeFrame, fromBase64, toBase64 } from './browser/frame.js';
import { ChannelHost, threwPrefix, type Outgoing } from './channel_host.js';
import { AdapterFailure } from './failure.js';
import type { HostMeta, HostOptions } from './host.js';
import { metaOf } from './in_process.js';
import { MAX_TIMER_MS } from './timer.js';

export const BROWSER_PREFIX = 'browser:';
const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** What a page runs: an adapter module file and the GPU API it needs. */
export interface PageTarget {
  /** the adapter module (an ES module; its relative imports are served from disk too) */
  file: string;
  /** 'webgl': launched with --disable-gpu (unless NORMCHECK_BROWSER_GPU=hardware); 'webgpu': with --enable-unsafe-webgpu */
  gpu: 'webgl' | 'webgpu';
}

/**
 * Chromium's flags for a page of `gpu`. WebGL pages get --disable-gpu, so WebGL2 runs on SwiftShader through
 * ANGLE whatever the machine has; NORMCHECK_BROWSER_GPU=hardware leaves it out, for the machine's own GPU.
 * WebGPU pages get --enable-unsafe-webgpu (headless Chromium on Linux exposes WebGPU only with it).
 */
export function chromiumArgs(gpu: PageTarget['gpu'], env: NodeJS.ProcessEnv = process.env): string[] {
  const args = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'];
  if (gpu === 'webgpu') args.push('--enable-unsafe-webgpu');
  else if (env.NORMCHECK_BROWSER_GPU !== 'hardware') args.push('--disable-gpu');
  return args;
}

/** The Chromium executable: NORMCHECK_CHROMIUM, else Debian's /usr/bin/chromium. */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.NORMCHECK_CHROMIUM || DEFAULT_CHROMIUM;
}

/**
 * null when playwright-core, the packages a page module imports (`packages`, served from this install: the
 * page built-ins' @tensorflow/tfjs) and a Chromium are present, else why not (NOT_INSTALLED form, naming
 * them all in one install command).
 */
export async function browserProblem(packages: readonly EnginePackage[] = []): Promise<string | null> {
  const mods = await importEngines(['playwright-core']);
  const missing = `${NOT_INSTALLED}${installCommand(['playwright-core', ...packages])}`;
  if (typeof mods === 'string') return mods.startsWith(NOT_INSTALLED) ? missing : mods;
  const req = createRequire(join(ROOT, 'package.json'));
  for (const p of packages) {
    try {
      req.resolve(p);
    } catch {
      return missing;
    }
  }
  const exe = chromiumPath();
  if (!existsSync(exe)) return `no Chromium at ${exe}: apt-get install -y chromium (or set NORMCHECK_CHROMIUM to a Chromium or Chrome executable)`;
  return null;
}

/** The folder holding normcheck's package.json: the repository, or node_modules/normcheck. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj) && (JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'normcheck') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('normcheck: cannot find its own package.json');
    dir = up;
  }
}

const ROOT = packageRoot();
/** The page runtime and the page API, compiled (the page runs JavaScript only). */
const RUNTIME = join(ROOT, 'dist/conformance/hosts/browser/page_runtime.js');
const PAGE_API = join(ROOT, 'dist/conformance/hosts/browser/page_api.js');

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json', '.wasm': 'application/wasm', '.map': 'application/json' };

/** The bare specifiers a page may import, each mapped to one file; absent packages are left out. */
function importMap(): Record<string, string> {
  const map: Record<string, string> = { 'normcheck/conformance': `/fs${PAGE_API}` };
  try {
    const main = createRequire(join(ROOT, 'package.json')).resolve('@tensorflow/tfjs');
    map['@tensorflow/tfjs'] = `/fs${join(dirname(main), 'tf.fesm.min.js')}`;
  } catch {
    // not installed: a page module importing it fails with the browser's "Failed to resolve module specifier"
  }
  return map;
}

function pageHtml(adapterUrl: string): string {
  return `<!doctype html><meta charset="utf-8"><title>normcheck</title>
<script type="importmap">${JSON.stringify({ imports: importMap() })}</script>
<script type="module">
import { load } from ${JSON.stringify(`/fs${RUNTIME}`)};
load(${JSON.stringify(adapterUrl)});
</script>`;
}

type PageMessage =
  | { type: 'ready'; fields?: Record<string, unknown>; methods?: string[]; notAnObject?: string }
  | { type: 'load-error'; message: string }
  | { type: 'result'; id: number; ok: true; value: unknown; mutated: Record<string, ArrayBufferView> }
  | { type: 'result'; id: number; ok: false; kind: string; message: string; traceback: string | null; own: boolean }
  | { type: 'fault'; callId: number; message: string; traceback: string | null };

/* Only the parts of playwright-core's API used here (the package is optional: no type import). */
interface PwPage {
  goto(url: string, o: { timeout: number }): Promise<unknown>;
  on(event: 'crash', fn: () => void): void;
  on(event: 'pageerror', fn: (e: Error) => void): void;
  on(event: 'console', fn: (m: { type(): string; text(): string }) => void): void;
}
interface PwRoute {
  request(): { url(): string };
  fulfill(o: { status?: number; contentType?: string; body: string | Buffer }): Promise<void>;
}
interface PwCdp {
  send(method: string, params?: Record<string, unknown>): Promise<unknown>;
  on(event: 'Runtime.bindingCalled', fn: (e: { name: string; payload: string }) => void): void;
}
interface PwContext {
  route(url: string, fn: (r: PwRoute) => unknown): Promise<void>;
  newPage(): Promise<PwPage>;
  newCDPSession(page: PwPage): Promise<PwCdp>;
}
interface PwBrowser {
  newContext(): Promise<PwContext>;
  close(): Promise<void>;
}
interface Playwright {
  chromium: { launch(o: { executablePath: string; headless: boolean; args: string[]; timeout: number }): Promise<PwBrowser> };
}

export class BrowserHost extends ChannelHost {
  readonly kind = 'browser' as const;
  protected readonly noun = 'browser page';

  private browser: PwBrowser | null = null;
  private page: PwPage | null = null;
  private cdp: PwCdp | null = null;
  /** the launch waiting for its page's declaration */
  private loading: { resolve(m: PageMessage): void; reject(e: Error): void } | null = null;

  private constructor(spec: string, private readonly target: PageTarget, private readonly source: string, options: HostOptions) {
    super(spec, options);
  }

  /** Launches Chromium and loads the adapter in a page; throws AdapterLoadError naming `source`. */
  static async open(spec: string, target: PageTarget, source: string, options: HostOptions = {}): Promise<BrowserHost> {
    const host = new BrowserHost(spec, target, source, options);
    await host.begin();
    return host;
  }

  protected async launch(): Promise<HostMeta> {
    const problem = await browserProblem();
    if (problem) throw new AdapterLoadError(`${this.source}: ${problem}`);
    if (!existsSync(RUNTIME)) throw new AdapterLoadError(`${this.source}: the browser host's page runtime is not built (${RUNTIME}): npm run build`);
    if (!existsSync(this.target.file)) throw new AdapterLoadError(`${this.source}: no such file ${this.target.file}`);
    const pw = ((await importEngines(['playwright-core'])) as unknown[])[0] as Playwright;
    const args = chromiumArgs(this.target.gpu);
    const t0 = Date.now();
    let browser: PwBrowser;
    try {
      browser = await pw.chromium.launch({ executablePath: chromiumPath(), headless: true, args, timeout: this.loadTimeoutMs });
    } catch (e) {
      throw new AdapterLoadError(`${this.source}: Chromium did not start (${chromiumPath()}): ${describeThrown(e).split('\n')[0]}`);
    }
    this.browser = browser;
    try {
      const context = await browser.newContext();
      await context.route('http://localhost/**', (route) => this.serve(route));
      const page = await context.newPage();
      // The frames travel over a DevTools session of their own: Runtime.evaluate to the page, a raw
      // binding back, one message each way (playwright's evaluate and exposeBinding wrap each in more
      // messages: its binding answers the page with another evaluate).
      const cdp = await context.newCDPSession(page);
      await cdp.send('Runtime.enable');
      await cdp.send('Runtime.addBinding', { name: '__normcheckPost' });
      cdp.on('Runtime.bindingCalled', (e) => {
        if (e.name === '__normcheckPost' && page === this.page) this.onFrame(e.payload);
      });
      this.page = page;
      this.cdp = cdp;
      const ready = new Promise<PageMessage>((resolve, reject) => (this.loading = { resolve, reject }));
      ready.catch(() => undefined); // awaited below; a rejection before that is not unhandled
      page.on('crash', () => {
        if (page === this.page && this.live) {
          this.page = null;
          void this.closeBrowser();
          this.died('crashed');
        }
      });
      page.on('pageerror', (e) => {
        // before the declaration: the module threw at load (the runtime's import reports it too)
        if (this.loading) this.loading.reject(new AdapterLoadError(`${this.source}: the page threw while loading: ${e.message.split('\n')[0]}`));
        else this.log(`page error: ${e.message.split('\n')[0]}`);
      });
      // the adapter's console, not the GL driver's performance notes ("GPU stall due to ReadPixels")
      page.on('console', (m) => {
        if (!/^\[\.WebGL-/.test(m.text())) this.log(`console.${m.type()}: ${m.text()}`);
      });
      const remaining = Math.max(1, this.loadTimeoutMs - (Date.now() - t0));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new AdapterLoadError(`${this.source}: the page did not finish loading within ${this.loadTimeoutMs} ms (a top-level await that never settles?)`)), Math.min(remaining, MAX_TIMER_MS));
      });
      try {
        await Promise.race([page.goto('http://localhost/', { timeout: remaining }).then(() => ready), timeout]);
        const m = await Promise.race([ready, timeout]);
        if (m.type === 'load-error') throw new AdapterLoadError(`${this.source}: ${m.message}`);
        const meta = this.declared(m as Extract<PageMessage, { type: 'ready' }>);
        this.live = true;
        return meta;
      } finally {
        clearTimeout(timer);
        this.loading = null;
      }
    } catch (e) {
      await this.closeBrowser();
      throw e instanceof AdapterLoadError ? e : new AdapterLoadError(`${this.source}: the page did not load: ${describeThrown(e).split('\n')[0]}`);
    }
  }

  /** Every request of the page, answered from disk: the page, then modules under /fs/<absolute path>. */
  private async serve(route: PwRoute): Promise<void> {
    const url = new URL(route.request().url());
    if (url.pathname === '/') return route.fulfill({ contentType: 'text/html', body: pageHtml(`/fs${resolve(this.target.file)}`) });
    const file = url.pathname.startsWith('/fs/') ? decodeURIComponent(url.pathname.slice(3)) : null;
    const type = file ? TYPES[extname(file)] : undefined;
    if (!file || !type || !existsSync(file) || !statSync(file).isFile()) return route.fulfill({ status: 404, contentType: 'text/plain', body: `normcheck: not served: ${url.pathname}` });
    return route.fulfill({ contentType: type, body: readFileSync(file) });
  }

  private declared(m: Extract<PageMessage, { type: 'ready' }>): HostMeta {
    if (m.notAnObject !== undefined) throw new AdapterLoadError(`${this.source}: expected an adapter object, got ${m.notAnObject}`);
    const standIn: Record<string, unknown> = { ...m.fields };
    for (const name of m.methods ?? []) standIn[name] = () => undefined;
    try {
      return metaOf(validateAdapter(standIn, this.source));
    } catch (e) {
      throw new AdapterLoadError(e instanceof AdapterShapeError ? e.message : describeThrown(e));
    }
  }

  private onFrame(b64: string): void {
    let m: PageMessage;
    try {
      m = decodeFrame(fromBase64(b64)) as unknown as PageMessage;
    } catch (e) {
      return this.broken((p) => new AdapterFailure('protocol', `${p.what}: the page sent a malformed frame: ${describeThrown(e)}`, null, p.tag));
    }
    if (m.type === 'ready' || m.type === 'load-error') return this.loading?.resolve(m);
    if (m.type === 'fault') return this.lateFault(m.callId, m.message, m.traceback);
    if (m.ok) return this.answered(m.id, { ok: true, value: m.value, mutated: m.mutated });
    const { kind, message, traceback, own } = m;
    this.answered(m.id, {
      ok: false,
      failure: (p) => kind === 'threw' && !own ? new AdapterFailure('threw', `${threwPrefix(p.what)}${message}`, traceback, p.tag)
        : kind === 'fault' ? new AdapterFailure('fault', `${p.what}: ${message}`, traceback, p.tag)
        : new AdapterFailure(kind === 'type' ? 'type' : 'threw', message, traceback, p.tag),
    });
  }

  protected transmit(message: Outgoing): void {
    let b64: string;
    try {
      const { kind, ...rest } = message;
      b64 = toBase64(encodeFrame({ type: kind, ...rest }));
    } catch (e) {
      return this.broken((p) => new AdapterFailure('protocol', `${p.what}: its arguments cannot be sent to the page: ${describeThrown(e)}`, null, p.tag));
    }
    // the answers come back through the binding; a page that dies meanwhile is the crash handler's
    void this.cdp?.send('Runtime.evaluate', { expression: `globalThis.__normcheck.receive(${JSON.stringify(b64)})` }).catch(() => undefined);
  }

  protected async terminate(): Promise<void> {
    await this.closeBrowser();
  }

  /**
   * Closes the browser. Its browser process stays responsive while a page spins (the page's renderer is
   * another process, which closing ends), so close() returns; after 5 s the host stops waiting anyway.
   */
  private async closeBrowser(): Promise<void> {
    const b = this.browser;
    this.browser = null;
    this.page = null;
    this.cdp = null;
    if (!b) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([b.close().catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, 5000)))]);
    clearTimeout(timer);
  }
}

/** Marks an adapter object that stands for a page: hosts/open.ts opens a BrowserHost for it. */
export const PAGE_TARGET = Symbol.for('normcheck.pageTarget');

export interface BrowserBuiltin extends Adapter {
  readonly [PAGE_TARGET]: PageTarget;
}

/**
 * A built-in adapter that runs in a page. `normcheck check NAME` opens a BrowserHost for it (batched);
 * code that loads the adapter object itself (normcheck list, an adapter object passed to runConformance)
 * gets these methods, which open one host lazily and forward each call to it.
 */
export function browserBuiltin(decl: Pick<Adapter, 'name' | 'description' | 'precision' | 'layout' | 'profile' | 'conventions' | 'unsupported'> & {
  page: PageTarget; capabilities: readonly Capability[];
  /** the packages the page module imports (by the page's import map), checked by available() */
  packages?: readonly EnginePackage[];
}): BrowserBuiltin {
  let host: Promise<BrowserHost> | null = null;
  const open = () => (host ??= BrowserHost.open(decl.name, decl.page, `built-in adapter ${decl.name}`));
  const adapter: Record<string | symbol, unknown> = {
    name: decl.name, precision: decl.precision, layout: decl.layout,
    ...(decl.description !== undefined ? { description: decl.description } : {}),
    ...(decl.profile !== undefined ? { profile: decl.profile } : {}),
    ...(decl.conventions !== undefined ? { conventions: decl.conventions } : {}),
    ...(decl.unsupported !== undefined ? { unsupported: decl.unsupported } : {}),
    [PAGE_TARGET]: decl.page,
    // cheap: whether the browser can start at all (the page's own available() runs when the host opens)
    async available() {
      const problem = await browserProblem(decl.packages);
      return problem ?? true;
    },
    async teardown() {
      const h = host;
      host = null;
      if (h) await (await h).kill();
    },
  };
  for (const cap of CAPABILITIES.filter((c) => decl.capabilities.includes(c))) {
    adapter[cap] = async (args: unknown) => (await open()).call(cap, args, { timeoutMs: 600_000 });
  }
  return adapter as unknown as BrowserBuiltin;
}

export function pageTargetOf(a: Adapter): PageTarget | null {
  return (a as Partial<BrowserBuiltin>)[PAGE_TARGET] ?? null;
}
