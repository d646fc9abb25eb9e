/**
 * What the suite knows about one normalisation, in one place: a `NormSpec`. The checks (checks/*.ts) are
 * written once against this interface and instantiated for every norm in NORMS (norms/index.ts); a norm's
 * spec file says how it groups values into statistics groups, which capabilities it calls and how, what its
 * reference and its bounds are, which generators pose its cases, which edge cases it has and which
 * metamorphic relations hold for it.
 *
 * The normal form every check works in: data as Float64Array already rounded to the adapter's precision,
 * layout-aware norms (BatchNorm, GroupNorm, InstanceNorm) in NCHW (N, C, ...spatial), row norms (LayerNorm,
 * RMSNorm) as (...outer, ...normalizedShape). A spec's `forward`/`backward` convert to the adapter's layout
 * and arrays (invoke.ts helpers), call the capability and validate what comes back.
 *
 * A statistics group is the set of values one mean/rstd is computed over: a BatchNorm channel (over the
 * batch and the spatial positions), a LayerNorm or RMSNorm row, a GroupNorm group of one sample, an
 * InstanceNorm instance (one sample's channel). `Grouping` (error_model.ts) holds the groups and the
 * weight/bias index of every element; every bound takes any grouping.
 */
import type fc from 'fast-check';
import type { Capability, Precision } from '../adapter.js';
import type { Check } from '../check.js';
import type { Comparison } from '../compare.js';
import type { Feature } from '../features.js';
import type { BackwardBounds, GroupStats, Grouping, NormForwardBounds, SumConstant } from '../error_model.js';
import type { Fixture } from '../fixture_reader.js';
import type { CheckContext, GradsOutput } from '../invoke.js';
import type { RealisticLimits } from '../accuracy/realistic.js';

export type NormId = 'bn' | 'ln' | 'gn' | 'in' | 'rms';

/** The shape part of a case, in the normal form. */
export interface Geometry {
  /** NCHW (N, C, ...spatial) for layout-aware norms; (...outer, ...normalizedShape) for row norms */
  shape: number[];
  /** LayerNorm, RMSNorm */
  normalizedShape?: number[];
  /** GroupNorm */
  numGroups?: number;
  /** set by the projection onto an adapter's domain (domain.ts): the excluded features it removed */
  excluded?: Feature[];
  /** set when no projection could remove them: the excluded features it still has (its case is not graded) */
  unsupported?: Feature[];
}

/** One generated case: geometry, data and parameters, rounded to the adapter's precision. */
export interface NormCase extends Geometry {
  /** named by its settings: 'bn_train_typical_(2, 3, 4)_noaffine' */
  label: string;
  /**
   * Feature tags derived from the settings (features.ts: `rank4`, `no_affine`, `nonfinite`, `offset_1e4`,
   * `multi_axis`, …): generators.ts derives them for every norm, from the geometry (domain.ts
   * `geometryTags`, with the spec's own `tags`), the group kind, the affine draw and the poisons.
   */
  tags: Feature[];
  x: Float64Array;
  dy: Float64Array;
  weight: Float64Array | null;
  bias: Float64Array | null;
  /** per channel, for norms with running statistics (BatchNorm, InstanceNorm); null otherwise */
  runningMean: Float64Array | null;
  runningVar: Float64Array | null;
  /** statistics groups that hold a non-finite value on purpose; empty when none do */
  poisoned: number[];
}

/** A running-statistics state: the buffers before a call, or after it. */
export interface RunningBuffers {
  runningMean: Float64Array;
  runningVar: Float64Array;
}

/** A forward call's outputs in the normal form. */
export interface ForwardOutput {
  y: Float64Array;
  /** per statistics group; null when the adapter (or the norm) does not return it */
  mean: Float64Array | null;
  rstd: Float64Array | null;
  /** the running buffers after the call, when the call updates them */
  running: RunningBuffers | null;
  /** the step count the adapter returned (BatchNorm's numBatchesTracked), when it returns one */
  numBatchesTracked?: number | null;
}

