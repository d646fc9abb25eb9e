/**
 * Prefetching (conformance/prefetch.ts) changes how calls travel, never what a run decides: the same
 * adapter module run in a worker thread (batched) and in this process (one call at a time) gives the same
 * statuses, counterexamples, replay paths and worst ratios, including a failing property that shrinks, a
 * dependent chain (momentum=None feeds each step's running statistics into the next) and a
 * nondeterministic adapter (the same call twice must stay two calls). And it saves the round trips.
 */
import { describe, expect, it } from 'vitest';
import { openHost } from '../../conformance/hosts/open.js';
import { runConformance, type CheckResult } from '../../conformance/runner.js';

const only = 'bn.train.forward,bn.train.cumulative_average,bn.train.offset_1e4,hygiene.deterministic,ln.forward.row_permutation';
const essence = (c: CheckResult) => ({ id: c.id, status: c.status, message: c.message, counterexample: c.counterexample, path: c.path, runs: c.runs, worst: c.worst?.ratio ?? null });

describe('prefetching a worker\'s calls in batches', () => {
  it.each([
    ['one_pass', { 'bn.train.offset_1e4': 'fail', 'bn.train.cumulative_average': 'pass', 'bn.train.forward': 'pass' }],
    ['nondeterministic', { 'hygiene.deterministic': 'fail', 'ln.forward.row_permutation': 'pass' }],
    // once bnEvalForward threw, hygiene skips it: the later cases make fewer calls than the speculation made
    ['throws_sometimes', { 'hygiene.deterministic': 'error', 'ln.forward.row_permutation': 'pass' }, 'hygiene.deterministic,ln.forward.row_permutation'],
  ])('decides exactly what one call at a time decides for %s, with far fewer round trips', async (fixture, statuses, checks = only) => {
    const results: Record<string, ReturnType<typeof essence>[]> = {};
    const stats: Record<string, { calls: number; roundTrips: number; reused: number }> = {};
    for (const where of ['in-process', 'worker'] as const) {
      const host = await openHost(`test/hosts/fixtures/${fixture}.mjs`, { host: where, log: () => undefined });
      const report = await runConformance([{ host }], { quick: true, seed: 20261127, only: checks });
      results[where] = report.adapters[0]!.checks.map(essence);
      stats[where] = host.stats;
    }
    const byId = Object.fromEntries(results.worker!.map((c) => [c.id, c.status]));
    expect(byId).toMatchObject(statuses);
    expect(results.worker).toEqual(results['in-process']);
    // the speculation also runs the cases after the first failing one, which fast-check then never asks for
    expect(stats.worker!.calls).toBeGreaterThanOrEqual(stats['in-process']!.calls);
    if (fixture !== 'throws_sometimes') expect(stats.worker!.calls).toBeLessThan(stats['in-process']!.calls * 1.1);
    // the passing properties' cases are taken as the speculation returned them, not evaluated twice
    expect(stats.worker!.reused).toBeGreaterThan(0);
    expect(stats['in-process']!.reused).toBe(0);
  });

  it('sends the 50 one-call cases of a property in one round trip', async () => {
    const host = await openHost('test/hosts/fixtures/one_pass.mjs', { log: () => undefined });
    const report = await runConformance([{ host }], { quick: true, runs: 50, seed: 20261127, only: 'bn.train.forward,bn.eval.forward' });
    expect(report.adapters[0]!.checks.map((c) => c.status)).toEqual(['pass', 'pass']);
    expect(host.stats.calls).toBe(100);
    // one batch per check; the rest are available, setup, teardown and a settle after each check and at the end
    expect(host.stats.roundTrips).toBe(2 + 6);
  });
});
