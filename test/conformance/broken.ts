/**
 * Adapters that break the contract rather than the math, for tests of the runner: they throw, hang, return
 * the wrong shape or type, or provide nothing. Built on the reference adapter so every other output is right.
 */
import type { Adapter } from '../../conformance/adapter.js';
import reference from '../../conformance/adapters/reference.js';

export function throwing(): Adapter {
  return {
    ...reference,
    name: 'throws',
    bnTrainForward() {
      throw new Error('kernel not compiled for this shape');
    },
  };
}

/** bnEvalForward returns a Promise that never settles. */
export function hanging(): Adapter {
  return { ...reference, name: 'hangs', bnEvalForward: () => new Promise(() => {}) };
}

/** y one element short. */
export function wrongShape(): Adapter {
  return {
    ...reference,
    name: 'wrong-shape',
    bnTrainForward(args) {
      const r = reference.bnTrainForward(args);
      return { ...r, y: r.y.subarray(0, r.y.length - 1) };
    },
  };
}

/** A float32 adapter that returns Float64Array outputs from LayerNorm. */
export function wrongType(): Adapter {
  const { bnTrainForward: _a, bnEvalForward: _b, bnBackward: _c, lnBackward: _d, ...rest } = reference;
  return {
    ...rest,
    name: 'wrong-type',
    precision: 'float32',
    lnForward(args) {
      return { y: Float64Array.from(reference.lnForward(args).y) };
    },
  };
}

/** Only the LayerNorm forward: every BatchNorm check is "not provided". */
export function lnOnly(): Adapter {
  return { name: 'ln-only', precision: 'float64', layout: 'NCHW', lnForward: reference.lnForward };
}
