/**
 * Differential checks: the adapter against the float64 reference, configured from the adapter's conventions
 * (profile + overrides), on typical data; written once, instantiated for every norm (norms/spec.ts). Each
 * norm gets its batch-statistics forward and backward, and, where it has them, its running statistics over
 * several steps and its eval mode. Tolerances: the norm's error model. Counterexamples: the shrunk case.
 */
import fc from 'fast-check';
import type { Check } from '../check.js';
import { propertyCheck, skipped } from '../check.js';
import type { Comparison } from '../compare.js';
import { sortFeatures } from '../domain.js';
import { caseWhere, describeCase, fittedGeometries, normCase, withTag } from '../generators.js';
import { REALISTIC, realisticCase } from '../accuracy/realistic.js';
import type { CheckContext } from '../invoke.js';
import { judgeBackward, judgeEval, judgeForward, judgeRunning } from '../judge.js';
import type { NormCase, NormSpec } from '../norms/spec.js';

const steps = (quick: boolean) => (quick ? 3 : 5);

/**
 * 'both': each case is judged twice on the same data, with its weight and bias (so dweight and dbias are
 * compared in every run, not in the half of them where a random `affine` came out true), then without
 * (affine=False, its quantities marked "(no affine)"). With no_affine excluded (the adapter's capability
 * cannot take it), the second judgement is left out and every case says so (its `excluded`).
 */
const affineTaken = (ctx: CheckContext) => !ctx.domain.excluded.has('no_affine');

function bothAffine(cases: fc.Arbitrary<NormCase>, ctx: CheckContext): fc.Arbitrary<NormCase> {
  return affineTaken(ctx) ? cases : cases.map((c) => ({ ...c, excluded: sortFeatures([...(c.excluded ?? []), 'no_affine']) }));
}

async function judgedBoth(ctx: CheckContext, c: NormCase, judge: (c: NormCase) => Promise<Comparison[]>): Promise<Comparison[]> {
  const withAffine = await judge(c);
  if (!affineTaken(ctx)) return withAffine;
  return [...withAffine, ...(await judge({ ...c, weight: null, bias: null })).map((k) => ({ ...k, quantity: `${k.quantity} (no affine)` }))];
}

/**
 * The full profile's share of realistic cases (accuracy/realistic.ts: real layer shapes, M up to 2e5, block
 * and vector boundaries): one draw in REALISTIC_ONE_IN, about 5 of a property's 50 runs. The quick profile
 * draws only the small typical shapes (its cases stay those test/conformance/draws_unchanged.test.ts records).
 */
export const REALISTIC_ONE_IN = 10;

/** Typical data on the norm's typical shapes, or, in the full profile, now and then on a realistic shape. */
export function typicalOrRealistic(spec: NormSpec, ctx: CheckContext, label: string, affine: boolean | 'random'): fc.Arbitrary<NormCase> {
  const typical = normCase(spec, ctx, spec.geometry.typical(ctx.quick), { label, kind: 'typical', affine });
  if (ctx.quick) return typical;
  // as normCase: without affine parameters excluded, every case has them
  const realistic = realisticCase(spec, ctx.precision, fittedGeometries(spec, ctx, spec.geometry.realistic(REALISTIC)), {
    label: `${label}_realistic`, kind: 'typical', affine: ctx.domain.excluded.has('no_affine') ? true : affine,
  });
  return fc.oneof({ weight: REALISTIC_ONE_IN - 1, arbitrary: typical }, { weight: 1, arbitrary: realistic });
}

