/**
 * fast-check arbitraries for the conformance checks, each named for the case it builds.
 *
 * Every value is drawn from bounded, finite generators (`noNaN`, `noDefaultInfinity`, explicit min/max);
 * NaN and ±Infinity appear only where a generator puts them on purpose (`poison`): every poisoned case holds
 * a NaN, and, where the groups allow it with one clean group left over, a +Infinity and a -Infinity, each in
 * its own group (`poisonCount`). Drawing one of the three per case left the NaN out of a third of the cases,
 * and at 5 runs a NaN-only bug then escaped 14 seeds in 100. Every value is rounded to
 * the adapter's precision here, at generation, so the adapter and the float64 reference see the same numbers.
 *
 * Data of one statistics group (a BatchNorm channel, a LayerNorm or RMSNorm row, a GroupNorm group, an
 * InstanceNorm instance) is `offset + scale·t` with
 * t ∈ [-1, 1]; the group's kind decides offset and scale:
 *   typical   offset ∈ [-3, 3], scale ∈ [0.25, 4]
 *   offset κ  offset = ±κ·s, scale s: the offset is κ times the spread (κ = 1e2 … 1e6); for float16 s shrinks
 *             so the offset stays representable (|x| ≤ 512, so a sum of the values cannot overflow)
 *   tiny      scale 10^e, e ∈ [-6, -2]: variance from 1e-12 to 1e-4, against eps 1e-5 (eps placement shows)
 *   constant  every value the same, from values that are and are not exact in binary (0, 1, 0.1, -3.7, 1000.5)
 *   dyadic    t = k·2^-F for integers k: shifts and power-of-two scalings of these values are exact in the
 *             precision, so metamorphic relations hold exactly for the inputs (only the algorithm rounds)
 *
 * Shapes are drawn as geometries (norms/spec.ts): `{ shape }` for BatchNorm and InstanceNorm, with
 * `normalizedShape` for the row norms and `numGroups` for GroupNorm. `normCase` builds a case of any norm
 * from its spec's grouping, so every norm draws its data the same way.
 */
import fc from 'fast-check';
import type { Precision } from './adapter.js';
import { fitGeometry, geometryTags, sortFeatures, type Domain } from './domain.js';
import { offsetTags, type Feature } from './features.js';
import type { CaseOptions, Geometry, GroupKind, NormCase, NormSpec } from './norms/spec.js';
import { PRECISIONS, roundTo } from './precision.js';

export type { CaseOptions, GroupKind } from './norms/spec.js';

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** The largest offset magnitude the generators use at this precision. */
function maxMagnitude(precision: Precision): number {
  return precision === 'float16' ? 512 : 1e7;
}

/** Bits of the integer k in dyadic data, and of the shifts added to it, so that k + shift stays exact. */
export function dyadicBits(precision: Precision): { valueBits: number; shiftBits: number; fracBits: number } {
  const p = PRECISIONS[precision].p;
  // values t = k·2^-F with |k| ≤ 2^valueBits (|t| ≤ 4) plus an offset |o| ≤ 4 (2^(valueBits) grid steps);
  // a shift of up to 2^shiftBits grid steps keeps the integer |k + o + j| < 2^(p-1): exact.
  const valueBits = Math.min(10, p - 5);
  return { valueBits, shiftBits: Math.min(p - 3, 24), fracBits: valueBits - 2 };
}

// ---------------------------------------------------------------------------------------------------------
// Shapes

export interface ShapeLimits {
  maxN: number;
  maxC: number;
  maxSpatialRank: number;
  maxSpatial: number;
}

/** (N, C, ...spatial) with N·S ≥ 2 (training needs more than one value per channel). */
export function bnShape(l: ShapeLimits): fc.Arbitrary<number[]> {
  return fc
    .record({
      N: fc.integer({ min: 1, max: l.maxN }),
      C: fc.integer({ min: 1, max: l.maxC }),
      spatial: fc.array(fc.integer({ min: 1, max: l.maxSpatial }), { maxLength: l.maxSpatialRank }),
    })
    .map(({ N, C, spatial }) => [size(spatial) * N < 2 ? 2 : N, C, ...spatial]);
}

