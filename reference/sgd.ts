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
import { checkLength, ShapeError } from './shape.js';

export interface SgdOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export type Tensors = Record<string, Float64Array>;

export function sgdStep(
  params: Tensors,
  grads: Tensors,
  momentumBuffers: Tensors | null,
  { lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false }: SgdOptions,
): { params: Tensors; momentumBuffers: Tensors } {
  if (!(lr >= 0) || !Number.isFinite(lr)) throw new ShapeError(`lr: expected a finite number >= 0, got ${lr}`);
  if (!(momentum >= 0)) throw new ShapeError(`momentum: expected a number >= 0, got ${momentum}`);
  if (!(weightDecay >= 0)) throw new ShapeError(`weightDecay: expected a number >= 0, got ${weightDecay}`);
  if (nesterov && (momentum <= 0 || dampening !== 0)) {
    throw new ShapeError('nesterov: requires momentum > 0 and dampening = 0, as in torch.optim.SGD');
  }
  const newParams: Tensors = { ...params };
  const newBuffers: Tensors = { ...(momentumBuffers ?? {}) };
  for (const [name, g] of Object.entries(grads)) {
    const p = params[name];
    if (!p) throw new ShapeError(`grads.${name}: no parameter of that name in params`);
    checkLength(`grads.${name}`, g, p.length, `a gradient the size of params.${name}`);
    // d = g + weight_decay·p
    const d = new Float64Array(p.length);
    for (let i = 0; i < p.length; i++) d[i] = g[i]! + weightDecay * p[i]!;
    if (momentum !== 0) {
      const old = momentumBuffers?.[name];
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