/** The reference's outputs: the statistics always, the running buffers when asked to update them. */
export interface ReferenceForward {
  y: Float64Array;
  mean: Float64Array | null;
  rstd: Float64Array;
  running: RunningBuffers | null;
}

export interface ForwardOptions {
  /** the input (default: the case's) */
  x?: Float64Array;
  eps: number;
  /**
   * Running buffers to pass in and read back: BatchNorm passes the case's by default, and none for null
   * (track_running_stats=False); InstanceNorm passes them only when given (track_running_stats=True), else none.
   */
  running?: RunningBuffers | null;
  /** fraction of the batch statistic (default: the adapter's conventions) */
  momentum?: number | null;
  numBatchesTracked?: number;
  /** reference only: the running variance takes the unbiased variance (default: the adapter's conventions) */
  unbiased?: boolean;
}

export interface BackwardOptions {
  /** the upstream gradient (default: the case's) */
  dy?: Float64Array;
  eps: number;
  /** differentiate the forward that normalises with the case's running statistics (eval mode) */
  useRunning?: boolean;
}

/** The bound functions of a norm, all taking the data of the case itself (error_model.ts). */
/** The norm's error model; `sum` is the constant of an n-term sum (error_model.ts SumConstant: the tolerance tier's). */
export interface NormBounds {
  forward(
    us: number[], x: ArrayLike<number>, grouping: Grouping, weight: ArrayLike<number> | null, bias: ArrayLike<number> | null, eps: number, sum?: SumConstant,
  ): NormForwardBounds;
  backward(
    us: number[], x: ArrayLike<number>, dy: ArrayLike<number>, grouping: Grouping, weight: ArrayLike<number> | null, eps: number,
    evalStats?: { runningMean: ArrayLike<number>; runningVar: ArrayLike<number> } | null, sum?: SumConstant,
  ): BackwardBounds;
  /** float64 statistics of one group (centre, spread, rstd): what x̂ = (x - mean)·rstd means for this norm */
  stats(x: ArrayLike<number>, idx: Int32Array, eps: number): GroupStats;
  /** the output of an honest two-pass implementation in the precision (reference_lowp.ts), quoted on failures */
  lowPrecision(precision: Precision, x: ArrayLike<number>, grouping: Grouping, weight: ArrayLike<number> | null, bias: ArrayLike<number> | null, eps: number): Float64Array;
}

export interface CaseOptions {
  label: string;
  kind: GroupKind;
  /** 'random': affine parameters or not, drawn */
  affine: boolean | 'random';
  /** put a NaN, and ±Inf where the groups allow, each into its own statistics group */
  poison?: boolean;
}

/**
 * Data of one statistics group is `offset + scale·t` with t ∈ [-1, 1] (generators.ts):
 *   typical   offset ∈ [-3, 3], scale ∈ [0.25, 4];   offset κ  offset = ±κ·scale;   tiny  scale 1e-6 … 1e-2;
 *   constant  every value the same;   dyadic  t = k·2^-F, so shifts and power-of-two scalings are exact;
 *   small     no offset, scale 1e-6 … 1e-2: mean squares 1e-12 … 1e-4 around eps (RMSNorm's tiny rows);
 *   huge      no offset, scale 1e20 … 1e30 (float16: 1e3 … 3e4): x² overflows the storage precision;
 *   zero_or_typical  each group either all zeros or typical, drawn per group.
 */
export type GroupKind = 'typical' | 'tiny' | 'constant' | 'dyadic' | 'small' | 'huge' | 'zero_or_typical' | { offset: number };

