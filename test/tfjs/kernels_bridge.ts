/**
 * Runs normcheck's float32 kernels (kernels/) on a cross-check case, so tfjs can be compared with them as
 * well as with the float64 reference: the third side of the three-way cross-check. Inputs are the case's
 * float32-rounded values, channels-first (NCHW); results come back as Float64Array, channels-first.
 */
import {
  batchNormBackward, batchNormEvalForward, batchNormTrainForward, BatchNormWorkspace, layerNormBackward, layerNormForward,
  LayerNormWorkspace,
} from '../../kernels/index.js';

const f32 = (a: ArrayLike<number>): Float32Array => Float32Array.from(a as ArrayLike<number> & Iterable<number>);
const f32OrNull = (a: ArrayLike<number> | null): Float32Array | null => (a ? f32(a) : null);
const f64 = (a: Float32Array): Float64Array => Float64Array.from(a);

function bnDims(shape: readonly number[]): { N: number; C: number; S: number } {
  const [N, C, ...spatial] = shape as [number, number, ...number[]];
  return { N, C, S: spatial.reduce((a, b) => a * b, 1) };
}

export function kernelBnTrain(
  x: Float64Array, shape: readonly number[], weight: Float64Array | null, bias: Float64Array | null,
  running: { runningMean: Float64Array; runningVar: Float64Array; numBatchesTracked: number },
  momentum: number | null, eps: number, unbiasedRunningVar: boolean,
): { y: Float64Array; mean: Float64Array; rstd: Float64Array; runningMean: Float64Array; runningVar: Float64Array } {
  const dims = bnDims(shape);
  const y = new Float32Array(x.length);
  const mean = new Float64Array(dims.C);
  const rstd = new Float64Array(dims.C);
  const buffers = { runningMean: f32(running.runningMean), runningVar: f32(running.runningVar), numBatchesTracked: running.numBatchesTracked };
  batchNormTrainForward({
    x: f32(x), dims, weight: f32OrNull(weight), bias: f32OrNull(bias), eps, running: buffers, momentum, unbiasedRunningVar,
    y, mean, rstd, workspace: new BatchNormWorkspace(dims.C),
  });
  return { y: f64(y), mean, rstd, runningMean: f64(buffers.runningMean), runningVar: f64(buffers.runningVar) };
}

export function kernelBnEval(
  x: Float64Array, shape: readonly number[], weight: Float64Array | null, bias: Float64Array | null,
  runningMean: Float64Array, runningVar: Float64Array, eps: number,
): Float64Array {
  const dims = bnDims(shape);
  const y = new Float32Array(x.length);
  batchNormEvalForward({
    x: f32(x), dims, weight: f32OrNull(weight), bias: f32OrNull(bias), running: { runningMean: f32(runningMean), runningVar: f32(runningVar) }, eps,
    y, mean: new Float64Array(dims.C), rstd: new Float64Array(dims.C), workspace: new BatchNormWorkspace(dims.C),
  });
  return f64(y);
}

/** The kernels' backward after their own forward (the mean and rstd it saved), in either mode. */
export function kernelBnBackward(
  dy: Float64Array, x: Float64Array, shape: readonly number[], weight: Float64Array | null, hasBias: boolean, training: boolean,
  runningMean: Float64Array, runningVar: Float64Array, eps: number,
): { dx: Float64Array; dweight: Float64Array | null; dbias: Float64Array | null } {
  const dims = bnDims(shape);
  const workspace = new BatchNormWorkspace(dims.C);
  const mean = new Float64Array(dims.C);
  const rstd = new Float64Array(dims.C);
  const y = new Float32Array(x.length);
  if (training) batchNormTrainForward({ x: f32(x), dims, weight: f32OrNull(weight), eps, y, mean, rstd, workspace });
  else batchNormEvalForward({ x: f32(x), dims, weight: f32OrNull(weight), running: { runningMean: f32(runningMean), runningVar: f32(runningVar) }, eps, y, mean, rstd, workspace });
  const dx = new Float32Array(x.length);
  const dweight = weight ? new Float32Array(dims.C) : null;
  const dbias = hasBias ? new Float32Array(dims.C) : null;
  batchNormBackward({ dy: f32(dy), x: f32(x), dims, weight: f32OrNull(weight), mean, rstd, training, dx, dweight, dbias, workspace });
  return { dx: f64(dx), dweight: dweight && f64(dweight), dbias: dbias && f64(dbias) };
}

export function kernelLn(
  x: Float64Array, R: number, D: number, weight: Float64Array | null, bias: Float64Array | null, eps: number, dy: Float64Array | null,
): { y: Float64Array; mean: Float64Array; rstd: Float64Array; dx: Float64Array | null; dweight: Float64Array | null; dbias: Float64Array | null } {
  const y = new Float32Array(R * D);
  const mean = new Float64Array(R);
  const rstd = new Float64Array(R);
  layerNormForward({ x: f32(x), dims: { R, D }, weight: f32OrNull(weight), bias: f32OrNull(bias), eps, y, mean, rstd });
  if (!dy) return { y: f64(y), mean, rstd, dx: null, dweight: null, dbias: null };
  const dx = new Float32Array(R * D);
  const dweight = weight ? new Float32Array(D) : null;
  const dbias = bias ? new Float32Array(D) : null;
  layerNormBackward({ dy: f32(dy), x: f32(x), dims: { R, D }, weight: f32OrNull(weight), mean, rstd, dx, dweight, dbias, workspace: new LayerNormWorkspace(D) });
  return { y: f64(y), mean, rstd, dx: f64(dx), dweight: dweight && f64(dweight), dbias: dbias && f64(dbias) };
}