export function typicalShapes(quick: boolean): fc.Arbitrary<number[]> {
  return bnShape(quick ? { maxN: 4, maxC: 3, maxSpatialRank: 3, maxSpatial: 4 } : { maxN: 8, maxC: 5, maxSpatialRank: 3, maxSpatial: 6 });
}

/** Sizes divisible by neither 4 nor 8 (nor 2): vectorised loops must handle their remainders. */
export function oddShapes(quick: boolean): fc.Arbitrary<number[]> {
  const odd = fc.constantFrom(3, 5, 7, 9, 11, 13);
  return fc
    .record({ N: odd, C: fc.constantFrom(3, 5, 7), spatial: fc.array(quick ? fc.constantFrom(3, 5, 7) : odd, { minLength: 0, maxLength: 2 }) })
    .map(({ N, C, spatial }) => [N, C, ...spatial]);
}

/** N·S = 2: the smallest batch training accepts; the unbiased variance divides by 1. */
export function twoValueShapes(): fc.Arbitrary<number[]> {
  return fc.tuple(fc.constantFrom([2], [1, 2], [2, 1], [2, 1, 1], [1, 1, 2], [1, 2, 1], [1, 1, 1, 2]), fc.integer({ min: 1, max: 4 }))
    .map(([rest, C]) => [rest[0]!, C, ...rest.slice(1)]);
}

/** Spatial dimensions of size one: (N, C, 1), (N, C, 1, 1), (N, C, 1, W), (N, C, H, 1), (N, C, 1, 1, 1). */
export function unitSpatialShapes(): fc.Arbitrary<number[]> {
  return fc
    .tuple(fc.integer({ min: 2, max: 5 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 2, max: 5 }),
      fc.constantFrom('1', '1x1', '1xW', 'Hx1', '1x1x1'))
    .map(([N, C, k, form]) => {
      const spatial = { '1': [1], '1x1': [1, 1], '1xW': [1, k], 'Hx1': [k, 1], '1x1x1': [1, 1, 1] }[form]!;
      return [N, C, ...spatial];
    });
}

/** The divisors of n, ascending. */
export function divisors(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);
}

export interface GroupNormLimits extends Omit<ShapeLimits, 'maxC'> {
  /** the channel counts to draw */
  channels: readonly number[];
  /** which divisors of C the group count G is: any, 1, C, or strictly between (1 < G < C, where C has such) */
  groups: 'any' | 'one' | 'all' | 'between';
  /** the smallest N·(C/G)·S (PyTorch refuses 1) */
  minValues?: number;
}

/**
 * GroupNorm geometries: (N, C, ...spatial) with a G that divides C. A drawn index picks G among the allowed
 * divisors (so shrinking heads for the first); N grows until N·(C/G)·S ≥ minValues (default 2).
 */
export function gnShapes(l: GroupNormLimits): fc.Arbitrary<{ shape: number[]; numGroups: number }> {
  return fc
    .record({
      N: fc.integer({ min: 1, max: l.maxN }),
      C: fc.constantFrom(...l.channels),
      pick: fc.nat({ max: 11 }),
      spatial: fc.array(fc.integer({ min: 1, max: l.maxSpatial }), { maxLength: l.maxSpatialRank }),
    })
    .map(({ N, C, pick, spatial }) => {
      const all = divisors(C);
      const between = all.filter((d) => d > 1 && d < C);
      // 'between' falls back to every divisor for a C that has none strictly between 1 and C
      const allowed = l.groups === 'one' ? [1] : l.groups === 'all' ? [C] : l.groups === 'between' && between.length ? between : all;
      const G = allowed[pick % allowed.length]!;
      const perSample = (C / G) * size(spatial);
      const n = Math.max(N, Math.ceil((l.minValues ?? 2) / perSample));
      return { shape: [n, C, ...spatial], numGroups: G };
    });
}

