/**
 * Metamorphic checks: relations between two or more calls of the adapter itself, no reference output needed.
 *
 * Written once against the norm spec (norms/spec.ts); which relations a norm gets is the spec's to say.
 * Batch-statistics forward, per statistics group (channel, row, group, instance):
 *   shift       N(x + s) = N(x)                          the mean absorbs any per-group shift (centred norms
 *                                                        only: RMSNorm subtracts no mean, so it does not hold)
 *   scale       N(a·x; eps·a²) = N(x; eps)               a > 0, every norm; scaling eps with a² makes it exact,
 *                                                        so an eps outside the square root (or added twice) breaks it
 *   permutation N(P·x) = P·N(x)                          the independent units (samples or rows) are exchangeable
 *   independence changing one group leaves every other group's output (and running buffers) alone
 * Backward with batch statistics (g = dy·weight, x̂ = (x - mean)·rstd; mean = 0 and var = mean(x²) for RMSNorm):
 *   Σ dx = 0                                             the output ignores a shift of the group (centred only)
 *   Σ dx·x̂ = rstd·eps/(var + eps)·Σ g·x̂                 from Σ x̂² = M·var/(var + eps); 0 when eps ≪ var — the
 *                                                        infinitesimal form of scale invariance, so every norm
 *   dbias = Σ dy                                         summed over all elements sharing the bias (norms with one)
 *   dx(α·dy₁ + dy₂) = α·dx(dy₁) + dx(dy₂)                the backward is linear in dy
 * Eval mode (BatchNorm, InstanceNorm): one fixed affine map per channel, whatever the batch it is applied to.
 *
 * Exactness: inputs are dyadic (generators.ts), so shifts, power-of-two scalings and α·dy₁ + dy₂ are exact in
 * the adapter's precision; the two sides differ only by the adapter's own rounding, so the tolerance is the
 * sum of the error-model bounds of the calls involved (at the adapter's u alone: no reference is involved).
 */
import fc from 'fast-check';
import type { Check } from '../check.js';
import { propertyCheck } from '../check.js';
import { compare, type Comparison } from '../compare.js';
import { bnEvalBounds, gamma, type Grouping } from '../error_model.js';
import { caseWhere, describeCase, dyadicBits, fittedGeometries, normCase, withTag } from '../generators.js';
import type { CheckContext, GradsOutput } from '../invoke.js';
import { runningFraction } from '../judge.js';
import { relationConclusive } from '../accuracy/judged.js';
import { trivialOutput } from '../accuracy/inconclusive.js';
import { nchwDims } from '../norms/common.js';
import type { NormCase, NormSpec } from '../norms/spec.js';
import { PRECISIONS, roundTo } from '../precision.js';

const u = (ctx: CheckContext) => [PRECISIONS[ctx.precision].u];
const U64 = PRECISIONS.float64.u;
const add = (a: ArrayLike<number>, b: ArrayLike<number>) => Float64Array.from(a, (v, i) => v + b[i]!);
const twice = (a: Float64Array) => a.map((v) => 2 * v);

function dyadic(spec: NormSpec, ctx: CheckContext, label: string, geometry = spec.geometry.typical(ctx.quick)) {
  return normCase(spec, ctx, geometry, { label, kind: 'dyadic', affine: 'random' });
}

/** dy on a grid of 2^-8 so α·dy₁ + dy₂ (α a small power of two) is exact even in float16. */
function gridDy(ctx: CheckContext, dy: ArrayLike<number>): Float64Array {
  return Float64Array.from(dy, (v) => roundTo(ctx.precision, Math.round(v * 256) / 256));
}

const forwardY = async (ctx: CheckContext, spec: NormSpec, c: NormCase, x: Float64Array, eps: number) => spec.forward(ctx, c, { x, eps });

// ---------------------------------------------------------------------------------------------------------
// forward relations

