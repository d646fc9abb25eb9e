/**
 * The seed network, float64:
 *   x (N, 784) → fc1 Linear 784→256 → bn1 BatchNorm1d(256) → ReLU
 *              → fc2 Linear 256→128 → bn2 BatchNorm1d(128) → ReLU
 *              → fc3 Linear 128→10  → logits (N, 10) → softmax cross-entropy
 *
 * Parameters are named as PyTorch's state_dict names them for
 *   nn.Sequential-free module { fc1, bn1, fc2, bn2, fc3 }:
 *   fc1.weight (256, 784), fc1.bias (256), bn1.weight, bn1.bias, bn1.running_mean, bn1.running_var (256),
 *   bn1.num_batches_tracked (a one-element array), fc2.*, bn2.*, fc3.weight (10, 128), fc3.bias (10).
 * The sizes are a parameter so tests can use a small twin; `norm` swaps the normalisation layer for the
 * comparison experiments ('layernorm' names its layers ln1, ln2; 'none' has none).
 *
 * Backward is the chain rule applied layer by layer in reverse, each layer's own backward
 * (cross_entropy.ts, linear.ts, batchnorm.ts / layernorm.ts, relu.ts) doing its part.
 */
import { batchNormBackward, batchNormEval, batchNormTrain } from './batchnorm.js';
import { crossEntropyBackward, crossEntropyForward } from './cross_entropy.js';
import { layerNormBackward, layerNormForward } from './layernorm.js';
import { linearBackward, linearForward } from './linear.js';
import { reluBackward, reluForward } from './relu.js';
import { checkArgs, checkArray, checkCount, checkEps, checkFlag, checkMomentum, ShapeError, ValueError } from './args.js';
import { checkShape } from './shape.js';
import { sgdStep, type SgdOptions, type Tensors } from './sgd.js';

export type NormKind = 'batchnorm' | 'layernorm' | 'none';

export interface SeedNetConfig {
  /** [input, hidden1, hidden2, classes]; the seed is [784, 256, 128, 10]. */
  sizes: readonly [number, number, number, number];
  norm: NormKind;
  eps: number;
  /** BatchNorm momentum (null: cumulative average). */
  momentum: number | null;
}

export const SEED_NET: SeedNetConfig = { sizes: [784, 256, 128, 10], norm: 'batchnorm', eps: 1e-5, momentum: 0.1 };

const NORM_PREFIX: Record<NormKind, string> = { batchnorm: 'bn', layernorm: 'ln', none: '' };

/** The names and shapes of the state dict, in PyTorch's order. */
export function seedNetShapes(config: SeedNetConfig = SEED_NET): [string, number[]][] {
  const [d0, d1, d2, d3] = config.sizes;
  const p = NORM_PREFIX[config.norm];
  const norm = (k: number, d: number): [string, number[]][] => {
    if (config.norm === 'none') return [];
    const layer: [string, number[]][] = [[`${p}${k}.weight`, [d]], [`${p}${k}.bias`, [d]]];
    if (config.norm === 'batchnorm') {
      layer.push([`${p}${k}.running_mean`, [d]], [`${p}${k}.running_var`, [d]], [`${p}${k}.num_batches_tracked`, [1]]);
    }
    return layer;
  };
  return [
    ['fc1.weight', [d1, d0]], ['fc1.bias', [d1]], ...norm(1, d1),
    ['fc2.weight', [d2, d1]], ['fc2.bias', [d2]], ...norm(2, d2),
    ['fc3.weight', [d3, d2]], ['fc3.bias', [d3]],
  ];
}

/** Names of the buffers (updated by the forward pass, not by the optimiser). */
export function isBuffer(name: string): boolean {
  return /\.(running_mean|running_var|num_batches_tracked)$/.test(name);
}

function checkConfig(config: SeedNetConfig): void {
  checkArgs('the seed network', config, { required: ['sizes', 'norm', 'eps', 'momentum'], optional: {} }, 'config.');
  checkShape('config.sizes', config.sizes, 4, 4);
  if (!Object.hasOwn(NORM_PREFIX, config.norm)) {
    throw new ValueError(`config.norm: expected 'batchnorm', 'layernorm' or 'none', got ${JSON.stringify(config.norm)}`);
  }
  checkEps(config.eps, 'config.eps');
  checkMomentum(config.momentum, 'config.momentum');
}

