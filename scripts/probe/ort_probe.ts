/**
 * Probes ONNX Runtime's BatchNormalization and LayerNormalization (onnxruntime-node and onnxruntime-web)
 * against the float64 reference on the same float32 inputs, and prints the measurements as Markdown.
 *
 *   npx tsc -p tsconfig.build.json && node dist/scripts/probe/ort_probe.js [--seed 1]
 *
 * What it measures, per runtime:
 *   offsets   x = offset + N(0,1) for offset 0, 1e2, 1e4, 1e6: max |Δy| and the same in units of κ·u, where
 *             κ = rstd·max|x| is the conditioning of the normalisation and u = 2^-24 (a float32 result can do no
 *             better than ~κ·u/2: the mean alone rounds by |mean|·u/2)
 *   specials  one NaN / +Inf in the input: which outputs it reaches (it should stay inside its channel / row)
 *   shapes    batch of 2, single-element spatial dims, one value per channel in training (M = 1)
 *   range     values ±scale·{0.5, 1, 2} for scale 1e18..1e20: (x - mean)² overflows float32 (max 3.4e38) once
 *             scale ≳ 1.3e19, though x, var's square root and y are all representable
 *   conventions  what running_var takes (biased or unbiased), and whether ONNX Runtime writes into the
 *             running-stat inputs it aliases to its outputs
 */
import { batchNormEval, batchNormTrain, layerNormForward, seededRng } from '../../reference/index.js';
import { ortNode } from '../../conformance/adapters/ort-node.js';
import { ortWeb } from '../../conformance/adapters/ort-web.js';
import type { OrtAdapter } from '../../conformance/adapters/ort/ort_adapter.js';
import { batchNormModel, requireOnnx } from '../../conformance/adapters/ort/onnx_model.js';

const U = 2 ** -24;
const EPS = 1e-5;

function normalF32(n: number, seed: number, offset: number, std = 1): Float32Array {
  const rng = seededRng(seed);
  return Float32Array.from({ length: n }, () => offset + std * rng.normal());
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const fmt = (v: number): string => (Number.isFinite(v) ? (v === 0 ? '0' : v.toExponential(2)) : String(v));

/** max |got - want| and max of |got - want| / (κ_g·u), g the channel or row of the element. */
function errors(got: ArrayLike<number>, want: ArrayLike<number>, groupOf: (i: number) => number, kappa: ArrayLike<number>) {
  let maxErr = 0;
  let maxUnits = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i]! - want[i]!);
    if (!(e <= maxErr)) maxErr = e; // NaN propagates
    const units = e / (kappa[groupOf(i)]! * U);
    if (!(units <= maxUnits)) maxUnits = units;
  }
  return { maxErr, maxUnits };
}

interface Row { [k: string]: string }

function table(rows: Row[]): string {
  const cols = Object.keys(rows[0]!);
  return [`| ${cols.join(' | ')} |`, `|${cols.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${cols.map((c) => r[c]).join(' | ')} |`)].join('\n');
}

