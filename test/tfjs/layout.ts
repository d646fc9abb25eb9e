/**
 * NCHW ⇄ NHWC for the tfjs cross-checks: the reference and the kernels are channels-first, tfjs is
 * channels-last. Shape (N, C, ...spatial) ⇄ (N, ...spatial, C); element (n, c, s) sits at (n·C + c)·S + s
 * channels-first and at (n·S + s)·C + c channels-last, S the product of the spatial dims.
 */

export function toChannelsLastShape(shape: readonly number[]): number[] {
  const [N, C, ...spatial] = shape as [number, number, ...number[]];
  return [N, ...spatial, C];
}

/** (N, C, S) channels-first values → (N, S, C) channels-last, into a Float32Array. */
export function toChannelsLast(x: ArrayLike<number>, shape: readonly number[]): Float32Array {
  const [N, C] = shape as [number, number];
  const S = x.length / (N * C);
  const out = new Float32Array(x.length);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let s = 0; s < S; s++) out[(n * S + s) * C + c] = x[(n * C + c) * S + s]!;
  return out;
}

/** (N, S, C) channels-last values → (N, C, S) channels-first; `shape` is the channels-first shape. */
export function toChannelsFirst(x: ArrayLike<number>, shape: readonly number[]): Float64Array {
  const [N, C] = shape as [number, number];
  const S = x.length / (N * C);
  const out = new Float64Array(x.length);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let s = 0; s < S; s++) out[(n * C + c) * S + s] = x[(n * S + s) * C + c]!;
  return out;
}
