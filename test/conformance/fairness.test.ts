/**
 * The error model is fair: correct implementations in float32 (two-pass, Welford, shifted data, float64
 * accumulation, channels-last) and in float16 (stored in half, accumulated in float32, judged at half) pass
 * every check. Each is emulated by rounding after every operation (emulated.ts), so this is what plain
 * arithmetic in that precision reaches, not a tuned implementation.
 */
import { describe, expect, it } from 'vitest';
import { runConformance } from '../../conformance/runner.js';
import { emulatedAdapter, type EmulatedOptions } from './emulated.js';

const seed = Number(process.env.NORMCHECK_FC_SEED ?? 20261127);

const honest: [string, EmulatedOptions][] = [
  ['a float32 two-pass implementation', { variance: 'two-pass' }],
  ['a float32 Welford implementation', { variance: 'welford' }],
  ['a float32 shifted-data implementation', { variance: 'shifted' }],
  ['a float32 implementation accumulating in float64', { variance: 'float64-accumulate' }],
  ['a channels-last float32 two-pass implementation', { variance: 'two-pass', layout: 'NHWC' }],
  ['a float16 implementation accumulating in float32', { precision: 'float16' }],
];

describe('correct implementations pass every check', () => {
  it.each(honest)('%s passes', async (_name, options) => {
    const adapter = emulatedAdapter(options);
    const report = await runConformance([{ adapter, spec: adapter.name }], { quick: true, seed, runs: 8 });
    const notPassed = report.adapters[0]!.checks.filter((c) => c.status !== 'pass' && c.status !== 'robust').map((c) => `${c.id}: ${c.status} ${c.message}`);
    expect(notPassed).toEqual([]);
  });
});
