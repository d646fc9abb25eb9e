// @ts-check
/**
 * The worker-thread side of the worker host (worker.ts): loads one adapter and answers its calls, one at a
 * time, in the order they arrive. Plain JavaScript, so that it runs from the sources as well as from dist/.
 *
 * Messages in:   { type: 'calls', calls: [{ id, cap, args }] }     capability calls, run in order
 *                { type: 'hook', id, hook }                         available / setup / teardown
 *                { type: 'settle', id }                             answered once pending timers had a turn
 * Messages out:  { type: 'ready', fields, methods }                 the adapter's declaration (below)
 *                { type: 'load-error', message }
 *                { type: 'result', id, ok: true, value, mutated }   mutated: input arrays the call wrote into
 *                { type: 'result', id, ok: false, kind, message, traceback }
 *                { type: 'fault', callId, message, traceback }      a callback threw after its call returned
 *
 * Blame. Every call runs inside an AsyncLocalStorage context holding its id, and callbacks the adapter
 * schedules inherit it, so an exception from a timer, or a rejection nobody handles, names the call that
 * scheduled it. process.exit is replaced by a function that first writes the exit code and the id of the
 * current call into shared memory (read by the host on the 'exit' event: a message posted right before
 * exiting may be lost), then exits the thread.
 *
 * The same file runs as a forked Node process (worker.ts with `process: true`, for WebGPU adapters): the
 * messages travel over the IPC channel (advanced serialization: typed arrays as they are), the target comes
 * in NORMCHECK_WORKER_DATA, and process.exit writes its record synchronously to fd 4, a pipe to the host.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { adapterExport, importAdapterFile, messageOf, ModuleLoadError } from './adapter_module.js';

/** a forked process rather than a worker thread */
const inChild = parentPort === null;
/** The channel to the host: the thread's port, or the process's IPC channel with the same two methods. */
const port = /** @type {{ postMessage(m: unknown): void, on(e: 'message', fn: (m: any) => void): void }} */ (inChild
  ? { postMessage: (m) => process.send?.(m), on: (e, fn) => process.on(e, fn) }
  : parentPort);
/** @type {{ target: { file: string } | { builtin: string }, source: string, status?: SharedArrayBuffer }} */
const data = inChild ? JSON.parse(process.env.NORMCHECK_WORKER_DATA ?? '{}') : workerData;
/** [0] 1 once process.exit was called, [1] its code, [2] the id of the call that called it, -1 while loading */
const status = new Int32Array(data.status ?? new ArrayBuffer(12));
const als = new AsyncLocalStorage();

/** @returns {number} */
const currentCall = () => {
  const id = als.getStore();
  return typeof id === 'number' ? id : -1;
};

const realExit = process.exit.bind(process);
// a host that is gone (killed, or its process exited) leaves nothing to answer to
if (inChild) process.on('disconnect', () => realExit(0));
process.exit = /** @type {typeof process.exit} */ ((code) => {
  const c = typeof code === 'number' ? code : Number(code ?? process.exitCode ?? 0) | 0;
  Atomics.store(status, 1, c);
  Atomics.store(status, 2, currentCall());
  Atomics.store(status, 0, 1);
  if (inChild) {
    try {
      writeSync(4, `${JSON.stringify({ code: c, call: currentCall() })}\n`);
    } catch {
      // the host is gone
    }
  }
  return realExit(c);
});

/** The calls running now (normally one): a fault tagged with one of them fails that call. */
const running = new Map();

/**
 * @param {unknown} e
 * @returns {string | null}
 */
function stackOf(e) {
  try {
    const s = /** @type {{ stack?: unknown }} */ (e)?.stack;
    return typeof s === 'string' ? s : null;
  } catch {
    return null;
  }
}

/**
 * @param {string} what
 * @returns {(e: unknown) => void}
 */
const onFault = (what) => (e) => {
  const callId = currentCall();
  const message = `${what} ${messageOf(e)}`;
  const fail = running.get(callId);
  if (fail) fail(message, stackOf(e));
  else port.postMessage({ type: 'fault', callId, message, traceback: stackOf(e) });
};
process.on('uncaughtException', onFault('a callback it scheduled threw'));
process.on('unhandledRejection', onFault('a Promise it created rejected with nothing to handle it:'));

