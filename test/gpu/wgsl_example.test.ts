/**
 * The example WebGPU adapter (conformance/examples/wgsl-norms.ts) passes, and its one-pass-variance
 * variant fails the offset checks with a counterexample whose replay (seed + path) fails again on the same
 * case. A subset of the catalog that calls all five capabilities keeps this lean (the PyTorch fixtures alone
 * take 3 s on SwiftShader); the README's command runs the whole catalog.
 */
import { describe, expect, it } from 'vitest';
import wgslNorms from '../../conformance/examples/wgsl-norms.js';
import wgslOnePass from '../../conformance/examples/wgsl-norms-one-pass.js';
import { runConformance } from '../../conformance/runner.js';
import { GPU_SKIP, gpuTitle } from './gpu_env.js';

const seed = Number(process.env.NORMCHECK_FC_SEED ?? 20261201);
const EVERY_CAPABILITY = 'bn.train.forward,bn.eval.forward,bn.backward.train,bn.backward.eval,ln.forward.odd_sizes,ln.backward.gradcheck';
const OFFSETS = 'bn.train.offset_1e3,bn.train.offset_1e4,ln.forward.offset_1e4';

describe.skipIf(GPU_SKIP !== null)(gpuTitle('the example WGSL adapter'), () => {
  it('passes checks of every capability and the offset checks', async () => {
    const report = await runConformance([{ adapter: wgslNorms, spec: 'wgsl-norms' }], { quick: true, seed, only: `${EVERY_CAPABILITY},${OFFSETS}` });
    const checks = report.adapters[0]!.checks;
    expect(checks.filter((c) => c.status !== 'pass' && c.status !== 'robust').map((c) => `${c.id}: ${c.status} ${c.message}`)).toEqual([]);
    expect(checks.length).toBe(9);
  });

  it('its one-pass variance E[x²] - E[x]² fails every offset check, and the printed replay fails again on the same case', async () => {
    const report = await runConformance([{ adapter: wgslOnePass, spec: 'wgsl-norms-one-pass' }], { quick: true, seed, only: OFFSETS });
    const checks = report.adapters[0]!.checks;
    expect(checks.map((c) => [c.id, c.status])).toEqual(OFFSETS.split(',').map((id) => [id, 'fail']));
    const first = checks[0]!;
    expect(first.replay).toMatch(/^npx normcheck check wgsl-norms-one-pass --only bn\.train\.offset_1e3 --seed \d+ --path "[\d:]+" --quick$/);
    const replay = await runConformance([{ adapter: wgslOnePass, spec: 'wgsl-norms-one-pass' }], { quick: true, seed: first.seed!, path: first.path!, only: first.id });
    const again = replay.adapters[0]!.checks[0]!;
    expect(again.status).toBe('fail');
    expect(again.counterexample).toBe(first.counterexample);
  });
});
