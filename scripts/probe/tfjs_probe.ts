/**
 * Probes TensorFlow.js BatchNorm and LayerNorm through the normcheck adapters (ops level: tfjs-cpu,
 * tfjs-wasm; layers level: tfjs-layers-cpu, tfjs-layers-wasm) against the float64 reference on the same
 * float32 inputs, and prints the measurements as Markdown (docs/divergences.md quotes them).
 *
 *   npx tsc -p tsconfig.build.json && node dist/scripts/probe/tfjs_probe.js [--seed 1]
 *
 * Sections:
 *   offsets     x = offset + N(0,1), offset 0, 1e2, 1e4, 1e6, BN training forward and backward, LN forward:
 *               max |Δ| and the ratio to the error-model bound (conformance/error_model.ts; ≤ 1 passes);
 *               κ = max|x|/σ is the conditioning the bound grows with
 *   specials    one NaN / +Inf in channel 1 (row 1 for LN): which outputs it reaches
 *   batch of 2  N = 2, C = 3: forward and backward error ratios (dx is pure cancellation there)
 *   keras       tf.layers.batchNormalization conventions: momentum, moving variance (biased or not),
 *               default epsilon, sqrt(var + eps) or sqrt(var) + eps, the moving-average form at factor 1
 */
import type { Adapter } from '../../conformance/adapter.js';
import tfjsCpu from '../../conformance/adapters/tfjs-cpu.js';
import tfjsWasm from '../../conformance/adapters/tfjs-wasm.js';
import tfjsLayersCpu from '../../conformance/adapters/tfjs-layers-cpu.js';
import tfjsLayersWasm from '../../conformance/adapters/tfjs-layers-wasm.js';
import { requireTf } from '../../conformance/adapters/tfjs/backend.js';
import { bnGrouping, lnGrouping, normBackwardBounds, normForwardBounds, roundoffs } from '../../conformance/error_model.js';
import { batchNormBackward, batchNormTrain, layerNormForward, seededRng } from '../../reference/index.js';

const U = 2 ** -24;
const EPS = 1e-5;
const F32 = roundoffs('float32');
const seedArg = process.argv.indexOf('--seed');
const SEED = seedArg >= 0 ? Number(process.argv[seedArg + 1]) : 1;
const ADAPTERS: Adapter[] = [tfjsCpu, tfjsWasm, tfjsLayersCpu, tfjsLayersWasm];

/** n values offset + N(0, 1), rounded to float32, returned as float64 (what both sides see). */
function normals(n: number, seed: number, offset = 0): Float64Array {
  const rng = seededRng(seed);
  return Float64Array.from({ length: n }, () => Math.fround(offset + rng.normal()));
}

/** (N, C, S) channels-first ⇄ (N, S, C) channels-last. */
function toLast(x: ArrayLike<number>, N: number, C: number, S: number): Float32Array {
  const out = new Float32Array(N * C * S);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let s = 0; s < S; s++) out[(n * S + s) * C + c] = x[(n * C + c) * S + s]!;
  return out;
}
function toFirst(x: ArrayLike<number>, N: number, C: number, S: number): Float64Array {
  const out = new Float64Array(N * C * S);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let s = 0; s < S; s++) out[(n * C + c) * S + s] = x[(n * S + s) * C + c]!;
  return out;
}

/** max |a - b| and max |a - b| / bound. */
function errors(a: ArrayLike<number>, b: ArrayLike<number>, bound: ArrayLike<number>): { abs: number; ratio: number } {
  let abs = 0;
  let ratio = 0;
  for (let i = 0; i < b.length; i++) {
    const e = Math.abs(a[i]! - b[i]!);
    abs = Math.max(abs, e);
    ratio = Math.max(ratio, e / bound[i]!);
  }
  return { abs, ratio };
}

const fmt = (v: number): string => (v === 0 ? '0' : v.toExponential(2));

