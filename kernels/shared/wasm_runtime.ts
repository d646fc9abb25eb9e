/**
 * The WebAssembly runtime every wasm kernel version shares: one memory, imported by every family's module
 * (batchnorm/, layernorm/, gemm/, network/ each assemble theirs with wasm_asm.ts), an allocator over it, and
 * cached float32 views so that copying an output out (TypedArray.set) creates no view per call.
 *
 * Where the engine has SharedArrayBuffer the memory is a shared one: growing it does not detach its buffer, so a
 * Float32Array made on it stays valid for as long as its block is allocated. That is what lets a caller keep
 * tensors in the kernels' memory (`wasmFloat32Array`, wasm_arrays.ts) and the kernels read and write them in
 * place, with no copy in and no copy out. A kernel given ordinary arrays copies them through a scratch block of
 * the same memory (stage.ts). Without SharedArrayBuffer the memory is a plain one and every call copies.
 *
 * A family declares its module once, as the list of its functions (`wasmModule(() => [sums(), norm(), …])`);
 * the exports are looked up by those functions' names, so the list of names exists in one place only.
 * JavaScript is single-threaded and no kernel keeps data in the memory between calls, so one scratch block
 * serves every kernel.
 */
import { MAX_PAGES, moduleBytes, type Func } from './wasm_asm.js';