/** An edge-case check: a generator of the data where a bug class lives, judged differentially. */
export interface EdgeSpec {
  id: string;
  description: string;
  geometry(quick: boolean): fc.Arbitrary<Geometry>;
  kind: GroupKind;
  poison?: boolean;
  /** judge the forward (default) or the backward through the batch statistics */
  target?: 'forward' | 'backward';
  /** forward: compare the running buffers after the step too (BatchNorm) */
  running?: boolean;
  /** the cases' label (default: the id with dots as underscores) */
  label?: string;
  affine?: boolean | 'random';
  /**
   * Features every case of its geometry has (the two-values shapes: batch_of_2), beyond those of its kind and
   * poisons (added for it): where the run excludes one, the check is not applicable (check.ts `features`).
   */
  features?: Feature[];
}

/** Running statistics (BatchNorm, InstanceNorm): how a training step updates them, and its bound. */
export interface RunningSpec {
  descriptions: { runningMean: string; runningVar: string; cumulative?: string };
  /** the momentum a running check uses: the conventions' (BatchNorm), or InstanceNorm's reading of them */
  momentum(ctx: CheckContext): number | null;
  /** whether momentum = null (PyTorch's cumulative average over steps) exists: BatchNorm only */
  cumulative: boolean;
  /**
   * The feature of a case posed WITH running buffers, for a norm whose default is without them (InstanceNorm:
   * track_running_stats): the running and eval-mode checks carry it, and are not applicable where it is excluded.
   */
  tracking?: Feature;
  /**
   * The description of the check without running buffers (track_running_stats = False: none in, none out),
   * for a norm whose default is to track them (BatchNorm); absent: no such check.
   */
  untracked?: string;
  /** bound of one step, per channel; `fwd` holds the forward bounds of the step's input */
  stepBounds(us: number[], fwd: NormForwardBounds, grouping: Grouping, old: RunningBuffers, f: number, unbiased: boolean): RunningBuffers;
}

/** Normalising with given running statistics (BatchNorm eval, InstanceNorm with track_running_stats in eval). */
export interface EvalSpec {
  descriptions: { forward: string; backward?: string; affineMap: string };
  /** the capability of the eval forward, and of the eval-mode backward when it has one */
  forwardCapability: Capability;
  backwardCapability: Capability | null;
  /** y of the eval forward on the case (its shape and x), normalised with its running buffers */
  forward(ctx: CheckContext, c: NormCase, eps: number): Promise<Float64Array>;
  reference(c: NormCase, eps: number): Float64Array;
}

/** One capability as the hygiene checks call it: the raw adapter arguments, and the validated outputs. */
export interface HygieneCall {
  capability: Capability;
  rawArgs(ctx: CheckContext, c: NormCase): object;
  outputs(ctx: CheckContext, c: NormCase): Promise<Record<string, Float64Array | null>>;
}

/** A permutation relation: the independent units of a case (samples or rows) can be reordered. */
export interface PermutationSpec {
  /** the check id's last part: 'batch_permutation', 'row_permutation' */
  name: string;
  /** what is permuted, in the quantities' names: 'batch', 'rows' */
  what: string;
  description: string;
  label: string;
  geometry?(quick: boolean): fc.Arbitrary<Geometry>;
  /** how many independent units (contiguous blocks of the normal form) a case has */
  units(g: Geometry): number;
}

/** An independence relation: changing one statistics group's data leaves every other group alone. */
export interface IndependenceSpec {
  name: string;
  description: string;
  label: string;
  geometry?(quick: boolean): fc.Arbitrary<Geometry>;
  /** the quantities' wording: 'channels', 'rows', 'groups', 'instances' */
  plural: string;
}

/** Golden PyTorch fixtures of the norm (fixtures/*.json of one `kind`). */
export interface FixtureSpec {
  id: string;
  description: string;
  /** the fixtures' `kind`: 'batchnorm', 'layernorm', … */
  kind: string;
  judge(ctx: CheckContext, fx: Fixture): Promise<Comparison[] | string>;
}

