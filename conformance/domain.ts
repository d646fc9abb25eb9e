/**
 * The domain of a check run: the features (features.ts) its cases must not carry, and how the generators
 * keep to it without discarding anything.
 *
 * Exclusions come from three places: the adapter's `unsupported` declaration (per capability, or for every
 * one), the run's `--without`, and the features an expectation confines a defect to (graded apart, see
 * runner.ts). A check's exclusions are those of the capabilities it calls.
 *
 * Conditioning, not filtering. A generator that drew a case and threw it away when it carried an excluded
 * feature would starve fast-check (most of a rank-5-heavy generator's draws wasted) and, worse, change what
 * every seed draws. Here a drawn geometry is instead PROJECTED onto the domain by moves that keep the
 * case valid for its norm (the same statistics groups, or larger ones) and change nothing else:
 *   multi_axis           the normalised axes merged into one (same rows, same D)
 *   unit_spatial         spatial dimensions of 1 dropped (same N, C, S)
 *   groups_1 / _eq_…     another divisor of C as the group count (C doubled while it has none)
 *   batch_of_2           one more sample
 *   rankK                merging the last two spatial (or the first two outer) axes, or appending a spatial
 *                        axis (of 1, or of 2 without unit_spatial) / prepending an outer one, to the nearest
 *                        allowed rank; rank 2 from a spatial shape only where the groups stay the same
 *                        (BatchNorm: spatial into the batch; GroupNorm: into the channels)
 * and the affine parameters are kept (`no_affine`: the `affine` draw is still made, and mapped to true).
 * fast-check's `map` consumes no randomness, so the rest of the case is drawn from the same stream, and
 * with nothing excluded the generators are the very same arbitraries: same seed, same cases.
 */
import type { Adapter, Capability } from './adapter.js';
import { FEATURE_NAMES, isFeature, offsetTags, rankTag, type Feature } from './features.js';
import type { Fixture } from './fixture_reader.js';
import type { Geometry, NormSpec } from './norms/spec.js';

/** Where an exclusion comes from: the adapter's declaration, the run's --without, an expectation's features. */
export type ExclusionSource = 'adapter' | 'without' | 'expectation';

export interface Domain {
  /** features no case of the check may carry (the union over the capabilities it calls) */
  readonly excluded: ReadonlySet<Feature>;
  /** the features one capability cannot take (fixtures and hygiene judge capabilities one by one) */
  excludedFor(cap: Capability): ReadonlySet<Feature>;
  /** why a feature is excluded */
  sourceOf(f: Feature): ExclusionSource | null;
}

const NONE: ReadonlySet<Feature> = new Set();

/** Everything allowed: what every run without declarations, --without or feature expectations uses. */
export const FULL_DOMAIN: Domain = { excluded: NONE, excludedFor: () => NONE, sourceOf: () => null };

/** An adapter's `unsupported`, read into one form: features for every capability, and per capability. */
export interface UnsupportedFeatures {
  all: readonly Feature[];
  byCapability: Partial<Record<Capability, readonly Feature[]>>;
}

/** The declaration as the domain reads it (validated at load: validate_adapter.ts). */
export function unsupportedOf(adapter: Pick<Adapter, 'unsupported'>): UnsupportedFeatures {
  const u = adapter.unsupported;
  if (!u) return { all: [], byCapability: {} };
  if (Array.isArray(u)) return { all: u.filter(isFeature), byCapability: {} };
  const { '*': all = [], ...rest } = u as Record<string, readonly Feature[]>;
  return { all, byCapability: rest as Partial<Record<Capability, readonly Feature[]>> };
}

/**
 * The domain of one check on one adapter: `capabilities` are the ones it calls (its needs), `without` the
 * run's, `expected` the features an expectation confines a failure to (left out of the graded run).
 */
export function domainFor(
  unsupported: UnsupportedFeatures, capabilities: readonly Capability[], without: readonly Feature[] = [], expected: readonly Feature[] = [],
): Domain {
  const byCap = unsupported.byCapability;
  if (unsupported.all.length === 0 && Object.keys(byCap).length === 0 && without.length === 0 && expected.length === 0) return FULL_DOMAIN;
  // the first source that names a feature is the one reported (the adapter's declaration before --without)
  const source = new Map<Feature, ExclusionSource>();
  const note = (fs: readonly Feature[], s: ExclusionSource) => fs.forEach((f) => source.has(f) || source.set(f, s));
  note(unsupported.all, 'adapter');
  for (const fs of Object.values(byCap)) note(fs ?? [], 'adapter');
  note(without, 'without');
  note(expected, 'expectation');
  const common = [...unsupported.all, ...without, ...expected];
  const perCap = new Map<Capability, ReadonlySet<Feature>>();
  const excludedFor = (cap: Capability): ReadonlySet<Feature> => {
    let set = perCap.get(cap);
    if (!set) perCap.set(cap, (set = new Set([...common, ...(byCap[cap] ?? [])])));
    return set;
  };
  const excluded = new Set<Feature>(common);
  for (const c of capabilities) for (const f of excludedFor(c)) excluded.add(f);
  return { excluded, excludedFor, sourceOf: (f) => source.get(f) ?? null };
}

