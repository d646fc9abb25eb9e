/**
 * Inconclusive cases (inconclusive.ts) and the strict tier's constant (probabilistic.ts). The issue's
 * numbers: y = bias passed bn.train.offset_1e6 on 3 of 3 seeds; at offset 1e3 the y bound exceeds |x̂| for
 * M = 1024–1728 (here, with |w·x̂| up to 2.1, from offset 1e4).
 */
import { describe, expect, it } from 'vitest';
import { caseOutcome, checkVerdict, isConclusive, trivialOutput } from '../../conformance/accuracy/inconclusive.js';
import { failureProbability, gammaTilde, LAMBDA, strictGamma } from '../../conformance/accuracy/probabilistic.js';
import { bnGrouping, gamma, normForwardBounds, roundoffs } from '../../conformance/error_model.js';
import { batchNormTrain } from '../../reference/index.js';
import { PRECISIONS } from '../../conformance/precision.js';

/** One channel of M float32 values offset + t, t a fixed spread of ±1; bias 0.5. */
function channel(M: number, offset: number) {
  const x = Float64Array.from({ length: M }, (_, i) => Math.fround(offset + Math.sin(1 + i * 0.7)));
  const weight = Float64Array.of(1.5);
  const bias = Float64Array.of(0.5);
  const grouping = bnGrouping(1, 1, M);
  const ref = batchNormTrain({ x, shape: [1, 1, M], weight, bias, eps: 1e-5 });
  const bound = normForwardBounds(roundoffs('float32'), x, grouping, weight, bias, 1e-5).y;
  return { conclusive: isConclusive(trivialOutput(grouping, bias, M), ref.y, bound, 'float32') };
}

describe('a case is inconclusive when y = bias would pass its bound', () => {
  it('y = bias is told apart on typical data and at offset 1e2', () => {
    expect(channel(16, 0).conclusive).toBe(true);
    expect(channel(1024, 1e2).conclusive).toBe(true);
  });
  it('but not at offset 1e6 on 16 values, nor at offset 1e4 on 1024 values (the bound exceeds |w·x̂|)', () => {
    expect(channel(16, 1e6).conclusive).toBe(false);
    expect(channel(1024, 1e4).conclusive).toBe(false);
  });
  it('a constant channel is inconclusive by construction: its right answer is y = bias', () => {
    const x = new Float64Array(8).fill(Math.fround(0.1));
    const grouping = bnGrouping(1, 1, 8);
    const ref = batchNormTrain({ x, shape: [1, 1, 8], weight: Float64Array.of(2), bias: Float64Array.of(-1), eps: 1e-5 });
    const bound = normForwardBounds(roundoffs('float32'), x, grouping, Float64Array.of(2), Float64Array.of(-1), 1e-5).y;
    expect(isConclusive(trivialOutput(grouping, Float64Array.of(-1), 8), ref.y, bound, 'float32')).toBe(false);
  });
  it('outcomes: any out of bound fails; within bound with an inconclusive output is inconclusive; all inconclusive reads robust', () => {
    expect(caseOutcome([{ ok: true, conclusive: true }, { ok: false }])).toBe('fail');
    expect(caseOutcome([{ ok: true, conclusive: false }, { ok: true }])).toBe('inconclusive');
    expect(caseOutcome([{ ok: true, conclusive: true }, { ok: true }])).toBe('pass');
    expect(checkVerdict({ pass: 0, inconclusive: 5, fail: 0 })).toBe('robust');
    expect(checkVerdict({ pass: 1, inconclusive: 4, fail: 0 })).toBe('pass');
    expect(checkVerdict({ pass: 4, inconclusive: 0, fail: 1 })).toBe('fail');
  });
});

describe('the strict tier\'s constant (Higham & Mary 2019)', () => {
  const u = PRECISIONS.float32.u;
  it('γ̃_n(λ) ≈ λ·√n·u, and the strict constant is the smaller of γ_n and γ̃_n', () => {
    expect(gammaTilde(1e4, u) / (LAMBDA * 100 * u)).toBeCloseTo(1, 4);
    expect(strictGamma(2e5, u)).toBeCloseTo(gamma(2e5, u) / 44.7, 3 - 1);
    expect(strictGamma(50, u)).toBe(gamma(50, u)); // below n ≈ λ² the worst case is the smaller
  });
  it('keeps the worst case where stagnation breaks the model (n·u > 1/32): float32 beyond 2^19 terms', () => {
    expect(strictGamma(2 ** 19, u)).toBeLessThan(gamma(2 ** 19, u) / 50);
    expect(strictGamma(2 ** 19 + 1, u)).toBe(gamma(2 ** 19 + 1, u));
  });
  it('states its failure probability: 2n·exp(-λ²(1-u)²/2), 3.9e-22 per term at λ = 10', () => {
    expect(failureProbability(1, u)).toBeCloseTo(3.86e-22, 24);
    expect(failureProbability(1e9, u)).toBeLessThan(4e-13);
  });
});
