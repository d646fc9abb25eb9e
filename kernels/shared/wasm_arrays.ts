/**
 * Arrays that live in the kernels' WebAssembly memory, so the wasm kernel versions read and write them in place:
 * a caller that allocates its tensors once with these (inputs, outputs, saved statistics) pays no copy per call,
 * where an ordinary Float32Array is copied into the memory and its result copied out (shared/stage.ts).
 *
 *   const x = wasmFloat32Array(N * C * S), y = wasmFloat32Array(N * C * S);
 *   x.set(data);                                  // fill it like any Float32Array
 *   batchNormTrainForward({ x, y, … });           // no copy in, no copy out
 *   freeWasmArray(x); freeWasmArray(y);           // when done (or keep them for the program's life)
 *
 * They are ordinary Float32Array/Float64Array objects (any code can read them; a subarray of one is still in the
 * memory), on a shared WebAssembly memory whose growth never detaches them. Where the engine has no
 * SharedArrayBuffer (or no WebAssembly) they are plain arrays and the kernels copy as usual; isWasmArray tells.
 * After freeWasmArray the array and its subarrays must not be used: the block may be given to another array.
 */
import { describe, KernelShapeError, KernelValueError } from './args.js';
import { allocate, deallocate, inHeap, wasmHeap } from './wasm_runtime.js';

function allocateView<T extends Float32Array | Float64Array>(type: { new (b: ArrayBufferLike, o: number, n: number): T; new (n: number): T; BYTES_PER_ELEMENT: number }, n: number, name: string): T {
  if (!Number.isInteger(n) || n < 0) throw new KernelShapeError(`${name}: expected a non-negative integer length, got ${describe(n)}`);
  const h = wasmHeap();
  if (h === null || !h.shared) return new type(n);
  const address = allocate(h, Math.max(1, n) * type.BYTES_PER_ELEMENT);
  if (address < 0) throw new KernelValueError(`${name}: the kernels' WebAssembly memory cannot grow by ${n * type.BYTES_PER_ELEMENT} bytes`);
  const a = new type(h.memory.buffer, address, n);
  a.fill(0); // a freed block keeps its old contents
  return a;
}

/** A zeroed Float32Array of n values in the kernels' memory (a plain one where that memory cannot be shared). */
export function wasmFloat32Array(n: number): Float32Array {
  return allocateView(Float32Array, n, 'wasmFloat32Array');
}

/** A zeroed Float64Array of n values in the kernels' memory (saved statistics: mean, rstd). */
export function wasmFloat64Array(n: number): Float64Array {
  return allocateView(Float64Array, n, 'wasmFloat64Array');
}

/** True when `a` lives in the kernels' memory, so the wasm versions use it in place. */
export function isWasmArray(a: ArrayBufferView): boolean {
  const h = wasmHeap();
  return h !== null && inHeap(h, a);
}

/** Returns the block of an array wasmFloat32Array/wasmFloat64Array made; a plain array is left to the GC. */
export function freeWasmArray(a: Float32Array | Float64Array): void {
  const h = wasmHeap();
  if (h === null || !inHeap(h, a)) return;
  if (!deallocate(h, a.byteOffset)) {
    throw new KernelValueError('freeWasmArray: expected an array made by wasmFloat32Array or wasmFloat64Array (not a subarray of one, not freed twice)');
  }
}
