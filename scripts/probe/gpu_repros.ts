/**
 * Minimal reproductions of what the GPU probes found (docs/divergences.md, sections "TensorFlow.js on
 * WebGPU" and "ONNX Runtime on WebGPU"), each a few lines on the engine or its adapter. test/gpu/repros.test.ts
 * checks in `npm test` that each still reproduces.
 *
 *   npx tsc -p tsconfig.build.json && VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json node dist/scripts/probe/gpu_repros.js
 */
import type { OrtAdapter } from '../../conformance/adapters/ort/ort_adapter.js';
import type { TF } from '../../conformance/adapters/tfjs/backend.js';
import { layerNormForward, seededRng } from '../../reference/index.js';

const EPS = 1e-5;

/**
 * tfjs-webgpu-rank5-vector-op: an elementwise op between a rank-5 (or higher) tensor and a vector of fewer
 * than 128 values. tfjs' BinaryOpProgram then keeps the vector in workgroup memory and indexes it with
 * `coords[4]`, but rank-5 coordinates are tfjs' `vec5` struct, which WGSL cannot index: the shader does not
 * compile, the output buffer is never written, and the op returns whatever that recycled buffer held —
 * here the result of the `add` just before it. tfjs reports nothing; Dawn prints the compiler error.
 * `errors` is what the adapter's error listener collected (tfjs/webgpu.ts takeWebgpuErrors).
 */
export async function rank5VectorOp(tf: TF, takeErrors: (tf: TF) => string | null): Promise<{ previous: number[]; got: number[]; want: number[]; errors: string | null }> {
  await tf.setBackend('webgpu');
  const vector = tf.tensor1d([1, 2, 3]);
  const ones4 = tf.ones([1, 1, 1, 3]);
  const ones5 = tf.ones([1, 1, 1, 1, 3]);
  const before = tf.add(ones4, vector); // rank 4: correct, [2, 3, 4]
  const previous = Array.from(await before.data());
  before.dispose(); // its buffer goes back to tfjs' pool
  takeErrors(tf);
  const y = tf.mul(ones5, vector); // rank 5: should be [1, 2, 3]
  const got = Array.from(await y.data());
  const errors = takeErrors(tf);
  tf.dispose([vector, ones4, ones5, y]);
  return { previous, got, want: [1, 2, 3], errors };
}

/** D values offset + N(0, 1), rounded to float32. */
function row(D: number, offset: number, seed: number): Float32Array {
  const rng = seededRng(seed);
  return Float32Array.from({ length: D }, () => offset + rng.normal());
}

/**
 * ort-webgpu-layernorm-one-pass: LayerNormalization on the WebGPU provider computes the variance in one
 * pass, E[x²] - E[x]² (the generated WGSL: `inverseSqrt(mean_square - mean * mean + epsilon)`). One row of
 * 16 values offset + N(0, 1): max |y error| and the InvStdDev the runtime returns against float64.
 */
export async function layerNormOnePass(ort: OrtAdapter, offset: number, seed = 1): Promise<{ yError: number; rstd: number; rstdWant: number }> {
  const x = row(16, offset, seed);
  const args = { x, shape: [1, 16], normalizedShape: [16], weight: null, bias: null, eps: EPS };
  const r = await ort.lnForward(args);
  const ref = layerNormForward({ x: Float64Array.from(x), shape: [1, 16], normalizedShape: [16], eps: EPS });
  let yError = 0;
  for (let i = 0; i < 16; i++) yError = Math.max(yError, Number.isNaN(r.y[i]!) ? Infinity : Math.abs(r.y[i]! - ref.y[i]!));
  return { yError, rstd: r.rstd[0]!, rstdWant: ref.rstd[0]! };
}

/**
 * ort-webgpu-bn-no-training: BatchNormalization with training_mode = 1 is rejected at run time by both
 * WebGPU providers ("BatchNormalization trainingMode is not supported yet"); eval mode runs.
 */
export async function batchNormTraining(ort: OrtAdapter): Promise<{ eval: number[]; trainingError: string | null }> {
  const common = { x: new Float32Array([1, 3]), shape: [2, 1], weight: null, bias: null, runningMean: new Float32Array([0]), runningVar: new Float32Array([1]), eps: EPS };
  const evalY = Array.from((await ort.bnEvalForward(common)).y);
  try {
    await ort.bnTrainForward({ ...common, numBatchesTracked: 0, momentum: 0.1 });
    return { eval: evalY, trainingError: null };
  } catch (e) {
    return { eval: evalY, trainingError: (e as Error).message };
  }
}

async function main(): Promise<void> {
  const { loadTfjsWebgpu, takeWebgpuErrors } = await import('../../conformance/adapters/tfjs/webgpu.js');
  const { makeOrtWebgpuAdapter } = await import('../../conformance/adapters/ort-webgpu.js');
  const tf = await loadTfjsWebgpu();
  if (typeof tf === 'string') console.log(`tfjs-webgpu: ${tf}`);
  else console.log('tfjs-webgpu-rank5-vector-op:', JSON.stringify(await rank5VectorOp(tf, takeWebgpuErrors)));
  for (const build of ['jsep', 'native'] as const) {
    const ort = makeOrtWebgpuAdapter(build);
    const ok = await ort.available();
    if (ok !== true) {
      console.log(`${ort.name}: ${ok}`);
      continue;
    }
    for (const offset of [0, 1e2, 1e3, 1e4]) console.log(`${ort.name} layernorm offset ${offset}:`, JSON.stringify(await layerNormOnePass(ort, offset)));
    console.log(`${ort.name} batchnorm training:`, JSON.stringify(await batchNormTraining(ort)));
    await ort.teardown();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main();
  process.exit(0);
}
