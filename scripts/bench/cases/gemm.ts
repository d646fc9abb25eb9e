/**
 * Benchmark cases: float32 GEMM at the shape of the seed network's fc1 at batch 128, N×I×O = 128×784×256, in the
 * three forms a Linear layer's training step needs (PyTorch layout, weight (O, I)):
 *   x·Wᵀ   forward            y  (N, O)   tf.matMul(x, W, false, true)
 *   dyᵀ·x  weight gradient    dW (O, I)   tf.matMul(dy, x, true, false)
 *   dy·W   input gradient     dx (N, I)   tf.matMul(dy, W, false, false)
 * 2·N·I·O = 51.4 MFLOP each. Implementations: every GEMM version of kernels/registry.ts, the float64 reference Linear
 * (reference/linear.ts's x·Wᵀ loop, the operands of the other two forms transposed once in setup), tfjs-wasm and
 * tfjs-cpu with the transpose flags above, so tfjs's transposed-operand paths are what is timed.
 *
 * Validation, element by element against the float64 reference on the same data, with the float32-accumulation
 * bound of test/kernels/gemm_error_model.ts (also an upper bound for the float64-accumulating versions):
 *   |ŷ - y| ≤ γ_{k+1}(u32)·Σ|a||b| + 2·γ_k(u64)·Σ|a||b|,   γ_k(u) = k·u/(1 - k·u),  k the reduction length
 */
import { GEMM_VERSIONS, gemmDyTX, gemmDyW, gemmXWt, type GemmVersion } from '../../../kernels/index.js';
import { linearForward } from '../../../reference/index.js';
import { normalF32 } from '../data.js';
import type { BenchCase, Implementation, Prepared, Validation } from '../harness.js';
import { tfjsImplementations } from '../peers.js';
import { pytorchImplementation } from '../pytorch.js';

const N = 128;
const I = 784;
const O = 256;
const FLOPS = 2 * N * I * O;

type Form = 'xWt' | 'dyTx' | 'dyW';

/** The seeded operands, shared by every implementation. */
const data = {
  x: normalF32(31, N * I),
  w: normalF32(32, O * I, 0, 1 / Math.sqrt(I)),
  dy: normalF32(33, N * O),
};

const transpose = (a: ArrayLike<number>, rows: number, cols: number): Float64Array => {
  const t = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c]!;
  return t;
};
const abs = (a: ArrayLike<number>) => Float64Array.from(a, Math.abs);

/**
 * Each form as reference linearForward(A, B) = A·Bᵀ: (rows, k) × (cols, k)ᵀ.
 *   x·Wᵀ  = linear(x, W);   dyᵀ·x = linear(dyᵀ, xᵀ);   dy·W = linear(dy, Wᵀ)
 */
function asLinear(form: Form): { A: Float64Array; B: Float64Array; rows: number; k: number; cols: number } {
  const { x, w, dy } = data;
  if (form === 'xWt') return { A: Float64Array.from(x), B: Float64Array.from(w), rows: N, k: I, cols: O };
  if (form === 'dyTx') return { A: transpose(dy, N, O), B: transpose(x, N, I), rows: O, k: N, cols: I };
  return { A: Float64Array.from(dy), B: transpose(w, O, I), rows: N, k: O, cols: I };
}

const expected = new Map<Form, { y: Float64Array; absSum: Float64Array; k: number }>();
function reference(form: Form): { y: Float64Array; absSum: Float64Array; k: number } {
  let r = expected.get(form);
  if (r === undefined) {
    const { A, B, rows, k, cols } = asLinear(form);
    const dims = { N: rows, I: k, O: cols };
    r = { y: linearForward(A, B, null, dims), absSum: linearForward(abs(A), abs(B), null, dims), k };
    expected.set(form, r);
  }
  return r;
}

const gamma = (k: number, u: number) => (k * u) / (1 - k * u);

