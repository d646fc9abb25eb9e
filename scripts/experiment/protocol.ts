/**
 * The experiment of issue 7: which configurations run, and how each run trains and is scored.
 * torch_experiment.py restates the same protocol for PyTorch; a change here must be made there too.
 *
 *   network    784 → Linear 256 → norm → ReLU → Linear 128 → norm → ReLU → Linear 10, float32;
 *              norm ∈ {none, BatchNorm1d, LayerNorm}, eps 1e-5, BN momentum 0.1 (PyTorch's defaults)
 *   init       PyTorch's default — Linear weight and bias ~ U(±1/√fan_in) (kaiming_uniform with a = √5 gives
 *              this bound for the weight), norm weight 1 and bias 0 — then the Linear *weights* times the init
 *              scale. Biases are left alone: the scale is meant to change the gain of each layer, which the
 *              weights set; scaling the bias too would also shift every pre-activation by a random offset.
 *   training   plain SGD (momentum 0, weight decay 0) on the mean cross-entropy, 5 epochs; each epoch a fresh
 *              seeded permutation, consecutive batches of `batchSize`, the last one smaller. BatchNorm in training
 *              mode needs at least 2 samples per batch, so a configuration whose last batch would hold 1 sample
 *              is refused (7,996 = 124·64 + 60 = 999·8 + 4 = 3998·2: none does).
 *   eval       eval mode (BatchNorm's running statistics) over the whole test set; a sample counts as correct
 *              when all its logits are finite and the first maximal one is its label.
 *   divergence a run stops at the first non-finite batch loss, is marked diverged, and is scored as it stands.
 *   curves     the batch losses averaged over each tenth of an epoch (steps ⌊k·S/10⌋ .. ⌊(k+1)·S/10⌋ of the S
 *              steps of an epoch): 10 points per epoch; and the test accuracy after every epoch.
 *
 * Sweeps: one axis at a time around the default point (lr 0.1, init ×1, batch 64):
 *   lr {0.01, 0.1, 1.0}, init scale {0.1, 1, 10}, batch size {2, 8, 64} — 7 distinct configurations per variant.
 */
export type Variant = 'none' | 'batchnorm' | 'layernorm';
export const VARIANTS: readonly Variant[] = ['none', 'batchnorm', 'layernorm'];

export interface RunConfig {
  variant: Variant;
  lr: number;
  initScale: number;
  batchSize: number;
}

export type SweepAxis = 'lr' | 'initScale' | 'batchSize';

export const DEFAULT_POINT = { lr: 0.1, initScale: 1, batchSize: 64 } as const;
export const SWEEPS: Readonly<Record<SweepAxis, readonly number[]>> = {
  lr: [0.01, 0.1, 1.0],
  initScale: [0.1, 1, 10],
  batchSize: [2, 8, 64],
};

export interface Protocol {
  epochs: number;
  curvePointsPerEpoch: number;
  eps: number;
  bnMomentum: number;
  /** Stop each epoch after this many steps (quick mode and tests); null: the whole epoch. */
  maxStepsPerEpoch: number | null;
}

export const FULL_PROTOCOL: Protocol = { epochs: 5, curvePointsPerEpoch: 10, eps: 1e-5, bnMomentum: 0.1, maxStepsPerEpoch: null };
/** `--quick`: one epoch instead of five (and one seed, set by the driver). */
export const QUICK_PROTOCOL: Protocol = { ...FULL_PROTOCOL, epochs: 1 };

/** Every configuration of the given variants: the default point and the one-axis sweeps, without repeats. */
export function configurations(variants: readonly Variant[] = VARIANTS): RunConfig[] {
  const out: RunConfig[] = [];
  for (const variant of variants) {
    const seen = new Set<string>();
    for (const axis of Object.keys(SWEEPS) as SweepAxis[]) {
      for (const value of SWEEPS[axis]) {
        const config: RunConfig = { variant, ...DEFAULT_POINT, [axis]: value };
        const key = configKey(config);
        if (!seen.has(key)) {
          seen.add(key);
          out.push(config);
        }
      }
    }
  }
  return out;
}

/** A stable name for a configuration, e.g. `batchnorm lr=0.1 init=1 batch=64`. */
export function configKey(c: RunConfig): string {
  return `${c.variant} lr=${c.lr} init=${c.initScale} batch=${c.batchSize}`;
}

/** The configurations of a sweep along `axis` (the other two at the default point), in sweep order. */
export function sweepPoints(axis: SweepAxis, variant: Variant): RunConfig[] {
  return SWEEPS[axis].map((value) => ({ variant, ...DEFAULT_POINT, [axis]: value }));
}

/** Steps in one epoch of `n` samples at batch size `batchSize`; throws if the last batch would hold one sample. */
export function stepsPerEpoch(n: number, batchSize: number): number {
  if (!Number.isInteger(batchSize) || batchSize < 2) throw new RangeError(`batchSize: expected an integer >= 2 (BatchNorm needs two samples), got ${batchSize}`);
  const steps = Math.ceil(n / batchSize);
  const last = n - (steps - 1) * batchSize;
  if (last < 2) throw new RangeError(`batchSize ${batchSize}: the last batch of ${n} samples would hold ${last}; BatchNorm in training mode needs 2`);
  return steps;
}
