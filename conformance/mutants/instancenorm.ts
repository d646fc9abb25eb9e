/**
 * Mutants of InstanceNorm: whose statistics, the running update, eval mode and the one-value error.
 */
import { mutant, type Mutant } from './mutant.js';

export const IN_MUTANTS: readonly Mutant[] = [
  // Statistics per channel over the whole batch: BatchNorm under InstanceNorm's name. Each sample's output then
  // depends on the other samples, which instance normalisation exists to avoid.
  mutant({
    name: 'in-batch-statistics', bugClass: 'InstanceNorm normalises with the batch statistics of each channel, not each instance\'s own',
    seenIn: 'a classic mistake (BatchNorm\'s reduction axes kept for InstanceNorm)',
    caughtBy: [{ check: 'in.forward', quantity: 'y' }, 'in.forward.instance_independence'],
    parts: { inStatistics: 'batch' },
  }),
  // The running variance from the biased instance variance, without PyTorch's S/(S-1).
  mutant({
    name: 'in-running-var-biased', bugClass: 'InstanceNorm\'s running variance takes the biased instance variance (no S/(S-1))',
    seenIn: 'a classic mistake (the biased variance the forward normalises with, reused for the buffer)',
    caughtBy: ['in.forward.running_var'],
    parts: { inRunningVariance: (v) => v },
  }),
  // The running buffers updated as BatchNorm updates them, from each channel's mean and unbiased variance over
  // all N·S values of the batch. The mean is the same as the average of the instance means, but the pooled
  // variance also holds the spread of the instance means between samples (and divides by N·S - 1, not S - 1):
  // the buffer then describes the batch, not the instances that eval mode normalises.
  mutant({
    name: 'in-running-stats-pooled', bugClass: 'InstanceNorm\'s running variance from the whole batch of each channel (BatchNorm\'s update), not the average of the instances\' variances',
    seenIn: 'a plausible shortcut (the BatchNorm running update reused on the (N, C, ...) input; ATen runs it on the (1, N·C, ...) view)',
    caughtBy: ['in.forward.running_var'],
    parts: { inRunningStatistics: 'pooled' },
  }),
  // With track_running_stats in eval, normalising with the instance's statistics anyway.
  mutant({
    name: 'in-eval-uses-instance-stats', bugClass: 'InstanceNorm in eval ignores the running statistics and uses the instance\'s own',
    seenIn: 'a classic mistake (use_input_stats not threaded through)',
    caughtBy: ['in.eval.forward', 'in.eval.affine_map'],
    parts: { inEvalStatistics: 'instance' },
  }),
  // No check for one value per instance: x - mean = 0 everywhere, so y = bias, silently.
  mutant({
    name: 'in-accepts-single-value', bugClass: 'InstanceNorm with one spatial value per instance returns the bias instead of refusing',
    seenIn: 'a classic mistake (PyTorch raises "Expected more than 1 spatial element when training")',
    caughtBy: ['in.forward.rejects_single_value'],
    parts: { inCheckSpatial: () => {} },
  }),
];