async function offsets(adapter: OrtAdapter, seed: number): Promise<Row[]> {
  const rows: Row[] = [];
  const bnShape = [8, 4, 6, 6]; // M = 288 per channel
  const [N, C] = bnShape as [number, number];
  const S = size(bnShape) / (N * C);
  const chan = (i: number): number => Math.floor(i / S) % C;
  const lnShape = [8, 256]; // D = 256 per row
  for (const offset of [0, 1e2, 1e4, 1e6]) {
    const x = normalF32(size(bnShape), seed, offset);
    const runningMean = new Float32Array(C).fill(offset);
    const runningVar = new Float32Array(C).fill(1);
    // train
    const ref = batchNormTrain({ x, shape: bnShape, momentum: 0.1, eps: EPS, unbiasedRunningVar: false,
      running: { runningMean: Float64Array.from(runningMean), runningVar: Float64Array.from(runningVar), numBatchesTracked: 0 } });
    const kappa = Float64Array.from({ length: C }, (_, c) => {
      let m = 0;
      for (let i = 0; i < x.length; i++) if (chan(i) === c) m = Math.max(m, Math.abs(x[i]!));
      return m * ref.rstd[c]!;
    });
    const got = await adapter.bnTrainForward({ x, shape: bnShape, weight: null, bias: null, runningMean, runningVar, numBatchesTracked: 0, momentum: 0.1, eps: EPS });
    const ey = errors(got.y, ref.y, chan, kappa);
    const erv = errors(got.runningVar!, ref.running!.runningVar, (c) => c, new Float64Array(C).fill(1));
    const erm = errors(got.runningMean!, ref.running!.runningMean, (c) => c, new Float64Array(C).fill(1));
    rows.push({ op: 'BN train (8,4,6,6)', offset: fmt(offset), κ: fmt(Math.max(...kappa)), 'max abs err y': fmt(ey.maxErr), 'y err / κu': ey.maxUnits.toFixed(2),
      'running_mean abs err': fmt(erm.maxErr), 'running_var abs err': fmt(erv.maxErr) });
    // eval with the true statistics of the batch as running statistics (so y is O(1) as in training)
    const rm32 = Float32Array.from(ref.mean);
    const rv32 = Float32Array.from(ref.var);
    const refE = batchNormEval({ x, shape: bnShape, running: { runningMean: rm32, runningVar: rv32 }, eps: EPS });
    const kappaE = Float64Array.from(kappa, (k, c) => (k / ref.rstd[c]!) * refE.rstd[c]!);
    const gotE = await adapter.bnEvalForward({ x, shape: bnShape, weight: null, bias: null, runningMean: rm32, runningVar: rv32, eps: EPS });
    const eE = errors(gotE.y, refE.y, chan, kappaE);
    rows.push({ op: 'BN eval (8,4,6,6)', offset: fmt(offset), κ: fmt(Math.max(...kappaE)), 'max abs err y': fmt(eE.maxErr), 'y err / κu': eE.maxUnits.toFixed(2),
      'running_mean abs err': '', 'running_var abs err': '' });
    // LayerNorm over the last axis
    const xl = normalF32(size(lnShape), seed + 1, offset);
    const D = lnShape[1]!;
    const refL = layerNormForward({ x: xl, shape: lnShape, normalizedShape: [D], eps: EPS });
    const kappaL = Float64Array.from(refL.rstd, (r, row) => r * Math.max(...Array.from(xl.subarray(row * D, row * D + D), Math.abs)));
    const gotL = await adapter.lnForward({ x: xl, shape: lnShape, normalizedShape: [D], weight: null, bias: null, eps: EPS });
    const eL = errors(gotL.y, refL.y, (i) => Math.floor(i / D), kappaL);
    const eLr = errors(gotL.rstd!, refL.rstd, (r) => r, refL.rstd);
    rows.push({ op: 'LN (8,256) last axis', offset: fmt(offset), κ: fmt(Math.max(...kappaL)), 'max abs err y': fmt(eL.maxErr), 'y err / κu': eL.maxUnits.toFixed(2),
      'running_mean abs err': '', 'running_var abs err': `rstd rel err ${fmt(eLr.maxErr / Math.max(...refL.rstd))}` });
  }
  return rows;
}

/** Which elements are non-finite, grouped: "ch0: 12/12, ch1: 0/12". */
function nonFiniteBy(y: ArrayLike<number>, groups: number, groupOf: (i: number) => number): string {
  const bad = new Array<number>(groups).fill(0);
  const all = new Array<number>(groups).fill(0);
  for (let i = 0; i < y.length; i++) {
    all[groupOf(i)]!++;
    if (!Number.isFinite(y[i]!)) bad[groupOf(i)]!++;
  }
  return bad.map((b, g) => `${g}:${b}/${all[g]}`).join(' ');
}

async function specials(adapter: OrtAdapter, seed: number): Promise<Row[]> {
  const rows: Row[] = [];
  const shape = [4, 3, 2];
  const chan = (i: number): number => Math.floor(i / 2) % 3;
  for (const [label, value] of [['NaN', NaN], ['+Inf', Infinity]] as const) {
    const x = normalF32(24, seed, 0);
    x[0] = value; // (n=0, c=0, s=0)
    const tr = await adapter.bnTrainForward({ x, shape, weight: null, bias: null, runningMean: new Float32Array(3), runningVar: new Float32Array(3).fill(1), numBatchesTracked: 0, momentum: 0.1, eps: EPS });
    rows.push({ case: `BN train, one ${label} at x[0,0,0]`, 'non-finite y per channel': nonFiniteBy(tr.y, 3, chan),
      'non-finite running stats': `mean ${nonFiniteBy(tr.runningMean!, 3, (c) => c)}, var ${nonFiniteBy(tr.runningVar!, 3, (c) => c)}` });
    const ev = await adapter.bnEvalForward({ x, shape, weight: null, bias: null, runningMean: new Float32Array(3), runningVar: new Float32Array(3).fill(1), eps: EPS });
    rows.push({ case: `BN eval, one ${label} at x[0,0,0]`, 'non-finite y per channel': nonFiniteBy(ev.y, 3, chan), 'non-finite running stats': '' });
    const ln = await adapter.lnForward({ x, shape: [4, 6], normalizedShape: [6], weight: null, bias: null, eps: EPS });
    rows.push({ case: `LN (4,6), one ${label} at x[0,0]`, 'non-finite y per channel': `per row ${nonFiniteBy(ln.y, 4, (i) => Math.floor(i / 6))}`, 'non-finite running stats': '' });
  }
  return rows;
}