/**
 * InstanceNorm geometries: (N, C, ...spatial) with S ≥ 2 spatial positions (PyTorch refuses one value per
 * instance when it uses the instance's statistics).
 */
export function inShapes(l: ShapeLimits & { minSpatialRank?: number }): fc.Arbitrary<number[]> {
  return fc
    .record({
      N: fc.integer({ min: 1, max: l.maxN }),
      C: fc.integer({ min: 1, max: l.maxC }),
      spatial: fc.array(fc.integer({ min: 1, max: l.maxSpatial }), { minLength: Math.max(1, l.minSpatialRank ?? 1), maxLength: l.maxSpatialRank }),
    })
    .map(({ N, C, spatial }) => {
      const s = [...spatial];
      if (size(s) < 2) s[0] = 2;
      return [N, C, ...s];
    });
}

/**
 * LayerNorm over 2–3 normalised axes, every one longer than 1: the statistics run over the whole
 * normalizedShape, so normalising over the last axis alone (or any sub-block of it) gives other numbers.
 */
export function multiAxisLnShapes(quick: boolean): fc.Arbitrary<{ shape: number[]; normalizedShape: number[] }> {
  return fc
    .record({
      outer: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 2 }),
      normalized: fc.array(fc.integer({ min: 2, max: quick ? 4 : 6 }), { minLength: 2, maxLength: 3 }),
    })
    .map(({ outer, normalized }) => ({ shape: [...outer, ...normalized], normalizedShape: normalized }));
}

/** LayerNorm: (...outer, ...normalizedShape), 1–2 outer and 1–2 normalised dimensions. */
export function lnShapes(quick: boolean, odd = false): fc.Arbitrary<{ shape: number[]; normalizedShape: number[] }> {
  const dim = odd ? fc.constantFrom(3, 5, 7, 9, 13) : fc.integer({ min: 1, max: quick ? 6 : 10 });
  return fc
    .record({
      outer: fc.array(fc.integer({ min: 1, max: quick ? 3 : 5 }), { minLength: 1, maxLength: 2 }),
      normalized: fc.array(dim, { minLength: 1, maxLength: 2 }),
    })
    .map(({ outer, normalized }) => ({ shape: [...outer, ...normalized], normalizedShape: normalized }));
}

// ---------------------------------------------------------------------------------------------------------
// Values

/**
 * t ∈ [-1, 1] on a grid of 2^-20: never subnormal (whose rounding is absolute, not relative; the error model
 * covers them only by a floor), uniform under fast-check's `unbiased` runs, shrinking towards 0.
 */
const unit = fc.integer({ min: -(2 ** 20), max: 2 ** 20 }).map((k) => k * 2 ** -20);
const CONSTANTS = [0, 1, 0.1, -3.7, 1000.5];

interface GroupParams {
  offset: number;
  scale: number;
  constant: number;
  /** zero_or_typical: this group is all zeros */
  zero?: boolean;
}