/** The features in catalog order (FEATURES' order), without repeats. */
export function sortFeatures(fs: Iterable<string>): Feature[] {
  const set = new Set(fs);
  return FEATURE_NAMES.filter((f) => set.has(f));
}

// ---------------------------------------------------------------------------------------------------------
// Tags of geometries and fixtures

const layoutAware = (g: Geometry) => !g.normalizedShape;
const spatialOf = (g: Geometry) => g.shape.slice(2);

/**
 * The tags of a geometry, the same for every norm: its rank; a spatial dimension of 1 (layout-aware norms);
 * normalising over several axes (row norms); one group or one channel per group (GroupNorm); then the norm's
 * own (`spec.tags`, e.g. BatchNorm's batch_of_2).
 */
export function geometryTags(spec: Pick<NormSpec, 'tags'>, g: Geometry): Feature[] {
  const t: string[] = [...rankTag(g.shape.length)];
  if (layoutAware(g) && spatialOf(g).includes(1)) t.push('unit_spatial');
  if (g.normalizedShape && g.normalizedShape.filter((d) => d > 1).length >= 2) t.push('multi_axis');
  if (g.numGroups !== undefined) {
    if (g.numGroups === 1) t.push('groups_1');
    if (g.numGroups === g.shape[1]) t.push('groups_eq_channels');
  }
  if (spec.tags) t.push(...spec.tags(g));
  return sortFeatures(t);
}

/**
 * The tags of a fixture, from its settings (the generator's names: shape, affine / elementwise_affine,
 * momentum, track_running_stats, num_groups, normalized_shape, eps, input.offset), so every norm's fixtures
 * are tagged the same way. `kind` decides what track_running_stats means: BatchNorm's default is to track
 * (no_running_stats when not), InstanceNorm's is not to (track_running_stats when it does).
 */
export function fixtureTags(fx: Fixture): Feature[] {
  const s = fx.settings;
  const t: string[] = [];
  const shape = Array.isArray(s.shape) ? (s.shape as number[]) : null;
  if (shape) t.push(...rankTag(shape.length));
  const normalized = Array.isArray(s.normalized_shape) ? (s.normalized_shape as number[]) : null;
  if (shape && !normalized && shape.length > 2 && shape.slice(2).includes(1)) t.push('unit_spatial');
  if (normalized && normalized.filter((d) => d > 1).length >= 2) t.push('multi_axis');
  if (s.affine === false || s.elementwise_affine === false) t.push('no_affine');
  if (fx.kind === 'batchnorm') {
    if (s.momentum === null) t.push('momentum_none');
    if (s.track_running_stats === false) t.push('no_running_stats');
    if (shape && shape[0]! * shape.slice(2).reduce((a, b) => a * b, 1) === 2) t.push('batch_of_2');
  }
  if (fx.kind === 'instancenorm' && s.track_running_stats === true) t.push('track_running_stats');
  if (typeof s.num_groups === 'number' && shape) {
    if (s.num_groups === 1) t.push('groups_1');
    if (s.num_groups === shape[1]) t.push('groups_eq_channels');
  }
  if (fx.kind === 'rmsnorm' && s.eps === null) t.push('eps_default');
  const input = s.input as { offset?: unknown; scale?: unknown } | undefined;
  if (input && typeof input.offset === 'number' && input.offset !== 0) {
    // the fixtures' data are offset + scale·N(0, 1): κ is the offset over the spread (scale, default 1)
    const scale = typeof input.scale === 'number' && input.scale > 0 ? input.scale : 1;
    t.push(...offsetTags(Math.abs(input.offset) / scale));
  }
  return sortFeatures(t);
}

// ---------------------------------------------------------------------------------------------------------
// Projection onto the domain

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

function divisors(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);
}

/** Group sizes, sorted: a move that keeps them keeps the statistics the norm computes over. */
function groupSizes(spec: Pick<NormSpec, 'grouping'>, g: Geometry): string {
  return spec.grouping(g).groups.map((idx) => idx.length).sort((a, b) => a - b).join(',');
}

