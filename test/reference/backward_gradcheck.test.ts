/**
 * Every backward pass in reference/ against central differences of its own forward (reference/gradcheck.ts).
 *
 * Tolerances are torch.autograd.gradcheck's (step 1e-6, atol 1e-5, rtol 1e-3). The checker's error model
 * puts the numeric derivative of these unit-scale float64 functions within h²·|L‴|/6 + u·|L|/h ≈ 1e-9 of
 * the truth, four orders under atol, so a failure here is a wrong gradient, not noise. Two cases are kept
 * out on the model's own grounds: values within h of ReLU's kink (the difference straddles it) and
 * BatchNorm at large offsets (rounding of x - mean is u·|x|, which the 1/h of the difference amplifies to
 * ≈ n·u·|x|/(σ·h) ≈ 1e-2 at |x|/σ = 1e6; the sharded-statistics and property tests cover large offsets).
 * tinyVariance stays in: with var ≪ eps the function varies on the scale sqrt(eps) ≈ 3e-3, so truncation is
 * ≈ h²/(6·eps^(3/2))·|L| ≈ 5e-6 relative, still inside rtol.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  batchNormBackward,
  batchNormEval,
  batchNormTrain,
  crossEntropyBackward,
  crossEntropyForward,
  gradcheck,
  isBuffer,
  layerNormBackward,
  layerNormForward,
  linearBackward,
  linearForward,
  reluBackward,
  reluForward,
  seedNetBackward,
  seedNetForward,
  seedNetShapes,
  formatGradcheck,
  type GradcheckOptions,
  type GradcheckProblem,
  type GradcheckValues,
  type SeedNetConfig,
  type Tensors,
} from '../../reference/index.js';
import {
  batchNormCase,
  batchNormShape,
  buildBatchNormCase,
  buildLayerNormCase,
  layerNormCase,
  normals,
  seed,
  seededRng,
  type BatchNormCase,
  type LayerNormCase,
  useReproducibleSeed,
} from '../helpers/arbitraries.js';

useReproducibleSeed();

const NUM_RUNS = 25;

/** Fails the fast-check property with the checker's own report (worst element, index, bound, seed). */
function expectGradcheck(problem: GradcheckProblem, options: GradcheckOptions = {}): void {
  const result = gradcheck(problem, options);
  expect(result.ok, formatGradcheck(result)).toBe(true);
}

/** The differentiable inputs of a case: x, and weight and bias when affine. */
function affineInputs(c: { x: Float64Array; weight: Float64Array | null; bias: Float64Array | null }): Record<string, Float64Array> {
  return c.weight && c.bias ? { x: c.x, weight: c.weight, bias: c.bias } : { x: c.x };
}

function grads(g: { dx: Float64Array; dweight: Float64Array | null; dbias: Float64Array | null }) {
  return { x: g.dx, weight: g.dweight, bias: g.dbias };
}

// Cases the error model admits (see the header): no large offsets.
const smoothValues = ['standardValues', 'tinyVariance', 'constantChannel'] as const;