export function differentialChecks(spec: NormSpec): Check[] {
  const typical = (label: string, affine: boolean | 'random') => (ctx: CheckContext) => typicalOrRealistic(spec, ctx, label, affine);
  const base = { category: 'differential' as const, norm: spec.id, describe: describeCase, where: caseWhere };
  // a norm whose default has no running buffers (InstanceNorm) poses its running and eval cases with them: tagged
  const tracking = spec.running?.tracking;
  const tracked = tracking ? { features: [tracking] } : {};
  const forwardBoth = spec.forwardAffine === 'both';
  const checks: Check[] = [
    propertyCheck<NormCase>({
      ...base, id: spec.ids.forward, description: spec.descriptions.forward, needs: [spec.capabilities.forward],
      arbitrary: (ctx) => {
        const cases = typical(spec.labels?.forward ?? `${spec.id}_forward`, forwardBoth ? true : 'random')(ctx);
        return forwardBoth ? bothAffine(cases, ctx) : cases;
      },
      property: (ctx, c) => (forwardBoth ? judgedBoth(ctx, c, (k) => judgeForward(ctx, spec, k, { eps: ctx.conventions.eps })) : judgeForward(ctx, spec, c, { eps: ctx.conventions.eps })),
    }),
  ];
  const running = spec.running;
  if (running) {
    const prefix = spec.ids.forwardPrefix;
    for (const which of ['runningMean', 'runningVar'] as const) {
      checks.push(propertyCheck<NormCase>({
        ...base, id: `${prefix}.${which === 'runningMean' ? 'running_mean' : 'running_var'}`, description: running.descriptions[which],
        needs: [spec.capabilities.forward], ...tracked,
        arbitrary: (ctx) => withTag(typical(`${spec.id}_running`, true)(ctx), tracking),
        property: (ctx, c) => judgeRunning(ctx, spec, c, steps(ctx.quick), running.momentum(ctx), which),
      }));
    }
    if (running.cumulative) {
      checks.push(propertyCheck<NormCase>({
        ...base, id: `${prefix}.cumulative_average`, description: running.descriptions.cumulative!, needs: [spec.capabilities.forward], features: ['momentum_none'],
        applies: (ctx) => ctx.profile === 'pytorch' || skipped('the cumulative average (momentum None) exists only in the pytorch profile'),
        arbitrary: (ctx) => withTag(typical(`${spec.id}_cumulative`, true)(ctx), 'momentum_none'),
        property: async (ctx, c) => [
          ...(await judgeRunning(ctx, spec, c, steps(ctx.quick), null, 'runningMean')),
          ...(await judgeRunning(ctx, spec, c, steps(ctx.quick), null, 'runningVar')),
        ],
        runsFactor: 0.5,
      }));
    }
    if (running.untracked) {
      checks.push(propertyCheck<NormCase>({
        ...base, id: `${prefix}.no_running_stats`, description: running.untracked, needs: [spec.capabilities.forward], features: ['no_running_stats'],
        arbitrary: (ctx) => withTag(typical(`${spec.id}_untracked`, 'random')(ctx), 'no_running_stats'),
        property: (ctx, c) => judgeForward(ctx, spec, c, { eps: ctx.conventions.eps, running: 'none' }),
      }));
    }
  }
  const evalMode = spec.evalMode;
  if (evalMode) {
    checks.push(propertyCheck<NormCase>({
      ...base, id: `${spec.ids.evalPrefix}.forward`, description: evalMode.descriptions.forward, needs: [evalMode.forwardCapability], ...tracked,
      arbitrary: (ctx) => withTag(typical(`${spec.id}_eval`, 'random')(ctx), tracking),
      property: (ctx, c) => judgeEval(ctx, spec, c, ctx.conventions.eps),
    }));
  }
  const backwardBoth = spec.backwardAffine === 'both';
  checks.push(propertyCheck<NormCase>({
    ...base, id: spec.ids.backward, description: spec.descriptions.backward, needs: [spec.capabilities.backward],
    arbitrary: (ctx) => {
      const cases = typical(spec.labels?.backward ?? `${spec.id}_backward`, backwardBoth ? true : 'random')(ctx);
      return backwardBoth ? bothAffine(cases, ctx) : cases;
    },
    property: (ctx, c) => (backwardBoth ? judgedBoth(ctx, c, (k) => judgeBackward(ctx, spec, k, { eps: ctx.conventions.eps })) : judgeBackward(ctx, spec, c, { eps: ctx.conventions.eps })),
  }));
  if (evalMode?.backwardCapability && spec.ids.backwardEval) {
    checks.push(propertyCheck<NormCase>({
      ...base, id: spec.ids.backwardEval, description: evalMode.descriptions.backward!, needs: [evalMode.backwardCapability],
      features: sortFeatures(['eval_backward', ...(tracking ? [tracking] : [])]),
      arbitrary: (ctx) => withTag(withTag(typical(`${spec.id}_backward_eval`, 'random')(ctx), 'eval_backward'), tracking),
      property: (ctx, c) => judgeBackward(ctx, spec, c, { eps: ctx.conventions.eps, useRunning: true }),
    }));
  }
  return checks;
}
