/**
 * One BatchNorm case run through the float32 kernels (either layout) and through the float64 reference, with the
 * per-element bounds of norm_error_model.ts. Results are always returned in NCHW order, so a check reads the same
 * for both layouts.
 */
import {
  batchNormBackward, batchNormEvalForward, batchNormTrainForward, BatchNormWorkspace,
  type BatchNormBackwardVersion, type BatchNormForwardVersion, type BatchNormLayout, type BatchNormRunning,
} from '../../kernels/index.js';
import { batchNormBackward as refBackward, batchNormTrain as refTrain, batchNormEval as refEval } from '../../reference/index.js';
import type { BatchNormCase } from '../helpers/arbitraries.js';
import { seededRng } from '../helpers/arbitraries.js';
import {
  dxBound, f32, forwardBound, statisticsRho, sumBound, toNchw, toNhwc, type BackwardTerms,
} from './norm_error_model.js';

export interface KernelForward {
  y: Float32Array; // NCHW order
  mean: Float64Array;
  rstd: Float64Array;
  workspace: BatchNormWorkspace;
  /** the kernel's input and output in its layout, to hand to the backward */
  xIn: Float32Array;
  yOut: Float32Array;
}

export interface Float32Case {
  N: number;
  C: number;
  S: number;
  x: Float32Array; // NCHW
  weight: Float32Array | null;
  bias: Float32Array | null;
}

export function float32Case(k: BatchNormCase): Float32Case {
  return { N: k.N, C: k.C, S: k.S, x: Float32Array.from(k.x), weight: f32(k.weight), bias: f32(k.bias) };
}

/** Standard-normal upstream gradient, float32, seeded. */
export function gradient(seed: number, n: number): Float32Array {
  const rng = seededRng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal();
  return out;
}

export function kernelTrain(
  k: Float32Case, layout: BatchNormLayout, options: {
    version?: BatchNormForwardVersion; relu?: boolean; running?: BatchNormRunning | null; momentum?: number | null;
  } = {},
): KernelForward {
  const { N, C, S } = k;
  const xIn = layout === 'NCHW' ? k.x : toNhwc(k.x, N, C, S);
  const y = new Float32Array(N * C * S).fill(NaN); // every element must be written
  const mean = new Float64Array(C).fill(NaN);
  const rstd = new Float64Array(C).fill(NaN);
  const workspace = new BatchNormWorkspace(C);
  batchNormTrainForward({
    x: xIn, dims: { N, C, S }, layout, weight: k.weight, bias: k.bias, relu: options.relu ?? false,
    running: options.running ?? null, momentum: options.momentum === undefined ? 0.1 : options.momentum,
    y, mean, rstd, workspace, ...(options.version ? { version: options.version } : {}),
  });
  return { y: layout === 'NCHW' ? y : toNchw(y, N, C, S), mean, rstd, workspace, xIn, yOut: y };
}

export function kernelEval(
  k: Float32Case, layout: BatchNormLayout, runningMean: Float32Array, runningVar: Float32Array, relu: boolean,
): KernelForward {
  const { N, C, S } = k;
  const xIn = layout === 'NCHW' ? k.x : toNhwc(k.x, N, C, S);
  const y = new Float32Array(N * C * S).fill(NaN);
  const mean = new Float64Array(C).fill(NaN);
  const rstd = new Float64Array(C).fill(NaN);
  const workspace = new BatchNormWorkspace(C);
  batchNormEvalForward({ x: xIn, dims: { N, C, S }, layout, weight: k.weight, bias: k.bias, running: { runningMean, runningVar }, relu, y, mean, rstd, workspace });
  return { y: layout === 'NCHW' ? y : toNchw(y, N, C, S), mean, rstd, workspace, xIn, yOut: y };
}

export interface KernelGrads {
  dx: Float32Array; // NCHW
  dweight: Float32Array;
  dbias: Float32Array;
}

export function kernelBackward(
  k: Float32Case, layout: BatchNormLayout, fwd: KernelForward, dy: Float32Array, training: boolean, relu: boolean,
  version?: BatchNormBackwardVersion,
): KernelGrads {
  const { N, C, S } = k;
  const dx = new Float32Array(N * C * S).fill(NaN);
  const dweight = new Float32Array(C).fill(NaN);
  const dbias = new Float32Array(C).fill(NaN);
  batchNormBackward({
    dy: layout === 'NCHW' ? dy : toNhwc(dy, N, C, S), x: fwd.xIn, dims: { N, C, S }, layout, weight: k.weight,
    mean: fwd.mean, rstd: fwd.rstd, training, reluOutput: relu ? fwd.yOut : null, dx, dweight, dbias, workspace: fwd.workspace,
    ...(version ? { version } : {}),
  });
  return { dx: layout === 'NCHW' ? dx : toNchw(dx, N, C, S), dweight, dbias };
}

