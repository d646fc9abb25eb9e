/**
 * Softmax cross-entropy for the network kernels, forward and backward fused, float32 in and out.
 *
 * Sizes: N batch, K classes. logits (N, K), targets (N) integer class indices in [0, K).
 *   log p[n, k]  = logits[n, k] - logsumexp(logits[n, :])      logsumexp = max + log Σ exp(logits - max)
 *   loss         = -(1/N) Σ_n log p[n, target[n]]              torch.nn.functional.cross_entropy, reduction 'mean'
 *   dlogits[n,k] = (p[n, k] - [k = target[n]]) / N            the softmax minus the one-hot, over N
 * Everything is computed in float64 from the float32 logits; the loss is returned as a float64 number and
 * dlogits rounded once to float32. Subtracting the row maximum keeps exp from overflowing at logits of 1e4.
 */
import { checkF32, describe, isF32, KernelShapeError, KernelValueError } from '../shared/args.js';

export function crossEntropyForwardBackward(
  logits: Float32Array, targets: ArrayLike<number>, dlogits: Float32Array, N: number, K: number,
): number {
  if (!isF32(logits, N * K)) checkF32('logits', logits, N * K, `logits of shape (N, K) = (${N}, ${K})`);
  if (!isF32(dlogits, N * K)) checkF32('dlogits', dlogits, N * K, `a gradient of shape (N, K) = (${N}, ${K})`);
  if (targets == null || targets.length !== N) {
    throw new KernelShapeError(`targets: expected one class index per sample, shape (${N},), got ${targets == null ? describe(targets) : `${targets.length} values`}`);
  }
  let loss = 0;
  for (let n = 0; n < N; n++) {
    const t = targets[n]!;
    if (!Number.isInteger(t) || t < 0 || t >= K) throw new KernelValueError(`targets[${n}]: expected an integer class index in [0, ${K}), got ${describe(t)}`);
    const row = n * K;
    // max, for a logsumexp that cannot overflow
    let max = -Infinity;
    for (let k = 0; k < K; k++) if (logits[row + k]! > max) max = logits[row + k]!;
    let sumExp = 0;
    for (let k = 0; k < K; k++) sumExp += Math.exp(logits[row + k]! - max);
    const logSumExp = max + Math.log(sumExp);
    loss -= logits[row + t]! - logSumExp;
    // softmax minus one-hot, over N
    for (let k = 0; k < K; k++) dlogits[row + k] = (Math.exp(logits[row + k]! - logSumExp) - (k === t ? 1 : 0)) / N;
  }
  return loss / N;
}

/** Index of the largest logit per row (the first on ties), into `out` (N). */
export function argmaxRows(logits: Float32Array, out: Int32Array, N: number, K: number): void {
  if (!isF32(logits, N * K)) checkF32('logits', logits, N * K, `logits of shape (N, K) = (${N}, ${K})`);
  if (!(out instanceof Int32Array) || out.length !== N) throw new KernelValueError(`out: expected an Int32Array of ${N} values (one class per sample), got ${describe(out)}`);
  for (let n = 0; n < N; n++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (logits[n * K + k]! > logits[n * K + best]!) best = k;
    out[n] = best;
  }
}
