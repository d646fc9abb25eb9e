/**
 * The machine's memory bandwidth, measured in the same process as the cases, over 64 MiB arrays (far beyond any
 * cache): TypedArray.prototype.set (memcpy in C++), the floor every memory-bound case is held to; plain JS loops,
 * the ceiling for a kernel written as JS loops; and two streaming WebAssembly loops with the kernels' float64 SIMD
 * arithmetic on arrays in the kernels' memory, which show what that arithmetic alone reaches here — the limit of a
 * case whose every element needs it:
 *   read    s += a[i]                          bytes = 4·n
 *   copy    b[i] = a[i]                        bytes = 8·n
 *   triad   c[i] = a[i] + 0.5·b[i]             bytes = 12·n (STREAM's triad)
 *   set     b.set(a)                           bytes = 8·n
 *   wasm f32x4 stream  y = x·s + t, float32      bytes = 8·n   the cheapest streaming wasm loop that writes
 *   wasm normalise   y = fl32((x - m)·s + t)   bytes = 8·n   (batchnorm/wasm_module.ts's nchwEval on one channel)
 *   wasm shifted sums  Σ(x - K), Σ(x - K)²     bytes = 4·n   (shared/wasm_loops.ts's sums)
 * and one loop without memory traffic, the float32 compute ceiling of the GEMM cases (GFLOP/s, not GB/s):
 *   wasm f32x4 peak  acc = acc·s + t on 12 accumulators in registers   (shared/wasm_loops.ts's F32X4_PEAK)
 * memcpy writes with non-temporal stores; wasm has none, so every cache line a wasm loop writes is first read
 * (read for ownership): a streaming wasm loop moves 1.5× the bytes of the memcpy it is compared with.
 */
import { batchNormWasm } from '../../kernels/batchnorm/wasm_module.js';
import { wasmFloat32Array, wasmFloat64Array, freeWasmArray } from '../../kernels/index.js';
import { F32X4_PEAK, F32X4_STREAM, sums } from '../../kernels/shared/wasm_loops.js';
import { wasmModule } from '../../kernels/shared/wasm_runtime.js';
import { time, type Clock } from './harness.js';

export interface BandwidthResult {
  name: string;
  gbPerS: number;
  medianMs: number;
  /** the TypedArray.set row: the memcpy floor */
  memcpy?: boolean;
  /** the compute row (no memory traffic): its rate in GFLOP/s; gbPerS is 0 */
  gflopPerS?: number;
}

const N = 16 * 1024 * 1024; // 16 Mi floats = 64 MiB per array

let sink = 0; // keeps the read loop from being optimised away

function readLoop(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

function copyLoop(a: Float32Array, b: Float32Array): void {
  for (let i = 0; i < a.length; i++) b[i] = a[i]!;
}

function triadLoop(a: Float32Array, b: Float32Array, c: Float32Array): void {
  for (let i = 0; i < a.length; i++) c[i] = a[i]! + 0.5 * b[i]!;
}

const sumsModule = wasmModule(() => [sums(), F32X4_STREAM(), F32X4_PEAK()]);

/** Iterations of the compute row: 96 flops each, ~20 ms at 40 GFLOP/s. */
const PEAK_ITERATIONS = 8_000_000;

export function measureBandwidth(clock: Clock): BandwidthResult[] {
  const a = new Float32Array(N).fill(1);
  const b = new Float32Array(N).fill(2);
  const c = new Float32Array(N).fill(3);
  const opts = { minReps: 5, maxReps: 20, budgetMs: 600 };
  const rows: [string, number, () => void, boolean?][] = [
    ['TypedArray.set (memcpy)', 8 * N, () => b.set(a), true],
    ['JS read loop', 4 * N, () => { sink += readLoop(a); }],
    ['JS copy loop', 8 * N, () => copyLoop(a, b)],
    ['JS triad loop', 12 * N, () => triadLoop(a, b, c)],
  ];
  const bn = batchNormWasm();
  const sm = sumsModule();
  const wx = wasmFloat32Array(N).fill(1.5);
  const wy = wasmFloat32Array(N);
  const param = wasmFloat32Array(4).fill(1);
  const out = wasmFloat64Array(4);
  if (bn !== null && sm !== null) {
    const p = param.byteOffset;
    rows.push(
      ['wasm f32x4 stream x·s + t (float32)', 8 * N, () => sm.fn.f32x4Stream(wx.byteOffset, wy.byteOffset, N)],
      ['wasm f64x2 normalise (x - m)·s + t', 8 * N, () => bn.fn.nchwEval(wx.byteOffset, wy.byteOffset, 1, 1, N, p, p + 4, p + 8, p + 12, 1e-5, out.byteOffset, out.byteOffset + 8)],
      ['wasm f64x2 shifted sums Σ(x-K), Σ(x-K)²', 4 * N, () => sm.fn.sums(wx.byteOffset, N, 0.5, out.byteOffset)],
    );
  }
  const results: BandwidthResult[] = rows.map(([name, bytes, run, memcpy]) => {
    const t = time(run, opts, clock);
    return { name, gbPerS: bytes / (t.medianMs * 1e6), medianMs: t.medianMs, ...(memcpy ? { memcpy } : {}) };
  });
  if (sm !== null) {
    const t = time(() => sm.fn.f32x4Peak(PEAK_ITERATIONS, out.byteOffset), opts, clock);
    results.push({ name: 'wasm f32x4 multiply + add, registers only', gbPerS: 0, medianMs: t.medianMs, gflopPerS: (96 * PEAK_ITERATIONS) / (t.medianMs * 1e6) });
  }
  for (const w of [wx, wy, param]) freeWasmArray(w);
  freeWasmArray(out);
  if (sink === -1) console.log(sink);
  return results;
}