/** Per-channel model quantities from the reference's statistics. */
export interface ChannelModel {
  xhat: Float64Array; // (N, C, S) by the reference
  rho: Float64Array; // (C)
}

export function channelModel(k: Float32Case, mean: ArrayLike<number>, rstd: ArrayLike<number>, statistics: 'batch' | 'fixed'): ChannelModel {
  const { N, C, S } = k;
  const M = N * S;
  const xhat = new Float64Array(N * C * S);
  const rho = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let meanAbsX = 0;
    for (let n = 0; n < N; n++) {
      for (let s = 0; s < S; s++) {
        const i = (n * C + c) * S + s;
        xhat[i] = (k.x[i]! - mean[c]!) * rstd[c]!;
        meanAbsX += Math.abs(k.x[i]!) / M;
      }
    }
    // eval mode: mean and rstd are given, not estimated; only a few float64 roundings remain (the γ terms at M = 0)
    rho[c] = statistics === 'batch' ? statisticsRho(M, rstd[c]!, meanAbsX) : statisticsRho(0, rstd[c]!, 0);
  }
  return { xhat, rho };
}

export const channelOf = (i: number, C: number, S: number): number => Math.floor(i / S) % C;

/** The reference's training forward on the same float32 values, with the forward bound per element. */
export function referenceTrain(k: Float32Case, relu: boolean) {
  const { N, C, S } = k;
  const ref = refTrain({ x: k.x, shape: [N, C, S], weight: k.weight, bias: k.bias });
  const model = channelModel(k, ref.mean, ref.rstd, 'batch');
  const y = relu ? ref.y.map((v) => (v > 0 ? v : 0)) : ref.y;
  const bound = (i: number): number => {
    const c = channelOf(i, C, S);
    return forwardBound(ref.y[i]!, k.weight ? k.weight[c]! : 1, model.xhat[i]!, k.bias ? k.bias[c]! : 0, model.rho[c]!);
  };
  return { ref, y, model, bound };
}

export function referenceEval(k: Float32Case, runningMean: Float32Array, runningVar: Float32Array, relu: boolean) {
  const { N, C, S } = k;
  const ref = refEval({ x: k.x, shape: [N, C, S], weight: k.weight, bias: k.bias, running: { runningMean, runningVar } });
  const mean = Float64Array.from(runningMean);
  const model = channelModel(k, mean, ref.rstd, 'fixed');
  const y = relu ? ref.y.map((v) => (v > 0 ? v : 0)) : ref.y;
  const bound = (i: number): number => {
    const c = channelOf(i, C, S);
    return forwardBound(ref.y[i]!, k.weight ? k.weight[c]! : 1, model.xhat[i]!, k.bias ? k.bias[c]! : 0, model.rho[c]!);
  };
  return { ref, mean, y, model, bound };
}

/**
 * The reference backward for upstream gradient dy (already masked by the fused ReLU if any), with the bounds of
 * the model for dx, dweight and dbias.
 */
export function referenceBackward(
  k: Float32Case, dy: ArrayLike<number>, mean: ArrayLike<number>, rstd: ArrayLike<number>, model: ChannelModel, training: boolean,
) {
  const { N, C, S } = k;
  const M = N * S;
  const grads = refBackward({ dy, x: k.x, shape: [N, C, S], weight: k.weight ?? new Float64Array(C).fill(1), mean, rstd, training });
  const terms: BackwardTerms[] = [];
  const absSums = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let A = 0;
    let B = 0;
    let X = 0;
    for (let n = 0; n < N; n++) {
      for (let s = 0; s < S; s++) {
        const i = (n * C + c) * S + s;
        const xh = Math.abs(model.xhat[i]!);
        A += Math.abs(dy[i]!) / M;
        B += (Math.abs(dy[i]!) * xh) / M;
        X = Math.max(X, xh);
        absSums[c] = absSums[c]! + Math.abs(dy[i]!) * (1 + xh);
      }
    }
    const w = k.weight ? k.weight[c]! : 1;
    terms.push({ M: training ? M : 0, rho: model.rho[c]!, wr: Math.abs(w) * rstd[c]!, A: training ? A : 0, B: training ? B : 0, X });
  }
  const dxBoundAt = (i: number): number => {
    const c = channelOf(i, C, S);
    return dxBound(grads.dx[i]!, dy[i]!, model.xhat[i]!, terms[c]!);
  };
  const dweightBound = (c: number): number => sumBound(grads.dweight![c]!, M, model.rho[c]!, absSums[c]!);
  const dbiasBound = (c: number): number => sumBound(grads.dbias![c]!, M, model.rho[c]!, absSums[c]!);
  return { grads, dxBoundAt, dweightBound, dbiasBound };
}
