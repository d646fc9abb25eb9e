/**
 * The realistic size profile: the shapes real layers have, and the sizes where blocked, tiled and vectorised
 * reductions change code path — as fast-check arbitraries, cheap enough to draw a 2e5-value case in
 * milliseconds.
 *
 * Why: the error model's worst-case bound grows like γ_M·κ, linear in the group size M, while a defect that
 * scales like 1/M (a variance off by a factor 1 + 1e-3, the unbiased variance normalising) or one that only a
 * large group reaches (the last partial block of a blocked reduction, a second level of a tree reduction) is
 * invisible on the suite's small generated groups (M ≤ 1728). These shapes put real M under test:
 *   conv     (N, C, H, W), H = W ∈ {7, 14, 28, 56}, N up to 64: M = N·H·W from 1 568 to 200 704
 *            ((32, 64, 56, 56)-like with few channels: per-channel accuracy does not depend on C)
 *   dense    (N, C) with N ∈ {64 … 4096}: (256, 512) and (64, 8) (2-D inputs were N ≤ 8 before)
 *   rows     LayerNorm (R, D) and (B, T, D), D ∈ {768, 1024, 1536, 2048, 3072, 4096, 5120, 8192}
 *   boundary M (BN) or D (LN) = 2^k - 1, 2^k, 2^k + 1 for k = 10 … 17, and 4q ± 1, 8q ± 1, 16q ± 1
 * Drawn values: one fast-check integer seeds mulberry32 (reference/random.ts), which fills the group with
 * t ∈ [-1, 1] on the generators' 2^-20 grid; a group is offset + scale·t as in generators.ts. fast-check shrinks
 * the shape and the seed, not 2e5 separate values (whose shrink trees alone would cost seconds).
 */
import fc from 'fast-check';
import type { Precision } from '../adapter.js';
import { geometryTags, sortFeatures } from '../domain.js';
import { kindTags, type CaseSpec } from '../generators.js';
import type { CaseOptions, Geometry, GroupKind, NormCase } from '../norms/spec.js';
import { roundTo } from '../precision.js';
import { mulberry32 } from '../../reference/random.js';

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** 2^k - 1, 2^k, 2^k + 1 for k in [lo, hi]. */
export function powerOfTwoNeighbours(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let k = lo; k <= hi; k++) out.push(2 ** k - 1, 2 ** k, 2 ** k + 1);
  return out;
}

/** Sizes next to vector widths: 4q ± 1, 8q ± 1, 16q ± 1 in [min, max]. */
export function vectorNeighbour(min: number, max: number): fc.Arbitrary<number> {
  return fc.tuple(fc.constantFrom(4, 8, 16), fc.integer({ min: 0, max: 2 ** 20 }), fc.boolean())
    .map(([w, k, up]) => {
      const lo = Math.ceil((min + 1) / w);
      const hi = Math.floor((max - 1) / w);
      return (lo + (k % (hi - lo + 1))) * w + (up ? 1 : -1);
    });
}

/** A group size at a block or vector boundary in [min, max]. */
export function boundarySize(min: number, max: number): fc.Arbitrary<number> {
  const pow = powerOfTwoNeighbours(Math.ceil(Math.log2(min)), Math.floor(Math.log2(max))).filter((m) => m >= min && m <= max);
  return fc.oneof(fc.constantFrom(...pow), vectorNeighbour(min, max));
}

export interface RealisticLimits {
  /** the largest M (values per BatchNorm channel) to draw */
  maxM: number;
  /** the largest total number of values in one case */
  maxValues: number;
}

/** Full profile: M up to 200 704; the quick profile draws the same families up to 8 193. */
export const REALISTIC: RealisticLimits = { maxM: 200_704, maxValues: 270_000 };
export const REALISTIC_QUICK: RealisticLimits = { maxM: 8_193, maxValues: 40_000 };

