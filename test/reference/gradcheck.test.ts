/**
 * The gradient checker itself: it must pass a correct gradient, catch a wrong one and point at it, follow its
 * own error model, and never touch the caller's arrays. A checker that passes everything would make every
 * gradcheck test in this directory vacuous, so most tests here feed it a known-wrong gradient.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assertGradcheck,
  gradcheck,
  gradcheckAsync,
  ShapeError,
  ValueError,
  type GradcheckProblem,
  type GradcheckValues,
} from '../../reference/index.js';
import { normals, seed, useReproducibleSeed } from '../helpers/arbitraries.js';

useReproducibleSeed();

const U64 = 2 ** -53; // unit roundoff of float64

/**
 * A smooth vector-valued test function with a hand-derived gradient (independent of any reference op):
 *   f_0 = sin(a_0)·b_0²,  f_j = exp(a_j)·b_j + a_j·a_{j-1}  (j ≥ 1)
 * so for L = Σ v_j f_j:
 *   ∂L/∂a_j = v_0·cos(a_0)·b_0² [j = 0] + v_j·exp(a_j)·b_j [j ≥ 1] + v_j·a_{j-1} [j ≥ 1] + v_{j+1}·a_{j+1} [j+1 < n]
 *   ∂L/∂b_j = v_0·2·sin(a_0)·b_0 [j = 0] + v_j·exp(a_j) [j ≥ 1]
 */
function smoothProblem(a: Float64Array, b: Float64Array, corrupt?: { input: 'a' | 'b'; index: number }): GradcheckProblem {
  const n = a.length;
  return {
    inputs: { a, b },
    forward: ({ a, b }: GradcheckValues) => {
      const f = new Float64Array(n);
      f[0] = Math.sin(a![0]!) * b![0]! ** 2;
      for (let j = 1; j < n; j++) f[j] = Math.exp(a![j]!) * b![j]! + a![j]! * a![j - 1]!;
      return f;
    },
    backward: ({ a, b }: GradcheckValues, v: Float64Array) => {
      const da = new Float64Array(n);
      const db = new Float64Array(n);
      da[0] = v[0]! * Math.cos(a![0]!) * b![0]! ** 2;
      db[0] = v[0]! * 2 * Math.sin(a![0]!) * b![0]!;
      for (let j = 1; j < n; j++) {
        da[j] = da[j]! + v[j]! * Math.exp(a![j]!) * b![j]! + v[j]! * a![j - 1]!;
        da[j - 1] = da[j - 1]! + v[j]! * a![j]!;
        db[j] = v[j]! * Math.exp(a![j]!);
      }
      const grads = { a: da, b: db };
      // one element off by exactly 1: the kind of slip gradcheck exists to find
      if (corrupt) grads[corrupt.input][corrupt.index] = grads[corrupt.input][corrupt.index]! + 1;
      return grads;
    },
  };
}

/** a in [-1, 1], b in [-2, 2], from a seed; n in [2, 9]. */
const smoothPoint = fc.tuple(seed, fc.integer({ min: 2, max: 9 })).map(([s, n]) => {
  const z = normals(s, 2 * n);
  const a = Float64Array.from({ length: n }, (_, i) => Math.tanh(z[i]!));
  const b = Float64Array.from({ length: n }, (_, i) => 2 * Math.tanh(z[n + i]!));
  return { a, b, n, s };
});

