/**
 * Hygiene: contract properties that hold whatever the numbers are.
 *   no_input_mutation   every array the adapter is given is bit-for-bit the same after the call
 *   deterministic       the same call twice gives the same result, bit for bit (NaN matches NaN)
 *   output_shape_type   every output is the typed array of the adapter's precision with the right length
 * Each calls every capability the adapter provides, of every norm (or of the norms `--norm` selects), on one
 * small case per norm; how to call each capability is its norm's spec's (`hygiene`).
 *
 * Each capability is judged on its own: one that throws (say "not implemented") is reported and left out of
 * the following cases, and every other capability is still judged on every case — a defect in one capability
 * is never hidden behind another's exception. Status: fail when any capability gave a wrong answer (mutated
 * input, nondeterministic, wrong type or length), else error when any threw, else pass.
 */
import fc from 'fast-check';
import type { Capability } from '../adapter.js';
import type { Check } from '../check.js';
import { notProvided, propertyCheck } from '../check.js';
import type { Comparison } from '../compare.js';
import { sortFeatures } from '../domain.js';
import type { Feature } from '../features.js';
import { describeCase, normCase } from '../generators.js';
import { AdapterFailure, callAdapter, provides, type CheckContext, type CheckLedger } from '../invoke.js';
import { NORMS } from '../norms/index.js';
import type { HygieneCall, NormCase, NormSpec } from '../norms/spec.js';

interface Cases {
  label: string;
  tags: Feature[];
  excluded?: Feature[];
  unsupported?: Feature[];
  /** one case per norm that has a capability to judge, by norm id */
  cases: Record<string, NormCase>;
}

/** The norms whose capabilities this run judges: those selected, with at least one capability provided. */
function judgedNorms(ctx: CheckContext): NormSpec[] {
  return NORMS.filter((n) => (!ctx.norms || ctx.norms.includes(n.id)) && n.hygiene.some((h) => provides(ctx, h.capability)));
}

/** The features no capability of the norm that the adapter provides can take: its hygiene case keeps clear of them. */
function normDomain(ctx: CheckContext, n: NormSpec): { excluded: ReadonlySet<Feature> } {
  const excluded = new Set<Feature>();
  for (const h of n.hygiene) if (provides(ctx, h.capability)) for (const f of ctx.domain.excludedFor(h.capability)) excluded.add(f);
  return { excluded };
}

const cases = (ctx: CheckContext): fc.Arbitrary<Cases> => {
  const norms = judgedNorms(ctx);
  const record: Record<string, fc.Arbitrary<NormCase>> = {};
  for (const n of norms) {
    record[n.id] = normCase(n, { precision: ctx.precision, domain: normDomain(ctx, n) }, n.geometry.hygiene(), { label: `hygiene_${n.id}`, kind: 'typical', affine: true });
  }
  return fc.record(record).map((r) => {
    const all = Object.values(r);
    const excluded = sortFeatures(all.flatMap((c) => c.excluded ?? []));
    const unsupported = sortFeatures(all.flatMap((c) => c.unsupported ?? []));
    return {
      cases: r, label: norms.map((n) => r[n.id]!.label).join(' / '), tags: sortFeatures(all.flatMap((c) => c.tags)),
      ...(excluded.length ? { excluded } : {}), ...(unsupported.length ? { unsupported } : {}),
    };
  });
};

const describeCases = (p: Cases) => Object.values(p.cases).map(describeCase).join(' | ');

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

/**
 * Whether a y output is the trivial answer (accuracy/inconclusive.ts): every value exactly one of the case's
 * bias values (0 without a bias) — in any layout, so raw adapter results can be tested too. A correct
 * normalisation of typical data (the hygiene cases) never lands every value on a bias value; an implementation
 * that throws the input away (y = bias) always does, and then these contract properties hold vacuously
 * (a constant output is deterministic): the case is inconclusive.
 */
function trivialY(y: unknown, c: NormCase): Comparison[] {
  if (!ArrayBuffer.isView(y) || (y as Float32Array).length === 0) return [];
  // a Set compares by SameValueZero: -0 finds 0
  const values = new Set(c.bias ? Array.from(c.bias) : [0]);
  const ys = y as unknown as ArrayLike<number>;
  for (let i = 0; i < ys.length; i++) if (!values.has(ys[i]!)) return [];
  return [{ quantity: 'y (the trivial answer y = bias)', ok: true, count: 0, numMismatches: 0, worstIndex: -1, worstRatio: 0, worstError: 0, worstBound: 0, worstUlps: 0, mismatches: [], conclusive: false }];
}

