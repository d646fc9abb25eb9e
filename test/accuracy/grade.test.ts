/**
 * Ulps against the correctly rounded result (ulp.ts) and the grade built on them (grade.ts). Expected
 * values are binary32 facts: ulp(1) = 2^-23, ulp just below 1 is 2^-24, the smallest normal 2^-126.
 */
import { describe, expect, it } from 'vitest';
import { classify, GradeAccumulator, gradeCell, gradeOutput, honestRatio } from '../../conformance/accuracy/grade.js';
import { correctlyRounded, outputScale, paramGradScale, ulpError, worstUlps } from '../../conformance/accuracy/ulp.js';

describe('ulps against the correctly rounded result', () => {
  it('a correctly rounded answer is 0 ulp, the next float32 number 1 ulp', () => {
    const e = 1 + 2 ** -25; // rounds to 1 in float32
    expect(correctlyRounded('float32', e)).toBe(1);
    expect(ulpError('float32', 1, e)).toBe(0);
    expect(ulpError('float32', 1 + 2 ** -23, e)).toBe(1);
    expect(ulpError('float32', 1 - 2 ** -24, e)).toBe(0.5); // below 1 the spacing halves; the unit is the ulp at c = 1
  });

  it('where the exact value is 0 the unit is the ulp of the scale, not of the smallest subnormal', () => {
    // y = w·x̂ + b with w = 1, b = 1 cancelling to 0: an error of 2^-23 is 1 ulp of |w| + |b| = 2 … half of ulp(2)
    expect(ulpError('float32', 2 ** -23, 0, 2)).toBe(0.5);
    expect(ulpError('float32', 1e-30, 0, 2)).toBeLessThan(1e-6);
    // without a scale, 0 is measured in ulps of the smallest normal number: huge, but finite
    expect(ulpError('float32', 2 ** -126, 0)).toBe(2 ** 23);
  });

  it('matches infinities only with themselves and NaN only with NaN', () => {
    expect(ulpError('float32', Infinity, 1e39)).toBe(0); // beyond float32's range: +∞ is the rounded result
    expect(ulpError('float32', -Infinity, 1e39)).toBe(Infinity);
    expect(ulpError('float32', NaN, NaN)).toBe(0);
    expect(ulpError('float32', NaN, 1)).toBe(Infinity);
    expect(ulpError('float32', 1, NaN)).toBe(Infinity);
  });

  it('finds the worst element and skips what the mask excludes', () => {
    expect(worstUlps('float32', [1, 1 + 2 ** -21, 5], [1, 1, 0], 0, (i) => i < 2)).toEqual({ ulps: 4, index: 1 });
  });

  it('scales: |w| + |b| per element for y, sqrt(Σ dy²) per parameter for its gradient', () => {
    expect(Array.from(outputScale({ param: Int32Array.of(0, 1, 1), weight: [2, -0.5], bias: [-1, 0.25] }, 3))).toEqual([3, 0.75, 0.75]);
    expect(Array.from(outputScale({ param: Int32Array.of(0), weight: null, bias: null }, 1))).toEqual([1]);
    expect(Array.from(paramGradScale(Int32Array.of(0, 0, 1), 2, [3, 4, -2]))).toEqual([5, 2]);
  });
});

describe('the grade', () => {
  it('classifies: ≤ 1 ulp correctly rounded, within ×2 of the least accurate honest algorithm honest, else worse', () => {
    expect(classify(1, 50)).toBe('correctly rounded');
    expect(classify(30, 2)).toBe('as accurate as honest');
    expect(classify(30, 2.1)).toBe('worse than honest');
    // where honest algorithms are exact, one ulp is no defect: the ratio's denominator is at least 1
    expect(honestRatio(3, 0)).toBe(3);
    expect(honestRatio(Infinity, 5)).toBe(Infinity);
    expect(honestRatio(Infinity, Infinity)).toBe(1);
  });

  it('grades an output against each honest algorithm on the same elements', () => {
    const exact = [1, 2, 3];
    const g = gradeOutput('float32', 'y', [1, 2 + 2 ** -20, 3], exact, 0, [
      { name: 'a', values: [1, 2 + 2 ** -22, 3] }, { name: 'b', values: [1 + 2 ** -23, 2, 3] }]);
    expect(g).toMatchObject({ quantity: 'y', ulps: 4, index: 1, honest: [{ name: 'a', ulps: 1 }, { name: 'b', ulps: 1 }], ratio: 4 });
  });

  it('a check\'s grade is decided by its largest ratio, and names that case and its replay path', () => {
    const acc = new GradeAccumulator();
    acc.add('small', '0', [{ quantity: 'y', ulps: 40, index: 0, honest: [{ name: 'two-pass', ulps: 30 }], ratio: 40 / 30 }]);
    acc.add('large', '1', [{ quantity: 'y', ulps: 9, index: 0, honest: [{ name: 'two-pass', ulps: 1 }], ratio: 9 }]);
    const g = acc.result()!;
    expect(g).toMatchObject({ class: 'worse than honest', ulps: 40, ratio: 9, caseUlps: 9, honestUlps: 1, label: 'large', path: '1', outputs: 2 });
    expect(gradeCell(g)).toBe('×9.0 40 ulp');
    expect(new GradeAccumulator().result()).toBeNull();
  });
});
