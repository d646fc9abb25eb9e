/**
 * Preallocated scratch for the InstanceNorm kernels: the GroupNorm workspace their versions run on (per-channel
 * sums and constants, the backward's float64 accumulators), and each instance's biased variance, which the
 * running-statistics update averages over the batch. One workspace serves any number of calls with the same C;
 * the variance buffer grows at the first call with a larger N·C and is reused after that.
 */
import { GroupNormWorkspace } from '../groupnorm/workspace.js';
import { describe, KernelShapeError } from '../shared/args.js';

export class InstanceNormWorkspace {
  /** channels */
  readonly C: number;
  /** the GroupNorm workspace the versions run on (G = C) */
  readonly groups: GroupNormWorkspace;
  private buffer = new Float64Array(0);

  constructor(C: number) {
    if (!Number.isInteger(C) || C < 1) throw new KernelShapeError(`C: expected a positive integer number of channels, got ${describe(C)}`);
    this.C = C;
    this.groups = new GroupNormWorkspace(C);
  }

  /** At least n float64 values for the instances' variances (n = N·C). */
  variance(n: number): Float64Array {
    if (this.buffer.length < n) this.buffer = new Float64Array(n);
    return this.buffer;
  }
}