type PerCapability = (ctx: CheckContext, call: HygieneCall, c: NormCase) => Promise<Comparison[]>;

/** Per check run: the capabilities that threw, with the first message of each. */
// keyed by the check's ledger: every context a check derives for its cases (check.ts) shares it
const threwIn = new WeakMap<CheckLedger, Map<Capability, string>>();

/**
 * A hygiene check: on each drawn set of cases, `perCapability` runs against every capability the adapter
 * provides (norms in NORMS order, capabilities in spec order), each judged on its own (see the header).
 */
function hygieneCheck(id: string, description: string, perCapability: PerCapability): Check {
  const base = propertyCheck<Cases>({
    id, category: 'hygiene', norm: null, describe: describeCases, description,
    needs: [], runsFactor: 0.5,
    applies: (ctx) => judgedNorms(ctx).length > 0 || notProvided(ctx.norms ? `the adapter provides no capability of ${ctx.norms.join(', ')}` : 'the adapter provides no capability'),
    arbitrary: cases,
    property: async (ctx, p) => {
      const threw = threwIn.get(ctx.ledger)!;
      const comps: Comparison[] = [];
      let wrong: AdapterFailure | null = null;
      for (const norm of judgedNorms(ctx)) {
        for (const call of norm.hygiene) {
          if (!provides(ctx, call.capability) || threw.has(call.capability)) continue;
          try {
            comps.push(...(await perCapability(ctx, call, p.cases[norm.id]!)));
          } catch (e) {
            if (!(e instanceof AdapterFailure) || e.kind === 'timeout') throw e;
            if (e.kind === 'threw') threw.set(call.capability, e.message);
            else wrong ??= e;
          }
        }
      }
      // a wrong comparison is reported as such (propertyCheck throws on it); else a wrong type or length
      if (wrong && comps.every((c) => c.ok)) throw wrong;
      return comps;
    },
  });
  return {
    ...base,
    async run(ctx) {
      const threw = new Map<Capability, string>();
      threwIn.set(ctx.ledger, threw);
      const r = await base.run(ctx);
      if (threw.size === 0) return r;
      const judged = judgedNorms(ctx).flatMap((n) => n.hygiene.map((h) => h.capability)).filter((c) => provides(ctx, c) && !threw.has(c));
      const errors = [...threw].map(([cap, message]) => `${cap} threw and was not judged further: ${message}`).join('; ');
      const rest = judged.length ? `judged without it: ${judged.join(', ')}` : 'no capability left to judge';
      if (r.status === 'pass') return { ...r, status: 'error', message: `${errors}; ${rest} (${r.message})` };
      return { ...r, message: `${r.message}; also: ${errors}` };
    },
  };
}

export const hygieneChecks: Check[] = [
  hygieneCheck('hygiene.no_input_mutation', 'no capability modifies any array it is given (x, dy, weight, bias, running statistics)',
    async (ctx, call, c) => {
      const args = call.rawArgs(ctx, c) as Record<string, unknown>;
      const before = Object.entries(args).filter(([, v]) => ArrayBuffer.isView(v)).map(([k, v]) => [k, Float64Array.from(v as Float64Array)] as const);
      const result = await callAdapter<Record<string, unknown> | null>(ctx, call.capability, args);
      return [...before.map(([k, copy]) => identical(`${call.capability} argument ${k} after the call`, args[k] as Float64Array, copy)), ...trivialY(result?.y, c)];
    }),
  hygieneCheck('hygiene.deterministic', 'the same call twice gives bit-identical results', async (ctx, call, c) => {
    const first = await call.outputs(ctx, c);
    const second = await call.outputs(ctx, c);
    const comps: Comparison[] = [];
    for (const [k, v] of Object.entries(first)) {
      const w = second[k];
      if (v && w) comps.push(identical(`${call.capability} ${k}, second call`, w, v));
    }
    return [...comps, ...trivialY(first.y, c)];
  }),
  hygieneCheck('hygiene.output_shape_type', 'every output is a typed array of the adapter\'s precision with the length its shape needs',
    async (ctx, call, c) => {
      // outputs() validates type and length of every output and throws AdapterFailure ('shape' / 'type') otherwise
      return trivialY((await call.outputs(ctx, c)).y, c);
    }),
];
