/**
 * Group Normalization, float64, with PyTorch's semantics (torch.nn.GroupNorm, torch.nn.functional.group_norm,
 * ATen native/group_norm.cpp).
 *
 * Sizes: N batch, C channels, G groups (G divides C), Cg = C/G channels per group, S spatial positions
 * (the product of the dimensions after C; 1 for an (N, C) input), D = Cg·S values per group.
 * x has shape (N, C, ...spatial), row-major, so element (n, c, s) lives at (n·C + c)·S + s, and group
 * (n, g) — channels g·Cg .. g·Cg + Cg - 1 of sample n — is the contiguous block [(n·G + g)·D, (n·G + g + 1)·D).
 *
 * Forward, per sample n and group g (the same in training and eval: no running statistics):
 *   mean = (1/D) Σ x                  over the Cg channels × S positions of the group
 *   var  = (1/D) Σ (x - mean)²        biased, always
 *   rstd = 1 / sqrt(var + eps)
 *   x̂    = (x - mean) · rstd
 *   y    = weight[c] · x̂ + bias[c]    per-channel affine (affine=True), c the element's own channel
 * PyTorch's checks, kept here: C % G = 0 ("Expected number of channels in input to be divisible by
 * num_groups"), and F.group_norm's _verify_batch_size on [N·C/G, G, ...spatial], which refuses exactly when
 * N·Cg·S = 1 ("Expected more than 1 value per channel when training", in eval too). A group of one value
 * with N > 1 is accepted: its var is 0 and y = bias.
 *
 * Backward. Within a group it is LayerNorm's algebra over the D values, with g = dy · weight[c]:
 *   ∂x̂_i/∂x_j = rstd·([i = j] - 1/D - x̂_i·x̂_j/D)          (the derivation in batchnorm.ts, M → D)
 *   dx_j      = rstd · ( g_j - mean(g) - x̂_j · mean(g · x̂) )   means over the group
 * and, summed over the batch and the channel's positions because weight[c] is shared by them,
 *   dweight[c] = Σ_n Σ_s dy · x̂          dbias[c] = Σ_n Σ_s dy
 * Σ dx = 0 over each group, as for BatchNorm and LayerNorm.
 *
 * Exact relations (test/reference/groupnorm.test.ts): G = C is InstanceNorm without running statistics,
 * weight and bias included (both are per channel) — but not InstanceNorm in eval mode with
 * track_running_stats (the running buffers normalise there), and not at one spatial position, where
 * InstanceNorm raises and G = C gives groups of one value, y = bias (for N > 1; see above); G = 1 is LayerNorm
 * over (C, ...spatial) without its per-element affine, followed by the per-channel one.
 *
 * Not here: channels-last layouts (a kernel and adapter concern), mixed precision, the module's parameter
 * initialisation (weight 1, bias 0).
 */
import {
  checkArgs, checkArray, checkEps, checkFlag, checkNumber, checkOptionalArray, ShapeError, type ArgSpec,
} from './args.js';
import { checkShape, formatShape, sizeOf, type Shape } from './shape.js';

export interface GroupNormDims {
  N: number;
  C: number;
  /** groups */
  G: number;
  /** spatial positions per (n, c) */
  S: number;
  /** values per group, (C/G)·S */
  D: number;
}

/** Splits (N, C, ...spatial) into N, C, S and checks G divides C, as ATen's group_norm does. */
export function groupNormDims(shape: Shape, numGroups: number): GroupNormDims {
  checkShape('shape', shape, 2);
  checkNumber('numGroups', numGroups, (v) => Number.isInteger(v) && v >= 1, 'a positive integer (num_groups)');
  const [N, C] = shape as [number, number];
  if (C % numGroups !== 0) {
    throw new ShapeError(`numGroups: expected a divisor of the channel count C = ${C} (shape ${formatShape(shape)}), got ${numGroups}`);
  }
  const S = sizeOf(shape.slice(2));
  return { N, C, G: numGroups, S, D: (C / numGroups) * S };
}

export interface GroupNormArgs {
  x: ArrayLike<number>; // (N, C, ...spatial)
  shape: Shape;
  /** G, num_groups: must divide C */
  numGroups: number;
  weight?: ArrayLike<number> | null; // (C); null when affine = false
  bias?: ArrayLike<number> | null; // (C)
  eps?: number;
}

export interface GroupNormResult {
  y: Float64Array; // (N, C, ...spatial)
  mean: Float64Array; // (N·G), n-major: group (n, g) at n·G + g
  rstd: Float64Array; // (N·G)
}

const FORWARD_ARGS: ArgSpec = {
  required: ['x', 'shape', 'numGroups'],
  optional: { weight: 'null, no weight', bias: 'null, no bias', eps: '1e-5' },
  misplaced: {
    num_groups: 'the argument is numGroups',
    hasBias: 'hasBias is an argument of groupNormBackward; the forward has a bias when bias is given',
    affine: 'pass weight and bias for affine = true, or null for affine = false',
    running: 'GroupNorm keeps no running statistics: it normalises with the statistics of each sample',
    y: 'the reference returns new arrays and takes no output buffers',
  },
};

const BACKWARD_ARGS: ArgSpec = {
  required: ['dy', 'x', 'shape', 'numGroups', 'mean', 'rstd'],
  optional: { weight: 'null, no weight', hasBias: 'true exactly when weight is given' },
  misplaced: {
    bias: 'the backward takes hasBias: true or false (whether the forward had a bias), not the bias itself',
    eps: "the backward takes the forward's rstd, which already holds eps",
  },
};

