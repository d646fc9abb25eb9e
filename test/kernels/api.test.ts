/**
 * The kernels' argument contract (issue 13, the library APIs): both BatchNorm modes take the running statistics
 * the same way, argument objects are closed, a key given as undefined is not a default, values are reported as
 * the caller passed them, outputs may not overlap what they are computed from, and each bad input has an error
 * class by kind. Every case here was accepted silently, or reported misleadingly, before.
 */
import { describe, expect, it } from 'vitest';
import {
  batchNormBackward, batchNormEvalForward, batchNormTrainForward, BatchNormWorkspace, gemmDyTX, gemmXWt, KernelArgError,
  KernelShapeError, KernelValueError, layerNormBackward, layerNormForward, LayerNormWorkspace, SeedNetKernel,
} from '../../kernels/index.js';

const N = 4;
const C = 3;
const S = 5;

/** A valid training-forward argument object on fresh buffers (x = 0, 1, 2, … mod 7). */
function trainArgs() {
  return {
    x: new Float32Array(N * C * S).map((_, i) => i % 7), dims: { N, C, S }, weight: new Float32Array(C).fill(2),
    bias: new Float32Array(C).fill(0.5), y: new Float32Array(N * C * S), mean: new Float64Array(C), rstd: new Float64Array(C),
    workspace: new BatchNormWorkspace(C),
    running: { runningMean: new Float32Array(C), runningVar: new Float32Array(C).fill(1), numBatchesTracked: 0 },
  };
}

function evalArgs() {
  const { x, dims, weight, bias, y, mean, rstd, workspace } = trainArgs();
  return { x, dims, weight, bias, y, mean, rstd, workspace, running: { runningMean: new Float32Array([1, 2, 3]), runningVar: new Float32Array([4, 5, 6]) } };
}

/** fn() throws an error of class `kind` (and so a KernelArgError) whose message matches `message`. */
function expectError(fn: () => unknown, kind: typeof KernelShapeError | typeof KernelValueError, message: RegExp): void {
  let error: unknown = null;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error, 'expected a throw').toBeInstanceOf(kind);
  expect(error).toBeInstanceOf(KernelArgError);
  expect((error as Error).message).toMatch(message);
}

describe('BatchNorm: both modes take running: { runningMean, runningVar, numBatchesTracked? }', () => {
  it('top-level running statistics given to the training forward are an error pointing at running: {…}, not silently ignored', () => {
    const { running, ...rest } = trainArgs();
    expectError(() => batchNormTrainForward({ ...rest, runningMean: running.runningMean, runningVar: running.runningVar } as never),
      KernelValueError, /^runningMean: not an argument of batchNormTrainForward; the running statistics go in running: \{ runningMean, runningVar, numBatchesTracked \}/);
  });

  it('top-level running statistics given to the eval forward are an error pointing at running: {…}', () => {
    const { running, ...rest } = evalArgs();
    expectError(() => batchNormEvalForward({ ...rest, runningMean: running.runningMean, runningVar: running.runningVar } as never),
      KernelValueError, /^runningMean: not an argument of batchNormEvalForward; the running statistics go in running:/);
  });

  it('the eval forward normalises with running.runningMean and running.runningVar (read, not written)', () => {
    const a = evalArgs();
    batchNormEvalForward(a);
    // channel 0 of sample 0: x = 0..4, y = (x - 1)·2/sqrt(4 + 1e-5) + 0.5; mean and rstd are the running ones
    for (let s = 0; s < S; s++) expect(a.y[s]).toBe(Math.fround(((s - 1) * 2) / Math.sqrt(4 + 1e-5) + 0.5));
    expect([...a.mean]).toEqual([1, 2, 3]);
    expect(a.rstd[1]).toBe(1 / Math.sqrt(5 + 1e-5));
    expect([...a.running.runningMean]).toEqual([1, 2, 3]);
    expect([...a.running.runningVar]).toEqual([4, 5, 6]);
  });

  it('numBatchesTracked may be omitted (a fresh module, 0) and is set to the count after the call', () => {
    const a = trainArgs();
    const running: { runningMean: Float32Array; runningVar: Float32Array; numBatchesTracked?: number } = { runningMean: a.running.runningMean, runningVar: a.running.runningVar };
    batchNormTrainForward({ ...a, running, momentum: null });
    expect(running.numBatchesTracked).toBe(1);
    // momentum null with one batch tracked: the running mean is the batch mean (cumulative average, f = 1/1)
    for (let c = 0; c < C; c++) expect(running.runningMean[c]).toBe(Math.fround(a.mean[c]!));
  });

  it('a typo inside running is an error with a suggestion, and a fractional count is an error naming it', () => {
    const a = trainArgs();
    expectError(() => batchNormTrainForward({ ...a, running: { ...a.running, num_batches_tracked: 3 } as never }),
      KernelValueError, /^running\.num_batches_tracked: not an argument of the running statistics; did you mean running\.numBatchesTracked\?/);
    expectError(() => batchNormTrainForward({ ...a, running: { ...a.running, numBatchesTracked: 0.5 } }),
      KernelValueError, /^running\.numBatchesTracked: expected a non-negative integer, got 0\.5$/);
  });

  it('the eval forward without running statistics is an error naming running', () => {
    const { running: _unused, ...rest } = evalArgs();
    expectError(() => batchNormEvalForward(rest as never), KernelValueError, /^running: expected the running statistics \{ runningMean, runningVar \}/);
  });
});

