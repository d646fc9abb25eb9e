/**
 * Finite-difference check of the adapter's backward against the adapter's OWN forward (no reference):
 * a backward that is self-consistent with its forward, whatever conventions both follow.
 *
 * With L(x) = Σ dy·y(x) (float64 sum of the adapter's outputs), a direction e (per group, scaled by the
 * group's spread σ and a relative step h) and F(t) = L(x + t·e):
 *   D₁ = F(1) - F(-1) = 2F'(0) + F'''/3 + …,   D₂ = F(2) - F(-2) = 4F'(0) + 8F'''/3 + …
 * so the truncation error of D₁ is F'''/3 ≈ (D₂ - 2·D₁)/6 (Richardson). The analytic side is Σ dx·Δ, Δ the
 * difference of the points actually evaluated (x ± e rounded to the precision). Written once for every norm;
 * the directions are scaled by each statistics group's σ (sqrt(var + eps), or sqrt(mean(x²) + eps) for RMSNorm).
 * Tolerance: the forward errors of the two evaluations (Σ|dy|·bound_y each, error_model.ts), twice the
 * truncation estimate, the noise of that estimate, and Σ|Δ|·bound_dx for the backward's own error.
 * Step: h = 2^round(log2(u^(1/3))) — the balance of truncation (∝ h²) and rounding (∝ u/h) for smooth f:
 * 2^-8 in float32, 2^-4 in float16, 2^-18 in float64 (reference/gradcheck.ts derives the same rule; it is
 * not reused here because its atol + rtol·|numeric| tolerance is not this error model).
 */
import fc from 'fast-check';
import type { Check } from '../check.js';
import { propertyCheck } from '../check.js';
import { compareScalar, type Comparison } from '../compare.js';
import { gamma } from '../error_model.js';
import { describeCase, normCase } from '../generators.js';
import type { CheckContext } from '../invoke.js';
import type { NormCase, NormSpec } from '../norms/spec.js';
import { PRECISIONS, roundTo } from '../precision.js';

const U64 = PRECISIONS.float64.u;

function relativeStep(ctx: CheckContext): number {
  return 2 ** Math.round(Math.log2(Math.cbrt(PRECISIONS[ctx.precision].u)));
}

type Directed = NormCase & { directions: number[][] };

async function directionalChecks(ctx: CheckContext, spec: NormSpec, c: Directed): Promise<Comparison[]> {
  const eps = ctx.conventions.eps;
  const us = [PRECISIONS[ctx.precision].u];
  const grouping = spec.grouping(c);
  const g = await spec.backward(ctx, c, { eps });
  const bdx = spec.bounds.backward(us, c.x, c.dy, grouping, c.weight, eps).dx;
  const h = relativeStep(ctx);
  const sigma = grouping.groups.map((idx) => spec.bounds.stats(c.x, idx, eps).sigma);
  const group = new Int32Array(c.x.length);
  grouping.groups.forEach((idx, k) => idx.forEach((i) => (group[i] = k)));
  const comps: Comparison[] = [];
  for (const [d, v] of c.directions.entries()) {
    const point = async (t: number) => {
      const x = Float64Array.from(c.x, (xi, i) => roundTo(ctx.precision, xi + t * h * sigma[group[i]!]! * v[i]!));
      const y = (await spec.forward(ctx, c, { x, eps })).y;
      const by = spec.bounds.forward(us, x, grouping, c.weight, c.bias, eps).y;
      let L = 0;
      let err = 0;
      let mag = 0;
      for (let i = 0; i < y.length; i++) {
        L += c.dy[i]! * y[i]!;
        err += Math.abs(c.dy[i]!) * by[i]!;
        mag += Math.abs(c.dy[i]! * y[i]!);
      }
      return { x, L, err: err + gamma(y.length, U64) * mag };
    };
    const [m2, m1, p1, p2] = [await point(-2), await point(-1), await point(1), await point(2)];
    const D1 = p1.L - m1.L;
    const D2 = p2.L - m2.L;
    let analytic = 0;
    let backwardErr = 0;
    for (let i = 0; i < c.x.length; i++) {
      const delta = p1.x[i]! - m1.x[i]!;
      analytic += g.dx[i]! * delta;
      backwardErr += Math.abs(delta) * bdx[i]!;
    }
    const truncation = Math.abs(D2 - 2 * D1) / 6;
    const noise = (m2.err + p2.err + 2 * (m1.err + p1.err)) / 6;
    const tol = m1.err + p1.err + 2 * (truncation + noise) + backwardErr;
    comps.push(compareScalar(`directional derivative ${d + 1} (h = 2^${Math.log2(h)}·σ)`, analytic, D1, tol, ctx.precision));
  }
  return comps;
}

const directions = (n: number, count: number) =>
  fc.array(fc.array(fc.integer({ min: -1024, max: 1024 }).map((k) => k / 1024), { minLength: n, maxLength: n }), { minLength: count, maxLength: count });

/** A case with two random directions of its x's length attached. */
const withDirections = <T extends { x: Float64Array }>(cases: fc.Arbitrary<T>): fc.Arbitrary<T & { directions: number[][] }> =>
  cases.chain((c) => directions(c.x.length, 2).map((d) => ({ ...c, directions: d })));

/** The gradcheck of one norm's backward against its own forward. */
export function gradcheckChecks(spec: NormSpec): Check[] {
  return [
    propertyCheck<Directed>({
      id: `${spec.ids.backwardPrefix}.gradcheck`, category: 'gradcheck', norm: spec.id, describe: describeCase,
      description: spec.descriptions.gradcheck,
      needs: [spec.capabilities.forward, spec.capabilities.backward], runsFactor: 0.6,
      arbitrary: (ctx) => withDirections(normCase(spec, ctx, spec.geometry.typical(ctx.quick), { label: `${spec.id}_gradcheck`, kind: 'typical', affine: 'random' })),
      property: (ctx, c) => directionalChecks(ctx, spec, c),
    }),
  ];
}
