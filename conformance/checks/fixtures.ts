/**
 * Golden PyTorch fixtures (fixtures/*.json, computed by torch in float64; see fixtures/README.md): the
 * adapter against real PyTorch, not against our own reference. Each norm's spec says how to judge its
 * fixtures (`fixtures.judge`); the rounding rule for float32/float16 adapters is norms/common.ts's.
 *
 * Applies to adapters judged by the pytorch profile. Running buffers are compared when the adapter's
 * conventions match the fixture's (running variance unbiased), each step starting from PyTorch's buffers.
 */
import type { Check } from '../check.js';
import { fixedCheck, skipped } from '../check.js';
import { loadFixtures } from '../fixture_reader.js';
import type { CheckContext } from '../invoke.js';
import type { NormSpec } from '../norms/spec.js';

const pytorchOnly = (ctx: CheckContext) => ctx.profile === 'pytorch' || skipped('fixtures hold PyTorch\'s conventions; the adapter follows another profile');

/** The fixture check of one norm (none when it has no fixtures). */
export function fixtureChecks(spec: NormSpec): Check[] {
  const f = spec.fixtures;
  if (!f) return [];
  return [
    fixedCheck({
      id: f.id, category: 'fixtures', norm: spec.id, description: f.description,
      needs: [spec.capabilities.forward], applies: pytorchOnly,
      cases: async (ctx) => loadFixtures(f.kind).map((fx) => ({ label: `fixtures/${fx.name}.json`, run: () => f.judge(ctx, fx) })),
    }),
  ];
}
