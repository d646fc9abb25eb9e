/**
 * Preallocated scratch for the LayerNorm backward, so no call allocates a typed array: the float64 accumulators
 * of dweight and dbias across rows, and a weight of ones for elementwise_affine = false (the loops then have
 * one shape). One workspace serves any number of calls with the same D.
 */
import { describe, KernelShapeError } from '../shared/args.js';

/** Float64 accumulators for dweight and dbias across rows, and the weight of ones used when there is none. */
export class LayerNormWorkspace {
  readonly D: number;
  readonly accWeight: Float64Array;
  readonly accBias: Float64Array;
  readonly ones: Float32Array;
  constructor(D: number) {
    if (!Number.isInteger(D) || D < 1) throw new KernelShapeError(`D: expected a positive integer row length, got ${describe(D)}`);
    this.D = D;
    this.accWeight = new Float64Array(D);
    this.accBias = new Float64Array(D);
    this.ones = new Float32Array(D).fill(1);
  }
}