function checkAffine(weight: unknown, bias: unknown, C: number): void {
  checkOptionalArray('weight', weight, C, `one weight per channel, shape (${C},)`);
  checkOptionalArray('bias', bias, C, `one bias per channel, shape (${C},)`);
}

export function groupNormForward(args: GroupNormArgs): GroupNormResult {
  checkArgs('groupNormForward', args, FORWARD_ARGS);
  const { x, shape, numGroups, weight = null, bias = null, eps = 1e-5 } = args;
  const { N, C, G, S, D } = groupNormDims(shape, numGroups);
  checkArray('x', x, N * C * S, `an input of shape ${formatShape(shape)}`);
  checkAffine(weight, bias, C);
  checkEps(eps);
  if (N * D === 1) {
    throw new ShapeError(
      `x: expected more than 1 value per group across the batch (N·C/G·spatial = 1), as F.group_norm requires, got shape ${formatShape(shape)} with numGroups ${G}`,
    );
  }

  const Cg = C / G;
  const y = new Float64Array(N * C * S);
  const mean = new Float64Array(N * G);
  const rstd = new Float64Array(N * G);
  for (let ng = 0; ng < N * G; ng++) {
    const base = ng * D; // group (n, g) = ng is the contiguous block [base, base + D)
    const c0 = (ng % G) * Cg; // its first channel
    // mean
    let sum = 0;
    for (let i = 0; i < D; i++) sum += x[base + i]!;
    const m = sum / D;
    // variance, biased
    let sq = 0;
    for (let i = 0; i < D; i++) {
      const d = x[base + i]! - m;
      sq += d * d;
    }
    // rstd
    const r = 1 / Math.sqrt(sq / D + eps);
    // normalise, then the affine of each element's channel c0 + floor(i / S)
    for (let i = 0; i < D; i++) {
      const c = c0 + Math.floor(i / S);
      const w = weight != null ? weight[c]! : 1;
      const b = bias != null ? bias[c]! : 0;
      y[base + i] = w * ((x[base + i]! - m) * r) + b;
    }
    mean[ng] = m;
    rstd[ng] = r;
  }
  return { y, mean, rstd };
}

export interface GroupNormBackwardArgs {
  dy: ArrayLike<number>; // (N, C, ...spatial)
  x: ArrayLike<number>; // (N, C, ...spatial), the forward input
  shape: Shape;
  numGroups: number;
  weight?: ArrayLike<number> | null; // (C)
  /** Whether the forward had a bias: decides whether dbias is returned. Default: same as weight (affine). */
  hasBias?: boolean;
  mean: ArrayLike<number>; // (N·G), from the forward
  rstd: ArrayLike<number>; // (N·G), from the forward
}

export interface GroupNormGrads {
  dx: Float64Array; // (N, C, ...spatial)
  dweight: Float64Array | null; // (C), null without a weight
  dbias: Float64Array | null; // (C), null without a bias
}

export function groupNormBackward(args: GroupNormBackwardArgs): GroupNormGrads {
  checkArgs('groupNormBackward', args, BACKWARD_ARGS);
  const { dy, x, shape, numGroups, weight = null, mean, rstd } = args;
  const hasBias = args.hasBias ?? weight != null;
  checkFlag('hasBias', hasBias, 'whether the forward had a bias');
  const { N, C, G, S, D } = groupNormDims(shape, numGroups);
  checkArray('dy', dy, N * C * S, `a gradient of shape ${formatShape(shape)}`);
  checkArray('x', x, N * C * S, `an input of shape ${formatShape(shape)}`);
  checkOptionalArray('weight', weight, C, `one weight per channel, shape (${C},)`);
  checkArray('mean', mean, N * G, `one mean per (sample, group), shape (${N * G},)`);
  checkArray('rstd', rstd, N * G, `one rstd per (sample, group), shape (${N * G},)`);

  const Cg = C / G;
  const dx = new Float64Array(N * C * S);
  const dweight = weight != null ? new Float64Array(C) : null;
  const dbias = hasBias ? new Float64Array(C) : null;
  for (let ng = 0; ng < N * G; ng++) {
    const base = ng * D;
    const c0 = (ng % G) * Cg;
    const m = mean[ng]!;
    const r = rstd[ng]!;
    // reductions over the group: mean(g) and mean(g·x̂), g = dy·weight[c]
    let sumG = 0;
    let sumGXhat = 0;
    for (let i = 0; i < D; i++) {
      const c = c0 + Math.floor(i / S);
      const xhat = (x[base + i]! - m) * r;
      const g = dy[base + i]! * (weight != null ? weight[c]! : 1);
      sumG += g;
      sumGXhat += g * xhat;
    }
    const meanG = sumG / D;
    const meanGXhat = sumGXhat / D;
    // per-element terms, and the parameter gradients accumulated over samples and positions
    for (let i = 0; i < D; i++) {
      const c = c0 + Math.floor(i / S);
      const xhat = (x[base + i]! - m) * r;
      const g = dy[base + i]! * (weight != null ? weight[c]! : 1);
      dx[base + i] = r * (g - meanG - xhat * meanGXhat);
      if (dweight) dweight[c] = dweight[c]! + dy[base + i]! * xhat;
      if (dbias) dbias[c] = dbias[c]! + dy[base + i]!;
    }
  }
  return { dx, dweight, dbias };
}
