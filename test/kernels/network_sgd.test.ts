/**
 * The SGD update's arithmetic, element by element: network_sgd.ts documents its momentum update as float64
 * expressions rounded only at the stores of buf and p. Whichever loop runs it (the TypeScript loops or the
 * WebAssembly SIMD one in network_sgd_wasm.ts), every element must be exactly the scalar evaluation below,
 * written from that formula — so the test compares with Object.is, not with a tolerance: there is no rounding
 * left to allow for, and a reordered sum or an extra rounding changes some element's last bit.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sgdUpdate, type SgdOptions } from '../../kernels/network/sgd_impl.js';
import { mulberry32, seed } from '../helpers/arbitraries.js';

/** torch.optim.SGD's momentum update (Nesterov off) as network_sgd.ts's header states it, one element at a time. */
function scalarMomentumUpdate(p: number, g: number, buf: number, first: boolean, o: Required<Omit<SgdOptions, 'nesterov'>>): [number, number] {
  const d = g + o.weightDecay * p;
  const b = Math.fround(first ? d : o.momentum * buf + (1 - o.dampening) * d);
  return [Math.fround(p - o.lr * b), b];
}

/** Parameter-sized values over several decades of both signs, with some exact zeros, from a seeded stream. */
function spreadValues(next: () => number, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => (next() < 0.05 ? 0 : (next() - 0.5) * 10 ** Math.floor(next() * 8 - 4)));
}

const momentumSettings = fc.record({
  lr: fc.constantFrom(1e-3, 0.05, 0.5),
  momentum: fc.constantFrom(0.5, 0.9),
  dampening: fc.constantFrom(0, 0.25),
  weightDecay: fc.constantFrom(0, 1e-4, 0.3),
});
// odd lengths cover the SIMD loop's last, half-used pair
const parameterLength = fc.constantFrom(1, 2, 3, 7, 8, 129, 1000);

describe('SGD momentum update, element by element', () => {
  it('every parameter and momentum buffer element equals the float64 formula rounded at the two stores, first step and later', () => {
    fc.assert(
      fc.property(seed, parameterLength, momentumSettings, fc.boolean(), (s, n, o, first) => {
        const next = mulberry32(s);
        const param = spreadValues(next, n), grad = spreadValues(next, n), buf = spreadValues(next, n);
        const want = Array.from(param, (p, i) => scalarMomentumUpdate(p, grad[i]!, buf[i]!, first, o));
        const gradBefore = grad.slice();
        sgdUpdate(param, grad, buf, first, o);
        for (let i = 0; i < n; i++) {
          if (!Object.is(param[i], want[i]![0]) || !Object.is(buf[i], want[i]![1])) {
            expect.fail(`element ${i}: param ${param[i]} (want ${want[i]![0]}), buf ${buf[i]} (want ${want[i]![1]})`);
          }
        }
        expect(grad).toEqual(gradBefore); // the gradient is an input: never written
      }),
      { numRuns: 60 },
    );
  });
});