async function shapes(adapter: OrtAdapter, seed: number): Promise<Row[]> {
  const rows: Row[] = [];
  for (const shape of [[2, 5], [2, 3, 1, 1], [5, 3, 1], [1, 3]]) {
    const C = shape[1]!;
    const x = normalF32(size(shape), seed, 0);
    const M = size(shape) / C;
    let refText: string;
    let ref: ReturnType<typeof batchNormTrain> | null = null;
    try {
      ref = batchNormTrain({ x, shape, momentum: 0.1, eps: EPS, unbiasedRunningVar: false,
        running: { runningMean: new Float64Array(C), runningVar: new Float64Array(C).fill(1), numBatchesTracked: 0 } });
      refText = 'computes';
    } catch (e) {
      refText = `throws: ${(e as Error).message}`;
    }
    try {
      const got = await adapter.bnTrainForward({ x, shape, weight: null, bias: null, runningMean: new Float32Array(C), runningVar: new Float32Array(C).fill(1), numBatchesTracked: 0, momentum: 0.1, eps: EPS });
      const err = ref ? fmt(errors(got.y, ref.y, () => 0, [1]).maxErr) : 'n/a';
      rows.push({ shape: `(${shape.join(',')}) M=${M}`, reference: refText, 'ONNX Runtime': `y[0..3] = ${Array.from(got.y.subarray(0, 3), (v) => v.toPrecision(4)).join(', ')}; running_var[0] = ${got.runningVar![0]!.toPrecision(6)}`, 'max abs err y': err });
    } catch (e) {
      rows.push({ shape: `(${shape.join(',')}) M=${M}`, reference: refText, 'ONNX Runtime': `throws: ${(e as Error).message.split('\n')[0]}`, 'max abs err y': '' });
    }
  }
  return rows;
}

async function range(adapter: OrtAdapter): Promise<Row[]> {
  const rows: Row[] = [];
  for (const scale of [1e18, 1e19, 1e20]) {
    const x = Float32Array.from([1, -1, 2, -2, 0.5, -0.5], (v) => v * scale);
    const ref = layerNormForward({ x, shape: [1, 6], normalizedShape: [6], eps: EPS });
    const bn = await adapter.bnTrainForward({ x, shape: [6, 1], weight: null, bias: null, runningMean: new Float32Array(1), runningVar: new Float32Array([1]), numBatchesTracked: 0, momentum: 0.1, eps: EPS });
    const ln = await adapter.lnForward({ x, shape: [1, 6], normalizedShape: [6], weight: null, bias: null, eps: EPS });
    rows.push({ scale: fmt(scale), 'reference y[0]': ref.y[0]!.toPrecision(6), 'BN train y[0]': String(bn.y[0]), 'BN running_var': fmt(bn.runningVar![0]!),
      'LN y[0]': String(ln.y[0]), 'LN InvStdDev': fmt(ln.rstd![0]!) });
  }
  return rows;
}

/** Runs the raw model (not the adapter, which copies) to see whether ORT writes into the aliased inputs. */
async function aliasing(name: string, load: () => Promise<typeof import('onnxruntime-node')>): Promise<string> {
  const ort = await load();
  const s = await ort.InferenceSession.create(batchNormModel(await requireOnnx(), { shape: [4, 2], training: true, epsilon: EPS, momentum: 0.9 }));
  const inputMean = new Float32Array([1, 2]);
  const inputVar = new Float32Array([3, 4]);
  await s.run({
    X: new ort.Tensor('float32', normalF32(8, 5, 0), [4, 2]), scale: new ort.Tensor('float32', new Float32Array([1, 1]), [2]),
    B: new ort.Tensor('float32', new Float32Array(2), [2]), input_mean: new ort.Tensor('float32', inputMean, [2]), input_var: new ort.Tensor('float32', inputVar, [2]),
  });
  await s.release();
  const untouched = inputMean[0] === 1 && inputMean[1] === 2 && inputVar[0] === 3 && inputVar[1] === 4;
  return `${name}: input_mean/input_var after a training run: ${untouched ? 'unchanged' : `CHANGED to ${Array.from(inputMean)} / ${Array.from(inputVar)}`}`;
}

async function main(): Promise<void> {
  const seedArg = process.argv.indexOf('--seed');
  const seed = seedArg >= 0 ? Number(process.argv[seedArg + 1]) : 1;
  console.log(`# ONNX Runtime probe (seed ${seed}, eps ${EPS}, u = 2^-24 = ${U.toExponential(3)})\n`);
  for (const adapter of [ortNode, ortWeb]) {
    const avail = await adapter.available();
    if (avail !== true) {
      console.log(`## ${adapter.name}: not available: ${avail}\n`);
      continue;
    }
    console.log(`## ${adapter.name}\n\n### Large offsets (std 1)\n\n${table(await offsets(adapter, seed))}\n`);
    console.log(`### NaN / Inf confinement (shape (4,3,2); channel:non-finite/total)\n\n${table(await specials(adapter, seed))}\n`);
    console.log(`### Small shapes, training mode\n\n${table(await shapes(adapter, seed))}\n`);
    console.log(`### Range: values ±scale·{0.5, 1, 2}, (6, 1) for BN, (1, 6) for LN\n\n${table(await range(adapter))}\n`);
    await adapter.teardown();
  }
  console.log('### Aliased running statistics\n');
  console.log(await aliasing('onnxruntime-node', () => import('onnxruntime-node')));
  console.log(await aliasing('onnxruntime-web', async () => {
    const ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = 1;
    return ort as unknown as typeof import('onnxruntime-node');
  }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
