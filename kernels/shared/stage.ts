/**
 * Where one wasm kernel call finds its operands: an array that lives in the kernels' memory (wasm_arrays.ts) is
 * read or written in place, at its own address; any other array is staged in the scratch block — inputs copied
 * in, outputs copied out after the call (TypedArray.set, a memcpy each, through cached views).
 *
 *   const bytes = stagedBytes(h, x) + stagedBytes(h, y) + 16 * C;   // phase 1: how much scratch
 *   if (!beginStage(h, bytes)) return fallback();                      // the memory could not grow
 *   const xa = stageIn(h, x), ya = stageOut(h, y), ch = stageBytes(16 * C);
 *   …the wasm call…
 *   finishOut(h, y, ya);
 * One call at a time (JavaScript is single-threaded), so one cursor serves every kernel; nothing allocates
 * once the scratch block and the views of a given size exist.
 */
import { f32View, inHeap, scratch, type WasmHeap } from './wasm_runtime.js';

const SLOT = 64;
/** The scratch a stageBytes(bytes) slot takes. */
export const slot = (bytes: number): number => Math.ceil(bytes / SLOT) * SLOT;

let cursor = 0;

/** Scratch bytes `a` needs: none when it lives in the memory (or is absent). */
export function stagedBytes(h: WasmHeap, a: ArrayBufferView | null): number {
  return a === null || inHeap(h, a) ? 0 : slot(a.byteLength);
}

/** Reserves `bytes` of scratch and starts laying out a call; false when the memory cannot grow to it. */
export function beginStage(h: WasmHeap, bytes: number): boolean {
  const base = scratch(h, bytes + SLOT);
  cursor = base;
  return base >= 0;
}

/** `bytes` of scratch for the call's own arrays (per-channel constants, sums); returns the address. */
export function stageBytes(bytes: number): number {
  const at = cursor;
  cursor += slot(bytes);
  return at;
}

/** The address of input `a`: its own, or a scratch slot it is copied into. */
export function stageIn(h: WasmHeap, a: Float32Array | Float64Array): number {
  if (inHeap(h, a)) return a.byteOffset;
  const at = stageBytes(a.byteLength);
  if (a instanceof Float32Array) h.f32.set(a, at >> 2);
  else h.f64.set(a, at >> 3);
  return at;
}

/** The address output `a` is written at: its own, or a scratch slot (then copy it out with finishOut). */
export function stageOut(h: WasmHeap, a: Float32Array | Float64Array): number {
  return inHeap(h, a) ? a.byteOffset : stageBytes(a.byteLength);
}

/** Copies a staged float32 output out of its scratch slot; nothing when it lives in the memory. */
export function finishOut(h: WasmHeap, a: Float32Array, at: number): void {
  if (!inHeap(h, a)) a.set(f32View(h, at, a.length));
}

/** Copies a staged float64 output out (C values: a plain loop, no view needed). */
export function finishOut64(h: WasmHeap, a: Float64Array, at: number): void {
  if (inHeap(h, a)) return;
  const f64 = h.f64;
  const base = at >> 3;
  for (let i = 0; i < a.length; i++) a[i] = f64[base + i]!;
}
