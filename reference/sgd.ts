/**
 * Stochastic gradient descent with torch.optim.SGD's semantics (momentum, dampening, weight decay, Nesterov).
 *
 * For each parameter p with gradient g, in this order:
 *   d = g + weight_decay · p                            L2 penalty folded into the gradient
 *   if momentum ≠ 0:
 *     buf = d                                  on the first step (PyTorch clones d, no dampening)
 *     buf = momentum · buf + (1 - dampening) · d   afterwards
 *     d   = d + momentum · buf   if nesterov,   else  d = buf
 *   p ← p - lr · d
 * Pure: returns new parameters and momentum buffers; the arguments are not modified.
 */
import { checkArgs, checkArray, checkFlag, checkNumber, ValueError, type ArgSpec } from './args.js';

export interface SgdOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export type Tensors = Record<string, Float64Array>;

const SGD_ARGS: ArgSpec = {
  required: ['lr'],
  optional: { momentum: '0', dampening: '0', weightDecay: '0', nesterov: 'false' },
  misplaced: { learningRate: 'the learning rate is lr, as in torch.optim.SGD' },
};

export function sgdStep(
  params: Tensors,
  grads: Tensors,
  momentumBuffers: Tensors | null,
  options: SgdOptions,
): { params: Tensors; momentumBuffers: Tensors } {
  checkArgs('sgdStep', options, SGD_ARGS);
  const { lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false } = options;
  const finite = (lo: number) => (v: number) => v >= lo && Number.isFinite(v);
  checkNumber('lr', lr, finite(0), 'a finite number >= 0');
  checkNumber('momentum', momentum, finite(0), 'a finite number >= 0');
  checkNumber('dampening', dampening, Number.isFinite, 'a finite number');
  checkNumber('weightDecay', weightDecay, finite(0), 'a finite number >= 0');
  checkFlag('nesterov', nesterov, 'Nesterov momentum');
  if (nesterov && (momentum <= 0 || dampening !== 0)) {
    throw new ValueError('nesterov: requires momentum > 0 and dampening = 0, as in torch.optim.SGD');
  }
  const newParams: Tensors = { ...params };
  const newBuffers: Tensors = { ...(momentumBuffers ?? {}) };
  for (const [name, g] of Object.entries(grads)) {
    const p = params[name];
    if (!p) throw new ValueError(`grads.${name}: no parameter of that name in params`);
    checkArray(`params.${name}`, p, null, 'an array of numbers');
    checkArray(`grads.${name}`, g, p.length, `a gradient the size of params.${name}`);
    // d = g + weight_decay·p
    const d = new Float64Array(p.length);
    for (let i = 0; i < p.length; i++) d[i] = g[i]! + weightDecay * p[i]!;
    if (momentum !== 0) {
      const old = momentumBuffers?.[name];
      if (old !== undefined) checkArray(`momentumBuffers.${name}`, old, p.length, `a buffer the size of params.${name}`);
      const buf = new Float64Array(p.length);
      for (let i = 0; i < p.length; i++) buf[i] = old ? momentum * old[i]! + (1 - dampening) * d[i]! : d[i]!;
      newBuffers[name] = buf;
      for (let i = 0; i < p.length; i++) d[i] = nesterov ? d[i]! + momentum * buf[i]! : buf[i]!;
    }
    const next = new Float64Array(p.length);
    for (let i = 0; i < p.length; i++) next[i] = p[i]! - lr * d[i]!;
    newParams[name] = next;
  }
  return { params: newParams, momentumBuffers: newBuffers };
}
