/**
 * The float32 GEMM kernels (kernels/gemm/), every version, against the float64 reference Linear
 * (reference/linear.ts), with the bound of test/kernels/gemm_error_model.ts for the version's accumulation:
 *   float64   |ŷ - ref| ≤ u32·|ref| + 3·γ_k(u64)·Σ|a||b| + 2⁻¹⁴⁹
 *   float32   |ŷ - ref| ≤ γ_{k+1}(u32)·Σ|a||b| + 2·γ_k(u64)·Σ|a||b| + k·2⁻¹⁴⁹
 * k the reduction length (I, N or O; +1 with a bias). The bias gradient Σ_n dy is computed in float64 by
 * every version (gemm.ts's columnSums), so it takes the float64 bound.
 * Values come from a seeded PRNG (seed drawn by fast-check, printed on failure) and are rounded to float32
 * first, so kernel and reference see the same numbers.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  GEMM_BLOCKED, GEMM_DEFAULT, GEMM_NAIVE, GEMM_VERSIONS, GEMM_WASM, gemmDyTX, gemmDyW, gemmXWt, KernelArgError, type GemmVersion,
} from '../../kernels/index.js';
import { linearBackward, linearForward } from '../../reference/index.js';
import { seed, seededRng } from '../helpers/arbitraries.js';
import { absOf, compareWithBound, gemmBound } from './gemm_error_model.js';

/** Odd sizes and the tile edges: 1, 3, 5, 7 (inside a tile), 4, 8, 12 (whole 4×4 / 4×8 tiles), 17 and 33 (tiles plus one). */
const oddDim = fc.constantFrom(1, 3, 5, 7, 17, 4, 8, 12, 33);
const oddSizes = fc.record({ N: oddDim, I: oddDim, O: oddDim });

type ValueCase = 'standardValues' | 'wideExponents' | 'sparseZeros';
/**
 * standardValues  z ~ N(0, 1)
 * wideExponents   z·2^e, e uniform in [-20, 20]: sums whose terms differ by 2⁴⁰, where the Σ|a||b| term of the
 *                 bound, not u32·|ref|, is what covers the cancellation
 * sparseZeros     half the values exactly 0 (ReLU outputs look like this; the mask must treat 0 as "off")
 */
const valueCase = fc.constantFrom<ValueCase>('standardValues', 'wideExponents', 'sparseZeros');

function float32Values(rng: ReturnType<typeof seededRng>, n: number, kind: ValueCase): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const z = rng.normal();
    if (kind === 'wideExponents') out[i] = z * 2 ** (rng.int(41) - 20);
    else if (kind === 'sparseZeros') out[i] = rng.uniform() < 0.5 ? 0 : z;
    else out[i] = z;
  }
  return out;
}

function expectWithin(got: Float32Array, want: ArrayLike<number>, bound: (i: number) => number, what: string): void {
  const bad = compareWithBound(got, want, bound);
  expect(bad, `${what}: worst mismatches (index, got, want, bound)`).toEqual([]);
}

function copy(a: Float32Array): Float32Array {
  return Float32Array.from(a);
}

