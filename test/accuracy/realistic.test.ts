/**
 * The realistic size profile (realistic.ts) draws what it says: BatchNorm channels of 1e3–2e5 values from
 * real layer shapes, (256, 512) and (64, 8), LayerNorm rows of transformer widths, and sizes at block and
 * vector boundaries; within the per-case value limit, with values on the generators' grid, rounded to the
 * precision, reproducible from the seed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  boundarySize, powerOfTwoNeighbours, REALISTIC, REALISTIC_QUICK, realisticBnShapes, realisticCase, realisticLnShapes,
} from '../../conformance/accuracy/realistic.js';
import { BATCHNORM } from '../../conformance/norms/batchnorm.js';
import { LAYERNORM } from '../../conformance/norms/layernorm.js';
import { DEFAULT_FAST_CHECK_SEED } from '../helpers/arbitraries.js';

const seed = DEFAULT_FAST_CHECK_SEED;
const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const perChannel = (s: readonly number[]) => size(s) / s[1]!;

describe('realistic shapes', () => {
  it('BatchNorm: M from about 1e3 to 2e5, with (256, 512) and (64, 8) among them, within the value limit', () => {
    const shapes = fc.sample(realisticBnShapes(REALISTIC), { seed, numRuns: 400 });
    const Ms = shapes.map(perChannel);
    expect(Math.max(...Ms)).toBeGreaterThanOrEqual(1e5);
    expect(Ms.filter((M) => M >= 1e3).length).toBeGreaterThan(shapes.length * 0.6);
    expect(shapes.some((s) => s.join() === '256,512')).toBe(true);
    expect(shapes.some((s) => s.join() === '64,8')).toBe(true);
    for (const s of shapes) {
      expect(size(s)).toBeLessThanOrEqual(REALISTIC.maxValues);
      expect(perChannel(s)).toBeLessThanOrEqual(REALISTIC.maxM);
    }
  });

  it('the quick profile keeps the same families up to M = 8193', () => {
    for (const s of fc.sample(realisticBnShapes(REALISTIC_QUICK), { seed, numRuns: 200 })) expect(perChannel(s)).toBeLessThanOrEqual(8193);
  });

  it('boundary sizes: 2^k - 1, 2^k, 2^k + 1 and multiples of 4, 8, 16 plus or minus one', () => {
    expect(powerOfTwoNeighbours(12, 12)).toEqual([4095, 4096, 4097]);
    const sizes = fc.sample(boundarySize(1000, 10_000), { seed, numRuns: 300 });
    expect(sizes).toContain(4097);
    for (const m of sizes) {
      expect(m).toBeGreaterThanOrEqual(1000);
      expect(m).toBeLessThanOrEqual(10_000);
      const nearPow = [-1, 0, 1].some((d) => Number.isInteger(Math.log2(m - d)));
      expect(nearPow || (m + 1) % 4 === 0 || (m - 1) % 4 === 0, String(m)).toBe(true);
    }
  });

  it('LayerNorm rows of 768–8192 values and boundary widths', () => {
    const shapes = fc.sample(realisticLnShapes(REALISTIC), { seed, numRuns: 200 });
    const Ds = shapes.map((s) => size(s.normalizedShape));
    expect(Ds).toContain(768);
    expect(Ds).toContain(8192);
    for (const D of Ds) expect(D >= 700 && D <= 8193, String(D)).toBe(true);
  });
});

describe('realistic cases', () => {
  it('fill every value on the 2^-20 grid of offset + scale·t, rounded to the precision, the same for the same seed', () => {
    const arb = realisticCase(BATCHNORM, 'float32', realisticBnShapes(REALISTIC_QUICK).map((shape) => ({ shape })), { label: 'r', kind: { offset: 1e4 }, affine: true });
    const [a, b] = [fc.sample(arb, { seed, numRuns: 3 }), fc.sample(arb, { seed, numRuns: 3 })];
    for (const [k, c] of a.entries()) {
      expect(c.x.length).toBe(size(c.shape));
      expect(c.x.every((v) => Math.fround(v) === v)).toBe(true);
      expect(Math.min(...Array.from(c.x, Math.abs))).toBeGreaterThan(9e3); // offset 1e4 × spread 1
      expect(Array.from(c.x)).toEqual(Array.from(b[k]!.x));
      expect(c.weight!.length).toBe(c.shape[1]);
    }
    const ln = fc.sample(realisticCase(LAYERNORM, 'float16', realisticLnShapes(REALISTIC_QUICK), { label: 'r', kind: 'typical', affine: 'random' }), { seed, numRuns: 3 });
    for (const c of ln) expect(c.x.every((v) => Math.abs(v) <= 7 && Number.isFinite(v))).toBe(true);
  });
});