/** @type {Record<string, unknown>} */
let adapter;

/** A failure of the adapter's result found here (kind 'threw' or 'type'), as opposed to a value it threw. */
class ResultFailure extends Error {
  /** @param {string} kind @param {string} message */
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}

/** The string keys of an object and its prototypes up to Object.prototype (as validate_adapter.ts reads them). */
function fieldNames(/** @type {object} */ o) {
  const names = new Set();
  for (let p = o; p && p !== Object.prototype && p !== Function.prototype; p = Object.getPrototypeOf(p)) {
    for (const k of Object.getOwnPropertyNames(p)) if (k !== 'constructor') names.add(k);
  }
  return [...names];
}

const DECLARED = new Set(['name', 'description', 'precision', 'layout', 'profile', 'conventions', 'unsupported']);

/**
 * The declaration the host validates, read once per field: declared fields by value, functions by name,
 * the adapter's other fields by name only (their values never leave the worker).
 * @param {unknown} value
 * @param {string} source
 */
function declaration(value, source) {
  if (value === null || typeof value !== 'object') return { notAnObject: value === null ? 'null' : typeof value };
  /** @type {Record<string, unknown>} */
  const fields = {};
  const methods = [];
  for (const k of fieldNames(value)) {
    let v;
    try {
      v = /** @type {Record<string, unknown>} */ (value)[k];
    } catch (e) {
      throw new ModuleLoadError(`${source}: reading adapter.${k} threw ${messageOf(e)}`);
    }
    if (typeof v === 'function') methods.push(k);
    else if (DECLARED.has(k)) {
      try {
        fields[k] = structuredClone(v);
      } catch {
        fields[k] = `${typeof v} that cannot be sent to the host`;
      }
    } else fields[k] = typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' || v == null ? v : `a ${typeof v}`;
  }
  // webgpuAdapter's mark (conformance/webgpu/adapter.ts): the host runs such an adapter in a process
  return { fields, methods, webgpu: /** @type {Record<symbol, unknown>} */ (value)[Symbol.for('normcheck.webgpu')] === true };
}

try {
  let mod;
  if ('file' in data.target) mod = await importAdapterFile(data.target.file, data.source);
  else {
    // built-in adapters are TypeScript compiled to dist/: a worker can load them only from there
    const index = new URL('../adapters/index.js', import.meta.url);
    let builtins;
    try {
      builtins = /** @type {{ BUILTIN_ADAPTERS: Record<string, () => Promise<Record<string, unknown>>> }} */ (await import(index.href)).BUILTIN_ADAPTERS;
    } catch (e) {
      throw new ModuleLoadError(`built-in adapter ${data.target.builtin} cannot run in a worker thread from the TypeScript sources (build first: npm run build): ${messageOf(e)}`);
    }
    try {
      mod = await builtins[data.target.builtin]();
    } catch (e) {
      throw new ModuleLoadError(`built-in adapter ${data.target.builtin} failed to load: ${messageOf(e)}`);
    }
  }
  adapter = /** @type {Record<string, unknown>} */ (await adapterExport(mod, data.source));
  port.postMessage({ type: 'ready', ...declaration(adapter, data.source) });
} catch (e) {
  port.postMessage({ type: 'load-error', message: e instanceof ModuleLoadError ? e.message : `${data.source}: ${messageOf(e)}` });
}

const TypedArray = Object.getPrototypeOf(Uint8Array);
const RESULT_FIELDS = ['y', 'runningMean', 'runningVar', 'mean', 'rstd', 'dx', 'dweight', 'dbias'];

/**
 * The result fields, each read once; a value that cannot be sent between threads is a type failure.
 * @param {string} cap
 * @param {unknown} res
 */