function shiftCheck(spec: NormSpec): Check {
  return propertyCheck<NormCase & { shifts: number[] }>({
    id: `${spec.ids.forwardPrefix}.shift_invariance`, category: 'metamorphic', norm: spec.id, where: caseWhere,
    describe: (c) => `${describeCase(c)} shifts=[${c.shifts.join(', ')}]`,
    description: `adding a constant to every value of a ${spec.groupNoun} leaves the output unchanged`,
    needs: [spec.capabilities.forward],
    arbitrary: (ctx) => {
      const { shiftBits, fracBits } = dyadicBits(ctx.precision);
      return dyadic(spec, ctx, `${spec.id}_shift`).chain((c) => {
        const G = spec.grouping(c).groups.length;
        const j = fc.integer({ min: -(2 ** shiftBits), max: 2 ** shiftBits }).map((k) => k * 2 ** -fracBits);
        return fc.array(j, { minLength: G, maxLength: G }).map((shifts) => ({ ...c, shifts }));
      });
    },
    property: async (ctx, c) => {
      const eps = ctx.conventions.eps;
      const grouping = spec.grouping(c);
      const x2 = Float64Array.from(c.x);
      grouping.groups.forEach((idx, g) => idx.forEach((i) => (x2[i] = c.x[i]! + c.shifts[g]!)));
      const a = await forwardY(ctx, spec, c, c.x, eps);
      const b = await forwardY(ctx, spec, c, x2, eps);
      const b1 = spec.bounds.forward(u(ctx), c.x, grouping, c.weight, c.bias, eps);
      const b2 = spec.bounds.forward(u(ctx), x2, grouping, c.weight, c.bias, eps);
      const yb = add(b1.y, b2.y);
      const comps = [relationConclusive(compare('y of the shifted input', b.y, a.y, yb, ctx.precision), a.y, trivialOutput(grouping, c.bias, c.x.length), yb, ctx.precision)];
      if (a.rstd && b.rstd) comps.push(compare('rstd of the shifted input', b.rstd, a.rstd, add(b1.rstd, b2.rstd), ctx.precision));
      return comps;
    },
  });
}

function scaleCheck(spec: NormSpec): Check {
  return propertyCheck<NormCase & { scaleLog2: number }>({
    id: `${spec.ids.forwardPrefix}.scale_invariance`, category: 'metamorphic', norm: spec.id, where: caseWhere,
    describe: (c) => `${describeCase(c)} a=2^${c.scaleLog2}`,
    description: `scaling a ${spec.groupNoun} by a > 0 and eps by a² leaves the output unchanged (catches eps placement)`,
    needs: [spec.capabilities.forward],
    // The case is first brought to a variance near eps by an exact power of two (down to 2^-8: variance
    // ~1e-4 against eps 1e-5), where eps sits matters; float16 keeps its data (subnormals below 2^-14).
    arbitrary: (ctx) => fc.tuple(dyadic(spec, ctx, `${spec.id}_scale`), fc.constantFrom(-3, -2, -1, 1, 2, 3), ctx.precision === 'float16' ? fc.constant(0) : fc.constantFrom(-8, -6, -4, -2, 0))
      .map(([c, scaleLog2, preLog2]) => ({
        ...c, scaleLog2,
        label: preLog2 ? `${c.label}_times2^${preLog2}` : c.label,
        x: Float64Array.from(c.x, (v) => v * 2 ** preLog2),
      })),
    property: async (ctx, c) => {
      const eps = ctx.conventions.eps;
      const a = 2 ** c.scaleLog2;
      const grouping = spec.grouping(c);
      const x2 = Float64Array.from(c.x, (v) => v * a);
      const r1 = await forwardY(ctx, spec, c, c.x, eps);
      const r2 = await forwardY(ctx, spec, c, x2, eps * a * a);
      const b1 = spec.bounds.forward(u(ctx), c.x, grouping, c.weight, c.bias, eps);
      const b2 = spec.bounds.forward(u(ctx), x2, grouping, c.weight, c.bias, eps * a * a);
      const yb = add(b1.y, b2.y);
      const comps = [relationConclusive(compare('y of the scaled input', r2.y, r1.y, yb, ctx.precision), r1.y, trivialOutput(grouping, c.bias, c.x.length), yb, ctx.precision)];
      if (r1.rstd && r2.rstd) {
        comps.push(compare('rstd·a of the scaled input', r2.rstd.map((v) => v * a), r1.rstd, add(b1.rstd, b2.rstd.map((v) => v * a)), ctx.precision));
      }
      return comps;
    },
  });
}

// ---------------------------------------------------------------------------------------------------------
// permutations and independence