/** The geometry reshaped to `rank` by the moves of the header, or null when no move gets there. */
function toRank(spec: Pick<NormSpec, 'grouping'>, g: Geometry, rank: number, excluded: ReadonlySet<Feature>): Geometry | null {
  const shape = [...g.shape];
  if (layoutAware(g)) {
    while (shape.length > Math.max(rank, 3)) {
      const last = shape.pop()!;
      shape[shape.length - 1]! *= last;
    }
    if (rank === 2 && shape.length === 3) {
      // (N, C, S) → (N·S, C) keeps BatchNorm's channels; (N, C·S) with the same group count keeps GroupNorm's
      // groups (channel c·S + s falls in group c/(C/G)); InstanceNorm needs its spatial extent: neither
      const [N, C, S] = shape as [number, number, number];
      for (const folded of [{ ...g, shape: [N * S, C] }, { ...g, shape: [N, C * S] }]) {
        if (folded.numGroups === undefined && folded.shape[1] !== C) continue; // channels change: only with groups
        if (groupSizes(spec, folded) === groupSizes(spec, { ...g, shape })) return folded;
      }
      return null;
    }
    while (shape.length < rank) shape.push(excluded.has('unit_spatial') ? 2 : 1);
    return { ...g, shape };
  }
  let ns = [...g.normalizedShape!];
  let outer = shape.slice(0, shape.length - ns.length);
  while (outer.length + ns.length > rank) {
    if (outer.length >= 2) outer = [outer[0]! * outer[1]!, ...outer.slice(2)];
    else if (ns.length >= 2) ns = [ns[0]! * ns[1]!, ...ns.slice(2)];
    else return null;
  }
  while (outer.length + ns.length < rank) outer = [1, ...outer];
  return { ...g, shape: [...outer, ...ns], normalizedShape: ns };
}

export interface Fitted {
  geometry: Geometry;
  /** the excluded features the drawn geometry had, which the projection removed */
  removed: Feature[];
}

/**
 * The drawn geometry projected onto the domain (see the header): itself when it carries no excluded
 * feature; null when no move removes them all (the case is then not graded, and counted so).
 */
export function fitGeometry(spec: Pick<NormSpec, 'grouping' | 'tags'>, g: Geometry, excluded: ReadonlySet<Feature>): Fitted | null {
  const bad = (h: Geometry) => geometryTags(spec, h).filter((t) => excluded.has(t));
  const removed = bad(g);
  if (removed.length === 0) return { geometry: g, removed };
  let h: Geometry = { ...g, shape: [...g.shape], ...(g.normalizedShape ? { normalizedShape: [...g.normalizedShape] } : {}) };
  if (excluded.has('multi_axis') && h.normalizedShape && bad(h).includes('multi_axis')) {
    const outer = h.shape.slice(0, h.shape.length - h.normalizedShape.length);
    const D = prod(h.normalizedShape);
    h = { ...h, shape: [...outer, D], normalizedShape: [D] };
  }
  if (excluded.has('unit_spatial') && layoutAware(h)) h = { ...h, shape: [...h.shape.slice(0, 2), ...spatialOf(h).filter((d) => d !== 1)] };
  if (h.numGroups !== undefined) {
    const ok = (G: number, C: number) => !(excluded.has('groups_1') && G === 1) && !(excluded.has('groups_eq_channels') && G === C);
    let C = h.shape[1]!;
    if (!ok(h.numGroups, C)) {
      for (let k = 1; k <= 4; k++) {
        const G = divisors(C * k).filter((d) => ok(d, C * k)).pop();
        if (G !== undefined) {
          C *= k;
          h = { ...h, shape: [h.shape[0]!, C, ...h.shape.slice(2)], numGroups: G };
          break;
        }
      }
    }
  }
  // a norm's own tags (batch_of_2): more samples, or more rows
  for (let k = 0; k < 3 && bad(h).some((t) => !t.startsWith('rank')); k++) h = { ...h, shape: [h.shape[0]! + 1, ...h.shape.slice(1)] };
  const rankBad = bad(h).find((t) => t.startsWith('rank'));
  if (rankBad) {
    const r = h.shape.length;
    const targets = [2, 3, 4, 5].filter((t) => !excluded.has(`rank${t}` as Feature)).sort((a, b) => Math.abs(a - r) - Math.abs(b - r) || a - b);
    let fitted: Geometry | null = null;
    for (const t of targets) {
      const cand = toRank(spec, h, t, excluded);
      if (cand && bad(cand).length === 0) {
        fitted = cand;
        break;
      }
    }
    if (!fitted) return null;
    h = fitted;
  }
  return bad(h).length === 0 ? { geometry: h, removed } : null;
}
