/**
 * Golden PyTorch fixtures (fixtures/*.json, computed by torch in float64; see fixtures/README.md): the
 * adapter against real PyTorch, not against our own reference. Each norm's spec says how to judge its
 * fixtures (`fixtures.judge`); the rounding rule for float32/float16 adapters is norms/common.ts's.
 *
 * Applies to adapters judged by the pytorch profile. Running buffers are compared when the adapter's
 * conventions match the fixture's (running variance unbiased), each step starting from PyTorch's buffers.
 *
 * Every fixture carries the tags of its settings (domain.ts `fixtureTags`). One with a feature the forward
 * capability does not take is not posed; one with a feature another capability does not take is judged
 * without that capability (the backward of a rank-5 fixture, for an adapter whose gradient stops at rank 4).
 */
import type { Check } from '../check.js';
import { fixedCheck, skipped } from '../check.js';
import type { Capability } from '../adapter.js';
import { fixtureTags, sortFeatures } from '../domain.js';
import { loadFixtures, maybeTensor } from '../fixture_reader.js';
import { supports, type CheckContext } from '../invoke.js';
import type { NormSpec } from '../norms/spec.js';

/** The capabilities a norm's fixtures can call. */
function capabilitiesOf(spec: NormSpec): Capability[] {
  const e = spec.evalMode;
  return [...new Set([spec.capabilities.forward, spec.capabilities.backward, ...(e ? [e.forwardCapability] : []), ...(e?.backwardCapability ? [e.backwardCapability] : [])])];
}

const pytorchOnly = (ctx: CheckContext) => ctx.profile === 'pytorch' || skipped('fixtures hold PyTorch\'s conventions; the adapter follows another profile');

/** The fixture check of one norm (none when it has no fixtures). */
export function fixtureChecks(spec: NormSpec): Check[] {
  const f = spec.fixtures;
  if (!f) return [];
  return [
    fixedCheck({
      id: f.id, category: 'fixtures', norm: spec.id, description: f.description,
      needs: [spec.capabilities.forward], applies: pytorchOnly,
      cases: async (ctx) => loadFixtures(f.kind).map((fx) => {
        const tags = fixtureTags(fx);
        // a capability that cannot take one of the fixture's features is left out of its judgement (its part
        // of the fixture is not compared), and the eval-mode backward where eval_backward is excluded for it
        const withheld = capabilitiesOf(spec).filter((c) => c !== spec.capabilities.forward && !supports(ctx, c, tags));
        const parts = sortFeatures(withheld.flatMap((c) => tags.filter((t) => ctx.domain.excludedFor(c).has(t))));
        const evalBackward = spec.evalMode?.backwardCapability;
        if (evalBackward && maybeTensor(fx, 'eval.dy') && !supports(ctx, evalBackward, ['eval_backward'])) parts.push('eval_backward');
        const judged: CheckContext = withheld.length ? { ...ctx, withheld: new Set(withheld) } : ctx;
        return { label: `fixtures/${fx.name}.json`, tags, partsExcluded: sortFeatures(parts), run: () => f.judge(judged, fx) };
      }),
    }),
  ];
}
