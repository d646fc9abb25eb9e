/**
 * Arrays in the kernels' WebAssembly memory (kernels/shared/wasm_arrays.ts): they survive the memory's growth,
 * their blocks are reused after freeWasmArray, and every wasm version computes on them in place exactly what it
 * computes when the same values come in ordinary arrays (copied in and out): the same bits, for both layouts,
 * odd sizes (tails of a run, an odd channel count, GEMM tiles that overhang the output), unaligned subarrays, and
 * mixes of the two kinds of array.
 */
import { describe, expect, it } from 'vitest';
import {
  batchNormBackward, batchNormEvalForward, batchNormTrainForward, BatchNormWorkspace, BN_BACKWARD_WASM, BN_EVAL_WASM, BN_FORWARD_WASM,
  freeWasmArray, GEMM_WASM, gemmDyTX, gemmDyW, gemmXWt, isWasmArray, KernelValueError, layerNormBackward, layerNormForward, LayerNormWorkspace, LN_BACKWARD_WASM, LN_FORWARD_WASM,
  SeedNetKernel, wasmFloat32Array, wasmFloat64Array, type BatchNormLayout,
} from '../../kernels/index.js';
import { seededRng } from '../helpers/arbitraries.js';

function fill(a: Float32Array, seed: number, offset = 0): Float32Array {
  const rng = seededRng(seed);
  for (let i = 0; i < a.length; i++) a[i] = offset + rng.normal();
  return a;
}

/** A wasm array holding a's values, at an odd float offset inside a larger block when `unaligned`. */
function inWasm(a: Float32Array, unaligned: boolean): Float32Array {
  const block = wasmFloat32Array(a.length + 1);
  const view = unaligned ? block.subarray(1) : block.subarray(0, a.length);
  view.set(a);
  return view;
}

describe('wasm arrays', () => {
  it('are zeroed Float32Arrays in the kernels memory that stay valid when the memory grows, and freed blocks are reused', () => {
    const a = wasmFloat32Array(1000);
    expect(a).toBeInstanceOf(Float32Array);
    expect(isWasmArray(a)).toBe(true);
    expect(isWasmArray(new Float32Array(4))).toBe(false);
    expect(a.every((v) => v === 0)).toBe(true);
    a.fill(7);
    const big = wasmFloat32Array(20 * 1024 * 1024); // 80 MB: the memory has to grow
    expect(a.length).toBe(1000);
    expect(a[999]).toBe(7);
    big[0] = 1;
    freeWasmArray(big);
    const again = wasmFloat32Array(20 * 1024 * 1024);
    expect(again.byteOffset).toBe(big.byteOffset);
    expect(again[0]).toBe(0); // zeroed, though the block is reused
    freeWasmArray(again);
    expect(() => freeWasmArray(again)).toThrow(KernelValueError);
    expect(() => freeWasmArray(a.subarray(1))).toThrow(/not a subarray of one/);
    freeWasmArray(a);
    expect(wasmFloat64Array(3)).toBeInstanceOf(Float64Array);
  });
});

describe.each(['NCHW', 'NHWC'] as BatchNormLayout[])('%s BatchNorm wasm versions on wasm arrays', (layout) => {
  // S = 11 leaves a tail of 3 after the 8-value steps; C = 5 an odd channel for the channels-last pairs
  const dims = { N: 3, C: 5, S: 11 };
  const n = dims.N * dims.C * dims.S;
  const x = fill(new Float32Array(n), 1, 100);
  const dy = fill(new Float32Array(n), 2);
  const weight = fill(new Float32Array(dims.C), 3);
  const bias = fill(new Float32Array(dims.C), 4);

  function run(xIn: Float32Array, dyIn: Float32Array, y: Float32Array, dx: Float32Array, relu: boolean) {
    const mean = new Float64Array(dims.C), rstd = new Float64Array(dims.C), workspace = new BatchNormWorkspace(dims.C);
    const dweight = new Float32Array(dims.C), dbias = new Float32Array(dims.C);
    const running = { runningMean: new Float32Array(dims.C), runningVar: new Float32Array(dims.C).fill(1) };
    batchNormTrainForward({ x: xIn, dims, layout, weight, bias, relu, running, y, mean, rstd, workspace, version: BN_FORWARD_WASM });
    const yTrain = Float32Array.from(y);
    batchNormBackward({ dy: dyIn, x: xIn, dims, layout, weight, mean, rstd, training: true, dx, dweight, dbias, workspace, version: BN_BACKWARD_WASM });
    const dxTrain = Float32Array.from(dx);
    batchNormEvalForward({ x: xIn, dims, layout, weight, bias, relu, running, y, mean, rstd, workspace, version: BN_EVAL_WASM });
    return { yTrain, dxTrain, yEval: Float32Array.from(y), mean: Float64Array.from(mean), rstd: Float64Array.from(rstd), dweight, dbias, running };
  }

  for (const relu of [false, true]) {
    it(`in place${relu ? ', ReLU fused,' : ''} the same bits as on ordinary arrays, aligned, unaligned and mixed`, () => {
      const want = run(x, dy, new Float32Array(n), new Float32Array(n), relu);
      for (const unaligned of [false, true]) {
        const got = run(inWasm(x, unaligned), inWasm(dy, unaligned), inWasm(new Float32Array(n), unaligned), inWasm(new Float32Array(n), !unaligned), relu);
        expect(got).toEqual(want);
      }
      // x in the memory, y and dx ordinary; and the other way round
      expect(run(inWasm(x, false), dy, new Float32Array(n), new Float32Array(n), relu)).toEqual(want);
      expect(run(x, inWasm(dy, true), inWasm(new Float32Array(n), false), new Float32Array(n), relu)).toEqual(want);
    });
  }
});