async function offsets(): Promise<void> {
  // (N, C, S) = (16, 3, 8): M = 128 values per channel; LayerNorm on rows of D = 128.
  const N = 16, C = 3, S = 8;
  const shapeLast = [N, S, C];
  console.log('## offsets: error vs offset (x = offset + N(0,1)), ratio to the error-model bound\n');
  console.log('| adapter | offset | κ | BN train y: max abs Δ | ratio | dx: max abs Δ | ratio | LN y: max abs Δ | ratio |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const adapter of ADAPTERS) {
    for (const offset of [0, 1e2, 1e4, 1e6]) {
      const x = normals(N * C * S, SEED, offset);
      const dy = normals(N * C * S, SEED + 1);
      const weight = new Float64Array([1.5, -0.75, 2]);
      const bias = new Float64Array([0.5, 0, -1]);
      const grouping = bnGrouping(N, C, S);
      const ref = batchNormTrain({ x, shape: [N, C, S], weight, bias, eps: EPS });
      const got = await adapter.bnTrainForward!({
        x: toLast(x, N, C, S), shape: shapeLast, weight: Float32Array.from(weight), bias: Float32Array.from(bias),
        runningMean: new Float32Array(C), runningVar: new Float32Array(C).fill(1), numBatchesTracked: 0, momentum: 0.1, eps: EPS,
      });
      const fwd = normForwardBounds(F32, x, grouping, weight, bias, EPS);
      const y = errors(toFirst(got.y, N, C, S), ref.y, fwd.y);
      const refG = batchNormBackward({ dy, x, shape: [N, C, S], weight, mean: ref.mean, rstd: ref.rstd, training: true });
      const gotG = await adapter.bnBackward!({
        dy: toLast(dy, N, C, S), x: toLast(x, N, C, S), shape: shapeLast, weight: Float32Array.from(weight), bias: Float32Array.from(bias),
        training: true, runningMean: null, runningVar: null, eps: EPS,
      });
      const dx = errors(toFirst(gotG.dx, N, C, S), refG.dx, normBackwardBounds(F32, x, dy, grouping, weight, EPS).dx);
      const kappa = Math.max(...fwd.stats.map((s) => s.A / s.sigma));
      // LayerNorm: C·N rows... here 3 rows of D = 128 from the same values
      const lnRef = layerNormForward({ x, shape: [C * N, S], normalizedShape: [S], eps: EPS });
      const lnGot = await adapter.lnForward!({ x: Float32Array.from(x), shape: [C * N, S], normalizedShape: [S], weight: null, bias: null, eps: EPS });
      const ln = errors(lnGot.y, lnRef.y, normForwardBounds(F32, x, lnGrouping(C * N, S), null, null, EPS).y);
      console.log(`| ${adapter.name} | ${offset === 0 ? 0 : fmt(offset)} | ${fmt(kappa)} | ${fmt(y.abs)} | ${fmt(y.ratio)} | ${fmt(dx.abs)} | ${fmt(dx.ratio)} | ${fmt(ln.abs)} | ${fmt(ln.ratio)} |`);
    }
  }
  console.log(`\n(κ·u at offset 1e6 ≈ ${fmt(1e6 / 1 * U)}: the scale of error any float32 mean carries.)\n`);
}

function reach(values: ArrayLike<number>, groupOf: (i: number) => number, groups: number): string {
  const hit = new Set<number>();
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) hit.add(groupOf(i));
  return hit.size === 0 ? 'none' : [...hit].sort().join(',') + (hit.size === groups ? ' (all)' : '');
}