describe('gradcheck', () => {
  it('passes a correct hand-derived gradient in full mode and in random-direction mode', () => {
    fc.assert(
      fc.property(smoothPoint, ({ a, b, s }) => {
        const full = gradcheck(smoothProblem(a, b), { seed: s });
        expect(full.ok, JSON.stringify(full.worst)).toBe(true);
        expect(full.checked).toBe(2 * a.length);
        const random = gradcheck(smoothProblem(a, b), { mode: 'random', directions: 6, seed: s });
        expect(random.ok, JSON.stringify(random.worst)).toBe(true);
        expect(random.checked).toBe(6);
      }),
      { numRuns: 25 },
    );
  });

  it('reports a wrong gradient element as the worst, with its input name and index', () => {
    fc.assert(
      fc.property(smoothPoint, fc.constantFrom<'a' | 'b'>('a', 'b'), fc.nat(), ({ a, b, n, s }, input, k) => {
        const index = k % n;
        const result = gradcheck(smoothProblem(a, b, { input, index }), { seed: s });
        // The corrupted element is off by 1, far above atol + rtol·|g| for |g| ≤ |v|·e·2 ≈ 20 here;
        // every other element is right, so exactly one comparison fails.
        expect(result.ok).toBe(false);
        expect(result.failed).toBe(1);
        expect(result.worst).toMatchObject({ input, index });
        expect(result.failures[0]).toMatchObject({ input, index });
        // and the numeric side is the true gradient, to the error model's 1e-9 (see the error-model test)
        expect(Math.abs(result.worst!.analytic - result.worst!.numeric - 1)).toBeLessThan(1e-8);
      }),
      { numRuns: 25 },
    );
  });

  it('catches a wrong gradient element in random-direction mode too', () => {
    // The directional error of an element off by 1 is u_i, the direction's component there; it goes unseen
    // only if |u_i| < ~1e-5 in all 8 directions. Improbable, not impossible, so the seed is fixed.
    const a = Float64Array.of(0.3, -0.7, 0.2);
    const b = Float64Array.of(2, -1.5, 0.5);
    const result = gradcheck(smoothProblem(a, b, { input: 'b', index: 1 }), { mode: 'random', seed: 11 });
    expect(result.ok).toBe(false);
    expect(result.failed).toBeGreaterThan(0);
    expect(result.worst!.input).toBe('direction');
  });

  it('stays within the central-difference error model: h²·|f‴|/6 truncation plus u·|f|/h rounding', () => {
    // f = exp on [-1, 1]: f‴ = f ≤ e. With h = 1e-6 the model gives h²·e/6 ≈ 4.5e-13 for truncation and
    // (each of f(x±h) off by ≤ u·e, divided by 2h, plus the rounding of x ± h itself, ≤ u·|x|·e/h)
    // 2u·e/h ≈ 6e-10 for rounding. A forward difference would be off by h·f''/2 ≈ 1.4e-6 and fail this.
    const h = 1e-6;
    const bound = (h * h * Math.E) / 6 + (2 * U64 * Math.E) / h + (2 * U64 * Math.E) / h;
    for (const x0 of [-1, -0.37, 0, 0.5, 1]) {
      const result = gradcheck(
        { inputs: { x: [x0] }, forward: ({ x }) => [Math.exp(x![0]!)], backward: ({ x }, v) => ({ x: [v[0]! * Math.exp(x![0]!)] }) },
        { step: h, atol: bound, rtol: 0 },
      );
      expect(result.ok, `x = ${x0}: ${JSON.stringify(result.worst)}`).toBe(true);
    }
  });

  it('divides by the step actually taken when the inputs are rounded to float32', () => {
    // x = fround(1.1); float32's spacing there is 2^-23 ≈ 1.19e-7, so x ± 1e-7 round to x ± 2^-23 and the
    // step taken is 2.38e-7, not 2e-7. For f(x) = x the quotient must still be exactly 1 (dividing by 2h
    // would give 1.19, a 19% error that a float32 gradcheck would blame on the implementation).
    // What is left is float64 rounding of v·x₊ - v·x₋: 2u·|v·x| / 2.38e-7 ≈ 1e-9·|v|, under rtol = 1e-8.
    const x = Math.fround(1.1);
    const result = gradcheck(
      { inputs: { x: [x] }, forward: ({ x }) => [Math.fround(x![0]!)], backward: (_, v) => ({ x: [v[0]!] }) },
      { step: 1e-7, round: Math.fround, atol: 0, rtol: 1e-8 },
    );
    expect(result.ok, JSON.stringify(result.worst)).toBe(true);
  });

  it('reports a kink within the step (ReLU at 0) as a failure rather than hiding it', () => {
    // At x = 0 the central difference of max(x, 0) is (h - 0)/2h = 1/2, whatever the one-sided derivative.
    const result = gradcheck({
      inputs: { x: [0] },
      forward: ({ x }) => [Math.max(x![0]!, 0)],
      backward: ({ x }, v) => ({ x: [x![0]! > 0 ? v[0]! : 0] }),
    });
    expect(result.ok).toBe(false);
    expect(result.worst!.analytic).toBe(0);
    expect(result.worst!.numeric).not.toBe(0);
  });

  it('never modifies the caller inputs, even when forward and backward write into their arguments', () => {
    const a = Float64Array.of(0.1, 0.2, 0.3);
    const b = [1, 2, 3];
    const before = { a: Float64Array.from(a), b: [...b] };
    const inner = smoothProblem(Float64Array.from(a), Float64Array.from(b));
    const vandal: GradcheckProblem = {
      inputs: { a, b },
      forward: (inputs) => {
        const out = inner.forward(inputs);
        inputs.a!.fill(99);
        return out;
      },
      backward: (inputs, v) => {
        const grads = inner.backward(inputs, v);
        inputs.b!.fill(-99);
        return grads;
      },
    };
    // each evaluation gets fresh copies, so a forward that writes into them cannot corrupt the next probe
    expect(gradcheck(vandal).ok).toBe(true);
    expect(gradcheck(vandal, { mode: 'random' }).ok).toBe(true);
    expect(a).toEqual(before.a);
    expect(b).toEqual(before.b);
  });

  it('gives the same result for Promise-returning functions as for plain ones', async () => {
    const a = Float64Array.of(0.4, -0.2, 0.9, 0.1);
    const b = Float64Array.of(1.5, 0.3, -0.8, 1.1);
    const sync = smoothProblem(a, b, { input: 'a', index: 2 });
    const asyncProblem = {
      inputs: sync.inputs,
      forward: async (x: GradcheckValues) => sync.forward(x),
      backward: async (x: GradcheckValues, v: Float64Array) => sync.backward(x, v),
    };
    for (const mode of ['full', 'random'] as const) {
      expect(await gradcheckAsync(asyncProblem, { mode, seed: 5 })).toEqual(gradcheck(sync, { mode, seed: 5 }));
    }
  });

  it('assertGradcheck throws an error naming the failing element and passes a correct gradient through', () => {
    const a = Float64Array.of(0.4, -0.2, 0.9);
    const b = Float64Array.of(1.5, 0.3, -0.8);
    expect(assertGradcheck(smoothProblem(a, b)).ok).toBe(true);
    expect(() => assertGradcheck(smoothProblem(a, b, { input: 'b', index: 2 }))).toThrow(/FAILED[\s\S]*b\[2\]/);
  });

  it('differentiates only the inputs named in wrt, holding the others fixed', () => {
    const a = Float64Array.of(0.4, -0.2, 0.9);
    const b = Float64Array.of(1.5, 0.3, -0.8);
    // b's gradient is corrupted, but only a is checked
    const result = gradcheck(smoothProblem(a, b, { input: 'b', index: 0 }), { wrt: ['a'] });
    expect(result.ok).toBe(true);
    expect(result.checked).toBe(3);
  });

  it('rejects invalid options (ValueError) and malformed backward results (ShapeError), naming them', () => {
    const a = Float64Array.of(0.4, -0.2);
    const b = Float64Array.of(1.5, 0.3);
    const problem = smoothProblem(a, b);
    expect(() => gradcheck(problem, { step: 0 })).toThrow(ValueError);
    expect(() => gradcheck(problem, { step: 0 })).toThrow(/^step:/);
    expect(() => gradcheck(problem, { step: '1e-6' as never })).toThrow(/^step: expected a finite number > 0, got string "1e-6"/);
    expect(() => gradcheck(problem, { steps: 1e-6 } as never)).toThrow(/^steps: not an argument of gradcheck \(it takes step, atol,/);
    expect(() => gradcheck(problem, { Step: 1e-6 } as never)).toThrow(/^Step: not an argument of gradcheck; did you mean step\?/);
    expect(() => gradcheck(problem, { seed: undefined })).toThrow(/^seed: got undefined; omit the key for the default \(0\)/);
    expect(() => gradcheck({ ...problem, inputs: { a: ['0.4'] as never } })).toThrow(/^problem\.inputs\.a: .* as numbers, got string "0.4"/);
    expect(() => gradcheck({ ...problem, backward: (x, v) => ({ a: problem.backward(x, v).a }) })).toThrow(ShapeError);
    expect(() => gradcheck(problem, { step: Number.NaN })).toThrow(/^step:/);
    expect(() => gradcheck(problem, { atol: -1 })).toThrow(/^atol:/);
    expect(() => gradcheck(problem, { rtol: Number.POSITIVE_INFINITY })).toThrow(/^rtol:/);
    expect(() => gradcheck(problem, { mode: 'random', directions: 0 })).toThrow(/^directions:/);
    expect(() => gradcheck(problem, { wrt: ['c'] })).toThrow(/^wrt: string "c" is not one of the inputs/);
    expect(() => gradcheck({ ...problem, backward: (x, v) => ({ a: problem.backward(x, v).a }) })).toThrow(/^backward: .*'b'/);
    expect(() => gradcheck({ ...problem, backward: () => ({ a: [1], b: [1, 2] }) })).toThrow(/^backward: gradient of 'a'/);
    // a step below the float32 spacing at x collapses x ± h onto x
    expect(() => gradcheck(problem, { step: 1e-9, round: Math.fround })).toThrow(/^step:/);
  });

  it('treats a NaN gradient as a failure, never as a match', () => {
    const result = gradcheck({ inputs: { x: [1] }, forward: ({ x }) => [x![0]! * 2], backward: () => ({ x: [Number.NaN] }) });
    expect(result.ok).toBe(false);
    expect(result.worst!.analytic).toBeNaN();
  });
});
