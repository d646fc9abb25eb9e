/**
 * Each classic BatchNorm bug fails the check that names it (and the run goes on). The emulated float32
 * implementations of emulated.ts carry one bug each; everything else about them is correct, so the checks
 * that must pass are listed too: a check that fires on everything would prove nothing.
 */
import { describe, expect, it } from 'vitest';
import { runConformance } from '../../conformance/runner.js';
import { emulatedAdapter, type EmulatedOptions } from './emulated.js';

const seed = Number(process.env.NORMCHECK_FC_SEED ?? 20261127);

interface Case {
  bug: string;
  options: EmulatedOptions;
  mustFail: string[];
  mustPass: string[];
}

const cases: Case[] = [
  {
    bug: 'a one-pass variance E[x²] - E[x]²',
    options: { variance: 'one-pass' },
    mustFail: ['bn.train.offset_1e3', 'bn.train.offset_1e4', 'bn.train.offset_1e6', 'ln.forward.offset_1e4', 'bn.train.shift_invariance'],
    mustPass: ['bn.train.running_mean', 'bn.eval.forward', 'hygiene.no_input_mutation'],
  },
  {
    bug: 'a running variance without the Bessel correction',
    options: { bug: 'no-bessel' },
    mustFail: ['bn.train.running_var'],
    mustPass: ['bn.train.forward', 'bn.train.running_mean', 'bn.backward.train'],
  },
  {
    bug: 'eps added outside the square root',
    options: { bug: 'eps-outside-sqrt' },
    mustFail: ['bn.train.tiny_variance', 'bn.train.scale_invariance', 'ln.forward.scale_invariance'],
    mustPass: ['bn.train.running_mean', 'bn.train.shift_invariance'],
  },
  {
    bug: 'momentum read as the fraction kept (Keras/ONNX convention under the pytorch profile)',
    options: { bug: 'momentum-kept' },
    mustFail: ['bn.train.running_mean', 'bn.train.running_var'],
    mustPass: ['bn.train.forward', 'bn.train.cumulative_average'],
  },
  {
    bug: 'a training backward without the terms through the batch mean and variance',
    options: { bug: 'backward-no-mean-terms' },
    mustFail: ['bn.backward.train', 'bn.backward.sum_dx_zero', 'bn.backward.sum_dx_xhat', 'bn.backward.gradcheck', 'ln.backward.gradcheck'],
    mustPass: ['bn.backward.eval', 'bn.backward.dbias_sum_dy', 'bn.backward.linearity', 'bn.train.forward'],
  },
  {
    bug: 'eval mode normalising with the batch statistics',
    options: { bug: 'eval-batch-stats' },
    mustFail: ['bn.eval.forward', 'bn.eval.affine_map'],
    mustPass: ['bn.train.forward', 'bn.train.running_var'],
  },
  {
    bug: 'a forward that writes into its input',
    options: { bug: 'mutates-input' },
    mustFail: ['hygiene.no_input_mutation'],
    mustPass: ['bn.train.forward', 'hygiene.deterministic'],
  },
];

describe('each bug fails the check that names it', () => {
  it.each(cases)('$bug fails $mustFail', async ({ options, mustFail, mustPass }) => {
    const adapter = emulatedAdapter(options);
    const report = await runConformance([{ adapter, spec: adapter.name }], { quick: true, seed, only: [...mustFail, ...mustPass].join(',') });
    const status = Object.fromEntries(report.adapters[0]!.checks.map((c) => [c.id, c.status]));
    for (const id of mustFail) expect(status[id], id).toBe('fail');
    for (const id of mustPass) expect(status[id], id).toBe('pass');
    expect(report.exitCode).toBe(1);
    // every failure comes with a counterexample and a replay command carrying fast-check's seed and path
    for (const c of report.adapters[0]!.checks.filter((k) => k.status === 'fail')) {
      expect(c.counterexample).toBeTruthy();
      expect(c.replay).toMatch(new RegExp(`--only ${c.id.replace(/\./g, '\\.')} --seed ${seed} --path "[\\d:]+"`));
    }
  });
});