// The WebAssembly namespace is not in the ES2022 lib this project compiles against; Node has it at runtime.
interface WasmMemory {
  readonly buffer: ArrayBufferLike;
  grow(pages: number): number;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

/** An exported kernel loop: numbers in (byte addresses, counts, float64 constants), results in memory. */
export type WasmFn = (...args: number[]) => void;

/** The shared memory, its allocator and its views (remade when the memory grows). */
export interface WasmHeap {
  readonly memory: WasmMemory;
  /** true: a shared memory, whose growth leaves existing views valid (so callers may hold arrays in it) */
  readonly shared: boolean;
  f32: Float32Array;
  f64: Float64Array;
  /** float32 views by float32 offset, then length; dropped when the memory grows */
  readonly views: Map<number, Map<number, Float32Array>>;
  /** every buffer object the memory has had (a shared memory gives a new, longer one after each growth) */
  readonly buffers: WeakSet<ArrayBufferLike>;
  /** free blocks [address, bytes], sorted by address, coalesced */
  readonly free: [number, number][];
  /** allocated blocks: address → bytes */
  readonly used: Map<number, number>;
  /** the one scratch block the copy path stages ordinary arrays in: [address, bytes] */
  scratch: [number, number];
}

const api = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
let heap: WasmHeap | null | undefined;

/** Block alignment: a cache line, so separately allocated arrays never share one. */
const ALIGN = 64;
/** Bytes kept free past the last block: the GEMM micro-kernel reads up to a tile past an operand's end. */
const GUARD = 4096;

function refresh(h: WasmHeap): void {
  const buffer = h.memory.buffer;
  h.buffers.add(buffer);
  h.f32 = new Float32Array(buffer);
  h.f64 = new Float64Array(buffer);
  h.views.clear();
}

/** The shared memory, created on first use; null where this engine has no WebAssembly. */
export function wasmHeap(): WasmHeap | null {
  if (heap !== undefined) return heap;
  heap = null;
  if (api === undefined) return heap;
  let memory: WasmMemory;
  let shared = typeof SharedArrayBuffer === 'function';
  try {
    memory = shared ? new api.Memory({ initial: 1, maximum: MAX_PAGES, shared: true }) : new api.Memory({ initial: 1 });
  } catch {
    shared = false;
    memory = new api.Memory({ initial: 1 });
  }
  const h: WasmHeap = {
    memory, shared, f32: new Float32Array(0), f64: new Float64Array(0), views: new Map(), buffers: new WeakSet(),
    free: [[ALIGN, memory.buffer.byteLength - ALIGN - GUARD]], used: new Map(), scratch: [0, 0],
  };
  refresh(h);
  heap = h;
  return heap;
}

/** Grows the memory by at least `bytes` and adds the new pages to the free list. false when it cannot. */
function grow(h: WasmHeap, bytes: number): boolean {
  const before = h.memory.buffer.byteLength;
  try {
    h.memory.grow(Math.ceil(bytes / 65536));
  } catch {
    return false; // a wasm32 memory stops at 4 GiB, the engine may refuse earlier
  }
  refresh(h);
  const added = h.memory.buffer.byteLength - before;
  // the guard zone at the old end becomes ordinary space, and the new end keeps a guard zone
  release(h, before - GUARD, added);
  return true;
}

/** Returns [address, bytes] to the free list, merging it with its neighbours. */
function release(h: WasmHeap, address: number, bytes: number): void {
  const free = h.free;
  let i = 0;
  while (i < free.length && free[i]![0] < address) i++;
  free.splice(i, 0, [address, bytes]);
  // merge with the next, then with the previous
  if (i + 1 < free.length && address + bytes === free[i + 1]![0]) {
    free[i]![1] += free[i + 1]![1];
    free.splice(i + 1, 1);
  }
  if (i > 0 && free[i - 1]![0] + free[i - 1]![1] === address) {
    free[i - 1]![1] += free[i]![1];
    free.splice(i, 1);
  }
}

/** A block of at least `bytes` (ALIGN-aligned), first fit, growing the memory when none fits; -1 if it cannot grow. */
export function allocate(h: WasmHeap, bytes: number): number {
  const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
  for (;;) {
    for (let i = 0; i < h.free.length; i++) {
      const block = h.free[i]!;
      if (block[1] < size) continue;
      const address = block[0];
      if (block[1] === size) h.free.splice(i, 1);
      else {
        block[0] += size;
        block[1] -= size;
      }
      h.used.set(address, size);
      return address;
    }
    const last = h.free[h.free.length - 1];
    const tail = last !== undefined && last[0] + last[1] === h.memory.buffer.byteLength - GUARD ? last[1] : 0;
    if (!grow(h, size - tail)) return -1;
  }
}

/** Frees a block allocate() returned; false if `address` is not one. */
export function deallocate(h: WasmHeap, address: number): boolean {
  const size = h.used.get(address);
  if (size === undefined) return false;
  h.used.delete(address);
  release(h, address, size);
  return true;
}

/**
 * The scratch block, at least `bytes` long (kept and reused; replaced by a larger one when a call needs more).
 * Returns its address, or -1 when the memory cannot grow to it.
 */
export function scratch(h: WasmHeap, bytes: number): number {
  if (h.scratch[1] >= bytes) return h.scratch[0];
  if (h.scratch[1] > 0) deallocate(h, h.scratch[0]);
  const address = allocate(h, bytes);
  h.scratch = address < 0 ? [0, 0] : [address, h.used.get(address)!];
  return address;
}

/** True when `a` is a view of this heap's memory: a kernel can then read or write it in place at a.byteOffset. */
export function inHeap(h: WasmHeap, a: ArrayBufferView): boolean {
  return h.shared && h.buffers.has(a.buffer);
}

/** A family's instantiated module: its exports by function name, and the shared memory they work on. */
export interface WasmInstance<N extends string> {
  readonly fn: Readonly<Record<N, WasmFn>>;
  readonly heap: WasmHeap;
}

/**
 * A family's module, instantiated on first use from its function list. The returned function gives the
 * instance, or null when WebAssembly SIMD is unavailable: the one test every wasm version makes before choosing
 * its TypeScript fallback.
 */
export function wasmModule<N extends string>(functions: () => readonly Func<N>[]): () => WasmInstance<N> | null {
  let instance: WasmInstance<N> | null | undefined;
  return () => {
    if (instance !== undefined) return instance;
    instance = null;
    const h = wasmHeap();
    if (h === null) return instance;
    try {
      const fs = functions();
      const e = new api!.Instance(new api!.Module(moduleBytes(fs, { shared: h.shared })), { env: { memory: h.memory } }).exports;
      instance = { fn: Object.fromEntries(fs.map((f) => [f.name, e[f.name] as WasmFn])) as Record<N, WasmFn>, heap: h };
    } catch {
      instance = null; // no SIMD in this engine
    }
    return instance;
  };
}

/** The float32 view of n values at byte address `byteOffset` of the memory, made on first use. */
export function f32View(h: WasmHeap, byteOffset: number, n: number): Float32Array {
  const start = byteOffset >> 2;
  let byLength = h.views.get(start);
  if (byLength === undefined) {
    byLength = new Map();
    h.views.set(start, byLength);
  }
  let v = byLength.get(n);
  if (v === undefined) {
    v = h.f32.subarray(start, start + n);
    byLength.set(n, v);
  }
  return v;
}

/** Round a byte count up to a multiple of 16 (v128 alignment). */
export const align16 = (bytes: number): number => (bytes + 15) & ~15;
