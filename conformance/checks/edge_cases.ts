/**
 * Edge cases by generator: the shapes and data where real BatchNorm/LayerNorm bugs live. Each is judged
 * differentially (outputs, saved statistics, running buffers after one step) against the float64 reference
 * with the bounds of error_model.ts, whose conditioning term (1 + κ) makes large offsets fair to an honest
 * float32 two-pass implementation while a one-pass E[x²] - E[x]² variance (error ∝ κ²) fails.
 */
import type { Check } from '../check.js';
import { propertyCheck } from '../check.js';
import type { CheckContext } from '../invoke.js';
import {
  bnCase, bnWhere, describeCase, lnCase, lnShapes, multiAxisLnShapes, oddShapes, twoValueShapes, typicalShapes, unitSpatialShapes,
  type BnCase, type GroupKind, type LnCase,
} from '../generators.js';
import { judgeBnBackward, judgeBnTrain, judgeLnForward } from '../judge.js';
import type fc from 'fast-check';

type LnShapes = fc.Arbitrary<{ shape: number[]; normalizedShape: number[] }>;

const bn = { describe: describeCase, where: bnWhere };
const trainStep = (ctx: CheckContext, c: BnCase) =>
  judgeBnTrain(ctx, c, { momentum: ctx.conventions.momentum, eps: ctx.conventions.eps, running: true });

function bnEdge(id: string, description: string, shapes: (quick: boolean) => fc.Arbitrary<number[]>, kind: GroupKind, poison = false): Check {
  return propertyCheck<BnCase>({
    id, category: 'edge', description, ...bn, needs: ['bnTrainForward'],
    arbitrary: (ctx) => bnCase(ctx.precision, shapes(ctx.quick), { label: id.replace(/\./g, '_'), kind, affine: 'random', poison }),
    property: trainStep,
  });
}

const OFFSETS = [1e2, 1e3, 1e4, 1e5, 1e6];

export const edgeChecks: Check[] = [
  bnEdge('bn.train.two_values', 'N·spatial = 2 values per channel (the unbiased variance divides by 1)', () => twoValueShapes(), 'typical'),
  bnEdge('bn.train.odd_sizes', 'batch, channel and spatial sizes not divisible by 4 or 8 (vector-loop remainders)', oddShapes, 'typical'),
  bnEdge('bn.train.unit_spatial', 'one-element spatial dimensions: (N,C,1), (N,C,1,1), (N,C,1,W), (N,C,H,1)', () => unitSpatialShapes(), 'typical'),
  bnEdge('bn.train.constant_channel', 'a constant channel normalises to the bias (zero variance), not NaN', typicalShapes, 'constant'),
  ...OFFSETS.map((k) => bnEdge(
    `bn.train.offset_${k.toExponential(0).replace('+', '')}`,
    `inputs offset by ${k.toExponential(0).replace('+', '')}× their spread (one-pass variance loses all digits)`, typicalShapes, { offset: k },
  )),
  bnEdge('bn.train.tiny_variance', 'variances 1e-12…1e-4 around eps = 1e-5: eps inside the square root, added once', typicalShapes, 'tiny'),
  // At least 4 channels: a NaN, a +Inf and a -Inf, each in its own channel, and one channel left clean. Every
  // case holds the NaN, so a bug that only a NaN shows (read as 0 by the reductions) cannot escape a run.
  bnEdge('bn.train.nonfinite_confined', 'a NaN, a +Inf and a -Inf, each in its own channel, stay there: those channels are non-finite, the others match the reference',
    (quick) => typicalShapes(quick).map((s) => [s[0]!, Math.max(4, s[1]!), ...s.slice(2)]), 'typical', true),
  propertyCheck<BnCase>({
    id: 'bn.backward.offset_1e4', category: 'edge', description: 'training-mode backward with inputs offset by 1e4× their spread', ...bn,
    needs: ['bnBackward'],
    arbitrary: (ctx) => bnCase(ctx.precision, typicalShapes(ctx.quick), { label: 'bn_backward', kind: { offset: 1e4 }, affine: 'random' }),
    property: (ctx, c) => judgeBnBackward(ctx, c, true, ctx.conventions.eps),
  }),
  propertyCheck<BnCase>({
    id: 'bn.backward.two_values', category: 'edge', description: 'training-mode backward with N·spatial = 2', ...bn,
    needs: ['bnBackward'],
    arbitrary: (ctx) => bnCase(ctx.precision, twoValueShapes(), { label: 'bn_backward', kind: 'typical', affine: 'random' }),
    property: (ctx, c) => judgeBnBackward(ctx, c, true, ctx.conventions.eps),
  }),
  ...([
    ['ln.forward.odd_sizes', 'row lengths and row counts not divisible by 4 or 8', 'typical', (q) => lnShapes(q, true), false],
    ['ln.forward.multi_axis', 'normalizedShape of 2–3 axes, each longer than 1: the statistics run over all of them, not the last axis', 'typical', multiAxisLnShapes, false],
    ['ln.forward.constant_row', 'a constant row normalises to the bias, not NaN', 'constant', lnShapes, false],
    ['ln.forward.offset_1e4', 'rows offset by 1e4× their spread', { offset: 1e4 }, lnShapes, false],
    ['ln.forward.tiny_variance', 'row variances 1e-12…1e-4 around eps', 'tiny', lnShapes, false],
    ['ln.forward.nonfinite_confined', 'a NaN (and ±Inf, where the rows leave one clean) stays in its row', 'typical', lnShapes, true],
  ] as [string, string, GroupKind, (quick: boolean) => LnShapes, boolean][]).map(([id, description, kind, shapes, poison]) =>
    propertyCheck<LnCase>({
      id, category: 'edge', description, describe: describeCase, needs: ['lnForward'],
      arbitrary: (ctx) => lnCase(ctx.precision, shapes(ctx.quick), { label: id.replace(/\./g, '_'), kind, affine: 'random', poison }),
      property: (ctx, c) => judgeLnForward(ctx, c, ctx.conventions.eps),
    })),
];