describe.each(GEMM_VERSIONS.map((v) => [v.name, v] as [string, GemmVersion]))('GEMM version %s', (_name, version) => {
  it('x·Wᵀ + bias, with and without ReLU, matches the float64 reference within the float32 output rounding and the float64 sum error', () => {
    fc.assert(
      fc.property(seed, oddSizes, valueCase, fc.boolean(), fc.boolean(), (s, dims, kind, hasBias, relu) => {
        const { N, I, O } = dims;
        const rng = seededRng(s);
        const x = float32Values(rng, N * I, kind);
        const w = float32Values(rng, O * I, kind);
        const bias = hasBias ? float32Values(rng, O, kind) : null;
        const [x0, w0, b0] = [copy(x), copy(w), bias && copy(bias)];
        const y = new Float32Array(N * O).fill(NaN); // every element must be written
        gemmXWt(x, w, y, dims, { bias, relu, version });
        const ref = linearForward(x, w, bias, dims);
        const absSum = linearForward(absOf(x), absOf(w), bias && absOf(bias), dims);
        const want = relu ? ref.map((v) => (v > 0 ? v : 0)) : ref;
        // k = I products, plus the bias as one more term
        expectWithin(y, want, (i) => gemmBound(I + (hasBias ? 1 : 0), ref[i]!, absSum[i]!, version.accumulation), 'y');
        expect([x, w, bias]).toEqual([x0, w0, b0]); // inputs untouched
      }),
      { numRuns: 60 },
    );
  });

  it('dyᵀ·x and the bias gradient Σ_n dy match the float64 reference within the error model', () => {
    fc.assert(
      fc.property(seed, oddSizes, valueCase, (s, dims, kind) => {
        const { N, I, O } = dims;
        const rng = seededRng(s);
        const dy = float32Values(rng, N * O, kind);
        const x = float32Values(rng, N * I, kind);
        const w = new Float32Array(O * I); // unused by dW and db; the reference wants one
        const [dy0, x0] = [copy(dy), copy(x)];
        const dweight = new Float32Array(O * I).fill(NaN);
        const dbias = new Float32Array(O).fill(NaN);
        gemmDyTX(dy, x, dweight, dims, { dbias, version });
        const ref = linearBackward(dy, x, w, dims);
        const abs = linearBackward(absOf(dy), absOf(x), w, dims);
        // dW: k = N products per output; db: N terms dy·1
        expectWithin(dweight, ref.dweight, (i) => gemmBound(N, ref.dweight[i]!, abs.dweight[i]!, version.accumulation), 'dweight');
        expectWithin(dbias, ref.dbias!, (i) => gemmBound(N, ref.dbias![i]!, abs.dbias![i]!), 'dbias');
        expect([dy, x]).toEqual([dy0, x0]);
      }),
      { numRuns: 60 },
    );
  });

  it('dy·W, with and without the ReLU mask, matches the float64 reference and is exactly 0 where the mask is ≤ 0', () => {
    fc.assert(
      fc.property(seed, oddSizes, valueCase, fc.boolean(), (s, dims, kind, masked) => {
        const { N, I, O } = dims;
        const rng = seededRng(s);
        const dy = float32Values(rng, N * O, kind);
        const w = float32Values(rng, O * I, kind);
        // the mask is a ReLU output: non-negative, about half exactly 0
        const mask = masked ? float32Values(rng, N * I, 'sparseZeros').map(Math.abs) : null;
        const [dy0, w0, m0] = [copy(dy), copy(w), mask && copy(mask)];
        const dx = new Float32Array(N * I).fill(NaN);
        gemmDyW(dy, w, dx, dims, { reluMask: mask, version });
        const xUnused = new Float64Array(N * I);
        const ref = linearBackward(dy, xUnused, w, dims, false);
        const abs = linearBackward(absOf(dy), xUnused, absOf(w), dims, false);
        const want = mask ? ref.dx.map((v, i) => (mask[i]! > 0 ? v : 0)) : ref.dx;
        // k = O products per output; where masked the result is exactly 0 (bound 2⁻¹⁴⁹ when ref = 0 and S = 0)
        expectWithin(dx, want, (i) => (mask && !(mask[i]! > 0) ? 0 : gemmBound(O, ref.dx[i]!, abs.dx[i]!, version.accumulation)), 'dx');
        expect([dy, w, mask]).toEqual([dy0, w0, m0]);
      }),
      { numRuns: 60 },
    );
  });
});

describe('GEMM special values', () => {
  /**
   * A NaN operand poisons exactly the outputs whose sums contain it (NaN·b is NaN for every b, 0 included) and
   * no other: x·Wᵀ row n for a NaN in x[n, ·]; dyᵀ·x column i for a NaN in x[·, i]; dy·W row n for a NaN in dy[n, ·].
   * The SIMD version holds four rows and eight columns in one tile; a NaN must stay in its lane. Where the ReLU mask
   * is off, dx is 0 even from a NaN gradient, as PyTorch's threshold_backward selects rather than multiplies.
   */
  const nanCase = fc.record({ N: oddDim, I: oddDim, O: oddDim, s: seed, pick: fc.nat() });

  it.each(GEMM_VERSIONS.map((v) => [v.name, v] as [string, GemmVersion]))(
    '%s: a NaN in one input element makes NaN exactly the outputs whose sums include it',
    (_name, version) => {
      fc.assert(
        fc.property(nanCase, ({ N, I, O, s, pick }) => {
          const rng = seededRng(s);
          const dims = { N, I, O };
          const x = float32Values(rng, N * I, 'standardValues');
          const w = float32Values(rng, O * I, 'standardValues');
          const dy = float32Values(rng, N * O, 'standardValues');
          const xi = pick % (N * I);
          const nx = Math.floor(xi / I);
          const ix = xi % I;
          x[xi] = NaN;
          const y = new Float32Array(N * O);
          gemmXWt(x, w, y, dims, { version });
          y.forEach((v, k) => expect(Number.isNaN(v), `y[${k}]`).toBe(Math.floor(k / O) === nx));
          const dw = new Float32Array(O * I);
          gemmDyTX(dy, x, dw, dims, { version });
          dw.forEach((v, k) => expect(Number.isNaN(v), `dweight[${k}]`).toBe(k % I === ix));
          const di = pick % (N * O);
          const ndy = Math.floor(di / O);
          dy[di] = NaN;
          const mask = float32Values(rng, N * I, 'sparseZeros').map(Math.abs);
          const dx = new Float32Array(N * I);
          gemmDyW(dy, w, dx, dims, { reluMask: mask, version });
          dx.forEach((v, k) => {
            const on = mask[k]! > 0;
            expect(Number.isNaN(v), `dx[${k}]`).toBe(on && Math.floor(k / I) === ndy);
            if (!on) expect(Object.is(v, 0), `dx[${k}] masked is +0`).toBe(true);
          });
        }),
        { numRuns: 30 },
      );
    },
  );
});

