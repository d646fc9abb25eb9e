/**
 * What a training step costs with each normalisation: milliseconds per SGD step of the seed network on the
 * Float32 kernels, for none / BatchNorm / LayerNorm at batch 2, 8 and 64, on real digits.
 *
 *   tsc -p tsconfig.build.json && node dist/scripts/experiment/step_cost.js [--rounds 15] [--steps 40]
 *
 * The variants are timed in interleaved rounds (none, BN, LN, none, BN, LN, …) and the median round is reported,
 * so a change in machine load during the measurement hits all three alike; the ratios to "none" are what to read
 * on a shared machine, the absolute times only on a quiet one. One thread.
 */
import { Command } from 'commander';
import Table from 'cli-table3';
import { loadDigits, PIXELS } from './data.js';
import { createNet } from './net.js';
import { FULL_PROTOCOL, VARIANTS, type Variant } from './protocol.js';
import { VARIANT_LABEL } from './plots.js';

const program = new Command()
  .name('step_cost')
  .description('ms per training step of the seed network on the Float32 kernels, by normalisation and batch size')
  .option('--rounds <n>', 'interleaved rounds per variant (the median is reported)', (v) => Number(v), 15)
  .option('--steps <n>', 'steps per round', (v) => Number(v), 40);
program.parse();
const { rounds, steps } = program.opts<{ rounds: number; steps: number }>();
if (!(Number.isInteger(rounds) && rounds >= 1 && Number.isInteger(steps) && steps >= 1)) {
  program.error('--rounds and --steps: expected positive integers');
}

const data = loadDigits();
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const table = new Table({ head: ['batch', ...VARIANTS.map((v) => `${VARIANT_LABEL[v]} ms/step`), 'BN / none', 'LN / none'] });
for (const B of [2, 8, 64]) {
  const nets = Object.fromEntries(VARIANTS.map((variant) => [variant, createNet({ variant, lr: 0.01, initScale: 1, batchSize: B }, FULL_PROTOCOL, 1, B)])) as Record<Variant, ReturnType<typeof createNet>>;
  const times: Record<Variant, number[]> = { none: [], batchnorm: [], layernorm: [] };
  let offset = 0;
  const batch = () => {
    // consecutive training rows, wrapping around: real pixel statistics, no shuffling cost in the timing
    if (offset + B > data.trainSize) offset = 0;
    const x = data.trainX.subarray(offset * PIXELS, (offset + B) * PIXELS);
    const y = data.trainY.subarray(offset, offset + B);
    offset += B;
    return { x, y };
  };
  for (let r = -1; r < rounds; r++) {
    for (const variant of VARIANTS) {
      const start = performance.now();
      for (let s = 0; s < steps; s++) {
        const { x, y } = batch();
        nets[variant].trainStep(x, y, B);
      }
      if (r >= 0) times[variant].push((performance.now() - start) / steps); // round -1 warms up
    }
  }
  const m = Object.fromEntries(VARIANTS.map((v) => [v, median(times[v])])) as Record<Variant, number>;
  table.push([B, ...VARIANTS.map((v) => m[v].toFixed(3)), (m.batchnorm / m.none).toFixed(2), (m.layernorm / m.none).toFixed(2)]);
}
console.log(table.toString());
