/**
 * Differential checks: the adapter against the float64 reference, configured from the adapter's conventions
 * (profile + overrides), on typical data; written once, instantiated for every norm (norms/spec.ts). Each
 * norm gets its batch-statistics forward and backward, and, where it has them, its running statistics over
 * several steps and its eval mode. Tolerances: the norm's error model. Counterexamples: the shrunk case.
 */
import type { Check } from '../check.js';
import { propertyCheck, skipped } from '../check.js';
import { caseWhere, describeCase, normCase } from '../generators.js';
import type { CheckContext } from '../invoke.js';
import { judgeBackward, judgeEval, judgeForward, judgeRunning } from '../judge.js';
import type { NormCase, NormSpec } from '../norms/spec.js';

const steps = (quick: boolean) => (quick ? 3 : 5);

export function differentialChecks(spec: NormSpec): Check[] {
  const typical = (label: string, affine: boolean | 'random') => (ctx: CheckContext) =>
    normCase(spec, ctx.precision, spec.geometry.typical(ctx.quick), { label, kind: 'typical', affine });
  const base = { category: 'differential' as const, norm: spec.id, describe: describeCase, where: caseWhere };
  const checks: Check[] = [
    propertyCheck<NormCase>({
      ...base, id: spec.ids.forward, description: spec.descriptions.forward, needs: [spec.capabilities.forward],
      arbitrary: typical(spec.labels?.forward ?? `${spec.id}_forward`, spec.forwardAffine === 'both' ? true : 'random'),
      property: async (ctx, c) => spec.forwardAffine !== 'both' ? judgeForward(ctx, spec, c, { eps: ctx.conventions.eps }) : [
        ...(await judgeForward(ctx, spec, c, { eps: ctx.conventions.eps })),
        ...(await judgeForward(ctx, spec, { ...c, weight: null, bias: null }, { eps: ctx.conventions.eps })).map((k) => ({ ...k, quantity: `${k.quantity} (no affine)` })),
      ],
    }),
  ];
  const running = spec.running;
  if (running) {
    const prefix = spec.ids.forwardPrefix;
    for (const which of ['runningMean', 'runningVar'] as const) {
      checks.push(propertyCheck<NormCase>({
        ...base, id: `${prefix}.${which === 'runningMean' ? 'running_mean' : 'running_var'}`, description: running.descriptions[which],
        needs: [spec.capabilities.forward],
        arbitrary: typical(`${spec.id}_running`, true),
        property: (ctx, c) => judgeRunning(ctx, spec, c, steps(ctx.quick), running.momentum(ctx), which),
      }));
    }
    if (running.cumulative) {
      checks.push(propertyCheck<NormCase>({
        ...base, id: `${prefix}.cumulative_average`, description: running.descriptions.cumulative!, needs: [spec.capabilities.forward],
        applies: (ctx) => ctx.profile === 'pytorch' || skipped('the cumulative average (momentum None) exists only in the pytorch profile'),
        arbitrary: typical(`${spec.id}_cumulative`, true),
        property: async (ctx, c) => [
          ...(await judgeRunning(ctx, spec, c, steps(ctx.quick), null, 'runningMean')),
          ...(await judgeRunning(ctx, spec, c, steps(ctx.quick), null, 'runningVar')),
        ],
        runsFactor: 0.5,
      }));
    }
  }
  const evalMode = spec.evalMode;
  if (evalMode) {
    checks.push(propertyCheck<NormCase>({
      ...base, id: `${spec.ids.evalPrefix}.forward`, description: evalMode.descriptions.forward, needs: [evalMode.forwardCapability],
      arbitrary: typical(`${spec.id}_eval`, 'random'),
      property: (ctx, c) => judgeEval(ctx, spec, c, ctx.conventions.eps),
    }));
  }
  // 'both' (forward above, backward here): each case is judged twice on the same data, with its weight and bias (so dweight and dbias are
  // compared in every run, not in the half of them where a random `affine` came out true), then without
  // (affine=False: dx alone, its quantities marked "(no affine)").
  checks.push(propertyCheck<NormCase>({
    ...base, id: spec.ids.backward, description: spec.descriptions.backward, needs: [spec.capabilities.backward],
    arbitrary: typical(spec.labels?.backward ?? `${spec.id}_backward`, spec.backwardAffine === 'both' ? true : 'random'),
    property: async (ctx, c) => spec.backwardAffine === 'random' ? judgeBackward(ctx, spec, c, { eps: ctx.conventions.eps }) : [
      ...(await judgeBackward(ctx, spec, c, { eps: ctx.conventions.eps })),
      ...(await judgeBackward(ctx, spec, { ...c, weight: null, bias: null }, { eps: ctx.conventions.eps })).map((k) => ({ ...k, quantity: `${k.quantity} (no affine)` })),
    ],
  }));
  if (evalMode?.backwardCapability && spec.ids.backwardEval) {
    checks.push(propertyCheck<NormCase>({
      ...base, id: spec.ids.backwardEval, description: evalMode.descriptions.backward!, needs: [evalMode.backwardCapability],
      arbitrary: typical(`${spec.id}_backward_eval`, 'random'),
      property: (ctx, c) => judgeBackward(ctx, spec, c, { eps: ctx.conventions.eps, useRunning: true }),
    }));
  }
  return checks;
}
