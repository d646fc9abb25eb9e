/**
 * One run of the protocol (protocol.ts): initialise, train for the epochs with seeded shuffles, score on the
 * test set in eval mode. Pure computation, no I/O: the worker threads and the smoke test call it directly.
 */
import { CLASSES, type DigitSplit, PIXELS } from './data.js';
import { createNet, type ExperimentNet } from './net.js';
import { type Protocol, type RunConfig, stepsPerEpoch } from './protocol.js';
import type { RunResult } from './results.js';
import { deriveSeed, INIT_STREAM, mulberry32, SHUFFLE_STREAM, shuffleInPlace } from './rng.js';

/** Eval chunks: larger than any training batch keeps the GEMMs efficient; eval results do not depend on it. */
const EVAL_CHUNK = 256;

/** Training steps one run takes (for progress bars and scheduling). */
export function stepsPerRun(config: RunConfig, protocol: Protocol, trainSize: number): number {
  return protocol.epochs * effectiveSteps(config.batchSize, protocol, trainSize);
}

function effectiveSteps(batchSize: number, protocol: Protocol, trainSize: number): number {
  const steps = stepsPerEpoch(trainSize, batchSize);
  return protocol.maxStepsPerEpoch === null ? steps : Math.min(steps, protocol.maxStepsPerEpoch);
}

export interface Score {
  accuracy: number;
  /** Mean cross-entropy; null when not finite. */
  loss: number | null;
}

/**
 * Accuracy and mean cross-entropy over rows x (n, 784) in eval mode. A sample is correct when all its logits
 * are finite and the first maximal logit is its label (PyTorch's argmax would pick a NaN; counting such a
 * sample wrong keeps the rule the same in both implementations). The loss is log-sum-exp shifted by the max,
 * in float64.
 */
export function evaluate(net: ExperimentNet, x: Float32Array, y: Uint8Array, n: number): Score {
  const chunk = Math.min(EVAL_CHUNK, net.maxBatch);
  let correct = 0;
  let lossSum = 0;
  for (let start = 0; start < n; start += chunk) {
    const N = Math.min(chunk, n - start);
    const logits = net.evalLogits(x.subarray(start * PIXELS, (start + N) * PIXELS), N);
    for (let r = 0; r < N; r++) {
      const row = r * CLASSES;
      let best = 0;
      let max = -Infinity;
      let finite = true;
      for (let k = 0; k < CLASSES; k++) {
        const v = logits[row + k]!;
        if (!Number.isFinite(v)) finite = false;
        if (v > max) {
          max = v;
          best = k;
        }
      }
      const label = y[start + r]!;
      if (finite && best === label) correct++;
      // cross-entropy: logsumexp(logits) - logits[label]
      let sumExp = 0;
      for (let k = 0; k < CLASSES; k++) sumExp += Math.exp(logits[row + k]! - max);
      lossSum += max + Math.log(sumExp) - logits[row + label]!;
    }
  }
  const loss = lossSum / n;
  return { accuracy: correct / n, loss: Number.isFinite(loss) ? loss : null };
}

/**
 * Trains and scores one run. `onSteps(k)` is called now and then with the steps done since its last call
 * (for a progress bar); it adds up to stepsPerRun().
 */
export function trainRun(
  data: DigitSplit, config: RunConfig, seed: number, protocol: Protocol, onSteps: (steps: number) => void = () => {},
): RunResult {
  const start = performance.now();
  const B = config.batchSize;
  const n = data.trainSize;
  const S = effectiveSteps(B, protocol, n);
  const net = createNet(config, protocol, deriveSeed(seed, INIT_STREAM), Math.max(B, EVAL_CHUNK));
  const nextShuffle = mulberry32(deriveSeed(seed, SHUFFLE_STREAM));
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  const xBatch = new Float32Array(B * PIXELS);
  const yBatch = new Uint8Array(B);
  const P = protocol.curvePointsPerEpoch;
  const bounds = Array.from({ length: P + 1 }, (_, k) => Math.floor((k * S) / P));

  const trainLossCurve: (number | null)[] = [];
  const epochTestAccuracy: number[] = [];
  let diverged = false;
  let pending = 0; // steps not yet reported to onSteps
  let executed = 0;
  for (let epoch = 0; epoch < protocol.epochs && !diverged; epoch++) {
    shuffleInPlace(order, nextShuffle);
    let windowSum = 0;
    let windowCount = 0;
    let window = 0;
    for (let step = 0; step < S; step++) {
      // gather the batch's rows
      const first = step * B;
      const N = Math.min(B, n - first);
      if (N < 2) throw new RangeError(`batch of ${N} sample at step ${step}: BatchNorm in training mode needs 2 (stepsPerEpoch should have refused this)`);
      for (let r = 0; r < N; r++) {
        const i = order[first + r]!;
        xBatch.set(data.trainX.subarray(i * PIXELS, (i + 1) * PIXELS), r * PIXELS);
        yBatch[r] = data.trainY[i]!;
      }
      const loss = net.trainStep(N === B ? xBatch : xBatch.subarray(0, N * PIXELS), N === B ? yBatch : yBatch.subarray(0, N), N);
      if (!Number.isFinite(loss)) {
        diverged = true;
        break;
      }
      executed++;
      windowSum += loss;
      windowCount++;
      while (window < P && step + 1 === bounds[window + 1]) {
        trainLossCurve.push(windowCount ? windowSum / windowCount : null);
        windowSum = 0;
        windowCount = 0;
        window++;
      }
      if (++pending === 64) {
        onSteps(pending);
        pending = 0;
      }
    }
    // after the last epoch the final score below is this epoch's evaluation
    if (!diverged && epoch < protocol.epochs - 1) epochTestAccuracy.push(evaluate(net, data.testX, data.testY, data.testSize).accuracy);
  }
  // Steps skipped by a divergence still count as done for the progress bar.
  onSteps(pending + (protocol.epochs * S - executed));
  const score = evaluate(net, data.testX, data.testY, data.testSize);
  if (!diverged) epochTestAccuracy.push(score.accuracy);
  return {
    ...config, seed, testAccuracy: score.accuracy, testLoss: score.loss, diverged,
    trainLossCurve: trainLossCurve.map((v) => (v === null ? null : Number(v.toPrecision(6)))), epochTestAccuracy,
    seconds: Number(((performance.now() - start) / 1000).toFixed(3)),
  };
}