async function specials(): Promise<void> {
  const N = 4, C = 3, S = 2;
  console.log('## specials: one non-finite input in channel 1 (LN: row 1); which channels/rows get a non-finite value\n');
  console.log('| adapter | input | y | runningMean | runningVar | dx | dweight | dbias | LN y | LN dx |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const adapter of ADAPTERS) {
    for (const special of [NaN, Infinity, -Infinity]) {
      const x = normals(N * C * S, SEED);
      x[(0 * C + 1) * S + 0] = special;
      const weight = new Float32Array([1.5, -0.75, 2]);
      const bias = new Float32Array([0.5, 0, -1]);
      const xl = toLast(x, N, C, S);
      const channelLast = (i: number) => i % C;
      const fwd = await adapter.bnTrainForward!({ x: xl, shape: [N, S, C], weight, bias, runningMean: new Float32Array(C), runningVar: new Float32Array(C).fill(1), numBatchesTracked: 0, momentum: 0.1, eps: EPS });
      const g = await adapter.bnBackward!({ dy: toLast(normals(N * C * S, SEED + 1), N, C, S), x: xl, shape: [N, S, C], weight, bias, training: true, runningMean: null, runningVar: null, eps: EPS });
      // LayerNorm on (C·N, S) rows = the same values, the special sits in row 1
      const lx = Float32Array.from(x);
      const lnw = new Float32Array(S).fill(1.25);
      const lnb = new Float32Array(S).fill(0.5);
      const ly = await adapter.lnForward!({ x: lx, shape: [C * N, S], normalizedShape: [S], weight: lnw, bias: lnb, eps: EPS });
      const lg = await adapter.lnBackward!({ dy: Float32Array.from(normals(N * C * S, SEED + 2)), x: lx, shape: [C * N, S], normalizedShape: [S], weight: lnw, bias: lnb, eps: EPS });
      const row = (i: number) => Math.floor(i / S);
      console.log(`| ${adapter.name} | ${special} | ${reach(fwd.y, channelLast, C)} | ${reach(fwd.runningMean!, (i) => i, C)} | ${reach(fwd.runningVar!, (i) => i, C)} | ${reach(g.dx, channelLast, C)} | ${reach(g.dweight!, (i) => i, C)} | ${reach(g.dbias!, (i) => i, C)} | ${reach(ly.y, row, C * N)} | ${reach(lg.dx, row, C * N)} |`);
    }
  }
  console.log('');
}

async function batchOfTwo(): Promise<void> {
  const N = 2, C = 3, S = 1;
  console.log('## batch of 2: (N, C) = (2, 3), training; ratios to the error-model bound\n');
  console.log('| adapter | y | runningVar (PyTorch: ×M/(M-1) = ×2) | dx | dweight |');
  console.log('|---|---|---|---|---|');
  for (const adapter of ADAPTERS) {
    const x = normals(N * C, SEED, 0.5);
    const dy = normals(N * C, SEED + 1);
    const weight = new Float64Array([1.5, -0.75, 2]);
    const unbiased = adapter.profile !== 'keras';
    const running = { runningMean: new Float64Array(C), runningVar: new Float64Array(C).fill(1), numBatchesTracked: 0 };
    const ref = batchNormTrain({ x, shape: [N, C], weight, running, momentum: 0.1, eps: EPS, unbiasedRunningVar: unbiased });
    const got = await adapter.bnTrainForward!({ x: Float32Array.from(x), shape: [N, C], weight: Float32Array.from(weight), bias: new Float32Array(C), runningMean: new Float32Array(C), runningVar: new Float32Array(C).fill(1), numBatchesTracked: 0, momentum: 0.1, eps: EPS });
    const grouping = bnGrouping(N, C, S);
    const fwd = normForwardBounds(F32, x, grouping, weight, null, EPS);
    const refG = batchNormBackward({ dy, x, shape: [N, C], weight, mean: ref.mean, rstd: ref.rstd, training: true });
    const gotG = await adapter.bnBackward!({ dy: Float32Array.from(dy), x: Float32Array.from(x), shape: [N, C], weight: Float32Array.from(weight), bias: new Float32Array(C), training: true, runningMean: null, runningVar: null, eps: EPS });
    const gb = normBackwardBounds(F32, x, dy, grouping, weight, EPS);
    const rv = got.runningVar!.map((v, c) => Math.abs(v - ref.running!.runningVar[c]!));
    console.log(`| ${adapter.name} | ${errors(got.y, ref.y, fwd.y).ratio.toFixed(3)} | max abs Δ ${fmt(Math.max(...rv))} | ${errors(gotG.dx, refG.dx, gb.dx).ratio.toFixed(3)} | ${errors(gotG.dweight!, refG.dweight!, gb.dweight).ratio.toFixed(3)} |`);
  }
  console.log('');
}