/** BatchNorm NCHW shapes of real layers and of boundary sizes (see the header). */
export function realisticBnShapes(l: RealisticLimits): fc.Arbitrary<number[]> {
  const conv = fc.record({ N: fc.constantFrom(1, 2, 4, 8, 16, 32, 64), C: fc.integer({ min: 1, max: 3 }), H: fc.constantFrom(7, 14, 28, 56) })
    .filter(({ N, H }) => N * H * H >= 1000 && N * H * H <= l.maxM)
    .map(({ N, C, H }) => [N, C, H, H]);
  const dense = fc.oneof(
    fc.constant<number[]>([256, 512]),
    fc.constant<number[]>([64, 8]),
    fc.record({ N: fc.constantFrom(64, 256, 1024, 4096), C: fc.integer({ min: 2, max: 8 }) }).map(({ N, C }) => [N, C]),
  ).filter((s) => s[0]! <= l.maxM);
  // boundary sizes as (M, C) — channel stride C — or (1, C, M) — one contiguous run per channel
  const boundary = fc.tuple(boundarySize(1000, Math.min(l.maxM, 2 ** 17 + 1)), fc.integer({ min: 1, max: 2 }), fc.boolean())
    .map(([M, C, strided]) => (strided ? [M, C] : [1, C, M]));
  return fc.oneof(conv, dense, boundary).filter((s) => size(s) <= l.maxValues);
}

/** LayerNorm rows of transformer widths and of boundary sizes, 1–4 rows (or (B, T) = (1–2, 1–2)). */
export function realisticLnShapes(l: RealisticLimits): fc.Arbitrary<{ shape: number[]; normalizedShape: number[] }> {
  const width = fc.oneof(fc.constantFrom(768, 1024, 1536, 2048, 3072, 4096, 5120, 8192), boundarySize(700, 8193));
  return fc.record({ D: width, outer: fc.oneof(fc.tuple(fc.integer({ min: 1, max: 4 })), fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 }))) })
    .map(({ D, outer }) => ({ shape: [...outer, D], normalizedShape: [D] }))
    .filter(({ shape }) => size(shape) <= l.maxValues);
}

/**
 * GroupNorm (N, C, H, W) with C ∈ {32, 64} channels in G ∈ {8, 16, 32} groups (the usual 32 groups of
 * ResNet/UNet layers among them), H = W ∈ {7, 14, 28, 56}: a group holds (C/G)·H·W values, 98 to 25 088.
 */
export function realisticGnShapes(l: RealisticLimits): fc.Arbitrary<{ shape: number[]; numGroups: number }> {
  return fc.record({ N: fc.constantFrom(1, 2), C: fc.constantFrom(32, 64), G: fc.constantFrom(8, 16, 32), H: fc.constantFrom(7, 14, 28, 56) })
    .map(({ N, C, G, H }) => ({ shape: [N, C, H, H], numGroups: G }))
    .filter(({ shape, numGroups }) => size(shape) <= l.maxValues && (shape[1]! / numGroups) * shape[2]! * shape[3]! <= l.maxM);
}

/**
 * InstanceNorm: one plane per (sample, channel) of style-transfer and segmentation sizes, H = W ∈ {28, 56, 112}
 * (M = 784 … 12 544), or a (1, C, M) row of M at a block or vector boundary up to 2^14 + 1.
 */
export function realisticInShapes(l: RealisticLimits): fc.Arbitrary<number[]> {
  const planes = fc.record({ N: fc.constantFrom(1, 2), C: fc.integer({ min: 1, max: 4 }), H: fc.constantFrom(28, 56, 112) }).map(({ N, C, H }) => [N, C, H, H]);
  const boundary = fc.tuple(boundarySize(1000, Math.min(l.maxM, 2 ** 14 + 1)), fc.integer({ min: 1, max: 2 })).map(([M, C]) => [1, C, M]);
  return fc.oneof(planes, boundary).filter((s) => size(s) <= l.maxValues);
}