/** Every element within the float32-accumulation bound; the detail names the worst error/bound ratio. */
function validateGemm(what: string, got: ArrayLike<number>, form: Form): Validation {
  const { y, absSum, k } = reference(form);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < y.length; i++) {
    const bound = gamma(k + 1, 2 ** -24) * absSum[i]! + 2 * gamma(k, 2 ** -53) * absSum[i]!;
    const ratio = Math.abs(got[i]! - y[i]!) / bound;
    if (!(ratio <= worst)) {
      worst = Number.isNaN(ratio) ? Infinity : ratio;
      at = i;
    }
  }
  const ok = worst <= 1;
  return { ok, detail: `${what}: worst |err|/bound ${worst.toExponential(2)}${ok ? '' : ` at [${at}]`} (γ_${k + 1}(u32)·Σ|a||b|)` };
}

function kernelImpl(form: Form, version: GemmVersion): Implementation {
  return {
    name: `kernels ${version.name}`,
    kind: 'kernel',
    ...(version.name === 'naive' ? { maxReps: 10 } : {}),
    setup: (): Prepared => {
      const { x, w, dy } = data;
      const dims = { N, I, O };
      if (form === 'xWt') {
        const y = new Float32Array(N * O);
        const run = () => gemmXWt(x, w, y, dims, { version });
        return { run, validate: () => (run(), validateGemm('y', y, form)) };
      }
      if (form === 'dyTx') {
        const dweight = new Float32Array(O * I);
        const run = () => gemmDyTX(dy, x, dweight, dims, { version });
        return { run, validate: () => (run(), validateGemm('dweight', dweight, form)) };
      }
      const dx = new Float32Array(N * I);
      const run = () => gemmDyW(dy, w, dx, dims, { version });
      return { run, validate: () => (run(), validateGemm('dx', dx, form)) };
    },
  };
}

function referenceImpl(form: Form): Implementation {
  return {
    name: 'reference (float64)',
    kind: 'reference',
    maxReps: 5,
    setup: (): Prepared => {
      const { A, B, rows, k, cols } = asLinear(form);
      const dims = { N: rows, I: k, O: cols };
      let y: Float64Array = new Float64Array(0);
      const run = () => {
        y = linearForward(A, B, null, dims);
      };
      return { run, validate: () => (run(), validateGemm('y', y, form)) };
    },
  };
}

function tfjsImpls(form: Form): Implementation[] {
  return tfjsImplementations(
    (tf): Prepared => {
      const x = tf.tensor2d(data.x, [N, I]);
      const w = tf.tensor2d(data.w, [O, I]);
      const dy = tf.tensor2d(data.dy, [N, O]);
      const product = () =>
        form === 'xWt' ? tf.matMul(x, w, false, true) : form === 'dyTx' ? tf.matMul(dy, x, true, false) : tf.matMul(dy, w, false, false);
      return {
        // cpu and wasm run the kernel when the op is called; dispose frees the output right away
        run: () => product().dispose(),
        validate: () => {
          const r = product();
          const got = r.dataSync();
          r.dispose();
          return validateGemm('output', got, form);
        },
        teardown: () => tf.dispose([x, w, dy]),
      };
    },
    { 'tfjs-cpu': 10 },
  );
}

const FORMS: { form: Form; name: string }[] = [
  { form: 'xWt', name: 'gemm x·Wᵀ (forward)' },
  { form: 'dyTx', name: 'gemm dyᵀ·x (weight gradient)' },
  { form: 'dyW', name: 'gemm dy·W (input gradient)' },
];

export const cases: BenchCase[] = FORMS.map(({ form, name }) => ({
  name,
  shape: `N×I×O = ${N}×${I}×${O}`,
  flops: FLOPS,
  // bytes: each operand read once, the output written once
  bytes: 4 * (form === 'xWt' ? N * I + O * I + N * O : form === 'dyTx' ? N * O + N * I + O * I : N * O + O * I + N * I),
  // the issue's goal: within 2× of tfjs-wasm (at least half its speed)
  goal: { peer: 'tfjs-wasm', factor: 0.5 },
  implementations: [
    ...GEMM_VERSIONS.map((v) => kernelImpl(form, v)), referenceImpl(form), ...tfjsImpls(form),
    pytorchImplementation({
      case: `gemm_${form}`, request: { shape: [N, I, O], form }, inputs: () => ({ x: data.x, w: data.w, dy: data.dy }),
      validate: (out) => validateGemm('output', out('output'), form),
    }),
  ],
}));
