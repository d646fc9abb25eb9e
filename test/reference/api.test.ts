/**
 * The shape of the library API: both BatchNorm modes take the running statistics the same way,
 * `running: { runningMean, runningVar, numBatchesTracked? }`, and every argument object is closed — an
 * unknown key, a key in the wrong place or a key given as undefined is a ValueError naming it, because a typo
 * that is silently ignored changes the answer without saying so.
 */
import { describe, expect, it } from 'vitest';
import {
  batchNormBackward, batchNormEval, batchNormTrain, gradcheck, layerNormBackward, layerNormForward, linearForward, mergeMoments,
  sgdStep, ValueError,
} from '../../reference/index.js';
import { buildBatchNormCase } from '../helpers/arbitraries.js';

function thrown(call: () => unknown): Error {
  try {
    call();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the call to throw');
}

/** Asserts a ValueError whose message matches `message`. */
function expectValueError(call: () => unknown, message: RegExp): void {
  const e = thrown(call);
  expect(e).toBeInstanceOf(ValueError);
  expect(e.message).toMatch(message);
}

const bn = buildBatchNormCase(7, [4, 3, 2], 'standardValues', 'nonUnit');
const running = { runningMean: bn.runningMean, runningVar: bn.runningVar, numBatchesTracked: 2 };
const base = { x: bn.x, shape: bn.shape, weight: bn.weight, bias: bn.bias };

describe('both BatchNorm modes take the running statistics as running: { runningMean, runningVar, numBatchesTracked? }', () => {
  it('eval mode normalises with running.runningMean and running.runningVar, ignoring the count', () => {
    const r = batchNormEval({ ...base, running });
    // y = weight·(x - runningMean)/sqrt(runningVar + eps) + bias, element (n, c, s) at (n·C + c)·S + s
    const { C, S } = bn;
    for (const i of [0, 5, 13, 23]) {
      const c = Math.floor(i / S) % C;
      const expected = bn.weight![c]! * (bn.x[i]! - bn.runningMean[c]!) / Math.sqrt(bn.runningVar[c]! + 1e-5) + bn.bias![c]!;
      expect(r.y[i]).toBeCloseTo(expected, 14);
    }
    // it returns the mean and rstd the eval-mode backward takes, the mean as a copy
    expect(Array.from(r.mean)).toEqual(Array.from(bn.runningMean));
    expect(r.mean).not.toBe(bn.runningMean);
    const { numBatchesTracked: _, ...withoutCount } = running;
    expect(batchNormEval({ ...base, running: withoutCount }).y).toEqual(r.y);
  });

  it('the running object a training step returns feeds the next training step and eval mode unchanged', () => {
    const step = batchNormTrain({ ...base, running });
    expect(step.running!.numBatchesTracked).toBe(3);
    expect(() => batchNormTrain({ ...base, running: step.running })).not.toThrow();
    const e = batchNormEval({ ...base, running: step.running! });
    const direct = batchNormEval({ ...base, running: { runningMean: step.running!.runningMean, runningVar: step.running!.runningVar } });
    expect(e.y).toEqual(direct.y);
  });

  it('training without a count starts from a fresh module (0): with momentum null the first step takes the batch statistics', () => {
    const r = batchNormTrain({ ...base, running: { runningMean: bn.runningMean, runningVar: bn.runningVar }, momentum: null });
    expect(r.running!.numBatchesTracked).toBe(1);
    // f = 1/1: running_mean = mean exactly, running_var = var·M/(M - 1)
    expect(Array.from(r.running!.runningMean)).toEqual(Array.from(r.mean));
    const M = bn.N * bn.S;
    r.running!.runningVar.forEach((v, c) => expect(v).toBeCloseTo((r.var[c]! * M) / (M - 1), 14));
  });

  it('running statistics at the top level are an error naming where they go, in either mode (they used to be ignored in training)', () => {
    for (const key of ['runningMean', 'runningVar', 'numBatchesTracked'] as const) {
      expectValueError(
        () => batchNormTrain({ ...base, [key]: running[key] } as never),
        new RegExp(`^${key}: not an argument of batchNormTrain; the running statistics go in running: \\{ runningMean, runningVar, numBatchesTracked \\}`),
      );
      expectValueError(
        () => batchNormEval({ ...base, running, [key]: running[key] } as never),
        new RegExp(`^${key}: not an argument of batchNormEval; the running statistics go in running:`),
      );
    }
    expectValueError(() => batchNormEval({ ...base, runningMean: bn.runningMean, runningVar: bn.runningVar } as never), /^runningMean: not an argument of batchNormEval; the running statistics go in running/);
  });

  it('options of the other mode are errors that say which function takes them', () => {
    expectValueError(() => batchNormEval({ ...base, running, momentum: 0.1 } as never), /^momentum: not an argument of batchNormEval; eval mode updates nothing/);
    expectValueError(() => batchNormEval({ ...base, running, unbiasedRunningVar: true } as never), /^unbiasedRunningVar: not an argument of batchNormEval/);
    expectValueError(() => batchNormTrain({ ...base, training: false } as never), /^training: not an argument of batchNormTrain; the mode is the function/);
    expectValueError(() => batchNormTrain({ ...base, hasBias: true } as never), /^hasBias: not an argument of batchNormTrain; hasBias is an argument of batchNormBackward/);
    expectValueError(() => batchNormTrain({ ...base, y: new Float64Array(24) } as never), /^y: .*takes no output buffers/);
  });
});

describe('argument objects are closed: an unknown key is a ValueError naming it', () => {
  it('a typo, with the nearest spelling when the key differs only in case or underscores', () => {
    expectValueError(() => batchNormTrain({ ...base, wieght: bn.weight } as never), /^wieght: not an argument of batchNormTrain \(it takes x, shape, weight, bias, running, momentum, eps, unbiasedRunningVar\)/);
    expectValueError(() => batchNormTrain({ ...base, Momentum: 0.3 } as never), /^Momentum: not an argument of batchNormTrain; did you mean momentum\?/);
    expectValueError(() => batchNormTrain({ ...base, running: { ...running, running_var: bn.runningVar } } as never), /^running\.running_var: not an argument of batchNormTrain; did you mean running\.runningVar\?/);
    expectValueError(() => batchNormEval({ ...base, running: { ...running, mean: bn.runningMean } } as never), /^running\.mean: not an argument of batchNormEval; the running mean is runningMean/);
    expectValueError(() => layerNormForward({ x: [1, 2], shape: [2], normalized_shape: [2] } as never), /^normalized_shape: not an argument of layerNormForward; did you mean normalizedShape\?/);
    expectValueError(() => linearForward([1], [1], null, { N: 1, I: 1, O: 1, B: 2 } as never), /^dims\.B: not an argument of linearForward/);
    expectValueError(() => mergeMoments({ count: 1, mean: 0, m2: 0, var: 0 } as never, { count: 1, mean: 1, m2: 0 }), /^a\.var: not an argument of mergeMoments/);
    expectValueError(() => sgdStep({ p: Float64Array.of(1) }, { p: Float64Array.of(1) }, null, { lr: 0.1, learningRate: 0.2 } as never), /^learningRate: not an argument of sgdStep; the learning rate is lr/);
  });

  it('the backward takes hasBias and the saved statistics, so bias, eps and running buffers there are errors saying so', () => {
    const r = batchNormTrain(base);
    const back = { dy: bn.x, x: bn.x, shape: bn.shape, weight: bn.weight, mean: r.mean, rstd: r.rstd, training: true };
    expectValueError(() => batchNormBackward({ ...back, bias: bn.bias } as never), /^bias: not an argument of batchNormBackward; the backward takes hasBias: true or false/);
    expectValueError(() => batchNormBackward({ ...back, eps: 1e-3 } as never), /^eps: not an argument of batchNormBackward; the backward takes the forward's rstd, which already holds eps/);
    expectValueError(() => batchNormBackward({ ...back, running } as never), /^running: not an argument of batchNormBackward; for the eval-mode backward pass mean = running mean/);
    const ln = { x: bn.x, shape: bn.shape, normalizedShape: [3, 2] };
    const f = layerNormForward(ln);
    expectValueError(() => layerNormBackward({ ...ln, dy: bn.x, mean: f.mean, rstd: f.rstd, eps: 1e-5 } as never), /^eps: not an argument of layerNormBackward/);
  });

  it('the argument object itself must be an object', () => {
    expectValueError(() => batchNormTrain(null as never), /^arguments: batchNormTrain expected an object \{ x, shape,/);
    expectValueError(() => batchNormEval({ ...base, running: [bn.runningMean, bn.runningVar] } as never), /^running: batchNormEval expected an object \{ runningMean, runningVar, numBatchesTracked \}, got an array of 2/);
    expectValueError(() => gradcheck(undefined as never), /^problem: gradcheck expected an object/);
  });
});

describe('a key given as undefined is an error: omitting the key is how one asks for the default', () => {
  it('momentum: undefined is neither 0.1 (omitted) nor the cumulative average (null)', () => {
    expectValueError(() => batchNormTrain({ ...base, running, momentum: undefined }), /^momentum: got undefined; omit the key for the default \(0\.1; pass null for the cumulative average\)/);
    const omitted = batchNormTrain({ ...base, running });
    const explicit = batchNormTrain({ ...base, running, momentum: 0.1 });
    const cumulative = batchNormTrain({ ...base, running, momentum: null });
    expect(omitted.running).toEqual(explicit.running);
    expect(cumulative.running!.runningMean).not.toEqual(explicit.running!.runningMean);
  });

  it('weight, bias, eps, running and flags given as undefined (a misspelt source such as params.wieght)', () => {
    for (const key of ['weight', 'bias', 'eps', 'running', 'unbiasedRunningVar'] as const) {
      expectValueError(() => batchNormTrain({ ...base, [key]: undefined }), new RegExp(`^${key}: got undefined; omit the key for the default`));
    }
    expectValueError(() => batchNormEval({ ...base, running, eps: undefined }), /^eps: got undefined; omit the key for the default \(1e-5\)/);
    expectValueError(() => batchNormTrain({ ...base, running: { ...running, numBatchesTracked: undefined } }), /^running\.numBatchesTracked: got undefined; omit the key for the default \(0\)/);
    expectValueError(() => layerNormForward({ x: [1, 2], shape: [2], normalizedShape: [2], weight: undefined }), /^weight: got undefined; omit the key for the default \(null, no weight\)/);
  });
});
