/**
 * The suite's own numerics: float16 rounding, the comparison rules, and the shape of the error model.
 * Expected values are IEEE 754 binary16 facts (largest finite 65504, ulp 2^-10 at 1, smallest subnormal 2^-24).
 */
import { describe, expect, it } from 'vitest';
import { compare } from '../../conformance/compare.js';
import { bnGrouping, lnGrouping, normBackwardBounds, normForwardBounds } from '../../conformance/error_model.js';
import { rmsForwardBounds } from '../../conformance/error_model_rms.js';
import { PRECISIONS, roundToFloat16, ulp } from '../../conformance/precision.js';

describe('roundToFloat16', () => {
  it.each([
    [1, 1],
    [65504, 65504],
    [65519.99, 65504], // below max + half an ulp (65520)
    [65520, Infinity], // the tie at max + half an ulp rounds to infinity
    [-70000, -Infinity],
    [1 + 2 ** -11, 1], // tie between 1 and 1 + 2^-10: to even
    [1 + 3 * 2 ** -11, 1 + 2 ** -9], // tie between 1 + 2^-10 (odd) and 1 + 2^-9 (even)
    [2 ** -24, 2 ** -24], // smallest subnormal
    [2 ** -25, 0], // tie between 0 and 2^-24: to even
    [3 * 2 ** -25, 2 ** -23],
    [0.1, 0.0999755859375],
  ])('rounds %d to %d', (x, want) => {
    expect(roundToFloat16(x)).toBe(want);
  });

  it('keeps NaN, infinities and the sign of zero', () => {
    expect(roundToFloat16(NaN)).toBeNaN();
    expect(roundToFloat16(-Infinity)).toBe(-Infinity);
    expect(Object.is(roundToFloat16(-0), -0)).toBe(true);
  });

  it('has an ulp of 2^-10 at 1 and 2^-23 at 1 in float32', () => {
    expect(ulp('float16', 1)).toBe(2 ** -10);
    expect(ulp('float32', 1)).toBe(2 ** -23);
    expect(PRECISIONS.float16.u).toBe(2 ** -11);
  });
});

describe('compare', () => {
  it('matches NaN only with NaN and each infinity only with itself', () => {
    const c = compare('y', [NaN, 1, Infinity, -Infinity, NaN], [NaN, NaN, Infinity, Infinity, 1], 1, 'float32');
    expect(c.ok).toBe(false);
    expect(c.numMismatches).toBe(3);
    expect(c.mismatches.map((m) => m.index)).toEqual([1, 3, 4]);
    expect(c.worstRatio).toBe(Infinity);
  });

  it('reports the worst element, its ratio to the bound and its error in ulps', () => {
    const c = compare('y', [1, 2 + 2 ** -21, 3], [1, 2, 3], [1e-6, 1e-6, 1e-6], 'float32');
    expect(c.ok).toBe(true);
    expect(c.worstIndex).toBe(1);
    expect(c.worstRatio).toBeCloseTo(2 ** -21 / 1e-6, 12);
    expect(c.worstUlps).toBe(2); // ulp at 2 is 2^-22
  });

  it('accepts the infinity of the right sign where the expected value overflows the precision', () => {
    expect(compare('y', [Infinity], [1e6], 1, 'float16').ok).toBe(true);
    expect(compare('y', [-Infinity], [1e6], 1, 'float16').ok).toBe(false);
    expect(compare('y', [Infinity], [1e6], 1, 'float32').ok).toBe(false);
  });

  it('skips only what the mask excludes', () => {
    const c = compare('y', [0, 5], [0, 0], 1, 'float64', (i) => i === 0);
    expect(c).toMatchObject({ ok: true, count: 1 });
  });
});

describe('the error model', () => {
  /** x = offset + t, t = ±1: a two-value channel whose spread is 1 and offset κ. */
  const boundAt = (kappa: number) => {
    const x = Float64Array.of(kappa - 1, kappa + 1, kappa - 1, kappa + 1);
    return normForwardBounds([PRECISIONS.float32.u], x, bnGrouping(4, 1, 1), null, null, 1e-5).y[0]!;
  };

  it('grows linearly with the offset relative to the spread (what a two-pass algorithm reaches), not quadratically', () => {
    const ratio = boundAt(1e4) / boundAt(1e2);
    expect(ratio).toBeGreaterThan(50);
    expect(ratio).toBeLessThan(200);
  });

  it('is a few float32 roundoffs per element for well-conditioned data', () => {
    const b = boundAt(0);
    expect(b).toBeGreaterThan(PRECISIONS.float32.u);
    expect(b).toBeLessThan(100 * PRECISIONS.float32.u);
  });

  it('is unbounded, not NaN, where γ_M is infinite: a constant float16 channel of 4096 values (M·u ≥ 1)', () => {
    const x = new Float64Array(4096).fill(512);
    const g = bnGrouping(1, 1, 4096);
    const b = normForwardBounds([PRECISIONS.float16.u], x, g, null, null, 1e-5);
    for (const q of [b.y, b.mean, b.rstd, b.var]) expect(Array.from(q).every((v) => v === Infinity)).toBe(true);
    const d = normBackwardBounds([PRECISIONS.float16.u], x, new Float64Array(4096).fill(0.5), g, null, 1e-5);
    expect(Array.from(d.dx).every((v) => v === Infinity)).toBe(true);
  });
});

describe('the RMSNorm error model', () => {
  /** one row of 64 values offset + t, t = ±1 alternating; y_i = x_i/rms(x) */
  const relativeBound = (offset: number) => {
    const x = Float64Array.from({ length: 64 }, (_, i) => offset + (i % 2 ? 1 : -1));
    const b = rmsForwardBounds([PRECISIONS.float32.u], x, lnGrouping(1, 64), null, null, 1e-5);
    const rms = Math.sqrt(x.reduce((a, v) => a + v * v, 0) / 64);
    return Math.max(...Array.from(x, (v, i) => b.y[i]! / Math.abs(v / rms)));
  };

  it('has no conditioning factor: nothing is subtracted, so the relative bound is the same at offset 1e4 as at 0', () => {
    expect(relativeBound(1e4) / relativeBound(0)).toBeGreaterThan(0.5);
    expect(relativeBound(1e4) / relativeBound(0)).toBeLessThan(2);
  });

  it('is about γ_D·SAFETY relative: a few dozen float32 roundoffs for a row of 64', () => {
    const r = relativeBound(0);
    expect(r).toBeGreaterThan(32 * PRECISIONS.float32.u);
    expect(r).toBeLessThan(300 * PRECISIONS.float32.u);
  });
});
