/**
 * The built-in `torch` adapters: PyTorch's own layers through the Python client. Where no Python with torch
 * is found they are "not installed" with the command that installs Debian's (never a failure), and these
 * tests that run torch are skipped with a printed reason. Quick runs of a few checks; the full catalog's
 * verdict is in docs/divergences.md (PyTorch), whose two findings are re-checked here.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { TORCH_INSTALL } from '../../conformance/adapters/torch/launch.js';
import { loadExpectations } from '../../conformance/expectations.js';
import { openHost } from '../../conformance/hosts/open.js';
import { findPython } from '../../conformance/hosts/python.js';
import { runConformance } from '../../conformance/runner.js';

const torchPython = findPython(['torch', 'numpy']);
if ('missing' in torchPython) console.log(`skipping the torch adapters' runs: ${torchPython.missing} (${TORCH_INSTALL})`);
const quiet = { log: () => undefined };

describe('the torch adapters', () => {
  it('are "not installed", with the command that installs torch, where no Python has it', async () => {
    const saved = process.env.NORMCHECK_PYTHON;
    process.env.NORMCHECK_PYTHON = '/no/such/python3';
    try {
      const host = await openHost('torch', quiet);
      const report = await runConformance([{ host }], { quick: true, seed: 1, only: 'bn.train.forward', required: ['torch'] });
      expect(report.adapters[0]).toMatchObject({ state: 'not installed', message: expect.stringContaining(`not installed: ${TORCH_INSTALL}`) });
      expect(report.adapters[0]!.message).toContain('/no/such/python3 (not found) (NORMCHECK_PYTHON)');
      expect(report.exitCode).toBe(0);
    } finally {
      if (saved === undefined) delete process.env.NORMCHECK_PYTHON;
      else process.env.NORMCHECK_PYTHON = saved;
    }
  });

  it.skipIf('missing' in torchPython)('run PyTorch in a child process and pass, momentum=None (cumulative average) included, float32 and float64', async () => {
    const only = 'bn.train.forward,bn.train.cumulative_average,bn.backward.train,ln.backward,rms.forward.offset_1e4,rms.backward.gradcheck,fixtures.batchnorm,hygiene.no_input_mutation';
    for (const spec of ['torch', 'torch-float64']) {
      const host = await openHost(spec, quiet);
      expect(host.kind).toBe('subprocess');
      expect(host.meta).toMatchObject({ name: spec, precision: spec === 'torch' ? 'float32' : 'float64', layout: 'NCHW', profile: 'pytorch' });
      expect(host.meta.capabilities).toEqual(['bnTrainForward', 'bnEvalForward', 'bnBackward', 'lnForward', 'lnBackward', 'gnForward', 'gnBackward', 'inForward', 'inBackward', 'rmsForward', 'rmsBackward']);
      const report = await runConformance([{ host }], { quick: true, seed: 20261127, only });
      const bad = report.adapters[0]!.checks.filter((c) => c.status !== 'pass' && c.status !== 'robust');
      expect(bad.map((c) => `${c.id}: ${c.status} ${c.message}`)).toEqual([]);
      expect(report.adapters[0]!.checks.length).toBeGreaterThanOrEqual(8);
    }
  });

  // docs/divergences.md#pytorch-rmsnorm-square-overflow
  it.skipIf('missing' in torchPython)('float32 RMSNorm squares overflow (an expected failure of torch only); float64 has the range', async () => {
    const expectations = loadExpectations('conformance/expectations.json');
    const outcomes: Record<string, string> = {};
    for (const spec of ['torch', 'torch-float64']) {
      const host = await openHost(spec, quiet);
      const report = await runConformance([{ host }], { seed: 1, only: 'rms.forward.huge_values', expectations });
      const c = report.adapters[0]!.checks[0]!;
      outcomes[spec] = `${c.status} ${c.outcome}`;
    }
    expect(outcomes).toEqual({ torch: 'fail expected failure', 'torch-float64': 'pass ok' });
  });

  // docs/divergences.md#pytorch-fused-affine-residue: the repro as the document gives it
  it.skipIf('missing' in torchPython)('a constant channel of 1000.5 normalises to bias + a residue of about one rounding of x·weight·rstd', () => {
    const python = 'python' in torchPython ? torchPython.python : '';
    const repro = [
      'import torch, torch.nn.functional as F',
      'torch.set_num_threads(1)',
      'x = torch.full((8, 3), 1000.5)',
      'y = F.batch_norm(x, None, None, torch.ones(3), torch.full((3,), 0.25), True, 0.1, 1e-5)',
      '_, mean, rstd = torch.native_batch_norm(x, None, None, None, None, True, 0.1, 1e-5)',
      'print((y - 0.25).abs().max().item(), mean[0].item(), rstd[0].item(), F.layer_norm(torch.full((4, 16), 1000.5), [16]).abs().max().item())',
    ].join('\n');
    const [bn, mean, rstd, ln] = execFileSync(python, ['-c', repro], { encoding: 'utf8' }).trim().split(' ').map(Number) as [number, number, number, number];
    // the statistics are exact (mean 1000.5; rstd 1/sqrt(1e-5) rounded to float32)
    expect(mean).toBe(1000.5);
    expect(rstd).toBe(Math.fround(1 / Math.sqrt(1e-5)));
    // y = x·α + (bias − mean·α) with α = rstd: x·α ≈ 3.2e5 is rounded once to float32 (half a spacing, u·|x·α|
    // with u = 2^-24), β = bias − mean·α once more and the sum once more: |residue| ≤ 3u·|x·α| ≈ 0.057
    const bound = 3 * 2 ** -24 * 1000.5 * rstd;
    for (const residue of [bn, ln]) {
      expect(residue).toBeGreaterThan(0);
      expect(residue).toBeLessThanOrEqual(bound);
    }
  });
});