function resultOf(cap, res) {
  if (res === null || typeof res !== 'object') return res;
  /** @type {Record<string, unknown>} */
  const out = {};
  for (const k of RESULT_FIELDS) {
    let v;
    try {
      v = /** @type {Record<string, unknown>} */ (res)[k];
    } catch (e) {
      throw new ResultFailure('threw', `${cap} returned an object whose ${k} getter threw ${messageOf(e)}`);
    }
    if (v === undefined) continue;
    if (v !== null && !(v instanceof TypedArray)) {
      try {
        v = structuredClone(v);
      } catch {
        throw new ResultFailure('type', `${cap} returned ${k} as a value that cannot be sent between threads (not a typed array)`);
      }
    }
    out[k] = v;
  }
  return out;
}

/** Copies of the input arrays, to tell afterwards which ones the adapter wrote into. */
function snapshot(/** @type {unknown} */ args) {
  /** @type {[string, Uint8Array, Uint8Array][]} */
  const out = [];
  if (args === null || typeof args !== 'object') return out;
  for (const [k, v] of Object.entries(args)) {
    if (ArrayBuffer.isView(v)) {
      const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      out.push([k, bytes, bytes.slice()]);
    }
  }
  return out;
}

/**
 * Runs one call inside its blame context; resolves with the message to post.
 * @param {number} id
 * @param {() => unknown} fn
 * @param {(value: unknown) => unknown} encode
 * @param {unknown} args
 */
function run(id, fn, encode, args) {
  return new Promise((resolve) => {
    const before = snapshot(args);
    let done = false;
    /** @param {object} m */
    const finish = (m) => {
      if (done) return;
      done = true;
      running.delete(id);
      resolve(m);
    };
    running.set(id, (/** @type {string} */ message, /** @type {string | null} */ traceback) => finish({ type: 'result', id, ok: false, kind: 'fault', message, traceback, own: true }));
    als.run(id, () => {
      Promise.resolve()
        .then(fn)
        .then((value) => {
          /** @type {Record<string, unknown>} */
          const mutated = {};
          for (const [k, now, then] of before) if (Buffer.compare(now, then) !== 0) mutated[k] = /** @type {Record<string, unknown>} */ (args)[k];
          finish({ type: 'result', id, ok: true, value: encode(value), mutated });
        })
        .catch((e) => {
          // the adapter's own throw: message describes the value (the host words it); ours: the whole message
          if (e instanceof ResultFailure) finish({ type: 'result', id, ok: false, kind: e.kind, message: e.message, traceback: null, own: true });
          else finish({ type: 'result', id, ok: false, kind: 'threw', message: messageOf(e), traceback: stackOf(e), own: false });
        });
    });
  });
}

/** @param {{ id: number, cap: string, args: unknown }} call */
function callOne({ id, cap, args }) {
  const fn = /** @type {(a: unknown) => unknown} */ (adapter[cap]);
  return run(id, () => fn.call(adapter, args), (v) => resultOf(cap, v), args);
}

/** @param {{ id: number, hook: string }} m */
function hook({ id, hook }) {
  const fn = /** @type {(() => unknown) | undefined} */ (adapter[hook]);
  return run(id, () => (typeof fn === 'function' ? fn.call(adapter) : hook === 'available' ? true : undefined), (v) => (typeof v === 'string' || v === true ? v : messageOf(v)), null);
}

// One at a time, in arrival order: the host blames the oldest unanswered call when this thread dies.
let queue = Promise.resolve();
port.on('message', (/** @type {{ type: string, id: number, calls?: { id: number, cap: string, args: unknown }[], hook?: string }} */ m) => {
  queue = queue.then(async () => {
    if (m.type === 'calls') {
      for (const c of m.calls ?? []) port.postMessage(await callOne(c));
    } else if (m.type === 'hook') {
      port.postMessage(await hook(/** @type {{ id: number, hook: string }} */ (m)));
    } else if (m.type === 'settle') {
      // timers due now and immediates queued by earlier calls run before the answer
      await new Promise((r) => setTimeout(r, 0));
      await new Promise((r) => setImmediate(r));
      port.postMessage({ type: 'result', id: m.id, ok: true, value: null, mutated: {} });
    }
  });
});
