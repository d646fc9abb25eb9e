/**
 * The feature tags: ONE list of what a case can have that an implementation may not support (test262 and
 * WPT tag their tests by language feature the same way). Every generated case and every fixture carries the
 * tags of its settings (generators.ts `normCase`, domain.ts `fixtureTags`); an adapter declares the ones it
 * does not support (`unsupported`, adapter.ts), a run can leave some out (`--without`), and an expectation
 * can name the ones a defect is confined to (expectations.ts). conformance/README.md shows this list.
 *
 * The offsets are thresholds: a case offset by 10^5 times its spread carries offset_1e2 … offset_1e5, so
 * declaring offset_1e4 leaves out every case offset by 10^4 or more.
 */
import { closestNames } from './closest_names.js';
import type { NormId } from './norms/spec.js';

interface FeatureInfo {
  /** one line: what a case with this tag has */
  meaning: string;
  /** the norms whose cases or fixtures can carry it */
  norms: readonly NormId[];
}

const ALL: readonly NormId[] = ['bn', 'ln', 'gn', 'in', 'rms'];
const LAYOUT_AWARE: readonly NormId[] = ['bn', 'gn', 'in'];
const offset = (k: number): FeatureInfo => ({ meaning: `inputs offset by at least 1e${k} times their spread (one-pass variance loses its digits)`, norms: ALL });

export const FEATURES = {
  rank2: { meaning: 'input of rank 2: (N, C), or one outer and one normalised axis', norms: ALL },
  rank3: { meaning: 'input of rank 3: (N, C, L) — BatchNorm1d, InstanceNorm1d — or three axes of a row norm', norms: ALL },
  rank4: { meaning: 'input of rank 4: (N, C, H, W) — BatchNorm2d, InstanceNorm2d — or four axes of a row norm', norms: ALL },
  rank5: { meaning: 'input of rank 5: (N, C, D, H, W) — BatchNorm3d, InstanceNorm3d — or five axes of a row norm', norms: ALL },
  no_affine: { meaning: 'neither weight nor bias (affine=False, elementwise_affine=False)', norms: ALL },
  unit_spatial: { meaning: 'a spatial dimension of size 1: (N, C, 1), (N, C, H, 1), …', norms: LAYOUT_AWARE },
  batch_of_2: { meaning: 'BatchNorm: N·spatial = 2 values per channel (the unbiased variance divides by 1)', norms: ['bn'] },
  multi_axis: { meaning: 'LayerNorm or RMSNorm over two or more axes longer than 1', norms: ['ln', 'rms'] },
  groups_1: { meaning: 'GroupNorm with one group (statistics over all channels of a sample)', norms: ['gn'] },
  groups_eq_channels: { meaning: 'GroupNorm with as many groups as channels (one channel per group)', norms: ['gn'] },
  single_value_groups: { meaning: 'GroupNorm: one value per group (C/G = 1 and no spatial extent): the group normalises to 0', norms: ['gn'] },
  two_values: { meaning: 'InstanceNorm: two spatial positions per instance (the unbiased running variance divides by 1)', norms: ['in'] },
  nonfinite: { meaning: 'a NaN, +Inf and -Inf in the input, each in its own statistics group', norms: ALL },
  offset_1e2: offset(2),
  offset_1e3: offset(3),
  offset_1e4: offset(4),
  offset_1e5: offset(5),
  offset_1e6: offset(6),
  tiny_variance: { meaning: 'variances 1e-12 … 1e-4, around eps = 1e-5', norms: ALL },
  constant: { meaning: 'every value of a statistics group the same (zero variance)', norms: ALL },
  small_values: { meaning: 'RMSNorm: mean squares 1e-12 … 1e-4, around eps', norms: ['rms'] },
  huge_values: { meaning: 'RMSNorm: values whose squares overflow the storage precision', norms: ['rms'] },
  zero_rows: { meaning: 'RMSNorm: rows of zeros among typical ones', norms: ['rms'] },
  momentum_none: { meaning: 'BatchNorm momentum=None: the running statistics are the cumulative average', norms: ['bn'] },
  no_running_stats: { meaning: 'BatchNorm track_running_stats=False: no running buffers (null in the call and in the result)', norms: ['bn'] },
  track_running_stats: { meaning: 'InstanceNorm track_running_stats=True: running buffers averaged over the batch', norms: ['in'] },
  eval_backward: { meaning: 'the backward of eval mode (BatchNorm training=False): the statistics are constants', norms: ['bn', 'in'] },
  eps_default: { meaning: 'RMSNorm eps=None: the machine epsilon of the precision', norms: ['rms'] },
} as const satisfies Record<string, FeatureInfo>;

export type Feature = keyof typeof FEATURES;

export const FEATURE_NAMES = Object.keys(FEATURES) as Feature[];

export function isFeature(s: unknown): s is Feature {
  return typeof s === 'string' && Object.hasOwn(FEATURES, s);
}

/** The offset thresholds a case offset by κ times its spread reaches: offset_1e2 … offset_1eK for 10^K ≤ κ. */
export function offsetTags(kappa: number): Feature[] {
  const out: Feature[] = [];
  for (let k = 2; k <= 6; k++) if (kappa >= 10 ** k) out.push(`offset_1e${k}` as Feature);
  return out;
}

/** The rank tag of a shape (`rank2` … `rank5`), or none outside that range. */
export function rankTag(rank: number): Feature[] {
  return rank >= 2 && rank <= 5 ? [`rank${rank}` as Feature] : [];
}

/** Reads of a feature name a user typed: the feature, or an error message with the closest names. */
export function unknownFeatureMessage(name: string): string {
  const near = closestNames(name, FEATURE_NAMES);
  return `unknown feature "${name}"${near.length ? ` (did you mean ${near.join(' or ')}?)` : ''}; the features are ${FEATURE_NAMES.join(', ')}`;
}

/** A comma-separated list of feature names (`--without rank5,no_affine`), each checked; throws Error naming the bad one. */
export function parseFeatureList(text: string): Feature[] {
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new Error(`expected comma-separated feature names, got "${text}"; the features are ${FEATURE_NAMES.join(', ')}`);
  for (const n of names) if (!isFeature(n)) throw new Error(unknownFeatureMessage(n));
  return [...new Set(names)] as Feature[];
}

/** How a report names a feature in a sentence: 'rank-5', 'non-affine', 'offset ≥ 1e4'. */
export function featurePhrase(f: Feature): string {
  if (/^rank\d$/.test(f)) return `rank-${f.slice(4)}`;
  if (f.startsWith('offset_')) return `offset ≥ ${f.slice(7)}`;
  const words: Partial<Record<Feature, string>> = { no_affine: 'non-affine', nonfinite: 'non-finite', batch_of_2: 'batch-of-2', eval_backward: 'eval-mode backward' };
  return words[f] ?? f.replace(/_/g, ' ');
}

/** "rank-5 and non-affine", "rank-5, non-affine and offset ≥ 1e4" */
export function featureSentence(fs: readonly Feature[]): string {
  const p = fs.map(featurePhrase);
  return p.length <= 1 ? (p[0] ?? '') : `${p.slice(0, -1).join(', ')} and ${p[p.length - 1]}`;
}