function groupParams(kind: GroupKind, precision: Precision): fc.Arbitrary<GroupParams> {
  if (kind === 'typical') {
    return fc.record({
      offset: unit.map((t) => 3 * t),
      scale: fc.constantFrom(0.25, 0.5, 1, 1.7, 4),
      constant: fc.constant(0),
    });
  }
  if (kind === 'tiny') {
    return fc.record({
      offset: unit.map((t) => 2 * t),
      scale: fc.constantFrom(1e-6, 1e-5, 1e-4, 1e-3, 1e-2),
      constant: fc.constant(0),
    });
  }
  if (kind === 'constant') return fc.record({ offset: fc.constant(0), scale: fc.constant(0), constant: fc.constantFrom(...CONSTANTS) });
  if (kind === 'dyadic') {
    // offsets in halves: on the grid, and |offset + t| ≤ 8 keeps k + shift within the precision's integers
    return fc.record({ offset: fc.integer({ min: -8, max: 8 }).map((k) => k / 2), scale: fc.constant(1), constant: fc.constant(0) });
  }
  if (kind === 'small') return fc.record({ offset: fc.constant(0), scale: fc.constantFrom(1e-6, 1e-5, 1e-4, 1e-3, 1e-2), constant: fc.constant(0) });
  if (kind === 'huge') {
    // float32 squares overflow past 1.8e19; float16 ones past 256 (its largest finite value is 65504)
    const scales = precision === 'float16' ? [1e3, 1e4, 3e4] : [1e20, 1e25, 1e30];
    return fc.record({ offset: fc.constant(0), scale: fc.constantFrom(...scales), constant: fc.constant(0) });
  }
  if (kind === 'zero_or_typical') {
    return fc.record({ offset: unit.map((t) => 3 * t), scale: fc.constantFrom(0.25, 0.5, 1, 1.7, 4), constant: fc.constant(0), zero: fc.boolean() });
  }
  const kappa = kind.offset;
  const s = Math.min(1, maxMagnitude(precision) / kappa);
  return fc.record({ offset: fc.constantFrom(kappa * s, -kappa * s), scale: fc.constant(s), constant: fc.constant(0) });
}

/** t values for a group kind: dyadic ones are k·2^-F, the others doubles in [-1, 1]. */
function tValues(kind: GroupKind, precision: Precision, n: number): fc.Arbitrary<number[]> {
  if (kind === 'dyadic') {
    const { valueBits, fracBits } = dyadicBits(precision);
    const K = 2 ** valueBits;
    return fc.array(fc.integer({ min: -K, max: K }).map((k) => k * 2 ** -fracBits), { minLength: n, maxLength: n });
  }
  return fc.array(unit, { minLength: n, maxLength: n });
}

const weightArb = fc.double({ min: -2, max: 2, noNaN: true, noDefaultInfinity: true }).map((w) => (Math.abs(w) < 0.1 ? 0.5 : w));
const biasArb = unit;

/**
 * How many of G groups a poisoned case poisons: the NaN always; +Inf and -Inf as well while one group stays
 * clean for the "others match the reference" half of the check. 1 group: NaN only (nothing else to compare).
 */
export function poisonCount(G: number): number {
  return Math.max(1, Math.min(3, G - 1));
}

interface Poison {
  /** distinct groups, the first gets the NaN */
  groups: number[];
  /** position inside each group */
  at: number[];
  /** with two poisons, the Infinity's sign */
  negative: boolean;
}

/** Distinct groups of G and a position in each of `perGroup` values, for `poisonCount(G)` poisons. */
function poisonArb(G: number, perGroup: number): fc.Arbitrary<Poison> {
  const P = poisonCount(G);
  return fc.record({
    groups: fc.uniqueArray(fc.integer({ min: 0, max: G - 1 }), { minLength: P, maxLength: P }),
    at: fc.array(fc.nat({ max: perGroup - 1 }), { minLength: P, maxLength: P }),
    negative: fc.boolean(),
  });
}

/** The values of the poisons, in the order of `Poison.groups`: NaN first, then ±Inf. */
function poisonValues(p: Poison): number[] {
  return [NaN, p.negative ? -Infinity : Infinity, p.negative ? Infinity : -Infinity].slice(0, p.groups.length);
}

function poisonLabel(p: Poison | null, group: string): string {
  if (!p) return '';
  const values = poisonValues(p);
  return p.groups.map((g, k) => `_${values[k]}_in_${group}${g}`).join('');
}

function rounded(precision: Precision, values: ArrayLike<number>): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = roundTo(precision, values[i]!);
  return out;
}

/**
 * The draws every case starts with, in this order (fast-check draws a record's fields in key order, so the
 * order is part of every seed's stream): `groups` statistics groups of `total` values, `params` weight/bias
 * elements.
 */
