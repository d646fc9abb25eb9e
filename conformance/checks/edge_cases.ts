/**
 * Edge cases by generator: the shapes and data where real normalisation bugs live, listed per norm in its
 * spec (`edges`). Each is judged differentially (outputs, saved statistics, and for BatchNorm the running
 * buffers after one step) against the float64 reference with the norm's bounds; for the mean-subtracted norms
 * the conditioning term (1 + κ) makes large offsets fair to an honest float32 two-pass implementation while a
 * one-pass E[x²] - E[x]² variance (error ∝ κ²) fails.
 */
import type { Check } from '../check.js';
import { propertyCheck } from '../check.js';
import { sortFeatures } from '../domain.js';
import { caseWhere, describeCase, kindTags, normCase, withTag } from '../generators.js';
import { judgeBackward, judgeForward } from '../judge.js';
import type { EdgeSpec, NormCase, NormSpec } from '../norms/spec.js';

function edgeCheck(spec: NormSpec, e: EdgeSpec): Check {
  const backward = e.target === 'backward';
  // judged with running buffers, for a norm whose default has none (InstanceNorm: track_running_stats)
  const tracking = !backward && e.running ? spec.running?.tracking : undefined;
  return propertyCheck<NormCase>({
    id: e.id, category: 'edge', description: e.description, norm: spec.id, describe: describeCase, where: caseWhere,
    needs: [backward ? spec.capabilities.backward : spec.capabilities.forward],
    // what every case of it has: its kind's tags, the poisons, and what its geometry always draws
    features: sortFeatures([...kindTags(e.kind), ...(e.poison ? ['nonfinite'] : []), ...(e.features ?? []), ...(tracking ? [tracking] : [])]),
    arbitrary: (ctx) => withTag(normCase(spec, ctx, e.geometry(ctx.quick), {
      label: e.label ?? e.id.replace(/\./g, '_'), kind: e.kind, affine: e.affine ?? 'random', poison: e.poison ?? false,
    }), tracking),
    property: (ctx, c) => (backward
      ? judgeBackward(ctx, spec, c, { eps: ctx.conventions.eps })
      : judgeForward(ctx, spec, c, { eps: ctx.conventions.eps, running: e.running ?? false })),
  });
}

export function edgeChecks(spec: NormSpec): Check[] {
  return spec.edges.map((e) => edgeCheck(spec, e));
}
