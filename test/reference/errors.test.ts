/**
 * Bad input: every invalid argument throws an error of its kind (ShapeError for shapes and lengths, ValueError
 * for values, types and keys; both ArgumentErrors) whose message starts with the argument's name and says what
 * was expected. And good input is never modified: every array passed in is compared with a copy taken before
 * the call. The closed argument objects (unknown keys, explicit undefined) are tested in api.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  batchNormBackward,
  batchNormEval,
  batchNormTrain,
  crossEntropyBackward,
  crossEntropyForward,
  layerNormBackward,
  layerNormForward,
  linearBackward,
  linearForward,
  reluBackward,
  reluForward,
  seedNetBackward,
  seedNetForward,
  seedNetShapes,
  seedNetTrainStep,
  ArgumentError,
  ShapeError,
  ValueError,
  type SeedNetConfig,
  type Tensors,
} from '../../reference/index.js';
import { buildBatchNormCase, buildLayerNormCase, normals } from '../helpers/arbitraries.js';

/** Asserts `call` throws an error of class `kind` (and no other kind) whose message matches `message`. */
function expectError(kind: typeof ShapeError | typeof ValueError, call: () => unknown, message: RegExp): void {
  let error: unknown;
  try {
    call();
  } catch (e) {
    error = e;
  }
  expect(error, `expected a ${kind.name} matching ${message}`).toBeInstanceOf(kind);
  expect(error).toBeInstanceOf(ArgumentError);
  expect((error as Error).name).toBe(kind.name);
  expect((error as Error).message).toMatch(message);
}
const expectShapeError = (call: () => unknown, message: RegExp) => expectError(ShapeError, call, message);
const expectValueError = (call: () => unknown, message: RegExp) => expectError(ValueError, call, message);

/** A deep copy of every typed array and plain value reachable from `value`, for before/after comparison. */
function snapshot<T>(value: T): T {
  return structuredClone(value);
}

const bn = buildBatchNormCase(1, [3, 2, 5], 'standardValues', 'nonUnit');
const running = { runningMean: bn.runningMean, runningVar: bn.runningVar, numBatchesTracked: 3 };

