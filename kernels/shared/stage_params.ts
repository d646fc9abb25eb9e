/**
 * Parameters (weight, bias: C or D values) and per-call tables for the wasm versions of the normalisation
 * families, laid out as float64 arrays in the scratch block (stage.ts), so a pair of them is one v128.load and
 * the loops never widen them again. Call within a stage (after beginStage), counting PARAM_SLOT(n) per array.
 */
import { stageBytes } from './stage.js';
import type { WasmHeap } from './wasm_runtime.js';

/** Scratch bytes one float64 array of n values takes (its slot, rounded up). */
export const paramSlot = (n: number): number => 8 * n + 64;

/** n float64 values of `a` (or `fill` everywhere when a is null) at a fresh scratch slot; returns its address. */
export function stageParams(h: WasmHeap, a: Float32Array | null, n: number, fill: number): number {
  const at = stageBytes(8 * n);
  const base = at >> 3;
  const f64 = h.f64;
  if (a === null) f64.fill(fill, base, base + n);
  else for (let i = 0; i < n; i++) f64[base + i] = a[i]!;
  return at;
}

/** A float64 table of n values at a fresh scratch slot, contents unset; returns its address. */
export function stageTable(n: number): number {
  return stageBytes(8 * n);
}
