/**
 * Preallocated scratch for the RMSNorm backward, so no call allocates a typed array: the float64 accumulator of
 * dweight across rows, and a weight of ones for elementwise_affine = false (the loops then have one shape). One
 * workspace serves any number of calls with the same D.
 */
import { describe, KernelShapeError } from '../shared/args.js';

export class RmsNormWorkspace {
  readonly D: number;
  readonly accWeight: Float64Array;
  readonly ones: Float32Array;
  constructor(D: number) {
    if (!Number.isInteger(D) || D < 1) throw new KernelShapeError(`D: expected a positive integer row length, got ${describe(D)}`);
    this.D = D;
    this.accWeight = new Float64Array(D);
    this.ones = new Float32Array(D).fill(1);
  }
}