function permutation(keys: number[]): number[] {
  return keys.map((k, i) => [k, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map(([, i]) => i);
}

function permutationCheck(spec: NormSpec): Check {
  const p = spec.permutation;
  return propertyCheck<NormCase & { keys: number[] }>({
    id: `${spec.ids.forwardPrefix}.${p.name}`, category: 'metamorphic', norm: spec.id, where: caseWhere,
    describe: (c) => `${describeCase(c)} permutation=[${permutation(c.keys).join(', ')}]`,
    description: p.description,
    needs: [spec.capabilities.forward],
    arbitrary: (ctx) => dyadic(spec, ctx, p.label, p.geometry ? p.geometry(ctx.quick) : undefined)
      .chain((c) => fc.array(fc.nat(), { minLength: p.units(c), maxLength: p.units(c) }).map((keys) => ({ ...c, keys }))),
    property: async (ctx, c) => {
      const eps = ctx.conventions.eps;
      const block = c.x.length / p.units(c);
      const perm = permutation(c.keys); // unit k goes to position perm[k]
      const move = (a: Float64Array) => {
        const out = new Float64Array(a.length);
        perm.forEach((to, k) => out.set(a.subarray(k * block, (k + 1) * block), to * block));
        return out;
      };
      const r1 = await forwardY(ctx, spec, c, c.x, eps);
      const r2 = await forwardY(ctx, spec, c, move(c.x), eps);
      const grouping = spec.grouping(c);
      const b = spec.bounds.forward(u(ctx), c.x, grouping, c.weight, c.bias, eps);
      const yb = move(twice(b.y));
      const comps = [relationConclusive(compare(`y of the permuted ${p.what}`, r2.y, move(r1.y), yb, ctx.precision), move(r1.y), move(trivialOutput(grouping, c.bias, c.x.length)), yb, ctx.precision)];
      if (r1.running && r2.running && spec.running) {
        const old = { runningMean: c.runningMean!, runningVar: c.runningVar! };
        const f = runningFraction(spec.running.momentum(ctx), 0);
        const rb = spec.running.stepBounds(u(ctx), b, grouping, old, f, ctx.conventions.runningVar === 'unbiased');
        comps.push(compare(`runningMean of the permuted ${p.what}`, r2.running.runningMean, r1.running.runningMean, twice(rb.runningMean), ctx.precision));
        comps.push(compare(`runningVar of the permuted ${p.what}`, r2.running.runningVar, r1.running.runningVar, twice(rb.runningVar), ctx.precision));
      }
      return comps;
    },
  });
}

function independenceCheck(spec: NormSpec): Check {
  const ind = spec.independence;
  return propertyCheck<NormCase & { other: NormCase; changed: number }>({
    id: `${spec.ids.forwardPrefix}.${ind.name}`, category: 'metamorphic', norm: spec.id, where: caseWhere,
    describe: (c) => `${describeCase(c)} ${spec.groupNoun} ${c.changed} replaced`,
    description: ind.description,
    needs: [spec.capabilities.forward],
    // projected onto the domain first (generators.ts), so `changed` counts the groups of the case drawn
    arbitrary: (ctx) => fittedGeometries(spec, ctx, ind.geometry ? ind.geometry(ctx.quick) : spec.geometry.typical(ctx.quick)).chain((geometry) => {
      const g = fc.constant(geometry);
      return fc.record({
        a: normCase(spec, ctx, g, { label: ind.label, kind: 'typical', affine: true }),
        b: normCase(spec, ctx, g, { label: ind.label, kind: 'typical', affine: true }),
        changed: fc.integer({ min: 0, max: spec.grouping(geometry).groups.length - 1 }),
      }).map(({ a, b, changed }) => ({ ...a, other: b, changed }));
    }),
    property: async (ctx, c) => {
      const eps = ctx.conventions.eps;
      const grouping = spec.grouping(c);
      const x2 = Float64Array.from(c.x);
      for (const i of grouping.groups[c.changed]!) x2[i] = c.other.x[i]!;
      const r1 = await forwardY(ctx, spec, c, c.x, eps);
      const r2 = await forwardY(ctx, spec, c, x2, eps);
      const b = spec.bounds.forward(u(ctx), c.x, grouping, c.weight, c.bias, eps);
      const changed = new Set(grouping.groups[c.changed]);
      const unchanged = (i: number) => !changed.has(i);
      const comps = [relationConclusive(compare(`y of the unchanged ${ind.plural}`, r2.y, r1.y, twice(b.y), ctx.precision, unchanged), r1.y, trivialOutput(grouping, c.bias, c.x.length), twice(b.y), ctx.precision, unchanged)];
      if (r1.running && r2.running && spec.running) {
        const old = { runningMean: c.runningMean!, runningVar: c.runningVar! };
        const rb = spec.running.stepBounds(u(ctx), b, grouping, old, runningFraction(spec.running.momentum(ctx), 0), ctx.conventions.runningVar === 'unbiased');
        const param = grouping.param[grouping.groups[c.changed]![0]!]!;
        comps.push(compare(`runningMean of the unchanged ${ind.plural}`, r2.running.runningMean, r1.running.runningMean, twice(rb.runningMean), ctx.precision, (i) => i !== param));
        comps.push(compare(`runningVar of the unchanged ${ind.plural}`, r2.running.runningVar, r1.running.runningVar, twice(rb.runningVar), ctx.precision, (i) => i !== param));
      }
      return comps;
    },
  });
}

/**
 * Eval mode is one affine map per channel: every (x, y) pair of a channel, from two calls on different
 * batches (the second: the first sample alone, transformed), lies on one line. Using batch statistics in eval
 * gives each call its own line. Tolerance: with p, q the pairs of smallest and largest x, the line through
 * them predicts y_i within bound_i + 2·bound_p + bound_q (x_i lies between x_p and x_q).
 */
function evalAffineCheck(spec: NormSpec): Check {
  const evalMode = spec.evalMode!;
  return propertyCheck<NormCase>({
    id: `${spec.ids.evalPrefix}.affine_map`, category: 'metamorphic', norm: spec.id, describe: describeCase, where: caseWhere,
    description: evalMode.descriptions.affineMap,
    needs: [evalMode.forwardCapability],
    ...(spec.running?.tracking ? { features: [spec.running.tracking] } : {}),
    arbitrary: (ctx) => withTag(normCase(spec, ctx, spec.geometry.typical(ctx.quick), { label: `${spec.id}_eval_affine`, kind: 'typical', affine: 'random' }), spec.running?.tracking),
    property: async (ctx, c) => {
      const eps = ctx.conventions.eps;
      const { C, S } = nchwDims(c);
      const shape2 = [1, ...c.shape.slice(1)];
      const x2 = Float64Array.from(c.x.subarray(0, C * S), (v) => roundTo(ctx.precision, 3 * v + 1));
      const y1 = await evalMode.forward(ctx, c, eps);
      const y2 = await evalMode.forward(ctx, { ...c, shape: shape2, x: x2 }, eps);
      const b1 = bnEvalBounds(u(ctx), c.x, spec.grouping(c), c.weight, c.bias, c.runningMean!, c.runningVar!, eps);
      const b2 = bnEvalBounds(u(ctx), x2, spec.grouping({ ...c, shape: shape2 }), c.weight, c.bias, c.runningMean!, c.runningVar!, eps);
      const xs = [...c.x, ...x2];
      const ys = [...y1, ...y2];
      const bs = [...b1, ...b2];
      const chan = (i: number) => (i < c.x.length ? Math.floor(i / S) % C : Math.floor((i - c.x.length) / S));
      const predicted = new Float64Array(xs.length);
      const tol = new Float64Array(xs.length);
      for (let ch = 0; ch < C; ch++) {
        const idx = xs.map((_, i) => i).filter((i) => chan(i) === ch);
        let p = idx[0]!;
        let q = idx[0]!;
        for (const i of idx) {
          if (xs[i]! < xs[p]!) p = i;
          if (xs[i]! > xs[q]!) q = i;
        }
        for (const i of idx) {
          if (xs[q] === xs[p]) {
            predicted[i] = ys[p]!;
            tol[i] = bs[i]! + bs[p]!;
            continue;
          }
          const slope = (ys[q]! - ys[p]!) / (xs[q]! - xs[p]!);
          predicted[i] = ys[p]! + slope * (xs[i]! - xs[p]!);
          tol[i] = bs[i]! + 2 * bs[p]! + bs[q]! + 8 * U64 * (Math.abs(ys[p]!) + Math.abs(ys[q]!));
        }
      }
      const grouping2 = spec.grouping({ ...c, shape: shape2 });
      const trivial = [...trivialOutput(spec.grouping(c), c.bias, c.x.length), ...trivialOutput(grouping2, c.bias, x2.length)];
      return [relationConclusive(compare('y on its channel\'s line', ys, predicted, tol, ctx.precision), ys, trivial, tol, ctx.precision)];
    },
  });
}

// ---------------------------------------------------------------------------------------------------------
// backward relations

type Relation = (ctx: CheckContext, spec: NormSpec, c: NormCase, g: GradsOutput, grouping: Grouping) => Comparison[];

function backwardCheck(spec: NormSpec, suffix: string, description: string, affine: boolean | 'random', relation: Relation): Check {
  return propertyCheck<NormCase>({
    id: `${spec.ids.backwardPrefix}.${suffix}`, category: 'metamorphic', norm: spec.id, describe: describeCase, description,
    needs: [spec.capabilities.backward],
    arbitrary: (ctx) => normCase(spec, ctx, spec.geometry.typical(ctx.quick), { label: `${spec.id}_backward`, kind: 'typical', affine }),
    property: async (ctx, c) => relation(ctx, spec, c, await spec.backward(ctx, c, { eps: ctx.conventions.eps }), spec.grouping(c)),
  });
}

/** Σ dx = 0 per group. */
const sumDx: Relation = (ctx, spec, c, g, grouping) => {
  const eps = ctx.conventions.eps;
  const b = spec.bounds.backward(u(ctx), c.x, c.dy, grouping, c.weight, eps);
  const sums = grouping.groups.map((idx) => idx.reduce((s, i) => s + g.dx[i]!, 0));
  // tolerance: the dx errors add up; the float64 sum of the adapter's dx adds γ_M(u64)·Σ|dx|
  const tol = grouping.groups.map((idx) => idx.reduce((s, i) => s + b.dx[i]! + gamma(idx.length, U64) * Math.abs(g.dx[i]!), 0));
  // a zero gradient (the trivial answer) satisfies this too: conclusive only where dx itself is not within its bound of 0
  return [relationConclusive(compare('Σdx per group', sums, sums.map(() => 0), tol, ctx.precision), g.dx, new Float64Array(g.dx.length), b.dx, ctx.precision)];
};

/** Σ dx·x̂ = rstd·eps/(var + eps)·Σ g·x̂ per group (x̂, var, rstd from float64 statistics of the input). */
const sumDxXhat: Relation = (ctx, spec, c, g, grouping) => {
  const eps = ctx.conventions.eps;
  const b = spec.bounds.backward(u(ctx), c.x, c.dy, grouping, c.weight, eps);
  const actual: number[] = [];
  const expected: number[] = [];
  const tol: number[] = [];
  for (const idx of grouping.groups) {
    const s = spec.bounds.stats(c.x, idx, eps);
    let sdx = 0;
    let sgx = 0;
    let t = 0;
    let mag = 0;
    for (const i of idx) {
      const xhat = (c.x[i]! - s.mean) * s.rstd;
      const w = c.weight ? c.weight[grouping.param[i]!]! : 1;
      sdx += g.dx[i]! * xhat;
      sgx += c.dy[i]! * w * xhat;
      t += b.dx[i]! * Math.abs(xhat);
      mag += Math.abs(g.dx[i]! * xhat) + Math.abs(c.dy[i]! * w * xhat) * s.rstd;
    }
    actual.push(sdx);
    expected.push(s.rstd * (eps / (s.var + eps)) * sgx);
    // the float64 side (x̂ from two-pass float64 statistics, two sums) is accurate to a few γ_M(u64) of its magnitude
    tol.push(t + 8 * gamma(idx.length + 4, U64) * mag);
  }
  return [relationConclusive(compare('Σdx·x̂ per group', actual, expected, tol, ctx.precision), g.dx, new Float64Array(g.dx.length), b.dx, ctx.precision)];
};

/** dbias = Σ dy over every element sharing the bias. */
const dbiasSum: Relation = (ctx, spec, c, g, grouping) => {
  if (!g.dbias) return [];
  const b = spec.bounds.backward(u(ctx), c.x, c.dy, grouping, c.weight, ctx.conventions.eps);
  const sums = new Float64Array(grouping.numParams);
  const mag = new Float64Array(grouping.numParams);
  for (let i = 0; i < c.dy.length; i++) {
    sums[grouping.param[i]!]! += c.dy[i]!;
    mag[grouping.param[i]!]! += Math.abs(c.dy[i]!);
  }
  return [compare('dbias - Σdy', g.dbias, sums, b.dbias.map((v, p) => v + gamma(c.dy.length, U64) * mag[p]!), ctx.precision)];
};

function linearityCheck(spec: NormSpec): Check {
  return propertyCheck<NormCase & { dy2: number[]; alphaLog2: number }>({
    id: `${spec.ids.backwardPrefix}.linearity`, category: 'metamorphic', norm: spec.id, describe: (c) => `${describeCase(c)} α=${2 ** c.alphaLog2}`,
    description: 'the backward is linear in dy: dx(α·dy₁ + dy₂) = α·dx(dy₁) + dx(dy₂), same for dweight, dbias',
    needs: [spec.capabilities.backward],
    arbitrary: (ctx) => normCase(spec, ctx, spec.geometry.typical(ctx.quick), { label: `${spec.id}_backward`, kind: 'typical', affine: 'random' })
      .chain((c) => fc.record({
        dy2: fc.array(fc.integer({ min: -256, max: 256 }).map((k) => k / 256), { minLength: c.x.length, maxLength: c.x.length }),
        alphaLog2: fc.constantFrom(-1, 0, 1),
      }).map((r) => ({ ...c, ...r }))),
    property: async (ctx, c) => {
      const eps = ctx.conventions.eps;
      const alpha = 2 ** c.alphaLog2;
      const grouping = spec.grouping(c);
      const dy1 = gridDy(ctx, c.dy);
      const dy2 = gridDy(ctx, c.dy2);
      const dy3 = Float64Array.from(dy1, (v, i) => alpha * v + dy2[i]!);
      const grads = [];
      for (const dy of [dy1, dy2, dy3]) grads.push(await spec.backward(ctx, c, { dy, eps }));
      const [g1, g2, g3] = grads as [GradsOutput, GradsOutput, GradsOutput];
      const [b1, b2, b3] = [dy1, dy2, dy3].map((dy) => spec.bounds.backward(u(ctx), c.x, dy, grouping, c.weight, eps));
      const comps: Comparison[] = [];
      for (const q of ['dx', 'dweight', 'dbias'] as const) {
        const a1 = g1[q];
        const a2 = g2[q];
        const a3 = g3[q];
        if (!a1 || !a2 || !a3) continue;
        const combo = Float64Array.from(a1, (v, i) => alpha * v + a2[i]!);
        const tol = Float64Array.from(b3![q], (v, i) => v + alpha * b1![q][i]! + b2![q][i]! + 4 * U64 * (Math.abs(alpha * a1[i]!) + Math.abs(a2[i]!)));
        const c3 = compare(`${q}(α·dy₁ + dy₂)`, a3, combo, tol, ctx.precision);
        // zero gradients are linear too
        comps.push(q === 'dx' ? relationConclusive(c3, a3, new Float64Array(a3.length), b3![q], ctx.precision) : c3);
      }
      return comps;
    },
  });
}

/** The metamorphic checks of one norm, the relations that hold for it, in catalog order. */
export function metamorphicChecks(spec: NormSpec): Check[] {
  const d = spec.descriptions;
  return [
    ...(spec.centred ? [shiftCheck(spec)] : []),
    scaleCheck(spec),
    permutationCheck(spec),
    independenceCheck(spec),
    ...(spec.evalMode ? [evalAffineCheck(spec)] : []),
    ...(spec.centred ? [backwardCheck(spec, 'sum_dx_zero', d.sumDxZero!, 'random', sumDx)] : []),
    backwardCheck(spec, 'sum_dx_xhat', d.sumDxXhat, 'random', sumDxXhat),
    ...(spec.hasBias ? [backwardCheck(spec, 'dbias_sum_dy', d.dbiasSumDy!, true, dbiasSum)] : []),
    linearityCheck(spec),
  ];
}
