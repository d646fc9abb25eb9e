/**
 * The instantiated normalisation SIMD module (batchnorm_wasm_module.ts), shared by the BatchNorm and LayerNorm
 * "wasm" versions: its memory, grown on demand and then reused, and cached float32 views of it so that copying
 * an output out (TypedArray.set) creates no view per call.
 */
import { batchNormWasmBytes } from './batchnorm_wasm_module.js';

// The WebAssembly namespace is not in the ES2022 lib this project compiles against; Node has it at runtime.
interface WasmMemory {
  buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmGlobal {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

type Fn = (...args: number[]) => void;

export interface NormWasm {
  memory: WasmMemory;
  f32: Float32Array;
  f64: Float64Array;
  /** views by float32 offset, then length; dropped when the memory grows */
  views: Map<number, Map<number, Float32Array>>;
  sums: Fn;
  norm: Fn;
  normRelu: Fn;
  bsums: Fn;
  bdx: Fn;
  colsums: Fn;
  colnorm: Fn;
  colnormRelu: Fn;
  colbsums: Fn;
  colbdx: Fn;
  lnnorm: Fn;
  lnbsums: Fn;
  lnbdx: Fn;
}

let instance: NormWasm | null | undefined;

/** The instantiated module, or null where WebAssembly SIMD is unavailable (the versions then fall back). */
export function normWasm(): NormWasm | null {
  if (instance !== undefined) return instance;
  try {
    const W = (globalThis as unknown as { WebAssembly: WasmGlobal }).WebAssembly;
    const e = new W.Instance(new W.Module(batchNormWasmBytes()), {}).exports;
    const memory = e['memory'] as WasmMemory;
    const fn = (name: string): Fn => e[name] as Fn;
    instance = {
      memory, f32: new Float32Array(memory.buffer), f64: new Float64Array(memory.buffer), views: new Map(),
      sums: fn('sums'), norm: fn('norm'), normRelu: fn('normRelu'), bsums: fn('bsums'), bdx: fn('bdx'),
      colsums: fn('colsums'), colnorm: fn('colnorm'), colnormRelu: fn('colnormRelu'), colbsums: fn('colbsums'), colbdx: fn('colbdx'),
      lnnorm: fn('lnnorm'), lnbsums: fn('lnbsums'), lnbdx: fn('lnbdx'),
    };
  } catch {
    instance = null;
  }
  return instance;
}

/**
 * Grows the memory to at least `bytes` (the views are remade). false when it cannot (a wasm32 memory stops at
 * 4 GiB, the engine may refuse earlier): the caller then runs its TypeScript fallback.
 */
export function reserve(w: NormWasm, bytes: number): boolean {
  if (bytes <= w.memory.buffer.byteLength) return true;
  try {
    w.memory.grow(Math.ceil((bytes - w.memory.buffer.byteLength) / 65536));
  } catch {
    return false;
  }
  w.f32 = new Float32Array(w.memory.buffer);
  w.f64 = new Float64Array(w.memory.buffer);
  w.views.clear();
  return true;
}

/**
 * The module with its memory grown to at least `bytes`, or null when WebAssembly SIMD is unavailable or the
 * memory cannot grow: the one test every wasm version makes before choosing its TypeScript fallback.
 */
export function normWasmFor(bytes: number): NormWasm | null {
  const w = normWasm();
  return w !== null && reserve(w, bytes) ? w : null;
}

/** The float32 view of n values at byte address `byteOffset`, made on first use. */
export function f32View(w: NormWasm, byteOffset: number, n: number): Float32Array {
  const start = byteOffset >> 2;
  let byLength = w.views.get(start);
  if (byLength === undefined) {
    byLength = new Map();
    w.views.set(start, byLength);
  }
  let v = byLength.get(n);
  if (v === undefined) {
    v = w.f32.subarray(start, start + n);
    byLength.set(n, v);
  }
  return v;
}

/** Round a byte count up to a multiple of 16 (v128 alignment). */
export const align16 = (bytes: number): number => (bytes + 15) & ~15;
