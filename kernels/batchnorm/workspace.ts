/**
 * Preallocated scratch for the BatchNorm kernels, so no call allocates a typed array.
 *
 * Channels-last (NHWC, (M, C)) data visits every channel in each row, so the per-channel sums cannot live in
 * local variables the way they do for NCHW (one channel at a time); they live here, in float64 because that is
 * what the accuracy model of api.ts needs. One workspace serves any number of calls with the same C,
 * in either layout, forward and backward (calls must not run concurrently on one workspace — JS cannot anyway).
 */
import { describe, KernelShapeError } from '../shared/args.js';

export class BatchNormWorkspace {
  /** channels */
  readonly C: number;
  /** per channel: the shift K of the shifted sums (the channel's first value) */
  readonly shift: Float64Array;
  /** per channel: Σ(x - K), then dm = Σ(x - K)/M, in the forward; Σ dy in the backward */
  readonly sum1: Float64Array;
  /** per channel: Σ(x - K)² or Σ(x - mean)² in the forward, Σ dy·(x - mean) in the backward */
  readonly sum2: Float64Array;
  /** per channel: weight·rstd, the slope of the forward's affine map */
  readonly scale: Float64Array;
  /** per channel: the bias (0 without affine) */
  readonly offset: Float64Array;
  /** per channel: the variance the last forward used (biased batch variance in training, running variance in eval) */
  readonly variance: Float64Array;
  /** per channel: the two constants of the training backward's dx = scale·dy - k0 - (x - mean)·k1 */
  readonly k0: Float64Array;
  readonly k1: Float64Array;

  constructor(C: number) {
    if (!Number.isInteger(C) || C < 1) throw new KernelShapeError(`C: expected a positive integer number of channels, got ${describe(C)}`);
    this.C = C;
    const block = new Float64Array(8 * C);
    this.shift = block.subarray(0, C);
    this.sum1 = block.subarray(C, 2 * C);
    this.sum2 = block.subarray(2 * C, 3 * C);
    this.scale = block.subarray(3 * C, 4 * C);
    this.offset = block.subarray(4 * C, 5 * C);
    this.variance = block.subarray(5 * C, 6 * C);
    this.k0 = block.subarray(6 * C, 7 * C);
    this.k1 = block.subarray(7 * C, 8 * C);
  }
}
