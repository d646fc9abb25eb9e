/**
 * The quick suite on the built-in adapters, through the same runner API the CLI uses: the float64 reference
 * must pass every check, and the Float32 kernels (both layouts) every check whose capabilities they provide
 * (the rest is 'not provided', and only for a capability they lack).
 */
import { describe, expect, it } from 'vitest';
import kernels from '../../conformance/adapters/kernels.js';
import kernelsNhwc from '../../conformance/adapters/kernels-nhwc.js';
import reference from '../../conformance/adapters/reference.js';
import { CHECKS } from '../../conformance/catalog.js';
import { runConformance } from '../../conformance/runner.js';

const seed = Number(process.env.NORMCHECK_FC_SEED ?? 20261127);

describe.each([
  ['reference', reference],
  ['kernels', kernels],
  ['kernels-nhwc', kernelsNhwc],
])('the %s adapter', (spec, adapter) => {
  it('passes every check of the quick suite', async () => {
    const report = await runConformance([{ adapter, spec }], { quick: true, seed });
    const checks = report.adapters[0]!.checks;
    const lacks = (id: string) => CHECKS.find((k) => k.id === id)!.needs.some((cap) => typeof adapter[cap] !== 'function');
    const notPassed = checks.filter((c) => c.status !== 'pass' && c.status !== 'robust' && !(c.status === 'not provided' && lacks(c.id)))
      .map((c) => `${c.id}: ${c.status} ${c.message} ${c.counterexample ?? ''}`);
    expect(notPassed).toEqual([]);
    expect(checks).toHaveLength(CHECKS.length);
    expect(report.exitCode).toBe(0);
    if (spec === 'reference') expect(checks.filter((c) => c.status !== 'pass' && c.status !== 'robust')).toEqual([]);
  });
});
