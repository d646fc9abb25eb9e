/**
 * SGD against two-step sequences derived by hand from torch.optim.SGD's documented update
 * (https://pytorch.org/docs/stable/generated/torch.optim.SGD.html), one parameter p₀ = 1, lr = 0.1,
 * weight_decay = 0.01, gradients g₁ = 0.5 then g₂ = -0.25. The same numbers came out of torch 1.13's
 * torch.optim.SGD in float64 (`/usr/bin/python3`, two `opt.step()` calls), printed in each comment.
 * Each step is ≤ 10 roundings of quantities of size ≤ 1, so two steps are within 20·u of the exact decimals.
 */
import { describe, expect, it } from 'vitest';
import { sgdStep, ShapeError, ValueError, type SgdOptions, type Tensors } from '../../reference/index.js';

const U = 2 ** -53;

function twoSteps(options: SgdOptions): [number, number] {
  let params: Tensors = { p: Float64Array.of(1) };
  let buffers: Tensors | null = null;
  const out: number[] = [];
  for (const g of [0.5, -0.25]) {
    const next = sgdStep(params, { p: Float64Array.of(g) }, buffers, options);
    params = next.params;
    buffers = next.momentumBuffers;
    out.push(params['p']![0]!);
  }
  return out as [number, number];
}

function expectClose(actual: [number, number], expected: [number, number]): void {
  expect(Math.abs(actual[0] - expected[0])).toBeLessThanOrEqual(10 * U);
  expect(Math.abs(actual[1] - expected[1])).toBeLessThanOrEqual(20 * U);
}

describe('SGD follows torch.optim.SGD', () => {
  it('with weight decay alone: p ← p - lr·(g + wd·p)', () => {
    // step 1: d = 0.5 + 0.01·1 = 0.51,              p = 1 - 0.1·0.51 = 0.949
    // step 2: d = -0.25 + 0.01·0.949 = -0.24051,    p = 0.949 + 0.024051 = 0.973051
    // torch: 0.949, 0.973051
    expectClose(twoSteps({ lr: 0.1, weightDecay: 0.01 }), [0.949, 0.973051]);
  });

  it('with momentum and dampening: the first buffer is d itself, dampening applies from the second step', () => {
    // momentum 0.9, dampening 0.1
    // step 1: d = 0.51, buf = d = 0.51 (no dampening on the first step),   p = 1 - 0.051 = 0.949
    // step 2: d = -0.25 + 0.00949 = -0.24051,
    //         buf = 0.9·0.51 + (1 - 0.1)·(-0.24051) = 0.459 - 0.216459 = 0.242541,
    //         p = 0.949 - 0.1·0.242541 = 0.9247459
    // torch: 0.949, 0.9247458999999999
    expectClose(twoSteps({ lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 }), [0.949, 0.9247459]);
  });

  it('with Nesterov momentum: the step is d + momentum·buf', () => {
    // momentum 0.9, dampening 0
    // step 1: d = 0.51, buf = 0.51, step = 0.51 + 0.9·0.51 = 0.969,          p = 1 - 0.0969 = 0.9031
    // step 2: d = -0.25 + 0.009031 = -0.240969, buf = 0.459 - 0.240969 = 0.218031,
    //         step = -0.240969 + 0.9·0.218031 = -0.0447411,                 p = 0.9031 + 0.00447411 = 0.90757411
    // torch: 0.9031, 0.90757411
    expectClose(twoSteps({ lr: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true }), [0.9031, 0.90757411]);
  });

  it('updates every named parameter on its own and leaves the arguments untouched', () => {
    const params = { a: Float64Array.of(1, 2), b: Float64Array.of(-1) };
    const grads = { a: Float64Array.of(0.5, -0.5), b: Float64Array.of(2) };
    const buffers = { a: Float64Array.of(0.25, 0.25), b: Float64Array.of(0) };
    const copies = JSON.stringify([params, grads, buffers], (_, v) => (v instanceof Float64Array ? [...v] : v));
    const next = sgdStep(params, grads, buffers, { lr: 0.5, momentum: 0.5 });
    // buf = 0.5·old + g: a = (0.625, -0.375), b = 2; p - 0.5·buf, all exact in binary
    expect(next.momentumBuffers['a']).toEqual(Float64Array.of(0.625, -0.375));
    expect(next.params['a']).toEqual(Float64Array.of(0.6875, 2.1875));
    expect(next.params['b']).toEqual(Float64Array.of(-2));
    expect(JSON.stringify([params, grads, buffers], (_, v) => (v instanceof Float64Array ? [...v] : v))).toBe(copies);
  });

  it('rejects invalid hyperparameters and gradients, naming them', () => {
    const params = { p: Float64Array.of(1) };
    const grads = { p: Float64Array.of(1) };
    const bad: [Tensors, SgdOptions, RegExp, typeof ValueError | typeof ShapeError][] = [
      [grads, { lr: -0.1 }, /^lr:/, ValueError],
      [grads, { lr: Number.NaN }, /^lr:/, ValueError],
      // a string is named as a string (arithmetic would coerce '0.1' and step anyway)
      [grads, { lr: '0.1' as never }, /^lr: expected a finite number >= 0, got string "0.1"/, ValueError],
      [grads, { lr: 0.1, momentum: -0.5 }, /^momentum:/, ValueError],
      [grads, { lr: 0.1, momentum: '0.9' as never }, /^momentum: .*got string "0.9"/, ValueError],
      [grads, { lr: 0.1, dampening: Number.NaN }, /^dampening: expected a finite number/, ValueError],
      [grads, { lr: 0.1, weightDecay: -1 }, /^weightDecay:/, ValueError],
      [grads, { lr: 0.1, nesterov: true }, /^nesterov:/, ValueError],
      [grads, { lr: 0.1, momentum: 0.9, nesterov: 'false' as never }, /^nesterov: expected true or false .*, got string "false"/, ValueError],
      [grads, { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }, /^nesterov:/, ValueError],
      [grads, { lr: 0.1, weight_decay: 0.1 } as never, /^weight_decay: not an argument of sgdStep; did you mean weightDecay\?/, ValueError],
      [grads, { lr: 0.1, momentum: undefined }, /^momentum: got undefined; omit the key for the default \(0\)/, ValueError],
      [{ q: Float64Array.of(1) }, { lr: 0.1 }, /^grads\.q:/, ValueError],
      [{ p: Float64Array.of(1, 2) }, { lr: 0.1 }, /^grads\.p:/, ShapeError],
    ];
    for (const [g, options, message, kind] of bad) {
      expect(() => sgdStep(params, g, null, options)).toThrow(kind);
      expect(() => sgdStep(params, g, null, options)).toThrow(message);
    }
  });
});