describe('GEMM at the seed network size', () => {
  it('every form of the default version matches the reference at 128×784×256, the shape of fc1 at batch 128', () => {
    const dims = { N: 128, I: 784, O: 256 };
    const rng = seededRng(20261127);
    const x = float32Values(rng, dims.N * dims.I, 'standardValues');
    const w = float32Values(rng, dims.O * dims.I, 'standardValues');
    const dy = float32Values(rng, dims.N * dims.O, 'standardValues');
    const bias = float32Values(rng, dims.O, 'standardValues');
    const version = GEMM_DEFAULT;
    const y = new Float32Array(dims.N * dims.O);
    const dweight = new Float32Array(dims.O * dims.I);
    const dx = new Float32Array(dims.N * dims.I);
    gemmXWt(x, w, y, dims, { bias });
    gemmDyTX(dy, x, dweight, dims);
    gemmDyW(dy, w, dx, dims);
    const ref = linearForward(x, w, bias, dims);
    const refAbs = linearForward(absOf(x), absOf(w), absOf(bias), dims);
    const back = linearBackward(dy, x, w, dims, false);
    const backAbs = linearBackward(absOf(dy), absOf(x), absOf(w), dims, false);
    const acc = version.accumulation;
    expectWithin(y, ref, (i) => gemmBound(dims.I + 1, ref[i]!, refAbs[i]!, acc), 'y');
    expectWithin(dweight, back.dweight, (i) => gemmBound(dims.N, back.dweight[i]!, backAbs.dweight[i]!, acc), 'dweight');
    expectWithin(dx, back.dx, (i) => gemmBound(dims.O, back.dx[i]!, backAbs.dx[i]!, acc), 'dx');
  });

  it('this Node runs WebAssembly SIMD, so the wasm-simd version is among those tested and is the default', () => {
    expect(GEMM_VERSIONS.map((v) => v.name)).toEqual(['naive', 'blocked', 'wasm-simd']);
    expect(GEMM_DEFAULT.name).toBe('wasm-simd');
  });
});

describe('GEMM wasm-simd against a float32-emulated sum', () => {
  /**
   * The float32-accumulating version adds, per output, the float32-rounded products in increasing k, each partial
   * sum rounded to float32 (f32x4.mul then f32x4.add: no fused multiply-add). Emulating that with Math.fround after
   * every operation reproduces it exactly: a float32 product or sum computed in float64 and then rounded is the
   * correctly rounded float32 result (53 ≥ 2·24 + 2, so the double rounding is innocuous). Reductions longer than
   * KC = 256 check that the k-blocks continue each sum rather than restart it.
   */
  const f = Math.fround;
  const longK = fc.constantFrom(1, 7, 256, 257, 600);

  it('each form equals the sequential float32 sum bit for bit, across k-blocks, with the bias added last and rounded once', () => {
    fc.assert(
      fc.property(seed, oddDim, longK, oddDim, fc.boolean(), (s, N, K, O, relu) => {
        const rng = seededRng(s);
        // xwt: y (N, O) = x (N, K)·Wᵀ, W (O, K)
        const x = float32Values(rng, N * K, 'standardValues');
        const w = float32Values(rng, O * K, 'standardValues');
        const bias = float32Values(rng, O, 'standardValues');
        const y = new Float32Array(N * O);
        gemmXWt(x, w, y, { N, I: K, O }, { bias, relu, version: GEMM_WASM });
        const yWant = new Float32Array(N * O);
        for (let n = 0; n < N; n++) {
          for (let o = 0; o < O; o++) {
            let acc = 0;
            for (let k = 0; k < K; k++) acc = f(acc + f(x[n * K + k]! * w[o * K + k]!));
            const v = f(acc + bias[o]!);
            yWant[n * O + o] = relu ? (v > 0 ? v : 0) : v;
          }
        }
        expect(y).toEqual(yWant);
        // dytx: dW (O, I) = dyᵀ·x over K = batch rows; dyw: dx (N, I) = dy·W over K = outputs
        const I = O;
        const dy = float32Values(rng, K * N, 'standardValues'); // (K, N) for dytx
        const xs = float32Values(rng, K * I, 'standardValues'); // (K, I)
        const dw = new Float32Array(N * I);
        gemmDyTX(dy, xs, dw, { N: K, I, O: N }, { version: GEMM_WASM });
        const dwWant = new Float32Array(N * I);
        for (let o = 0; o < N; o++) {
          for (let i = 0; i < I; i++) {
            let acc = 0;
            for (let k = 0; k < K; k++) acc = f(acc + f(dy[k * N + o]! * xs[k * I + i]!));
            dwWant[o * I + i] = acc;
          }
        }
        expect(dw).toEqual(dwWant);
        const dyN = float32Values(rng, N * K, 'standardValues'); // (N, K)
        const wK = float32Values(rng, K * I, 'standardValues'); // (K, I)
        const dx = new Float32Array(N * I);
        gemmDyW(dyN, wK, dx, { N, I, O: K }, { version: GEMM_WASM });
        const dxWant = new Float32Array(N * I);
        for (let n = 0; n < N; n++) {
          for (let i = 0; i < I; i++) {
            let acc = 0;
            for (let k = 0; k < K; k++) acc = f(acc + f(dyN[n * K + k]! * wK[k * I + i]!));
            dxWant[n * I + i] = acc;
          }
        }
        expect(dx).toEqual(dxWant);
      }),
      { numRuns: 25 },
    );
  });
});