/** The state dict must hold exactly the network's tensors, with integer batch counts, as load_state_dict(strict=True) wants. */
function checkParams(params: Tensors, config: SeedNetConfig): void {
  if (params === null || typeof params !== 'object') throw new ValueError(`params: expected a state dict { name: Float64Array }, got ${params}`);
  const shapes = seedNetShapes(config);
  for (const [name, shape] of shapes) {
    const size = shape.reduce((a, b) => a * b, 1);
    checkArray(`params['${name}']`, params[name], size, `shape (${shape.join(', ')})`);
    if (name.endsWith('.num_batches_tracked')) checkCount(`params['${name}'][0]`, params[name]![0]);
  }
  const names = new Set(shapes.map(([name]) => name));
  for (const name of Object.keys(params)) {
    if (!names.has(name)) throw new ValueError(`params['${name}']: not a tensor of this network (unexpected key in the state dict)`);
  }
}

/** What the backward pass needs from the forward pass. */
export interface SeedNetCache {
  N: number;
  training: boolean;
  x: ArrayLike<number>;
  h1: Float64Array; n1: Float64Array; a1: Float64Array; mean1: Float64Array; rstd1: Float64Array;
  h2: Float64Array; n2: Float64Array; a2: Float64Array; mean2: Float64Array; rstd2: Float64Array;
  logits: Float64Array;
}

export interface SeedNetForwardResult {
  logits: Float64Array; // (N, classes)
  cache: SeedNetCache;
  /** Updated running buffers (training mode with BatchNorm); merge them into the parameters. */
  buffers: Tensors;
}

export function seedNetForward(
  params: Tensors, x: ArrayLike<number>, N: number, training: boolean, config: SeedNetConfig = SEED_NET,
): SeedNetForwardResult {
  checkConfig(config);
  const [d0, d1, d2, d3] = config.sizes;
  if (!Number.isInteger(N) || N < 1) throw new ShapeError(`N: expected a positive batch size, got ${N}`);
  checkFlag('training', training, 'true: training mode, false: eval mode');
  if (training && config.norm === 'batchnorm' && N < 2) {
    // BatchNorm1d on (N, features) has N values per channel: PyTorch refuses to train on one.
    throw new ShapeError(`N: expected a batch of at least 2 to train with BatchNorm (one value per channel has no variance), got ${N}`);
  }
  checkArray('x', x, N * d0, `an input of shape (${N}, ${d0})`);
  checkParams(params, config);
  const buffers: Tensors = {};
  const p = NORM_PREFIX[config.norm];

  const normLayer = (k: number, h: Float64Array, d: number) => {
    const weight = params[`${p}${k}.weight`];
    const bias = params[`${p}${k}.bias`];
    if (config.norm === 'none') return { y: h, mean: new Float64Array(0), rstd: new Float64Array(0) };
    if (config.norm === 'layernorm') {
      return layerNormForward({ x: h, shape: [N, d], normalizedShape: [d], weight, bias, eps: config.eps });
    }
    const running = {
      runningMean: params[`${p}${k}.running_mean`]!,
      runningVar: params[`${p}${k}.running_var`]!,
      numBatchesTracked: params[`${p}${k}.num_batches_tracked`]![0]!,
    };
    if (!training) return batchNormEval({ x: h, shape: [N, d], weight, bias, running, eps: config.eps });
    const r = batchNormTrain({ x: h, shape: [N, d], weight, bias, running, momentum: config.momentum, eps: config.eps });
    buffers[`${p}${k}.running_mean`] = r.running!.runningMean;
    buffers[`${p}${k}.running_var`] = r.running!.runningVar;
    buffers[`${p}${k}.num_batches_tracked`] = Float64Array.of(r.running!.numBatchesTracked);
    return r;
  };

  const h1 = linearForward(x, params['fc1.weight']!, params['fc1.bias']!, { N, I: d0, O: d1 });
  const l1 = normLayer(1, h1, d1);
  const a1 = reluForward(l1.y);
  const h2 = linearForward(a1, params['fc2.weight']!, params['fc2.bias']!, { N, I: d1, O: d2 });
  const l2 = normLayer(2, h2, d2);
  const a2 = reluForward(l2.y);
  const logits = linearForward(a2, params['fc3.weight']!, params['fc3.bias']!, { N, I: d2, O: d3 });
  const cache: SeedNetCache = {
    N, training, x,
    h1, n1: l1.y, a1, mean1: l1.mean, rstd1: l1.rstd,
    h2, n2: l2.y, a2, mean2: l2.mean, rstd2: l2.rstd,
    logits,
  };
  return { logits, cache, buffers };
}

