import { describe, expect, it } from 'vitest';
import reference from '../../conformance/adapters/reference.js';
import { runConformance } from '../../conformance/runner.js';

describe('the reference adapter', () => {
  it('passes every quick check', async () => {
    const report = await runConformance([{ adapter: reference, spec: 'reference' }], { quick: true, seed: 42 });
    const bad = report.adapters[0]!.checks.filter((c) => c.status !== 'pass');
    for (const c of bad) console.log(c.id, c.status, c.message, c.counterexample, c.details.join('\n'));
    for (const c of report.adapters[0]!.checks) console.log(c.id, c.status, c.worst?.ratio, c.durationMs);
    expect(bad.map((c) => c.id)).toEqual([]);
  });
});