describe('GEMM versions against each other', () => {
  it('the blocked version reproduces the naive one bit for bit: same float64 sums in the same order', () => {
    fc.assert(
      fc.property(seed, oddSizes, (s, dims) => {
        const { N, I, O } = dims;
        const rng = seededRng(s);
        const x = float32Values(rng, N * I, 'standardValues');
        const w = float32Values(rng, O * I, 'standardValues');
        const dy = float32Values(rng, N * O, 'standardValues');
        const bias = float32Values(rng, O, 'standardValues');
        const out = (v: GemmVersion) => {
          const y = new Float32Array(N * O);
          const dw = new Float32Array(O * I);
          const dx = new Float32Array(N * I);
          gemmXWt(x, w, y, dims, { bias, relu: true, version: v });
          gemmDyTX(dy, x, dw, dims, { version: v });
          gemmDyW(dy, w, dx, dims, { reluMask: x, version: v });
          return [y, dw, dx];
        };
        expect(out(GEMM_BLOCKED)).toEqual(out(GEMM_NAIVE));
      }),
      { numRuns: 40 },
    );
  });
});

describe('GEMM argument checks', () => {
  const dims = { N: 2, I: 3, O: 4 };
  const x = new Float32Array(6);
  const w = new Float32Array(12);
  const y = new Float32Array(8);

  it('a buffer of the wrong size is rejected naming the argument and the expected shape', () => {
    expect(() => gemmXWt(x, new Float32Array(11), y, dims)).toThrow(/weight: expected a weight of shape \(out, in\) = \(4, 3\) \(12 values\), got 11/);
    expect(() => gemmXWt(x, w, new Float32Array(9), dims)).toThrow(/y: expected an output of shape \(N, O\) = \(2, 4\) \(8 values\)/);
    expect(() => gemmXWt(x, w, y, dims, { bias: new Float32Array(3) })).toThrow(/bias: expected a bias of shape \(4,\)/);
    expect(() => gemmDyTX(y, x, new Float32Array(12), dims, { dbias: new Float32Array(5) })).toThrow(/dbias: expected/);
    expect(() => gemmDyW(y, w, new Float32Array(6), dims, { reluMask: new Float32Array(5) })).toThrow(/reluMask: expected a ReLU output of shape \(N, I\) = \(2, 3\)/);
  });

  it('a Float64Array or plain array is rejected: the kernels are float32 only', () => {
    expect(() => gemmXWt(new Float64Array(6) as unknown as Float32Array, w, y, dims)).toThrow(/x: expected a Float32Array .* got Float64Array/);
    expect(() => gemmDyW(y, w, [0, 0, 0, 0, 0, 0] as unknown as Float32Array, dims)).toThrow(/dx: expected a Float32Array .* got Array/);
  });

  it('dimensions must be positive integers', () => {
    expect(() => gemmXWt(x, w, y, { N: 0, I: 3, O: 4 })).toThrow(KernelArgError);
    expect(() => gemmXWt(x, w, y, { N: 2, I: 3.5, O: 4 })).toThrow(/dims.I: expected a positive integer, got 3.5/);
  });

  it('an output overlapping an input is rejected, since the kernels read inputs after writing outputs', () => {
    const buf = new Float32Array(20);
    expect(() => gemmXWt(buf.subarray(0, 6), w, buf.subarray(4, 12), dims)).toThrow(/y: must not overlap x/);
    expect(() => gemmXWt(buf.subarray(0, 6), w, buf.subarray(6, 14), dims)).not.toThrow(); // adjacent is fine
  });
});
