/**
 * Teeth at size (conformance/mutants/at_size.ts, measured by scripts/at_size.ts over 20 seeds): on single
 * cases, which tier or grade sees each at-size mutant. A blocked reduction that drops the last partial block
 * is exact up to M = 4096, invisible to the worst-case bound at M = 4097 (one value of 4097 lost) and seen by
 * the strict tier there, by both at M = 5000; the one-pass |E[x²] - E[x]²| variance passes both bounds at
 * offset 1e2 on 4096 values but grades worse than honest by far; y = bias is never a plain pass (it fails where
 * the bound can tell, and is inconclusive where it cannot).
 */
import { describe, expect, it } from 'vitest';
import { lastBlockDroppedMoments } from '../../conformance/mutants/at_size.js';
import { buildAdapter } from '../../conformance/mutants/base.js';
import { MUTANTS } from '../../conformance/mutants/gallery.js';
import { BATCHNORM } from '../../conformance/norms/batchnorm.js';
import { judgeCase, sizedCase } from '../../scripts/at_size.js';

const channel = (M: number) => ({ shape: [1, 1, M] });
const lastBlock = () => buildAdapter({ name: 'mutant:last-block-dropped', description: 'drops the last partial block', parts: { moments: lastBlockDroppedMoments } });
const gallery = (name: string) => MUTANTS.find((m) => m.name === name)!.adapter();

describe('a blocked reduction that loses the last partial block when M > 4096', () => {
  it('is exact at M = 4096, missed by the worst case and caught by the strict tier at M = 4097, caught by both at M = 5000', async () => {
    const at = async (M: number) => judgeCase(lastBlock(), BATCHNORM, sizedCase(BATCHNORM, 'float32', channel(M), 'typical', 1));
    const v4096 = await at(4096);
    expect(v4096.ok).toEqual({ 'worst-case': true, strict: true });
    const v4097 = await at(4097);
    expect(v4097.ok).toEqual({ 'worst-case': true, strict: false });
    expect(v4097.grade).toBeGreaterThan(2); // and the grade: worse than honest
    expect((await at(5000)).ok).toEqual({ 'worst-case': false, strict: false });
  });
});

describe('members that must not get a plain pass', () => {
  it('one-pass |E[x²] - E[x]²| at offset 1e2 on 4096 values: within both bounds, graded worse than honest', async () => {
    const v = await judgeCase(gallery('accurate-to-offset-1e2'), BATCHNORM, sizedCase(BATCHNORM, 'float32', channel(4096), { offset: 1e2 }, 1));
    expect(v.ok).toEqual({ 'worst-case': true, strict: true });
    expect(v.grade).toBeGreaterThan(10);
  });

  it('y = bias: fails on typical data, inconclusive (not a pass) at offset 1e6', async () => {
    const yb = gallery('y-equals-bias');
    const typical = await judgeCase(yb, BATCHNORM, sizedCase(BATCHNORM, 'float32', channel(256), 'typical', 1));
    expect(typical.ok).toEqual({ 'worst-case': false, strict: false });
    const far = await judgeCase(yb, BATCHNORM, sizedCase(BATCHNORM, 'float32', channel(256), { offset: 1e6 }, 1));
    expect(far.ok).toEqual({ 'worst-case': true, strict: true });
    expect(far.conclusive).toEqual({ 'worst-case': false, strict: false });
  });
});