function sharedDraws(precision: Precision, o: CaseOptions, total: number, groups: number, params: number) {
  return {
    t: tValues(o.kind, precision, total),
    groups: fc.array(groupParams(o.kind, precision), { minLength: groups, maxLength: groups }),
    dy: fc.array(unit, { minLength: total, maxLength: total }),
    affine: o.affine === 'random' ? fc.boolean() : fc.constant(o.affine),
    weight: fc.array(weightArb, { minLength: params, maxLength: params }),
    bias: fc.array(biasArb, { minLength: params, maxLength: params }),
  };
}

/** The label part naming the group kind: 'typical', 'constant', 'offset1e4', ... */
const kindName = (kind: GroupKind) => (typeof kind === 'object' ? `offset${kind.offset.toExponential(0).replace('+', '')}` : kind);

/** What normCase needs of a norm's spec. */
export type CaseSpec = Pick<NormSpec, 'grouping' | 'describeGeometry' | 'tags' | 'groupNoun' | 'hasBias' | 'runningStats'>;

/** Where a case is drawn: the adapter's precision, and the domain its features must keep to (domain.ts). */
export interface Draw {
  precision: Precision;
  domain: Pick<Domain, 'excluded'>;
}

/** The feature tags of a group kind: the offset thresholds it reaches (features.ts), tiny, constant, small, huge data or zero rows. */
export function kindTags(kind: GroupKind): Feature[] {
  if (typeof kind === 'object') return offsetTags(kind.offset);
  const tags: Partial<Record<string, Feature>> = { tiny: 'tiny_variance', constant: 'constant', small: 'small_values', huge: 'huge_values', zero_or_typical: 'zero_rows' };
  return tags[kind] ? [tags[kind]!] : [];
}

/**
 * The geometries projected onto the draw's domain (domain.ts `fitGeometry`): each one that carries an
 * excluded feature is moved to a supported one, which records what was removed (`excluded`); one no move
 * fixes keeps its shape and is marked (`unsupported`), so its case is not graded. With nothing excluded, the
 * very same arbitrary.
 */
export function fittedGeometries<G extends Geometry>(spec: Pick<NormSpec, 'grouping' | 'tags'>, draw: Draw, geometries: fc.Arbitrary<G>): fc.Arbitrary<G> {
  const excluded = draw.domain.excluded;
  if (excluded.size === 0) return geometries;
  return geometries.map((g) => {
    if (g.excluded || g.unsupported) return g; // fitted already
    const f = fitGeometry(spec, g, excluded);
    if (!f) return { ...g, unsupported: geometryTags(spec, g).filter((t) => excluded.has(t)) };
    return f.removed.length ? ({ ...g, ...f.geometry, excluded: f.removed } as G) : g;
  });
}

/**
 * A case of the norm `spec` on geometries from `geometries`, every statistics group of the given kind,
 * within the draw's domain. Draws, in this order (a record draws its fields in key order, so the order is
 * part of every seed's stream): t, the groups' offsets and scales, dy, affine, weight, bias, the running
 * buffers (norms that have them), the poisons. With `no_affine` excluded the affine draw is still made
 * (and taken as true), so the data stay those of the same seed.
 */
