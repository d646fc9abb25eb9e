/**
 * Hygiene: contract properties that hold whatever the numbers are.
 *   no_input_mutation   every array the adapter is given is bit-for-bit the same after the call
 *   deterministic       the same call twice gives the same result, bit for bit (NaN matches NaN)
 *   output_shape_type   every output is the typed array of the adapter's precision with the right length
 * Each calls every capability the adapter provides (none provided: 'not provided').
 */
import fc from 'fast-check';
import type { Check } from '../check.js';
import { propertyCheck } from '../check.js';
import type { Comparison } from '../compare.js';
import { bnCase, describeCase, lnCase, lnShapes, oddShapes, type BnCase, type LnCase } from '../generators.js';
import {
  bnBackward, bnBackwardArgs, bnEval, bnEvalArgs, bnTrain, bnTrainArgs, callAdapter, lnBackward, lnBackwardArgs, lnForward, lnArgs,
  type CheckContext,
} from '../invoke.js';

interface Pair {
  label: string;
  bn: BnCase;
  ln: LnCase;
}

const pairs = (ctx: CheckContext): fc.Arbitrary<Pair> =>
  fc.record({
    bn: bnCase(ctx.precision, oddShapes(true), { label: 'hygiene_bn', kind: 'typical', affine: true }),
    ln: lnCase(ctx.precision, lnShapes(true, true), { label: 'hygiene_ln', kind: 'typical', affine: true }),
  }).map((r) => ({ ...r, label: `${r.bn.label} / ${r.ln.label}` }));

const describePair = (p: Pair) => `${describeCase(p.bn)} | ${describeCase(p.ln)}`;

type BnLnCapability = 'bnTrainForward' | 'bnEvalForward' | 'bnBackward' | 'lnForward' | 'lnBackward';
const JUDGED: readonly BnLnCapability[] = ['bnTrainForward', 'bnEvalForward', 'bnBackward', 'lnForward', 'lnBackward'];

function provided(ctx: CheckContext): BnLnCapability[] {
  return JUDGED.filter((c) => typeof ctx.adapter[c] === 'function');
}

/** The raw adapter arguments of one call of each capability. */
function rawArgs(ctx: CheckContext, cap: BnLnCapability, p: Pair): object {
  const eps = ctx.conventions.eps;
  const { bn, ln } = p;
  switch (cap) {
    case 'bnTrainForward': return bnTrainArgs(ctx, { ...bn, numBatchesTracked: 0, momentum: ctx.conventions.momentum, eps });
    case 'bnEvalForward': return bnEvalArgs(ctx, { ...bn, eps });
    case 'bnBackward': return bnBackwardArgs(ctx, { ...bn, training: true, runningMean: null, runningVar: null, eps });
    case 'lnForward': return lnArgs(ctx, { ...ln, eps });
    case 'lnBackward': return lnBackwardArgs(ctx, { ...ln, eps });
  }
}

/** Validated outputs of each capability, as named Float64Arrays. */
async function outputs(ctx: CheckContext, cap: BnLnCapability, p: Pair): Promise<Record<string, Float64Array | null>> {
  const eps = ctx.conventions.eps;
  const { bn, ln } = p;
  switch (cap) {
    case 'bnTrainForward': return { ...(await bnTrain(ctx, { ...bn, numBatchesTracked: 0, momentum: ctx.conventions.momentum, eps })) };
    case 'bnEvalForward': return { y: await bnEval(ctx, { ...bn, eps }) };
    case 'bnBackward': return { ...(await bnBackward(ctx, { ...bn, training: true, runningMean: null, runningVar: null, eps })) };
    case 'lnForward': return { ...(await lnForward(ctx, { ...ln, eps })) };
    case 'lnBackward': return { ...(await lnBackward(ctx, { ...ln, eps })) };
  }
}

/**
 * Bit-for-bit equality as a comparison: Object.is per element, so NaN equals NaN and -0 differs from 0
 * (compare() would pass both a sign flip of zero and any change within a bound).
 */
function identical(quantity: string, actual: ArrayLike<number>, expected: ArrayLike<number>): Comparison {
  const c: Comparison = { quantity, ok: true, count: 0, numMismatches: 0, worstIndex: -1, worstRatio: 0, worstError: 0, worstBound: 0, worstUlps: 0, mismatches: [] };
  for (let i = 0; i < expected.length; i++) {
    c.count++;
    if (Object.is(actual[i], expected[i])) continue;
    const d = Math.abs(actual[i]! - expected[i]!);
    const error = Number.isFinite(d) ? d : Infinity;
    c.ok = false;
    c.numMismatches++;
    if (c.worstIndex < 0) Object.assign(c, { worstIndex: i, worstRatio: Infinity, worstError: error, worstUlps: Infinity });
    if (c.mismatches.length < 5) c.mismatches.push({ index: i, actual: actual[i]!, expected: expected[i]!, error, bound: 0 });
  }
  return c;
}

const notProvided = (ctx: CheckContext) => provided(ctx).length > 0 || 'the adapter provides no capability';

/**
 * A hygiene check: on each drawn pair, `perCapability` runs against every capability the adapter provides,
 * in CAPABILITIES order, and the comparisons of all of them are judged together.
 */
function hygieneCheck(
  id: string, description: string, perCapability: (ctx: CheckContext, cap: BnLnCapability, p: Pair) => Promise<Comparison[]>,
): Check {
  return propertyCheck<Pair>({
    id, category: 'hygiene', describe: describePair, description,
    needs: [], applies: notProvided, runsFactor: 0.5,
    arbitrary: pairs,
    property: async (ctx, p) => {
      const comps: Comparison[] = [];
      for (const cap of provided(ctx)) comps.push(...(await perCapability(ctx, cap, p)));
      return comps;
    },
  });
}

export const hygieneChecks: Check[] = [
  hygieneCheck('hygiene.no_input_mutation', 'no capability modifies any array it is given (x, dy, weight, bias, running statistics)',
    async (ctx, cap, p) => {
      const args = rawArgs(ctx, cap, p) as Record<string, unknown>;
      const before = Object.entries(args).filter(([, v]) => ArrayBuffer.isView(v)).map(([k, v]) => [k, Float64Array.from(v as Float64Array)] as const);
      await callAdapter(ctx, cap, args);
      return before.map(([k, copy]) => identical(`${cap} argument ${k} after the call`, args[k] as Float64Array, copy));
    }),
  hygieneCheck('hygiene.deterministic', 'the same call twice gives bit-identical results', async (ctx, cap, p) => {
    const first = await outputs(ctx, cap, p);
    const second = await outputs(ctx, cap, p);
    const comps: Comparison[] = [];
    for (const [k, v] of Object.entries(first)) {
      const w = second[k];
      if (v && w) comps.push(identical(`${cap} ${k}, second call`, w, v));
    }
    return comps;
  }),
  hygieneCheck('hygiene.output_shape_type', 'every output is a typed array of the adapter\'s precision with the length its shape needs',
    async (ctx, cap, p) => {
      // outputs() validates type and length of every output and throws AdapterFailure ('shape' / 'type') otherwise
      await outputs(ctx, cap, p);
      return [];
    }),
];