describe('BatchNorm backward matches central differences', () => {
  const trainProblem = (c: BatchNormCase): GradcheckProblem => ({
    inputs: affineInputs(c),
    forward: ({ x, weight, bias }: GradcheckValues) => batchNormTrain({ x: x!, shape: c.shape, weight: weight ?? null, bias: bias ?? null }).y,
    backward: ({ x, weight }: GradcheckValues, dy) => {
      const { mean, rstd } = batchNormTrain({ x: x!, shape: c.shape, weight: weight ?? null, bias: null });
      return grads(batchNormBackward({ dy, x: x!, shape: c.shape, weight: weight ?? null, mean, rstd, training: true }));
    },
  });

  it('in training mode, for 1d/2d/3d shapes, batches of 2, odd sizes, with and without affine', () => {
    fc.assert(
      fc.property(batchNormCase({ values: smoothValues }), (c) => expectGradcheck(trainProblem(c), { seed: c.seed })),
      { numRuns: NUM_RUNS },
    );
  });

  it('in training mode with non-unit weights, for a fixed 2d case of every value kind (N·S = 2 included)', () => {
    for (const shape of [[2, 3], [1, 3, 1, 2], [3, 5, 7], [2, 3, 3, 5]]) {
      for (const values of smoothValues) {
        const c = fc.sample(batchNormCase({ shape: fc.constant(shape), values: [values], affine: ['nonUnit'] }), { seed: 7, numRuns: 1 })[0]!;
        expectGradcheck(trainProblem(c), { seed: c.seed });
      }
    }
  });

  it('in training mode on a large 2d input (8, 16, 5, 5), in random-direction mode', () => {
    // 3200 + 32 values: full mode would take 6464 forwards, 12 directions take 24
    for (const values of smoothValues) {
      const c = buildBatchNormCase(31, [8, 16, 5, 5], values, 'nonUnit');
      expectGradcheck(trainProblem(c), { mode: 'random', directions: 12, seed: 31 });
    }
  });

  it('in eval mode, where the running statistics are constants, with and without affine', () => {
    fc.assert(
      fc.property(batchNormCase({ shape: batchNormShape({ training: false }), values: smoothValues }), (c) => {
        const { runningMean, runningVar } = c;
        expectGradcheck(
          {
            inputs: affineInputs(c),
            forward: ({ x, weight, bias }) => batchNormEval({ x: x!, shape: c.shape, weight: weight ?? null, bias: bias ?? null, running: { runningMean, runningVar } }).y,
            backward: ({ x, weight }, dy) => {
              const { rstd } = batchNormEval({ x: x!, shape: c.shape, weight: weight ?? null, running: { runningMean, runningVar } });
              return grads(batchNormBackward({ dy, x: x!, shape: c.shape, weight: weight ?? null, mean: runningMean, rstd, training: false }));
            },
          },
          { seed: c.seed },
        );
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

/** LayerNorm over a case: f = y, its vector-Jacobian product from layerNormBackward (dbias exactly when there is a bias). */
function layerNormProblem(c: LayerNormCase): GradcheckProblem {
  const { shape, normalizedShape } = c;
  return {
    inputs: affineInputs(c),
    forward: ({ x, weight, bias }) => layerNormForward({ x: x!, shape, normalizedShape, weight: weight ?? null, bias: bias ?? null }).y,
    backward: ({ x, weight, bias }, dy) => {
      const { mean, rstd } = layerNormForward({ x: x!, shape, normalizedShape, weight: weight ?? null, bias: bias ?? null });
      return grads(layerNormBackward({ dy, x: x!, shape, normalizedShape, weight: weight ?? null, hasBias: bias != null, mean, rstd }));
    },
  };
}

describe('LayerNorm backward matches central differences', () => {
  it('over 1 to 3 trailing dimensions, with and without affine', () => {
    fc.assert(
      fc.property(layerNormCase({ values: smoothValues }), (c: LayerNormCase) => {
        expectGradcheck(layerNormProblem(c), { seed: c.seed });
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('LayerNorm backward on a large input matches central differences', () => {
  it('over the last two of (6, 4, 12, 10), in random-direction mode', () => {
    const c = buildLayerNormCase(41, { shape: [6, 4, 12, 10], normalizedShape: [12, 10] }, 'standardValues', 'nonUnit');
    expectGradcheck(
      layerNormProblem(c),
      { mode: 'random', directions: 12, seed: 41 },
    );
  });
});

describe('Linear, ReLU and cross-entropy backward match central differences', () => {
  it('Linear: dx, dweight and dbias for batch 1 to 4 and odd feature counts', () => {
    const dims = fc.record({ N: fc.integer({ min: 1, max: 4 }), I: fc.integer({ min: 1, max: 7 }), O: fc.integer({ min: 1, max: 5 }) });
    fc.assert(
      fc.property(seed, dims, fc.boolean(), (s, d, hasBias) => {
        const z = normals(s, d.N * d.I + d.O * d.I + d.O);
        const x = z.slice(0, d.N * d.I);
        const weight = z.slice(d.N * d.I, d.N * d.I + d.O * d.I);
        const bias = z.slice(d.N * d.I + d.O * d.I);
        expectGradcheck(
          {
            inputs: hasBias ? { x, weight, bias } : { x, weight },
            forward: (p) => linearForward(p.x!, p.weight!, p.bias ?? null, d),
            backward: (p, dy) => {
              const g = linearBackward(dy, p.x!, p.weight!, d, hasBias);
              return { x: g.dx, weight: g.dweight, bias: g.dbias };
            },
          },
          { seed: s },
        );
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('ReLU away from its kink: |x| ≥ 1e-3, a thousand steps from 0', () => {
    fc.assert(
      fc.property(seed, fc.integer({ min: 1, max: 40 }), (s, n) => {
        const x = normals(s, n).map((z) => Math.sign(z || 1) * (1e-3 + Math.abs(z)));
        expectGradcheck({ inputs: { x }, forward: (p) => reluForward(p.x!), backward: (p, dy) => ({ x: reluBackward(dy, p.x!) }) }, { seed: s });
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('cross-entropy: the gradient of the mean loss with respect to the logits', () => {
    const dims = fc.record({ N: fc.integer({ min: 1, max: 5 }), K: fc.integer({ min: 2, max: 7 }) });
    fc.assert(
      fc.property(seed, dims, fc.double({ min: 0.1, max: 10, noNaN: true, noDefaultInfinity: true }), (s, { N, K }, scale) => {
        const rng = seededRng(s);
        const logits = normals(s, N * K).map((z) => scale * z);
        const targets = Array.from({ length: N }, () => rng.int(K));
        expectGradcheck(
          {
            inputs: { logits },
            forward: (p) => crossEntropyForward(p.logits!, targets, N, K).loss,
            backward: (p, v) => {
              const { probs } = crossEntropyForward(p.logits!, targets, N, K);
              // the upstream gradient of a scalar loss is one number; scale the gradient by it
              return { logits: crossEntropyBackward(probs, targets, N, K).map((g) => g * v[0]!) };
            },
          },
          { seed: s },
        );
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('the seed network backward matches central differences of its loss', () => {
  const N = 5;

  /** Kaiming-like weights N(0, 1/fan_in), non-unit norm weights, running buffers at PyTorch's initial values. */
  function initParams(s: number, config: SeedNetConfig): Tensors {
    const rng = seededRng(s);
    const params: Tensors = {};
    for (const [name, shape] of seedNetShapes(config)) {
      const size = shape.reduce((a, b) => a * b, 1);
      const t = new Float64Array(size);
      const fanIn = shape.length === 2 ? shape[1]! : 1;
      for (let i = 0; i < size; i++) {
        if (name.endsWith('running_var')) t[i] = 1;
        else if (isBuffer(name)) t[i] = 0;
        else if (/^(bn|ln)\d\.weight$/.test(name)) t[i] = rng.between(0.5, 2);
        else t[i] = rng.normal() / Math.sqrt(fanIn);
      }
      params[name] = t;
    }
    return params;
  }

  function networkProblem(s: number, config: SeedNetConfig, training: boolean): GradcheckProblem {
    const params = initParams(s, config);
    const rng = seededRng(s + 1);
    const x = normals(s + 2, N * config.sizes[0]);
    const targets = Array.from({ length: N }, () => rng.int(config.sizes[3]));
    const trainable = Object.fromEntries(Object.entries(params).filter(([name]) => !isBuffer(name)));
    const buffers = Object.fromEntries(Object.entries(params).filter(([name]) => isBuffer(name)));
    const run = ({ x: input, ...p }: GradcheckValues) => {
      const all = { ...buffers, ...p } as Tensors;
      const { cache } = seedNetForward(all, input!, N, training, config);
      return { all, cache };
    };
    return {
      inputs: { ...trainable, x },
      forward: (p) => {
        const { all, cache } = run(p);
        return seedNetBackward(all, cache, targets, config).loss;
      },
      backward: (p, v) => {
        const { all, cache } = run(p);
        const g = seedNetBackward(all, cache, targets, config);
        const out: Record<string, Float64Array> = { x: g.dx.map((d) => d * v[0]!) };
        for (const [name, d] of Object.entries(g.grads)) out[name] = d.map((e) => e * v[0]!);
        return out;
      },
    };
  }

  const twin = (norm: SeedNetConfig['norm']): SeedNetConfig => ({ sizes: [12, 8, 6, 3], norm, eps: 1e-5, momentum: 0.1 });

  it('in training mode, for every parameter and the input, in random-direction mode over many seeds', () => {
    fc.assert(
      fc.property(seed, (s) => expectGradcheck(networkProblem(s, twin('batchnorm'), true), { mode: 'random', directions: 12, seed: s })),
      { numRuns: 20 },
    );
  });

  it('in training mode, every one of the 267 values perturbed in turn, for one fixed seed', () => {
    const problem = networkProblem(2024, twin('batchnorm'), true);
    const result = gradcheck(problem, { seed: 2024 });
    expect(result.ok, formatGradcheck(result)).toBe(true);
    // 12·8 + 8 + 8 + 8 + 8·6 + 6 + 6 + 6 + 6·3 + 3 trainable values, plus the 5·12 input values
    expect(result.checked).toBe(207 + 60);
  });

  it('in eval mode and with LayerNorm or no normalisation in place of BatchNorm', () => {
    for (const [norm, training] of [['batchnorm', false], ['layernorm', true], ['none', true]] as const) {
      for (const s of [1, 2, 3]) expectGradcheck(networkProblem(s, twin(norm), training), { mode: 'random', directions: 12, seed: s });
    }
  });
});