export interface NormSpec {
  /** the check id prefix: 'bn', 'ln', 'gn', 'in', 'rms' */
  id: NormId;
  /** 'BatchNorm' */
  name: string;
  /** the PyTorch module it follows, for `normcheck list` */
  pytorch: string;
  /** the statistics group, for descriptions and labels: 'channel', 'row', 'group', 'instance' */
  groupNoun: string;
  /** whether the mean is subtracted: shift invariance, Σdx = 0 and a saved mean hold only then */
  centred: boolean;
  hasBias: boolean;
  /**
   * What a NaN or ±Inf in a statistics group must make non-finite: the whole group (a mean-subtracted norm:
   * x - mean is ∞ - ∞ or NaN everywhere), or only the element itself (RMSNorm: a +Inf makes rstd 0, so its
   * finite neighbours come out as their limit 0, or NaN when the implementation scales the row first).
   */
  poison: 'group' | 'element';
  /** whether cases carry running buffers (drawn per case: BatchNorm, InstanceNorm) */
  runningStats: boolean;
  /**
   * Check ids: the batch-statistics forward `ids.forward` and the checks on it under `ids.forwardPrefix`
   * ('bn.train.forward', 'bn.train.shift_invariance'); the backward `ids.backward` and its relations under
   * `ids.backwardPrefix` ('bn.backward.train', 'bn.backward.sum_dx_zero'); `ids.eval` the eval-mode ones.
   */
  ids: { forwardPrefix: string; forward: string; backwardPrefix: string; backward: string; evalPrefix?: string; backwardEval?: string };
  /** labels of the differential cases: forward, backward (default `${id}_forward`, `${id}_backward`) */
  labels?: { forward?: string; backward?: string };
  /** descriptions of the differential forward and backward checks */
  descriptions: { forward: string; backward: string; sumDxZero?: string; sumDxXhat: string; dbiasSumDy?: string; gradcheck: string; shiftUnit?: string };
  capabilities: { forward: Capability; backward: Capability };
  /**
   * The differential backward: 'both' judges each case with its affine parameters and again without them
   * (every run compares dweight and dbias); 'random' draws affine or not per case.
   */
  backwardAffine: 'both' | 'random';
  /** the same for the differential forward (default 'random') */
  forwardAffine?: 'both' | 'random';

  /** the statistics groups and parameter indices of a geometry */
  grouping(g: Geometry): Grouping;
  /** the geometry in a label: '(2, 3, 4)', '(2, 6)_normalized(6,)', '(2, 4, 3)_groups2' */
  describeGeometry(g: Geometry): string;
  /**
   * The norm's own feature tags of a geometry, beyond those every norm gets from domain.ts `geometryTags`
   * (rank, unit_spatial, multi_axis, groups_1, groups_eq_channels): BatchNorm's batch_of_2. Optional.
   */
  tags?(g: Geometry): Feature[];
  geometry: {
    typical(quick: boolean): fc.Arbitrary<Geometry>;
    /** the small shapes the hygiene checks use */
    hygiene(): fc.Arbitrary<Geometry>;
    /**
     * Real layer shapes and block/vector boundary sizes (accuracy/realistic.ts), drawn by the full profile's
     * differential checks at a few cases per property (checks/differential.ts)
     */
    realistic(l: RealisticLimits): fc.Arbitrary<Geometry>;
  };

  forward(ctx: CheckContext, c: NormCase, o: ForwardOptions): Promise<ForwardOutput>;
  backward(ctx: CheckContext, c: NormCase, o: BackwardOptions): Promise<GradsOutput>;
  reference: {
    forward(ctx: CheckContext, c: NormCase, o: ForwardOptions): ReferenceForward;
    backward(ctx: CheckContext, c: NormCase, o: BackwardOptions): GradsOutput;
  };
  bounds: NormBounds;

  running?: RunningSpec;
  evalMode?: EvalSpec;
  permutation: PermutationSpec;
  independence: IndependenceSpec;
  edges: readonly EdgeSpec[];
  hygiene: readonly HygieneCall[];
  fixtures?: FixtureSpec;
  /** checks of this norm alone (GroupNorm's indivisible channels, RMSNorm's default eps, …), in catalog order */
  extra?: readonly Check[];
}

/** Elements of a shape. */
export const sizeOf = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