describe('argument objects are closed: a typo must not change the answer', () => {
  it('an unknown key is an error naming it, for every kernel', () => {
    expectError(() => batchNormTrainForward({ ...trainArgs(), epsilon: 1e-3 } as never), KernelValueError,
      /^epsilon: not an argument of batchNormTrainForward \(it takes x, dims, y, mean, rstd, workspace, layout, weight, bias, eps, /);
    expectError(() => batchNormEvalForward({ ...evalArgs(), momentum: 0.1 } as never), KernelValueError,
      /^momentum: not an argument of batchNormEvalForward; eval mode updates nothing/);
    const t = trainArgs();
    batchNormTrainForward(t);
    const back = {
      dy: new Float32Array(N * C * S).fill(1), x: t.x, dims: t.dims, mean: t.mean, rstd: t.rstd, training: true,
      dx: new Float32Array(N * C * S), workspace: t.workspace,
    };
    expectError(() => batchNormBackward({ ...back, Training: false } as never), KernelValueError, /^Training: not an argument of batchNormBackward; did you mean training\?/);
    const ln = { x: new Float32Array(6), dims: { R: 2, D: 3 }, y: new Float32Array(6), mean: new Float64Array(2), rstd: new Float64Array(2) };
    expectError(() => layerNormForward({ ...ln, normalized_shape: [3] } as never), KernelValueError, /^normalized_shape: not an argument of layerNormForward/);
    layerNormForward(ln);
    expectError(() => layerNormBackward({
      dy: new Float32Array(6), x: ln.x, dims: ln.dims, mean: ln.mean, rstd: ln.rstd, dx: new Float32Array(6), workspace: new LayerNormWorkspace(3), eps: 1e-5,
    } as never), KernelValueError, /^eps: not an argument of layerNormBackward; the backward takes the forward's rstd/);
    const dims = { N: 2, I: 3, O: 4 };
    expectError(() => gemmXWt(new Float32Array(6), new Float32Array(12), new Float32Array(8), dims, { Relu: true } as never),
      KernelValueError, /^options\.Relu: not an argument of gemmXWt; did you mean options\.relu\?/);
    expectError(() => gemmDyTX(new Float32Array(8), new Float32Array(6), new Float32Array(12), dims, { bias: new Float32Array(4) } as never),
      KernelValueError, /^options\.bias: not an argument of gemmDyTX/);
    expectError(() => gemmXWt(new Float32Array(6), new Float32Array(12), new Float32Array(8), { ...dims, K: 5 } as never),
      KernelValueError, /^dims\.K: not a dimension \(dims is \{ N, I, O \}\)/);
    expectError(() => new SeedNetKernel({ maxbatch: 4 } as never), KernelValueError, /^config\.maxbatch: not an argument of SeedNetKernel; did you mean config\.maxBatch\?/);
    const net = new SeedNetKernel({ sizes: [3, 4, 4, 2], maxBatch: 2 });
    expectError(() => net.trainStep(new Float32Array(6), [0, 1], 2, { lr: 0.1, weight_decay: 1e-4 } as never),
      KernelValueError, /^sgd\.weight_decay: not an argument of torch\.optim\.SGD step; the option is weightDecay/);
  });

  it('an optional key given as undefined is an error, not the default: momentum: undefined is not momentum 0.1', () => {
    expectError(() => batchNormTrainForward({ ...trainArgs(), momentum: undefined }), KernelValueError,
      /^momentum: got undefined; omit the key for the default \(0\.1; pass null for the cumulative average\)$/);
    expectError(() => batchNormEvalForward({ ...evalArgs(), eps: undefined }), KernelValueError, /^eps: got undefined; omit the key for the default \(1e-5\)$/);
    const net = new SeedNetKernel({ sizes: [3, 4, 4, 2], maxBatch: 2 });
    expectError(() => net.trainStep(new Float32Array(6), [0, 1], 2, { lr: 0.1, momentum: undefined }), KernelValueError, /^sgd\.momentum: got undefined/);
    expectError(() => new SeedNetKernel({ momentum: undefined }), KernelValueError, /^config\.momentum: got undefined/);
  });
});

describe('values are reported as the caller passed them, with the error class of their kind', () => {
  it('eps "1e-5" is reported as a string, not as the number it looks like', () => {
    expectError(() => batchNormTrainForward({ ...trainArgs(), eps: '1e-5' as never }), KernelValueError, /^eps: expected a finite number > 0, got string "1e-5"$/);
    expectError(() => layerNormForward({
      x: new Float32Array(6), dims: { R: 2, D: 3 }, y: new Float32Array(6), mean: new Float64Array(2), rstd: new Float64Array(2), eps: '1e-5' as never,
    }), KernelValueError, /^eps: expected a finite number > 0, got string "1e-5"$/);
    const net = new SeedNetKernel({ sizes: [3, 4, 4, 2], maxBatch: 2 });
    expectError(() => net.trainStep(new Float32Array(6), [0, 1], 2, { lr: '0.1' as never }), KernelValueError, /^sgd\.lr: expected a finite number >= 0, got string "0\.1"$/);
  });

  it("relu: 'false' is an error, not a ReLU turned on", () => {
    expectError(() => batchNormTrainForward({ ...trainArgs(), relu: 'false' as never }), KernelValueError, /^relu: expected true or false \(fuse a ReLU after the normalisation\), got string "false"$/);
    expectError(() => gemmXWt(new Float32Array(6), new Float32Array(12), new Float32Array(8), { N: 2, I: 3, O: 4 }, { relu: 1 as never }),
      KernelValueError, /^options\.relu: expected true or false/);
  });

  it('a size that does not fit is a KernelShapeError; a value, a type or a key is a KernelValueError', () => {
    expectError(() => batchNormTrainForward({ ...trainArgs(), y: new Float32Array(3) }), KernelShapeError, /^y: expected an output of shape/);
    expectError(() => batchNormTrainForward({ ...trainArgs(), dims: { N: 0, C, S } }), KernelShapeError, /^dims\.N: expected a positive integer, got 0$/);
    expectError(() => batchNormTrainForward({ ...trainArgs(), x: new Float64Array(N * C * S) as never }), KernelValueError, /^x: expected a Float32Array/);
    expectError(() => batchNormTrainForward({ ...trainArgs(), momentum: 2 }), KernelValueError, /^momentum: expected a number in \[0, 1\] or null/);
    expectError(() => new BatchNormWorkspace(0), KernelShapeError, /^C: expected a positive integer/);
  });
});

describe('outputs may not overlap the buffers they are computed from', () => {
  it('the eval forward rejects y overlapping weight or bias (it used to return values wrong by 2.18)', () => {
    const a = evalArgs();
    const buffer = new Float32Array(N * C * S + C);
    const y = buffer.subarray(0, N * C * S);
    expectError(() => batchNormEvalForward({ ...a, y, weight: buffer.subarray(N * C * S - 1, N * C * S - 1 + C) }), KernelValueError, /^y: must not overlap weight/);
    expectError(() => batchNormEvalForward({ ...a, y, bias: buffer.subarray(N * C * S - 2, N * C * S - 2 + C) }), KernelValueError, /^y: must not overlap bias/);
    expectError(() => batchNormEvalForward({ ...a, y, running: { ...a.running, runningMean: buffer.subarray(1, 1 + C) } }), KernelValueError, /^y: must not overlap running\.runningMean/);
  });

  it('the training forward rejects y, mean or rstd overlapping the running buffers, and the running buffers overlapping x', () => {
    const a = trainArgs();
    const y = new Float32Array(N * C * S);
    expectError(() => batchNormTrainForward({ ...a, y, running: { ...a.running, runningVar: y.subarray(2, 2 + C) } }), KernelValueError, /^y: must not overlap running\.runningVar/);
    const both = new Float32Array(2 * C);
    expectError(() => batchNormTrainForward({ ...a, running: { runningMean: both.subarray(0, C), runningVar: both.subarray(C - 1, 2 * C - 1) } }),
      KernelValueError, /^running\.runningMean: must not overlap running\.runningVar/);
    expectError(() => batchNormTrainForward({ ...a, running: { ...a.running, runningMean: a.x.subarray(0, C) } }), KernelValueError, /^running\.runningMean: must not overlap x/);
    const stats = new Float64Array(2 * C);
    expectError(() => batchNormTrainForward({ ...a, mean: stats.subarray(0, C), rstd: stats.subarray(1, 1 + C) }), KernelValueError, /^mean: must not overlap rstd/);
  });
});

describe('the network loads a state dict as PyTorch would have it, naming the key of a bad tensor', () => {
  it('num_batches_tracked 0.5 is an error naming the state-dict key, at load, not at the first training step', () => {
    const net = new SeedNetKernel({ sizes: [3, 4, 4, 2], maxBatch: 2 });
    const dict = { ...net.exportStateDict(), 'bn1.num_batches_tracked': new Float32Array([0.5]) };
    expectError(() => net.loadStateDict(dict), KernelValueError, /^stateDict\['bn1\.num_batches_tracked'\]\[0\]: expected a non-negative integer count/);
  });

  it('a string inside a tensor is an error naming the key and the index, not a silently converted number', () => {
    const net = new SeedNetKernel({ sizes: [3, 4, 4, 2], maxBatch: 2 });
    const bias = ['0.1', 0, 0, 0] as unknown as number[];
    expectError(() => net.loadStateDict({ ...net.exportStateDict(), 'fc1.bias': bias }), KernelValueError, /^stateDict\['fc1\.bias'\]\[0\]: expected a number, got string "0\.1"$/);
  });
});