describe('BatchNorm rejects invalid arguments, naming them', () => {
  const train = (over: Record<string, unknown>) => () =>
    batchNormTrain({ x: bn.x, shape: bn.shape, weight: bn.weight, bias: bn.bias, running, ...over } as Parameters<typeof batchNormTrain>[0]);

  it('x, weight, bias and running buffers whose lengths do not match the shape', () => {
    expectShapeError(train({ x: bn.x.subarray(1) }), /^x: expected an input of shape \(3, 2, 5\) \(30 values\), got 29/);
    expectShapeError(train({ weight: [1, 2, 3] }), /^weight: expected one weight per channel, shape \(2,\)/);
    expectShapeError(train({ bias: [1] }), /^bias: expected one bias per channel/);
    expectShapeError(train({ running: { ...running, runningMean: Float64Array.of(0) } }), /^running\.runningMean: .*\(2,\)/);
    expectShapeError(train({ running: { ...running, runningVar: new Float64Array(3) } }), /^running\.runningVar: .*\(2,\)/);
    expectValueError(train({ running: { ...running, numBatchesTracked: -1 } }), /^running\.numBatchesTracked: expected a non-negative integer, got -1/);
    expectValueError(train({ running: { ...running, numBatchesTracked: 1.5 } }), /^running\.numBatchesTracked:/);
    expectValueError(train({ x: null }), /^x: expected an input of shape \(3, 2, 5\) \(30 values\), got null/);
  });

  it('shapes of the wrong rank, or with empty, zero, negative or fractional dimensions', () => {
    expectShapeError(train({ shape: [30] }), /^shape: expected 2 to 5 dimensions, got 1/);
    expectShapeError(train({ shape: [3, 2, 5, 1, 1, 1] }), /^shape: expected 2 to 5 dimensions, got 6/);
    expectShapeError(train({ shape: [3, 0, 5] }), /^shape: every dimension must be a positive integer/);
    expectShapeError(train({ shape: [3, -2, -5] }), /^shape: every dimension must be a positive integer/);
    expectShapeError(train({ shape: [3, 2, 2.5, 2] }), /^shape: every dimension must be a positive integer/);
    expectShapeError(() => batchNormEval({ x: [], shape: [0, 2], running: { runningMean: [0, 0], runningVar: [1, 1] } }), /^shape: /);
  });

  it('eps that is zero, negative, NaN, infinite or a string is a ValueError', () => {
    for (const eps of [0, -1e-5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expectValueError(train({ eps }), /^eps: expected a finite number > 0/);
      expectValueError(() => batchNormEval({ x: bn.x, shape: bn.shape, running: { runningMean: bn.runningMean, runningVar: bn.runningVar }, eps }), /^eps:/);
    }
    // A string that prints like a number is named as a string, not echoed as if it were one.
    expectValueError(train({ eps: '1e-5' }), /^eps: expected a finite number > 0, got string "1e-5"/);
  });

  it('momentum outside [0, 1], NaN, or a string (which arithmetic would coerce) is a ValueError', () => {
    for (const momentum of [-0.1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) expectValueError(train({ momentum }), /^momentum: expected a number in \[0, 1\]/);
    expectValueError(train({ momentum: '0.1' }), /^momentum: expected a number in \[0, 1\] or null \(cumulative average\), got string "0.1"/);
  });

  it('flags that are not booleans: the string "false" is truthy and would turn the option on', () => {
    expectValueError(train({ unbiasedRunningVar: 'false' }), /^unbiasedRunningVar: expected true or false .*, got string "false"/);
    expectValueError(train({ unbiasedRunningVar: 0 }), /^unbiasedRunningVar: expected true or false/);
    const back = { dy: bn.x, x: bn.x, shape: bn.shape, weight: bn.weight, mean: [0, 0], rstd: [1, 1] };
    expectValueError(() => batchNormBackward({ ...back, training: 'false' as never }), /^training: expected true or false .*, got string "false"/);
    expectValueError(() => batchNormBackward({ ...back, training: true, hasBias: 'false' as never }), /^hasBias: expected true or false/);
    expectValueError(() => layerNormBackward({ dy: [1, 2], x: [1, 2], shape: [2], normalizedShape: [2], mean: [0], rstd: [1], hasBias: 1 as never }), /^hasBias:/);
    expectValueError(() => linearBackward([1], [1], [1], { N: 1, I: 1, O: 1 }, 'false' as never), /^hasBias: expected true or false/);
  });

  it('arrays of strings, sparse arrays and non-arrays are ValueErrors naming the argument and the index', () => {
    const strings = Array.from(bn.x, String);
    expectValueError(train({ x: strings }), /^x: expected an input of shape \(3, 2, 5\) \(30 values\) as numbers, got string "[-0-9.e]+" at index 0/);
    const sparse: number[] = Array.from(bn.x);
    delete sparse[7];
    expectValueError(train({ x: sparse }), /^x: expected .*, got a sparse array \(no element at index 7\)/);
    const holey = [1, 2];
    delete holey[1];
    expectValueError(train({ weight: holey }), /^weight: expected .*sparse array \(no element at index 1\)/);
    expectValueError(train({ bias: ['0', 1] }), /^bias: .* as numbers, got string "0" at index 0/);
    expectValueError(train({ running: { ...running, runningVar: [1, undefined] } }), /^running\.runningVar: .* as numbers, got undefined at index 1/);
    expectValueError(train({ x: 'abc' }), /^x: expected .*, got string "abc"/);
    expectValueError(train({ x: BigInt64Array.of(1n) }), /^x: expected .* as numbers, got a BigInt64Array/);
    expectValueError(() => layerNormForward({ x: [1, '2'] as never, shape: [2], normalizedShape: [2] }), /^x: .* as numbers, got string "2" at index 1/);
    expectValueError(() => reluForward(['1', '-1'] as never), /^x: expected an array of numbers as numbers, got string "1" at index 0/);
    expectValueError(() => linearForward([1, '2'] as never, [1, 2], null, { N: 1, I: 2, O: 1 }), /^x: /);
    expectValueError(() => crossEntropyForward([0, 1], ['1'] as never, 1, 2), /^targets: .* as numbers, got string "1"/);
  });

  it('training on one value per channel, as PyTorch refuses; eval mode accepts it', () => {
    for (const shape of [[1, 3], [1, 3, 1], [1, 3, 1, 1, 1]]) {
      expectShapeError(
        () => batchNormTrain({ x: new Float64Array(3), shape }),
        /^x: expected more than 1 value per channel when training/,
      );
      expect(batchNormEval({ x: Float64Array.of(1, 2, 3), shape, running: { runningMean: [0, 0, 0], runningVar: [1, 1, 1] } }).y).toHaveLength(3);
    }
  });

  it('eval and backward arguments of the wrong length', () => {
    const evalArgs = { x: bn.x, shape: bn.shape, running: { runningMean: bn.runningMean, runningVar: bn.runningVar } };
    expectShapeError(() => batchNormEval({ ...evalArgs, running: { ...evalArgs.running, runningMean: [0] } }), /^running\.runningMean: .*\(2,\)/);
    expectShapeError(() => batchNormEval({ ...evalArgs, running: { ...evalArgs.running, runningVar: [0, 1, 2] } }), /^running\.runningVar: .*\(2,\)/);
    expectValueError(() => batchNormEval({ ...evalArgs, running: { ...evalArgs.running, numBatchesTracked: 0.5 } }), /^running\.numBatchesTracked: expected a non-negative integer, got 0.5/);
    expectValueError(() => batchNormEval({ x: bn.x, shape: bn.shape } as never), /^running: expected the running statistics \{ runningMean, runningVar \} that eval mode normalises with, got undefined/);
    expectShapeError(() => batchNormEval({ ...evalArgs, weight: [1] }), /^weight:/);
    const back = { dy: bn.x, x: bn.x, shape: bn.shape, weight: bn.weight, mean: [0, 0], rstd: [1, 1], training: true };
    expectShapeError(() => batchNormBackward({ ...back, dy: bn.x.subarray(2) }), /^dy: expected a gradient of shape \(3, 2, 5\)/);
    expectShapeError(() => batchNormBackward({ ...back, x: [1] }), /^x:/);
    expectShapeError(() => batchNormBackward({ ...back, mean: [0] }), /^mean:/);
    expectShapeError(() => batchNormBackward({ ...back, rstd: [1, 1, 1] }), /^rstd:/);
    expectShapeError(() => batchNormBackward({ ...back, weight: [1, 1, 1] }), /^weight:/);
    // A forgotten mode must not silently become the eval-mode gradient.
    const { training: _, ...noMode } = back;
    expectValueError(() => batchNormBackward(noMode as typeof back), /^training: expected true or false \(true: batch statistics, false: running statistics\), got undefined/);
  });
});

describe('LayerNorm rejects invalid arguments, naming them', () => {
  const ln = buildLayerNormCase(2, { shape: [2, 3, 4], normalizedShape: [3, 4] }, 'standardValues', 'nonUnit');
  const args = { x: ln.x, shape: ln.shape, normalizedShape: ln.normalizedShape, weight: ln.weight, bias: ln.bias };

  it('a normalizedShape that is not a trailing run of the shape', () => {
    expectShapeError(() => layerNormForward({ ...args, normalizedShape: [3] }), /^normalizedShape: expected the trailing dimensions of x's shape \(2, 3, 4\), got \(3,\)/);
    expectShapeError(() => layerNormForward({ ...args, normalizedShape: [2, 3] }), /^normalizedShape: expected the trailing dimensions/);
    expectShapeError(() => layerNormForward({ ...args, normalizedShape: [1, 2, 3, 4] }), /^normalizedShape: expected the trailing dimensions/);
    expectShapeError(() => layerNormForward({ ...args, normalizedShape: [] }), /^normalizedShape: expected at least 1 dimensions/);
    expectShapeError(() => layerNormForward({ ...args, normalizedShape: [3, 0] }), /^normalizedShape: every dimension/);
  });

  it('x, weight and bias of the wrong length, an empty dimension, and bad eps', () => {
    expectShapeError(() => layerNormForward({ ...args, x: ln.x.subarray(1) }), /^x: expected an input of shape \(2, 3, 4\)/);
    expectShapeError(() => layerNormForward({ ...args, weight: new Float64Array(4) }), /^weight: expected a weight of shape normalizedShape \(3, 4\)/);
    expectShapeError(() => layerNormForward({ ...args, bias: new Float64Array(13) }), /^bias:/);
    expectShapeError(() => layerNormForward({ ...args, x: [], shape: [0, 3, 4] }), /^shape: every dimension must be a positive integer/);
    for (const eps of [0, -1, Number.NaN, '1e-5' as never]) expectValueError(() => layerNormForward({ ...args, eps }), /^eps:/);
    const { mean, rstd } = layerNormForward(args);
    const { bias: _, ...backArgs } = args;
    expectShapeError(() => layerNormBackward({ ...backArgs, dy: ln.x.subarray(3), mean, rstd }), /^dy:/);
    expectShapeError(() => layerNormBackward({ ...backArgs, dy: ln.x, mean: mean.subarray(1), rstd }), /^mean: expected one mean per row, shape \(2,\)/);
    expectShapeError(() => layerNormBackward({ ...backArgs, dy: ln.x, mean, rstd: new Float64Array(3) }), /^rstd:/);
  });
});

describe('Linear, ReLU and cross-entropy reject invalid arguments, naming them', () => {
  it('Linear: dims that are not positive integers and arrays that do not match them', () => {
    const d = { N: 2, I: 3, O: 4 };
    const x = new Float64Array(6);
    const w = new Float64Array(12);
    expectShapeError(() => linearForward(x, w, null, { ...d, N: 0 }), /^dims \(N, I, O\): every dimension must be a positive integer/);
    expectShapeError(() => linearForward(x.subarray(1), w, null, d), /^x: expected an input of shape \(2, 3\)/);
    expectShapeError(() => linearForward(x, w.subarray(1), null, d), /^weight: expected a weight of shape \(out, in\) = \(4, 3\)/);
    expectShapeError(() => linearForward(x, w, [1, 2], d), /^bias: expected a bias of shape \(4,\)/);
    expectShapeError(() => linearBackward(new Float64Array(7), x, w, d), /^dy: expected a gradient of shape \(2, 4\)/);
  });

  it('ReLU: a gradient of a different size than x', () => {
    expectShapeError(() => reluBackward([1, 2], [1, 2, 3]), /^dy:/);
  });

  it('cross-entropy: target indices outside [0, K) or not integers, and logits of the wrong length', () => {
    const logits = new Float64Array(6);
    for (const t of [-1, 3, 1.5, Number.NaN]) {
      expectValueError(() => crossEntropyForward(logits, [0, t], 2, 3), new RegExp(`^targets\\[1\\]: expected an integer class index in \\[0, 3\\), got ${t}`));
    }
    expectShapeError(() => crossEntropyForward(logits.subarray(1), [0, 1], 2, 3), /^logits: expected logits of shape \(2, 3\)/);
    expectShapeError(() => crossEntropyForward(logits, [0], 2, 3), /^targets: expected one class index per sample/);
    expectShapeError(() => crossEntropyForward(logits, [0, 1], 2, 0), /^dims \(N, K\):/);
    expectShapeError(() => crossEntropyBackward(new Float64Array(5), [0, 1], 2, 3), /^probs:/);
    // the backward is callable on its own: an out-of-range target there would silently drop the -1 of the one-hot
    for (const t of [-1, 3, 0.5]) expectValueError(() => crossEntropyBackward(logits, [t, 0], 2, 3), /^targets\[0\]: expected an integer class index in \[0, 3\)/);
  });
});

describe('the reference never modifies its inputs', () => {
  it('BatchNorm training and eval forward and backward', () => {
    const inputs = { x: bn.x, weight: bn.weight, bias: bn.bias, running };
    const before = snapshot(inputs);
    const r = batchNormTrain({ x: bn.x, shape: bn.shape, weight: bn.weight, bias: bn.bias, running });
    batchNormTrain({ x: bn.x, shape: bn.shape, weight: bn.weight, bias: bn.bias, running, momentum: null });
    batchNormEval({ x: bn.x, shape: bn.shape, weight: bn.weight, bias: bn.bias, running: { runningMean: bn.runningMean, runningVar: bn.runningVar } });
    const dy = normals(3, bn.x.length);
    const saved = snapshot({ dy, mean: r.mean, rstd: r.rstd });
    batchNormBackward({ dy, x: bn.x, shape: bn.shape, weight: bn.weight, mean: r.mean, rstd: r.rstd, training: true });
    expect(inputs).toEqual(before);
    expect({ dy, mean: r.mean, rstd: r.rstd }).toEqual(saved);
    // the running buffers come back as new arrays
    expect(r.running!.runningMean).not.toBe(running.runningMean);
  });

  it('LayerNorm forward and backward', () => {
    const ln = buildLayerNormCase(4, { shape: [3, 5], normalizedShape: [5] }, 'largeOffset', 'nonUnit');
    const before = snapshot(ln);
    const { mean, rstd } = layerNormForward({ x: ln.x, shape: ln.shape, normalizedShape: ln.normalizedShape, weight: ln.weight, bias: ln.bias });
    const dy = normals(5, ln.x.length);
    const saved = snapshot({ dy, mean, rstd });
    layerNormBackward({ x: ln.x, shape: ln.shape, normalizedShape: ln.normalizedShape, weight: ln.weight, dy, mean, rstd });
    expect(ln).toEqual(before);
    expect({ dy, mean, rstd }).toEqual(saved);
  });

  it('Linear, ReLU, cross-entropy and the seed network forward, backward and training step', () => {
    const x = normals(6, 12);
    const w = normals(7, 15);
    const b = normals(8, 5);
    const dy = normals(9, 20);
    const before = snapshot({ x, w, b, dy });
    linearForward(x, w, b, { N: 4, I: 3, O: 5 });
    linearBackward(dy, x, w, { N: 4, I: 3, O: 5 });
    reluForward(x);
    reluBackward(x, w.subarray(0, 12));
    const { probs } = crossEntropyForward(dy, [0, 4, 2, 1], 4, 5);
    const probsBefore = snapshot(probs);
    crossEntropyBackward(probs, [0, 4, 2, 1], 4, 5);
    expect({ x, w, b, dy }).toEqual(before);
    expect(probs).toEqual(probsBefore);

    const config: SeedNetConfig = { sizes: [6, 5, 4, 3], norm: 'batchnorm', eps: 1e-5, momentum: 0.1 };
    const params: Tensors = {};
    seedNetShapes(config).forEach(([name, shape], i) => {
      params[name] = name.endsWith('num_batches_tracked') ? Float64Array.of(0) : normals(10 + i, shape.reduce((p, q) => p * q, 1));
      if (name.endsWith('running_var')) params[name] = params[name]!.map(Math.abs);
    });
    const input = normals(30, 4 * 6);
    const paramsBefore = snapshot({ params, input });
    const { cache } = seedNetForward(params, input, 4, true, config);
    seedNetBackward(params, cache, [0, 1, 2, 0], config);
    const step = seedNetTrainStep(params, input, [0, 1, 2, 0], 4, { lr: 0.1, momentum: 0.9 }, null, config);
    seedNetTrainStep(step.params, input, [0, 1, 2, 0], 4, { lr: 0.1, momentum: 0.9 }, step.momentumBuffers, config);
    expect({ params, input }).toEqual(paramsBefore);
  });

  it('the seed network rejects a bad batch size and a missing parameter, naming them', () => {
    const config: SeedNetConfig = { sizes: [6, 5, 4, 3], norm: 'none', eps: 1e-5, momentum: 0.1 };
    const params: Tensors = {};
    for (const [name, shape] of seedNetShapes(config)) params[name] = new Float64Array(shape.reduce((p, q) => p * q, 1));
    expectShapeError(() => seedNetForward(params, new Float64Array(6), 0, true, config), /^N: expected a positive batch size/);
    expectShapeError(() => seedNetForward(params, new Float64Array(7), 1, true, config), /^x: expected an input of shape \(1, 6\)/);
    const bnConfig: SeedNetConfig = { ...config, norm: 'batchnorm' };
    const bnParams: Tensors = {};
    for (const [name, shape] of seedNetShapes(bnConfig)) bnParams[name] = new Float64Array(shape.reduce((p, q) => p * q, 1));
    expectShapeError(() => seedNetForward(bnParams, new Float64Array(6), 1, true, bnConfig), /^N: expected a batch of at least 2 to train with BatchNorm/);
    expect(() => seedNetForward(bnParams, new Float64Array(6), 1, false, bnConfig)).not.toThrow(); // eval mode takes one sample
    const { ['fc2.bias']: _, ...missing } = params;
    expectValueError(() => seedNetForward(missing, new Float64Array(6), 1, true, config), /^params\['fc2\.bias'\]: expected shape \(4\) \(4 values\), got undefined/);
    expectShapeError(() => seedNetForward({ ...params, 'fc2.bias': new Float64Array(3) }, new Float64Array(6), 1, true, config), /^params\['fc2\.bias'\]: expected shape \(4\)/);
  });

  it('the seed network names the state_dict key of a fractional num_batches_tracked, not an inner argument', () => {
    const config: SeedNetConfig = { sizes: [6, 5, 4, 3], norm: 'batchnorm', eps: 1e-5, momentum: 0.1 };
    const params: Tensors = {};
    for (const [name, shape] of seedNetShapes(config)) params[name] = new Float64Array(shape.reduce((p, q) => p * q, 1)).fill(1);
    const x = normals(40, 2 * 6);
    for (const training of [true, false]) {
      expectValueError(
        () => seedNetForward({ ...params, 'bn2.num_batches_tracked': Float64Array.of(0.5) }, x, 2, training, config),
        /^params\['bn2\.num_batches_tracked'\]\[0\]: expected a non-negative integer, got 0.5/,
      );
    }
    // a key the network does not have is a typo or the wrong network, as load_state_dict(strict=True) says
    expectValueError(() => seedNetForward({ ...params, 'bn1.runing_mean': new Float64Array(5) }, x, 2, true, config), /^params\['bn1\.runing_mean'\]: not a tensor of this network/);
    // the mode and the configuration are checked like every other argument
    expectValueError(() => seedNetForward(params, x, 2, 'false' as never, config), /^training: expected true or false/);
    expectValueError(() => seedNetForward(params, x, 2, true, { ...config, momentum: undefined as never }), /^config\.momentum: expected a number in \[0, 1\] or null \(cumulative average\), got undefined/);
    expectValueError(() => seedNetForward(params, x, 2, true, { ...config, norm: 'groupnorm' as never }), /^config\.norm: expected 'batchnorm', 'layernorm' or 'none'/);
    expectValueError(() => seedNetForward(params, x, 2, true, { ...config, epsilon: 1e-3 } as never), /^config\.epsilon: not an argument of the seed network/);
  });
});