/** t ∈ [-1, 1] on the 2^-20 grid, n values from a seed. */
export function seededUnitValues(seed: number, n: number): Float64Array {
  const next = mulberry32(seed);
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) t[i] = (Math.floor(next() * (2 ** 21 + 1)) - 2 ** 20) * 2 ** -20;
  return t;
}

interface GroupDraw {
  offset: number;
  scale: number;
}

/** Per-group offset and scale of generators.ts's kinds 'typical' and offset κ (the kinds realistic cases use). */
function groupDraw(kind: GroupKind, precision: Precision): fc.Arbitrary<GroupDraw> {
  if (typeof kind === 'object') {
    const s = Math.min(1, (precision === 'float16' ? 512 : 1e7) / kind.offset);
    return fc.record({ offset: fc.constantFrom(kind.offset * s, -kind.offset * s), scale: fc.constant(s) });
  }
  if (kind !== 'typical') throw new Error(`realistic cases: kind must be 'typical' or { offset }, got ${JSON.stringify(kind)}`);
  return fc.record({ offset: fc.integer({ min: -(2 ** 20), max: 2 ** 20 }).map((k) => 3 * k * 2 ** -20), scale: fc.constantFrom(0.25, 0.5, 1, 1.7, 4) });
}

const exp = (k: number) => k.toExponential(0).replace('+', '');

const rounded = (precision: Precision, a: ArrayLike<number>) => Float64Array.from(a, (v) => roundTo(precision, v));

/**
 * A case of a realistic geometry, as generators.ts's `normCase` builds them (same kinds, labels, tags, value
 * ranges: weight in [-2, 2] away from 0, bias and dy in [-1, 1], running mean in [-1, 1], running variance in
 * [0.25, 4]), its values filled from one drawn seed.
 */
export function realisticCase(spec: CaseSpec, precision: Precision, geometries: fc.Arbitrary<Geometry>, o: CaseOptions): fc.Arbitrary<NormCase> {
  return geometries.chain((geometry) => {
    const grouping = spec.grouping(geometry);
    const G = grouping.groups.length;
    const P = grouping.numParams;
    return fc.record({
      seed: fc.integer({ min: 0, max: 0x7fffffff }),
      groups: fc.array(groupDraw(o.kind, precision), { minLength: G, maxLength: G }),
      affine: o.affine === 'random' ? fc.boolean() : fc.constant(o.affine),
    }).map(({ seed, groups, affine }): NormCase => {
      const total = size(geometry.shape);
      const t = seededUnitValues(seed, total);
      const x = new Float64Array(total);
      grouping.groups.forEach((idx, k) => {
        const g = groups[k]!;
        for (const i of idx) x[i] = g.offset + g.scale * t[i]!;
      });
      const p = seededUnitValues(seed ^ 0x5bd1e995, 4 * P);
      const weight = Float64Array.from(p.subarray(0, P), (v) => (Math.abs(2 * v) < 0.1 ? 0.5 : 2 * v));
      const tags = sortFeatures([...geometryTags(spec, geometry), ...kindTags(o.kind), ...(affine ? [] : ['no_affine'])]);
      const kindLabel = typeof o.kind === 'object' ? `offset${exp(o.kind.offset)}` : o.kind;
      return {
        ...geometry,
        label: `${o.label}_${kindLabel}_${spec.describeGeometry(geometry)}${affine ? '' : '_noaffine'}_seed${seed}`,
        tags,
        x: rounded(precision, x),
        dy: rounded(precision, seededUnitValues(seed ^ 0x27d4eb2d, total)),
        weight: affine ? rounded(precision, weight) : null,
        bias: affine && spec.hasBias ? rounded(precision, p.subarray(P, 2 * P)) : null,
        runningMean: spec.runningStats ? rounded(precision, p.subarray(2 * P, 3 * P)) : null,
        runningVar: spec.runningStats ? rounded(precision, Array.from(p.subarray(3 * P), (v) => 2.125 + 1.875 * v)) : null,
        poisoned: [],
      };
    });
  });
}
