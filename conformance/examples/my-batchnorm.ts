// The README's worked example: wrap your own BatchNorm in an adapter and check it (compiled to
// dist/conformance/examples/my-batchnorm.js: `normcheck check dist/conformance/examples/my-batchnorm.js`).
// Outside this repository, import from 'normcheck/conformance' instead of '../adapter.js'.
import { defineAdapter } from '../adapter.js';

// Your implementation: float32, NCHW, training mode, two-pass statistics.
function myBatchNorm(x: Float32Array, N: number, C: number, S: number, eps: number) {
  const y = new Float32Array(x.length), mean = new Float32Array(C), variance = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    const at = (n: number, s: number) => (n * C + c) * S + s;
    let sum = 0, sq = 0;
    for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) sum += x[at(n, s)]!;
    const m = sum / (N * S);
    for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) sq += (x[at(n, s)]! - m) ** 2;
    const v = sq / (N * S), rstd = 1 / Math.sqrt(v + eps);
    for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) y[at(n, s)] = (x[at(n, s)]! - m) * rstd;
    mean[c] = m;
    variance[c] = v;
  }
  return { y, mean, variance };
}

// The adapter: shapes and conventions in, typed arrays out. Capabilities left out are "not provided".
export default defineAdapter({
  name: 'my-batchnorm', precision: 'float32', layout: 'NCHW', profile: 'pytorch',
  bnTrainForward({ x, shape, weight, bias, runningMean, runningVar, numBatchesTracked, momentum, eps }) {
    const [N, C] = shape as [number, number], S = x.length / (N * C), M = N * S;
    const { y, mean, variance } = myBatchNorm(x as Float32Array, N, C, S, eps);
    for (let i = 0; i < y.length; i++) {
      const c = Math.floor(i / S) % C;
      y[i] = y[i]! * (weight?.[c] ?? 1) + (bias?.[c] ?? 0);
    }
    if (!runningMean || !runningVar) return { y }; // no running buffers: track_running_stats=False
    const f = momentum ?? 1 / (numBatchesTracked + 1); // momentum null: cumulative average
    return {
      y,
      runningMean: runningMean.map((r, c) => (1 - f) * r + f * mean[c]!),
      runningVar: runningVar.map((r, c) => (1 - f) * r + f * variance[c]! * M / (M - 1)), // unbiased
    };
  },
});
