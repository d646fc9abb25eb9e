/**
 * The quick suite on the built-in adapters, through the same runner API the CLI uses: the float64 reference
 * and the Float32 kernels (both layouts) must pass every check.
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
    const notPassed = checks.filter((c) => c.status !== 'pass').map((c) => `${c.id}: ${c.status} ${c.message} ${c.counterexample ?? ''}`);
    expect(notPassed).toEqual([]);
    expect(checks).toHaveLength(CHECKS.length);
    expect(report.exitCode).toBe(0);
  });
});