export function normCase(spec: CaseSpec, draw: Draw, geometries: fc.Arbitrary<Geometry>, o: CaseOptions): fc.Arbitrary<NormCase> {
  const { precision } = draw;
  const excluded = draw.domain.excluded;
  return fittedGeometries(spec, draw, geometries).chain((geometry) => {
    const grouping = spec.grouping(geometry);
    const total = size(geometry.shape);
    const G = grouping.groups.length;
    const P = grouping.numParams;
    return fc
      .record({
        ...sharedDraws(precision, o, total, G, P),
        ...(spec.runningStats ? {
          runningMean: fc.array(unit, { minLength: P, maxLength: P }),
          runningVar: fc.array(fc.double({ min: 0.25, max: 4, noNaN: true, noDefaultInfinity: true }), { minLength: P, maxLength: P }),
        } : {}),
        poison: o.poison ? poisonArb(G, total / G) : fc.constant(null),
      })
      .map((r): NormCase => {
        const x = new Float64Array(total);
        grouping.groups.forEach((idx, k) => {
          const g = r.groups[k]!;
          for (const i of idx) x[i] = o.kind === 'constant' || g.zero ? g.constant : g.offset + g.scale * r.t[i]!;
        });
        const poisoned: number[] = [];
        if (r.poison) {
          const values = poisonValues(r.poison);
          r.poison.groups.forEach((group, k) => {
            x[grouping.groups[group]![r.poison!.at[k]!]!] = values[k]!;
            poisoned.push(group);
          });
        }
        const running = r as { runningMean?: number[]; runningVar?: number[] };
        // a random affine draw that came out false is taken as true when the domain excludes no_affine
        const keptAffine = !r.affine && o.affine === 'random' && excluded.has('no_affine');
        const affine = r.affine || keptAffine;
        const { excluded: fromGeometry, unsupported: _u, ...shape } = geometry;
        const tags = sortFeatures([...geometryTags(spec, shape), ...kindTags(o.kind), ...(affine ? [] : ['no_affine']), ...(r.poison ? ['nonfinite'] : [])]);
        const removed = sortFeatures([...(fromGeometry ?? []), ...(keptAffine ? ['no_affine'] : [])]);
        const unsupported = tags.filter((t) => excluded.has(t));
        return {
          ...shape,
          label: `${o.label}_${kindName(o.kind)}_${spec.describeGeometry(shape)}${affine ? '' : '_noaffine'}${poisonLabel(r.poison, spec.groupNoun)}`,
          tags,
          ...(removed.length ? { excluded: removed } : {}),
          ...(unsupported.length ? { unsupported } : {}),
          x: rounded(precision, x),
          dy: rounded(precision, r.dy),
          weight: affine ? rounded(precision, r.weight) : null,
          bias: affine && spec.hasBias ? rounded(precision, r.bias) : null,
          runningMean: running.runningMean ? rounded(precision, running.runningMean) : null,
          runningVar: running.runningVar ? rounded(precision, running.runningVar) : null,
          poisoned,
        };
      });
  });
}

/** The cases of a check that poses every case in one setting beyond its data (momentum None, eval backward), tagged with it. */
export function withTag<T extends { tags: Feature[] }>(cases: fc.Arbitrary<T>, f: Feature | undefined): fc.Arbitrary<T> {
  return f ? cases.map((c) => ({ ...c, tags: sortFeatures([...c.tags, f]) })) : cases;
}

/** Prints a case: label, and the values when there are few enough to read. */
export function describeCase(c: NormCase): string {
  const vals = (a: ArrayLike<number>) => `[${Array.from(a, (v) => (Number.isFinite(v) ? +v.toPrecision(7) : v)).join(', ')}]`;
  const parts = [c.label];
  if (c.x.length <= 24) parts.push(`x=${vals(c.x)}`);
  else parts.push(`x: ${c.x.length} values`);
  if (c.weight && c.weight.length <= 8) parts.push(`weight=${vals(c.weight)}`);
  if (c.bias && c.bias.length <= 8) parts.push(`bias=${vals(c.bias)}`);
  return parts.join(' ');
}

/** Flat normal-form index → "[n, c, s…]" (or the row coordinates) for per-element outputs; per-group quantities "[i]". */
export function caseWhere(c: Geometry, quantity: string, index: number): string {
  if (index < 0) return '[-]';
  const full = size(c.shape);
  // a quantity may carry a qualifier after a space ('dx (no affine)')
  if (['y', 'dx'].includes(quantity.split(' ')[0]!) && index < full) {
    const coords: number[] = [];
    let r = index;
    for (let d = c.shape.length - 1; d >= 0; d--) {
      coords.unshift(r % c.shape[d]!);
      r = Math.floor(r / c.shape[d]!);
    }
    return `[${coords.join(', ')}]`;
  }
  return `[${index}]`;
}
