/**
 * In-place SGD on float32 parameters with torch.optim.SGD's semantics (momentum, dampening, weight decay,
 * Nesterov), for the network kernels. For each element, in float64, rounding only at the stores:
 *   d = g + weight_decay · p
 *   buf = d                                        first step (PyTorch clones d)
 *   buf = momentum · buf + (1 - dampening) · d     afterwards
 *   d = d + momentum · buf  (Nesterov)   or   d = buf
 *   p ← p - lr · d
 * PyTorch rounds to float32 after each operation; here the only roundings are the stores of buf and p,
 * so the two differ by a few ulps of the operands, not more.
 * The momentum loops (not Nesterov) run in WebAssembly SIMD where available (sgd_wasm_impl.ts): the same
 * expressions, the same bits, about 3× faster on the seed network's 235k values.
 */
import { argSpec, checkArgs, checkFlag, checkNumber, KernelValueError } from '../shared/args.js';
import { sgdMomentumWasm } from './sgd_wasm_impl.js';

export interface SgdOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

const SGD_ARGS = argSpec('torch.optim.SGD step', ['lr'], {
  momentum: '0', dampening: '0', weightDecay: '0', nesterov: 'false',
}, { weight_decay: 'the option is weightDecay', decay: 'the option is weightDecay' });

/** The options as torch.optim.SGD takes them: a closed object, numbers that are numbers, nesterov a boolean. */
export function checkSgdOptions(sgd: SgdOptions): void {
  checkArgs(SGD_ARGS, sgd, 'sgd.');
  const { lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false } = sgd;
  checkNumber('sgd.lr', lr, (v) => v >= 0 && Number.isFinite(v), 'a finite number >= 0');
  checkNumber('sgd.momentum', momentum, (v) => v >= 0 && Number.isFinite(v), 'a finite number >= 0');
  checkNumber('sgd.dampening', dampening, Number.isFinite, 'a finite number');
  checkNumber('sgd.weightDecay', weightDecay, (v) => v >= 0 && Number.isFinite(v), 'a finite number >= 0');
  checkFlag('sgd.nesterov', nesterov, 'Nesterov momentum');
  if (nesterov && (momentum <= 0 || dampening !== 0)) {
    throw new KernelValueError('sgd.nesterov: requires momentum > 0 and dampening = 0, as in torch.optim.SGD');
  }
}

/**
 * One SGD update of `param` in place; `buf` is the momentum buffer, initialised from d when `first`.
 * One loop per case (no momentum; first step; plain momentum; Nesterov) so no branch sits in the loop body.
 */
export function sgdUpdate(
  param: Float32Array, grad: Float32Array, buf: Float32Array, first: boolean,
  { lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false }: SgdOptions,
): void {
  const n = param.length;
  const wd = weightDecay;
  if (momentum === 0) {
    for (let i = 0; i < n; i++) {
      const p = param[i]!;
      param[i] = p - lr * (grad[i]! + wd * p);
    }
    return;
  }
  // b is the buffer as stored (float32): what PyTorch's update and its next step use
  const m = momentum;
  const c = 1 - dampening;
  // the two momentum loops below, in WebAssembly SIMD (same expressions, same bits) where the engine has it
  if (!nesterov && sgdMomentumWasm(param, grad, buf, first, m, c, wd, lr)) return;
  if (first && !nesterov) {
    for (let i = 0; i < n; i++) {
      const p = param[i]!;
      const b = Math.fround(grad[i]! + wd * p);
      buf[i] = b;
      param[i] = p - lr * b;
    }
  } else if (!nesterov) {
    for (let i = 0; i < n; i++) {
      const p = param[i]!;
      const b = Math.fround(m * buf[i]! + c * (grad[i]! + wd * p));
      buf[i] = b;
      param[i] = p - lr * b;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const p = param[i]!;
      const d = grad[i]! + wd * p;
      const b = Math.fround(first ? d : m * buf[i]! + c * d);
      buf[i] = b;
      param[i] = p - lr * (d + m * b);
    }
  }
}
