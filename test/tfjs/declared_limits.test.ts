/**
 * The tfjs adapters declare what the tfjs APIs cannot take (adapter.ts `unsupported`), so the catalog grades
 * the rest of each check instead of marking it expected-failure whole. A declaration must not outlive its
 * limit: each declared (capability, feature) is called here directly, outside the suite, on one small case
 * with that feature, and must still throw — and the same call without the feature must work. When tfjs
 * fixes one, this fails: remove the feature from the declaration (conformance/adapters/tfjs/ops.ts,
 * layers.ts) and from docs/divergences.md.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Adapter, Capability } from '../../conformance/adapter.js';
import tfjsCpu from '../../conformance/adapters/tfjs-cpu.js';
import layersCpu from '../../conformance/adapters/tfjs-layers-cpu.js';
import { unsupportedOf } from '../../conformance/domain.js';

/** Data in [-1, 1), the same every run. */
const values = (n: number, k = 1) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + k) * 0.9);
const ones = (n: number) => new Float32Array(n).fill(1);

/** One call of `cap`, NHWC, with channels C = 2, at `rank` (2 or 5), affine or not. */
function call(a: Adapter, cap: Capability, rank: 2 | 5, affine: boolean): Promise<unknown> {
  const shape = rank === 2 ? [4, 2] : [2, 2, 1, 2, 2];
  const n = shape.reduce((p, d) => p * d, 1);
  const C = 2;
  const x = values(n);
  const weight = affine ? values(C, 3) : null;
  const bias = affine ? values(C, 5) : null;
  const eps = 1e-5;
  const running = { runningMean: values(C, 7), runningVar: ones(C) };
  const ln = { x, shape, normalizedShape: shape.slice(1), weight: affine ? values(n / shape[0]!, 3) : null, bias: affine ? values(n / shape[0]!, 5) : null, eps };
  switch (cap) {
    case 'bnTrainForward': return Promise.resolve(a.bnTrainForward!({ x, shape, weight, bias, ...running, numBatchesTracked: 0, momentum: 0.1, eps }));
    case 'bnEvalForward': return Promise.resolve(a.bnEvalForward!({ x, shape, weight, bias, ...running, eps }));
    case 'bnBackward': return Promise.resolve(a.bnBackward!({ dy: values(n, 9), x, shape, weight, bias, training: true, runningMean: null, runningVar: null, eps }));
    case 'lnForward': return Promise.resolve(a.lnForward!(ln));
    case 'lnBackward': return Promise.resolve(a.lnBackward!({ ...ln, dy: values(n, 9) }));
    default: throw new Error(`no call for ${cap}`);
  }
}

const adapters = [tfjsCpu, layersCpu];

describe('the tfjs adapters\' declared limits', () => {
  it('are what docs/divergences.md says: gradients need scale and offset and stop at rank 4; tf.layers takes no rank 5 and trains only affine', () => {
    expect(unsupportedOf(tfjsCpu)).toEqual({ all: [], byCapability: { bnBackward: ['no_affine', 'rank5'] } });
    expect(unsupportedOf(layersCpu)).toEqual({ all: ['rank5'], byCapability: { bnTrainForward: ['no_affine'], bnBackward: ['no_affine'], lnBackward: ['no_affine'] } });
  });

  // one adapter at a time: both share tfjs' cpu engine, whose tensor count each one's teardown checks
  for (const a of adapters) describe.sequential(a.name, () => {
    beforeAll(async () => a.setup?.());
    afterAll(async () => a.teardown?.());
    const u = unsupportedOf(a);
    const pairs = (a.bnBackward ? (['bnTrainForward', 'bnEvalForward', 'bnBackward', 'lnForward', 'lnBackward'] as const) : [])
      .flatMap((cap) => [...u.all, ...(u.byCapability[cap] ?? [])].map((f) => [cap, f] as const));
    it.each(pairs)(`${a.name}: %s still throws with %s, and works without it`, async (cap, feature) => {
      const rank = feature === 'rank5' ? 5 : 2;
      const affine = feature !== 'no_affine';
      await expect(call(a, cap, rank, affine)).rejects.toThrow();
      await expect(call(a, cap, 2, true)).resolves.toBeDefined();
    });
  });
});
