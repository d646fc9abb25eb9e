/**
 * The network under training: the project's Float32 kernels (kernels/network/api.ts, SeedNetKernel), set up the way
 * the protocol says. This is the one file that knows the kernels' API.
 */
import { SeedNetKernel } from '../../kernels/index.js';
import type { Protocol, RunConfig } from './protocol.js';
import { CLASSES, PIXELS } from './data.js';

export interface ExperimentNet {
  /** One SGD step on rows x (N, 784) with labels y (N); returns the batch's mean cross-entropy. */
  trainStep(x: Float32Array, y: Uint8Array, N: number): number;
  /** Eval-mode logits (N, 10), valid until the next call. */
  evalLogits(x: Float32Array, N: number): Float32Array;
  /** Rows per call the workspace holds. */
  readonly maxBatch: number;
}

/**
 * PyTorch's default initialisation from `initSeed`, then the Linear weights (fc1, fc2, fc3 — not their biases)
 * multiplied by `config.initScale`. `maxBatch` bounds every call (training batches and eval chunks).
 */
export function createNet(config: RunConfig, protocol: Protocol, initSeed: number, maxBatch: number): ExperimentNet {
  const net = new SeedNetKernel({
    sizes: [PIXELS, 256, 128, CLASSES], norm: config.variant, eps: protocol.eps, momentum: protocol.bnMomentum, maxBatch,
  });
  net.initDefault(initSeed);
  for (const name of ['fc1.weight', 'fc2.weight', 'fc3.weight']) {
    const w = net.params[name]!;
    for (let i = 0; i < w.length; i++) w[i] = w[i]! * config.initScale;
  }
  const sgd = { lr: config.lr, momentum: 0, weightDecay: 0 };
  return {
    maxBatch,
    trainStep: (x, y, N) => net.trainStep(x, y, N, sgd),
    evalLogits: (x, N) => net.evalLogits(x, N),
  };
}
