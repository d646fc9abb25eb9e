/**
 * Softmax cross-entropy, float64, as torch.nn.functional.cross_entropy with reduction='mean'.
 *
 * Sizes: N batch, K classes. logits (N, K), targets (N) integer class indices in [0, K).
 *   log p[n, k] = logits[n, k] - logsumexp(logits[n, :])
 *   loss        = -(1/N) Σ_n log p[n, target[n]]
 * logsumexp is computed as max + log Σ exp(logits - max), so logits of 1e4 do not overflow exp.
 * Backward: ∂loss/∂logits[n, k] = (p[n, k] - [k = target[n]]) / N, the softmax minus the one-hot.
 */
import { checkArray, describe, ValueError } from './args.js';
import { checkShape } from './shape.js';

/** targets[n] must be an integer class index in [0, K). */
function checkTarget(targets: ArrayLike<number>, n: number, K: number): number {
  const t = targets[n]!;
  if (!Number.isInteger(t) || t < 0 || t >= K) throw new ValueError(`targets[${n}]: expected an integer class index in [0, ${K}), got ${describe(t)}`);
  return t;
}

export interface CrossEntropyResult {
  loss: number;
  probs: Float64Array; // (N, K) softmax, kept for the backward
}

export function crossEntropyForward(logits: ArrayLike<number>, targets: ArrayLike<number>, N: number, K: number): CrossEntropyResult {
  checkShape('dims (N, K)', [N, K], 2, 2);
  checkArray('logits', logits, N * K, `logits of shape (${N}, ${K})`);
  checkArray('targets', targets, N, `one class index per sample, shape (${N},)`);
  const probs = new Float64Array(N * K);
  let loss = 0;
  for (let n = 0; n < N; n++) {
    const t = checkTarget(targets, n, K);
    // max, for a logsumexp that cannot overflow
    let max = -Infinity;
    for (let k = 0; k < K; k++) max = Math.max(max, logits[n * K + k]!);
    let sumExp = 0;
    for (let k = 0; k < K; k++) sumExp += Math.exp(logits[n * K + k]! - max);
    const logSumExp = max + Math.log(sumExp);
    for (let k = 0; k < K; k++) probs[n * K + k] = Math.exp(logits[n * K + k]! - logSumExp);
    loss -= logits[n * K + t]! - logSumExp;
  }
  return { loss: loss / N, probs };
}

export function crossEntropyBackward(probs: ArrayLike<number>, targets: ArrayLike<number>, N: number, K: number): Float64Array {
  checkShape('dims (N, K)', [N, K], 2, 2);
  checkArray('probs', probs, N * K, `probabilities of shape (${N}, ${K})`);
  checkArray('targets', targets, N, `one class index per sample, shape (${N},)`);
  const dlogits = new Float64Array(N * K);
  for (let n = 0; n < N; n++) {
    const t = checkTarget(targets, n, K);
    for (let k = 0; k < K; k++) dlogits[n * K + k] = (probs[n * K + k]! - (k === t ? 1 : 0)) / N;
  }
  return dlogits;
}
