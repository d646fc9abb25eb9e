/**
 * The built-in `torch` adapters: PyTorch's own layers through the Python client. Where no Python with torch
 * is found they are "not installed" with the command that installs Debian's (never a failure), and these
 * tests that run torch are skipped with a printed reason. Quick runs of a few checks; the full catalog's
 * verdict is in docs/divergences.md.
 */
import { describe, expect, it } from 'vitest';
import { TORCH_INSTALL } from '../../conformance/adapters/torch/launch.js';
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
    const only = 'bn.train.forward,bn.train.cumulative_average,bn.backward.train,ln.backward,fixtures.batchnorm,hygiene.no_input_mutation';
    for (const spec of ['torch', 'torch-float64']) {
      const host = await openHost(spec, quiet);
      expect(host.kind).toBe('subprocess');
      expect(host.meta).toMatchObject({ name: spec, precision: spec === 'torch' ? 'float32' : 'float64', layout: 'NCHW', profile: 'pytorch' });
      expect(host.meta.capabilities).toEqual(['bnTrainForward', 'bnEvalForward', 'bnBackward', 'lnForward', 'lnBackward', 'gnForward', 'gnBackward', 'inForward', 'inBackward']);
      const report = await runConformance([{ host }], { quick: true, seed: 20261127, only });
      const bad = report.adapters[0]!.checks.filter((c) => c.status !== 'pass' && c.status !== 'robust');
      expect(bad.map((c) => `${c.id}: ${c.status} ${c.message}`)).toEqual([]);
      expect(report.adapters[0]!.checks.length).toBeGreaterThanOrEqual(6);
    }
  });
});
