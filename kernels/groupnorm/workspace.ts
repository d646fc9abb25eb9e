/**
 * Preallocated scratch for the GroupNorm kernels (and InstanceNorm's, which run them with G = C), so no call
 * allocates a typed array. Channels-last data visits every channel in each row, so the per-channel sums and the
 * per-channel constants of the normalise step live here, float64 as the accuracy argument needs; the backward's
 * float64 accumulators of dweight and dbias across samples too. One workspace serves any number of calls with
 * the same C, any G, N and S, either layout, forward and backward.
 */
import { describe, KernelShapeError } from '../shared/args.js';

export class GroupNormWorkspace {
  /** channels */
  readonly C: number;
  /** per channel: the shift K of its group (the group's first value), or the mean of its group in the backward */
  readonly shift: Float64Array;
  /** per channel: Σ(x - K) over a sample's positions (forward), Σ dy (backward) */
  readonly sum1: Float64Array;
  /** per channel: Σ(x - K)² or Σ((x - K) - dm)² (forward), Σ dy·(x - mean) (backward) */
  readonly sum2: Float64Array;
  /** per channel: dm = Σ(x - K)/D of its group */
  readonly dm: Float64Array;
  /** per channel: weight·rstd of its group, the slope of y (forward) and of dx in dy (backward) */
  readonly scale: Float64Array;
  /** per channel: the bias (forward), or the constant k0 of dx (backward) */
  readonly offset: Float64Array;
  /** per channel: the coefficient k1 of (x - mean) in dx (backward) */
  readonly k1: Float64Array;
  /** per channel: dweight and dbias accumulated across samples, rounded to float32 once at the end */
  readonly accWeight: Float64Array;
  readonly accBias: Float64Array;

  constructor(C: number) {
    if (!Number.isInteger(C) || C < 1) throw new KernelShapeError(`C: expected a positive integer number of channels, got ${describe(C)}`);
    this.C = C;
    const block = new Float64Array(9 * C);
    this.shift = block.subarray(0, C);
    this.sum1 = block.subarray(C, 2 * C);
    this.sum2 = block.subarray(2 * C, 3 * C);
    this.dm = block.subarray(3 * C, 4 * C);
    this.scale = block.subarray(4 * C, 5 * C);
    this.offset = block.subarray(5 * C, 6 * C);
    this.k1 = block.subarray(6 * C, 7 * C);
    this.accWeight = block.subarray(7 * C, 8 * C);
    this.accBias = block.subarray(8 * C, 9 * C);
  }
}
