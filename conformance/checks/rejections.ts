/**
 * Checks that an adapter refuses what PyTorch refuses: an input the operation is not defined for must be an
 * error (a throw or a rejected Promise), never a result. A returned result fails the check, with the case and
 * PyTorch's own message; how the adapter words its error is its own business. The refusal means something
 * only if the capability answers the nearest valid input, so that is called first: a capability that throws
 * on everything is an error here, as everywhere else, not a pass.
 */
import type fc from 'fast-check';
import type { Capability } from '../adapter.js';
import type { Category, Check, Described } from '../check.js';
import { propertyCheck } from '../check.js';
import { AdapterFailure, type CheckContext } from '../invoke.js';
import type { NormId } from '../norms/spec.js';

export interface RejectionSpec<T extends Described> {
  id: string;
  norm: NormId;
  category?: Category;
  description: string;
  needs: readonly Capability[];
  arbitrary(ctx: CheckContext): fc.Arbitrary<T>;
  describe(c: T): string;
  /** calls the capability on the invalid case (through the norm's wrapper) */
  call(ctx: CheckContext, c: T): Promise<unknown>;
  /** calls it on the nearest valid input (numGroups 1, two spatial values, …), which must succeed */
  valid(ctx: CheckContext, c: T): Promise<unknown>;
  /** what PyTorch raises on it */
  pytorch: string;
}

export function rejectionCheck<T extends Described>(spec: RejectionSpec<T>): Check {
  return propertyCheck<T>({
    id: spec.id, category: spec.category ?? 'edge', norm: spec.norm, description: spec.description, needs: spec.needs, describe: spec.describe,
    arbitrary: spec.arbitrary,
    property: async (ctx, c) => {
      await spec.valid(ctx, c);
      try {
        await spec.call(ctx, c);
      } catch (e) {
        // a throw is the expected answer; a timeout or a malformed result is still the adapter's failure
        if (e instanceof AdapterFailure && e.kind === 'threw') return [];
        throw e;
      }
      throw new AdapterFailure('contract', `${spec.needs[0]} returned a result for ${spec.describe(c)}, where PyTorch raises "${spec.pytorch}"`);
    },
  });
}