/** Loss and gradients of every trainable parameter (named like the parameters) for integer targets. */
export function seedNetBackward(
  params: Tensors, cache: SeedNetCache, targets: ArrayLike<number>, config: SeedNetConfig = SEED_NET,
): { loss: number; dlogits: Float64Array; grads: Tensors; dx: Float64Array } {
  checkConfig(config);
  checkParams(params, config);
  const [d0, d1, d2, d3] = config.sizes;
  const { N } = cache;
  const p = NORM_PREFIX[config.norm];
  const grads: Tensors = {};

  const normBackward = (k: number, dy: Float64Array, h: Float64Array, d: number, mean: Float64Array, rstd: Float64Array) => {
    if (config.norm === 'none') return dy;
    const weight = params[`${p}${k}.weight`]!;
    const g = config.norm === 'layernorm'
      ? layerNormBackward({ dy, x: h, shape: [N, d], normalizedShape: [d], weight, mean, rstd })
      : batchNormBackward({ dy, x: h, shape: [N, d], weight, mean, rstd, training: cache.training });
    grads[`${p}${k}.weight`] = g.dweight!;
    grads[`${p}${k}.bias`] = g.dbias!;
    return g.dx;
  };

  // loss and its gradient with respect to the logits
  const { loss, probs } = crossEntropyForward(cache.logits, targets, N, d3);
  const dlogits = crossEntropyBackward(probs, targets, N, d3);
  // fc3
  const g3 = linearBackward(dlogits, cache.a2, params['fc3.weight']!, { N, I: d2, O: d3 });
  grads['fc3.weight'] = g3.dweight;
  grads['fc3.bias'] = g3.dbias!;
  // relu2, norm2, fc2
  const dn2 = reluBackward(g3.dx, cache.n2);
  const dh2 = normBackward(2, dn2, cache.h2, d2, cache.mean2, cache.rstd2);
  const g2 = linearBackward(dh2, cache.a1, params['fc2.weight']!, { N, I: d1, O: d2 });
  grads['fc2.weight'] = g2.dweight;
  grads['fc2.bias'] = g2.dbias!;
  // relu1, norm1, fc1
  const dn1 = reluBackward(g2.dx, cache.n1);
  const dh1 = normBackward(1, dn1, cache.h1, d1, cache.mean1, cache.rstd1);
  const g1 = linearBackward(dh1, cache.x, params['fc1.weight']!, { N, I: d0, O: d1 });
  grads['fc1.weight'] = g1.dweight;
  grads['fc1.bias'] = g1.dbias!;
  return { loss, dlogits, grads, dx: g1.dx };
}

/**
 * One training step as PyTorch's loop does it: forward in training mode (updating the running buffers),
 * loss, backward, then `optimizer.step()` on the trainable parameters. Pure: returns the new state.
 */
export function seedNetTrainStep(
  params: Tensors, x: ArrayLike<number>, targets: ArrayLike<number>, N: number,
  sgd: SgdOptions, momentumBuffers: Tensors | null = null, config: SeedNetConfig = SEED_NET,
): { loss: number; params: Tensors; grads: Tensors; momentumBuffers: Tensors } {
  const { cache, buffers } = seedNetForward(params, x, N, true, config);
  const { loss, grads } = seedNetBackward(params, cache, targets, config);
  const stepped = sgdStep(params, grads, momentumBuffers, sgd);
  return { loss, params: { ...stepped.params, ...buffers }, grads, momentumBuffers: stepped.momentumBuffers };
}
