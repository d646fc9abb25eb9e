/**
 * Differential checks: the adapter against the float64 reference, configured from the adapter's conventions
 * (profile + overrides), on typical data. Tolerances: error_model.ts. Counterexamples: the shrunk case.
 */
import type { Check } from '../check.js';
import { propertyCheck } from '../check.js';
import { bnCase, bnWhere, describeCase, lnCase, lnShapes, typicalShapes, type BnCase, type LnCase } from '../generators.js';
import { judgeBnBackward, judgeBnEval, judgeBnRunning, judgeBnTrain, judgeLnBackward, judgeLnForward } from '../judge.js';

const bn = { describe: describeCase, where: bnWhere };
const ln = { describe: (c: LnCase) => describeCase(c) };
const steps = (quick: boolean) => (quick ? 3 : 5);

export const differentialChecks: Check[] = [
  propertyCheck<BnCase>({
    id: 'bn.train.forward', category: 'differential', ...bn,
    description: 'training-mode BN output (and saved mean/rstd if returned) matches the float64 reference',
    needs: ['bnTrainForward'],
    arbitrary: (ctx) => bnCase(ctx.precision, typicalShapes(ctx.quick), { label: 'bn_train', kind: 'typical', affine: 'random' }),
    property: (ctx, c) => judgeBnTrain(ctx, c, { momentum: ctx.conventions.momentum, eps: ctx.conventions.eps, running: false }),
  }),
  propertyCheck<BnCase>({
    id: 'bn.train.running_mean', category: 'differential', ...bn,
    description: 'running mean after several training steps follows the profile\'s momentum convention',
    needs: ['bnTrainForward'],
    arbitrary: (ctx) => bnCase(ctx.precision, typicalShapes(ctx.quick), { label: 'bn_running', kind: 'typical', affine: true }),
    property: (ctx, c) => judgeBnRunning(ctx, c, steps(ctx.quick), ctx.conventions.momentum, 'runningMean'),
  }),
  propertyCheck<BnCase>({
    id: 'bn.train.running_var', category: 'differential', ...bn,
    description: 'running variance after several steps: momentum convention and (pytorch) Bessel correction M/(M-1)',
    needs: ['bnTrainForward'],
    arbitrary: (ctx) => bnCase(ctx.precision, typicalShapes(ctx.quick), { label: 'bn_running', kind: 'typical', affine: true }),
    property: (ctx, c) => judgeBnRunning(ctx, c, steps(ctx.quick), ctx.conventions.momentum, 'runningVar'),
  }),
  propertyCheck<BnCase>({
    id: 'bn.train.cumulative_average', category: 'differential', ...bn,
    description: 'momentum = null (PyTorch): running statistics are the cumulative average 1/(n+1) over steps',
    needs: ['bnTrainForward'],
    applies: (ctx) => ctx.profile === 'pytorch' || 'the cumulative average (momentum None) exists only in the pytorch profile',
    arbitrary: (ctx) => bnCase(ctx.precision, typicalShapes(ctx.quick), { label: 'bn_cumulative', kind: 'typical', affine: true }),
    property: async (ctx, c) => [
      ...(await judgeBnRunning(ctx, c, steps(ctx.quick), null, 'runningMean')),
      ...(await judgeBnRunning(ctx, c, steps(ctx.quick), null, 'runningVar')),
    ],
    runsFactor: 0.5,
  }),
  propertyCheck<BnCase>({
    id: 'bn.eval.forward', category: 'differential', ...bn,
    description: 'eval-mode BN normalises with the running statistics it is given, as the reference does',
    needs: ['bnEvalForward'],
    arbitrary: (ctx) => bnCase(ctx.precision, typicalShapes(ctx.quick), { label: 'bn_eval', kind: 'typical', affine: 'random' }),
    property: (ctx, c) => judgeBnEval(ctx, c, ctx.conventions.eps),
  }),
  // Each case is judged twice on the same data: with its weight and bias (so dweight and dbias are compared
  // in every run, not in the half of them where a random `affine` came out true), then without (affine=False:
  // dx alone, its quantities marked "(no affine)").
  propertyCheck<BnCase>({
    id: 'bn.backward.train', category: 'differential', ...bn,
    description: 'training-mode BN backward: dx (through the batch statistics), dweight, dbias match the reference; each case also without affine parameters',
    needs: ['bnBackward'],
    arbitrary: (ctx) => bnCase(ctx.precision, typicalShapes(ctx.quick), { label: 'bn_backward', kind: 'typical', affine: true }),
    property: async (ctx, c) => [
      ...(await judgeBnBackward(ctx, c, true, ctx.conventions.eps)),
      ...(await judgeBnBackward(ctx, { ...c, weight: null, bias: null }, true, ctx.conventions.eps)).map((k) => ({ ...k, quantity: `${k.quantity} (no affine)` })),
    ],
  }),
  propertyCheck<BnCase>({
    id: 'bn.backward.eval', category: 'differential', ...bn,
    description: 'eval-mode BN backward: dx = dy·weight·rstd of the running variance; dweight, dbias',
    needs: ['bnBackward'],
    arbitrary: (ctx) => bnCase(ctx.precision, typicalShapes(ctx.quick), { label: 'bn_backward_eval', kind: 'typical', affine: 'random' }),
    property: (ctx, c) => judgeBnBackward(ctx, c, false, ctx.conventions.eps),
  }),
  propertyCheck<LnCase>({
    id: 'ln.forward', category: 'differential', ...ln,
    description: 'LayerNorm output (and saved mean/rstd if returned) matches the float64 reference',
    needs: ['lnForward'],
    arbitrary: (ctx) => lnCase(ctx.precision, lnShapes(ctx.quick), { label: 'ln', kind: 'typical', affine: 'random' }),
    property: (ctx, c) => judgeLnForward(ctx, c, ctx.conventions.eps),
  }),
  propertyCheck<LnCase>({
    id: 'ln.backward', category: 'differential', ...ln,
    description: 'LayerNorm backward: dx, dweight, dbias (summed over rows) match the reference',
    needs: ['lnBackward'],
    arbitrary: (ctx) => lnCase(ctx.precision, lnShapes(ctx.quick), { label: 'ln_backward', kind: 'typical', affine: 'random' }),
    property: (ctx, c) => judgeLnBackward(ctx, c, ctx.conventions.eps),
  }),
];