async function kerasConventions(): Promise<void> {
  const tf = await requireTf();
  console.log('## keras: tf.layers.batchNormalization conventions (cpu backend)\n');
  await tf.setBackend('cpu');
  // one training step from moving_mean 0, moving_variance 1 on x = [1, 2, 3, 6] (mean 3, biased var 3.5, unbiased 14/3)
  const layer = tf.layers.batchNormalization({ momentum: 0.99, epsilon: 1e-3 });
  const x = tf.tensor2d([[1], [2], [3], [6]]);
  tf.tidy(() => {
    layer.apply(x, { training: true });
  });
  const [, , mm, mv] = layer.getWeights().map((w) => w.dataSync()[0]!);
  console.log(`- momentum 0.99, one step, batch mean 3, biased var 3.5, unbiased 14/3: moving_mean = ${mm} (0.99·0 + 0.01·3 = 0.03), moving_variance = ${mv} (biased: 0.99 + 0.035 = 1.025; unbiased: 0.99 + 0.04667 = 1.03667)`);
  const fresh = tf.layers.batchNormalization({});
  console.log(`- default epsilon: ${(fresh.getConfig() as { epsilon: number }).epsilon}, default momentum: ${(fresh.getConfig() as { momentum: number }).momentum}`);
  // eval with moving_variance 0 and epsilon 1e-2: sqrt(var + eps) gives (x - m)·10; sqrt(var) + eps would give (x - m)·100
  const evalLayer = tf.layers.batchNormalization({ epsilon: 1e-2, scale: true, center: true });
  evalLayer.build([1, 1]);
  tf.tidy(() => evalLayer.setWeights([tf.ones([1]), tf.zeros([1]), tf.zeros([1]), tf.zeros([1])]));
  const yEval = tf.tidy(() => (evalLayer.apply(tf.tensor2d([[1]]), { training: false }) as ReturnType<typeof tf.tensor>).dataSync()[0]);
  console.log(`- eval, x = 1, moving mean 0, moving variance 0, epsilon 1e-2: y = ${yEval} (sqrt(var + eps): 10; docstring's sqrt(var) + eps: 100)`);
  // the moving-average form at factor 1 (momentum 0): old - (old - v)·1 in float32
  const ff = tf.layers.batchNormalization({ momentum: 0, epsilon: 1e-5 });
  ff.build([2, 1]);
  tf.tidy(() => ff.setWeights([tf.ones([1]), tf.zeros([1]), tf.zeros([1]), tf.tensor1d([1.184])]));
  tf.tidy(() => {
    ff.apply(tf.tensor2d([[-0.4671411502071033], [-0.46714266278942773]]), { training: true });
  });
  const mvFull = ff.getWeights()[3]!.dataSync()[0];
  const a = Math.fround(-0.4671411502071033), b = Math.fround(-0.46714266278942773);
  console.log(`- momentum 0 (replace outright), x = [${a}, ${b}] (biased var ${fmt(((a - b) / 2) ** 2)}), old moving_variance 1.184: new moving_variance = ${mvFull}`);
  for (const w of [...layer.weights, ...fresh.weights, ...evalLayer.weights, ...ff.weights]) w.dispose();
  x.dispose();
  console.log('');
}

async function main(): Promise<void> {
  for (const a of ADAPTERS) await a.setup?.();
  await offsets();
  await specials();
  await batchOfTwo();
  await kerasConventions();
  for (const a of ADAPTERS) await a.teardown?.();
  console.log(`tensors alive at the end: ${(await requireTf()).memory().numTensors}`);
}

await main();
