/**
 * Seeded initialisation of the network kernels' parameters, PyTorch's defaults:
 *   Linear weight and bias   U(-1/sqrt(fan_in), 1/sqrt(fan_in))     (kaiming_uniform with a = sqrt(5) gives this
 *                                                                    bound for the weight; the bias uses it directly)
 *   BatchNorm / LayerNorm    weight 1, bias 0; running_mean 0, running_var 1, num_batches_tracked 0
 * The stream comes from mulberry32, so the same seed gives the same parameters everywhere; it is not
 * torch.manual_seed's stream (load PyTorch's own tensors with `loadStateDict` for that).
 */

/**
 * mulberry32: a 32-bit-state uniform generator on [0, 1). The same generator as reference/random.ts, kept as
 * a copy here on purpose: kernels/ never imports reference/ (two independent computations).
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fills `out` with U(-bound, bound) from `next`. */
export function fillUniform(out: Float32Array, bound: number, next: () => number): void {
  for (let i = 0; i < out.length; i++) out[i] = (2 * next() - 1) * bound;
}