describe('LayerNorm wasm versions on wasm arrays', () => {
  const dims = { R: 4, D: 13 }; // D = 13: a tail of 5 after the 8-value steps
  const n = dims.R * dims.D;
  const x = fill(new Float32Array(n), 5, -50);
  const dy = fill(new Float32Array(n), 6);
  const weight = fill(new Float32Array(dims.D), 7);
  const bias = fill(new Float32Array(dims.D), 8);

  function run(xIn: Float32Array, dyIn: Float32Array, y: Float32Array, dx: Float32Array) {
    const mean = wasmFloat64Array(dims.R), rstd = new Float64Array(dims.R);
    const dweight = new Float32Array(dims.D), dbias = new Float32Array(dims.D);
    layerNormForward({ x: xIn, dims, weight, bias, y, mean, rstd, version: LN_FORWARD_WASM });
    layerNormBackward({ dy: dyIn, x: xIn, dims, weight, mean, rstd, dx, dweight, dbias, workspace: new LayerNormWorkspace(dims.D), version: LN_BACKWARD_WASM });
    return { y: Float32Array.from(y), dx: Float32Array.from(dx), mean: Float64Array.from(mean), rstd, dweight, dbias };
  }

  it('in place the same bits as on ordinary arrays, aligned, unaligned and mixed', () => {
    const want = run(x, dy, new Float32Array(n), new Float32Array(n));
    expect(run(inWasm(x, false), inWasm(dy, false), inWasm(new Float32Array(n), false), inWasm(new Float32Array(n), false))).toEqual(want);
    expect(run(inWasm(x, true), dy, inWasm(new Float32Array(n), true), new Float32Array(n))).toEqual(want);
  });
});

describe('GEMM wasm-simd on wasm arrays', () => {
  // shapes where the tiles cover the output exactly (C written in place) and where they do not (odd sizes, epilogue)
  const shapes = [{ N: 8, I: 16, O: 8 }, { N: 5, I: 7, O: 3 }, { N: 12, I: 9, O: 10 }];
  const version = GEMM_WASM;
  function run(dims: { N: number; I: number; O: number }, alloc: (a: Float32Array) => Float32Array) {
    const { N, I, O } = dims;
    const x = alloc(fill(new Float32Array(N * I), 11)), w = alloc(fill(new Float32Array(O * I), 12)), dy = alloc(fill(new Float32Array(N * O), 13));
    const bias = alloc(fill(new Float32Array(O), 14)), mask = alloc(fill(new Float32Array(N * I), 15));
    const y = alloc(new Float32Array(N * O)), yr = alloc(new Float32Array(N * O)), dw = alloc(new Float32Array(O * I));
    const dx = alloc(new Float32Array(N * I)), dxm = alloc(new Float32Array(N * I)), db = alloc(new Float32Array(O));
    gemmXWt(x, w, y, dims, { bias, version });
    gemmXWt(x, w, yr, dims, { bias, relu: true, version });
    gemmDyTX(dy, x, dw, dims, { dbias: db, version });
    gemmDyW(dy, w, dx, dims, { version });
    gemmDyW(dy, w, dxm, dims, { reluMask: mask, version });
    return [y, yr, dw, db, dx, dxm].map((a) => Float32Array.from(a));
  }
  it.each(shapes)('(N, I, O) = ($N, $I, $O): every form, bias, ReLU and mask give the same bits in place as on ordinary arrays', (dims) => {
    const want = run(dims, (a) => a);
    expect(run(dims, (a) => inWasm(a, false))).toEqual(want);
    expect(run(dims, (a) => inWasm(a, true))).toEqual(want);
  });
});

describe('the seed network keeps its arrays in the kernels memory', () => {
  it('its activations are wasm arrays (so every kernel of a step runs in place), and dispose frees them once', () => {
    const net = new SeedNetKernel({ sizes: [6, 8, 8, 3], maxBatch: 4 });
    const x = fill(new Float32Array(4 * 6), 21);
    net.trainStep(x, [0, 1, 2, 0], 4, { lr: 0.1, momentum: 0.9 });
    const a = net.activations()!;
    expect(isWasmArray(a.h1)).toBe(isWasmArray(wasmFloat32Array(1)));
    net.dispose();
    net.dispose();
  });
});
