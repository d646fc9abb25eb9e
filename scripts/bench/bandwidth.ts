/**
 * The machine's memory bandwidth, measured in the same process as the cases, from plain JS loops over big
 * Float32Arrays (64 MiB each, far beyond any cache) — the ceiling for a kernel written as JS loops — and from
 * TypedArray.prototype.set (memcpy in C++), the ceiling for the machine.
 *   read    s += a[i]                 bytes = 4·n
 *   copy    b[i] = a[i]               bytes = 8·n
 *   triad   c[i] = a[i] + 0.5·b[i]    bytes = 12·n (STREAM's triad)
 *   set     b.set(a)                  bytes = 8·n
 */
import { time } from './harness.js';

export interface BandwidthResult {
  name: string;
  gbPerS: number;
  medianMs: number;
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

export function measureBandwidth(): BandwidthResult[] {
  const a = new Float32Array(N).fill(1);
  const b = new Float32Array(N).fill(2);
  const c = new Float32Array(N).fill(3);
  const opts = { minReps: 5, maxReps: 20, budgetMs: 600 };
  const rows: [string, number, () => void][] = [
    ['JS read loop', 4 * N, () => { sink += readLoop(a); }],
    ['JS copy loop', 8 * N, () => copyLoop(a, b)],
    ['JS triad loop', 12 * N, () => triadLoop(a, b, c)],
    ['TypedArray.set (memcpy)', 8 * N, () => b.set(a)],
  ];
  const out = rows.map(([name, bytes, run]) => {
    const t = time(run, opts);
    return { name, gbPerS: bytes / (t.medianMs * 1e6), medianMs: t.medianMs };
  });
  if (sink === -1) console.log(sink);
  return out;
}
