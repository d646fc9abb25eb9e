/**
 * The WebAssembly runtime every wasm kernel version shares: one memory, imported by every family's module
 * (batchnorm/, layernorm/, gemm/, network/ each assemble theirs with wasm_asm.ts), grown on demand and then
 * reused, and cached float32 views of it so that copying an output out (TypedArray.set) creates no view per call.
 *
 * A family declares its module once, as the list of its functions (`wasmModule(() => [sums(), norm(), …])`);
 * the exports are looked up by those functions' names, so the list of names exists in one place only.
 * Calls never overlap (JavaScript is single-threaded and no kernel keeps data in the memory between calls),
 * so every kernel lays its operands out from byte 0 of the same memory.
 */
import { moduleBytes, type Func } from './wasm_asm.js';

// The WebAssembly namespace is not in the ES2022 lib this project compiles against; Node has it at runtime.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

/** An exported kernel loop: numbers in (byte addresses, counts, float64 constants), results in memory. */
export type WasmFn = (...args: number[]) => void;

/** The shared memory and its views (remade when the memory grows, which detaches the old buffer). */
export interface WasmHeap {
  readonly memory: WasmMemory;
  f32: Float32Array;
  f64: Float64Array;
  /** float32 views by float32 offset, then length; dropped when the memory grows */
  readonly views: Map<number, Map<number, Float32Array>>;
}

const api = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
let heap: WasmHeap | null | undefined;

/** The shared memory, created on first use; null where this engine has no WebAssembly. */
export function wasmHeap(): WasmHeap | null {
  if (heap !== undefined) return heap;
  try {
    const memory = new api!.Memory({ initial: 1 });
    heap = { memory, f32: new Float32Array(memory.buffer), f64: new Float64Array(memory.buffer), views: new Map() };
  } catch {
    heap = null;
  }
  return heap;
}

/**
 * Grows the memory to at least `bytes` (the views are remade). false when it cannot (a wasm32 memory stops at
 * 4 GiB, the engine may refuse earlier): the caller then runs its TypeScript fallback.
 */
export function reserve(h: WasmHeap, bytes: number): boolean {
  if (bytes <= h.memory.buffer.byteLength) return true;
  try {
    h.memory.grow(Math.ceil((bytes - h.memory.buffer.byteLength) / 65536));
  } catch {
    return false;
  }
  h.f32 = new Float32Array(h.memory.buffer);
  h.f64 = new Float64Array(h.memory.buffer);
  h.views.clear();
  return true;
}

/** A family's instantiated module: its exports by function name, and the shared memory they work on. */
export interface WasmInstance<N extends string> {
  readonly fn: Readonly<Record<N, WasmFn>>;
  readonly heap: WasmHeap;
}

/**
 * A family's module, instantiated on first use from its function list. The returned function gives the
 * instance with the memory grown to at least `bytes`, or null when WebAssembly SIMD is unavailable or the memory
 * cannot grow: the one test every wasm version makes before choosing its TypeScript fallback.
 */
export function wasmModule<N extends string>(functions: () => readonly Func<N>[]): (bytes?: number) => WasmInstance<N> | null {
  let instance: WasmInstance<N> | null | undefined;
  return (bytes = 0) => {
    if (instance === undefined) {
      const h = wasmHeap();
      instance = null;
      if (h !== null) {
        try {
          const fs = functions();
          const e = new api!.Instance(new api!.Module(moduleBytes(fs)), { env: { memory: h.memory } }).exports;
          instance = { fn: Object.fromEntries(fs.map((f) => [f.name, e[f.name] as WasmFn])) as Record<N, WasmFn>, heap: h };
        } catch {
          instance = null; // no SIMD in this engine
        }
      }
    }
    return instance !== null && reserve(instance.heap, bytes) ? instance : null;
  };
}

/** The float32 view of n values at byte address `byteOffset` of the shared memory, made on first use. */
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
