/**
 * The page side of the browser host (../browser.ts): runs in a Chromium page, loads one adapter module and
 * answers its calls one at a time, in the order they arrive — the worker host's protocol (worker_main.js),
 * carried as wire-protocol frames (frame.ts) in base64 across the DevTools connection.
 *
 * In:   window.__normcheck.receive(base64 frame)   { type: 'calls', calls: [{ id, cap, args }] }
 *                                                   { type: 'hook', id, hook }   available / setup / teardown
 *                                                   { type: 'settle', id }
 * Out:  window.__normcheckPost(base64 frame)       { type: 'ready', fields, methods } | { type: 'load-error', message }
 *                                                   { type: 'result', id, ok: true, value, mutated }
 *                                                   { type: 'result', id, ok: false, kind, message, traceback }
 *                                                   { type: 'fault', callId, message, traceback }
 * An exception from a callback or a rejection nobody handles fails the call running at the time, or is a
 * fault of the last call when none is (a page has no async context to tell which call scheduled it).
 */
import { decodeFrame, encodeFrame, fromBase64, toBase64 } from './frame.js';

type Message = Record<string, unknown>;
declare const window: {
  __normcheck?: { receive(b64: string): void };
  /** a DevTools binding: one-way, returns nothing */
  __normcheckPost(b64: string): void;
  addEventListener(type: string, fn: (e: { error?: unknown; reason?: unknown; message?: string; preventDefault(): void }) => void): void;
};

const post = (m: Message) => window.__normcheckPost(toBase64(encodeFrame(m)));

/** Posts a call's answer; one the frame cannot carry (an Int32Array, a cycle) is that call's failure. */
function answer(m: Message): void {
  try {
    post(m);
  } catch (e) {
    post({ type: 'result', id: m.id, ok: false, kind: 'type', message: `the result cannot be sent from the page: ${describe(e)}`, traceback: null, own: true });
  }
}

function describe(e: unknown): string {
  try {
    if (e instanceof Error) return `${e.name}: ${e.message}`;
    if (typeof e === 'string') return JSON.stringify(e);
    return e === undefined ? 'undefined' : e === null ? 'null' : typeof e === 'object' ? 'a non-Error object' : String(e);
  } catch {
    return 'an unprintable value';
  }
}

function stackOf(e: unknown): string | null {
  try {
    const s = (e as { stack?: unknown } | null)?.stack;
    return typeof s === 'string' ? s : null;
  } catch {
    return null;
  }
}

const DECLARED = new Set(['name', 'description', 'precision', 'layout', 'profile', 'conventions', 'unsupported']);
const RESULT_FIELDS = ['y', 'runningMean', 'runningVar', 'mean', 'rstd', 'dx', 'dweight', 'dbias'];

let adapter: Record<string, unknown> = {};
let current: { id: number; fail(message: string, traceback: string | null): void } | null = null;
let lastCall = -1;

function onFault(what: string, e: unknown): void {
  const message = `${what} ${describe(e)}`;
  if (current) current.fail(message, stackOf(e));
  else post({ type: 'fault', callId: lastCall, message, traceback: stackOf(e) });
}

window.addEventListener('error', (ev) => {
  ev.preventDefault();
  onFault('a callback it scheduled threw', ev.error ?? ev.message);
});
window.addEventListener('unhandledrejection', (ev) => {
  ev.preventDefault();
  onFault('a Promise it created rejected with nothing to handle it:', ev.reason);
});

/** The adapter's declared fields by value and its functions by name (validated by the host). */
function declaration(value: unknown): Message {
  if (value === null || typeof value !== 'object') return { type: 'ready', notAnObject: value === null ? 'null' : typeof value };
  const fields: Record<string, unknown> = {};
  const methods: string[] = [];
  const names = new Set<string>();
  for (let p: object | null = value; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const k of Object.getOwnPropertyNames(p)) if (k !== 'constructor') names.add(k);
  }
  for (const k of names) {
    const v = (value as Record<string, unknown>)[k];
    if (typeof v === 'function') methods.push(k);
    else if (DECLARED.has(k)) fields[k] = v;
    else fields[k] = typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' || v == null ? v : `a ${typeof v}`;
  }
  return { type: 'ready', fields, methods };
}

/** Loads the adapter module at `url` (its default export, `adapter` export, or a factory of either). */
export async function load(url: string): Promise<void> {
  try {
    const mod = (await import(url)) as Record<string, unknown>;
    let value = mod.default ?? mod.adapter;
    if (value === undefined) return post({ type: 'load-error', message: `${url}: no default export (export default defineAdapter({...}))` });
    if (typeof value === 'function') value = await (value as () => unknown)();
    adapter = value as Record<string, unknown>;
    post(declaration(value));
  } catch (e) {
    post({ type: 'load-error', message: `failed to import in the page: ${describe(e)}` });
  }
}

function run(id: number, fn: () => unknown, encode: (v: unknown) => unknown, args: unknown): Promise<Message> {
  return new Promise((resolve) => {
    const before: [string, Uint8Array, Uint8Array][] = [];
    if (args && typeof args === 'object') {
      for (const [k, v] of Object.entries(args)) {
        if (ArrayBuffer.isView(v)) {
          const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
          before.push([k, bytes, bytes.slice()]);
        }
      }
    }
    let done = false;
    const finish = (m: Message) => {
      if (done) return;
      done = true;
      current = null;
      resolve(m);
    };
    current = { id, fail: (message, traceback) => finish({ type: 'result', id, ok: false, kind: 'fault', message, traceback, own: true }) };
    lastCall = id;
    Promise.resolve().then(fn).then((value) => {
      const mutated: Record<string, unknown> = {};
      for (const [k, now, then] of before) if (now.some((b, i) => b !== then[i])) mutated[k] = (args as Record<string, unknown>)[k];
      finish({ type: 'result', id, ok: true, value: encode(value), mutated });
    }, (e: unknown) => finish({ type: 'result', id, ok: false, kind: 'threw', message: describe(e), traceback: stackOf(e), own: false }));
  });
}

/** The result's fields, each read once (a getter runs once); non-array values pass through as JSON. */
function resultOf(res: unknown): unknown {
  if (res === null || typeof res !== 'object') return res;
  const out: Record<string, unknown> = {};
  for (const k of RESULT_FIELDS) {
    const v = (res as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

let queue: Promise<void> = Promise.resolve();

function receive(b64: string): void {
  const m = decodeFrame(fromBase64(b64));
  queue = queue.then(async () => {
    if (m.type === 'calls') {
      for (const c of m.calls as { id: number; cap: string; args: unknown }[]) {
        const fn = adapter[c.cap] as (a: unknown) => unknown;
        answer(await run(c.id, () => fn.call(adapter, c.args), resultOf, c.args));
      }
    } else if (m.type === 'hook') {
      const fn = adapter[m.hook as string] as (() => unknown) | undefined;
      answer(await run(m.id as number, () => (typeof fn === 'function' ? fn.call(adapter) : m.hook === 'available' ? true : undefined), (x) => (x === true || typeof x === 'string' ? x : describe(x)), null));
    } else if (m.type === 'settle') {
      await new Promise((r) => setTimeout(r, 0));
      answer({ type: 'result', id: m.id, ok: true, value: null, mutated: {} });
    }
  });
}

window.__normcheck = { receive };
