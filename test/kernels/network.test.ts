/**
 * The float32 seed network (kernels/network/api.ts) against the float64 reference network (reference/network.ts)
 * and against PyTorch's golden steps (fixtures/net_twin.json, net_seed.json).
 *
 * Bounds: test/kernels/network_error_model.ts carries a per-element bound e beside every reference value —
 * first-order propagation of each stage's input bounds through the stage, plus the stage's own float32
 * rounding (the GEMM model of gemm_error_model.ts for the default GEMM version's accumulation) — and the check is
 *   |kernel - reference| ≤ 2·e + 2⁻¹⁴⁹
 * (2 covers the second-order terms and the float64 arithmetic; see that file's header). Parameters start as
 * float32 values, so the reference and the kernel start from the same numbers (e = 0); PyTorch's float64 fixtures
 * are rounded to float32 on loading, and that rounding, known exactly, is their starting bound.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GEMM_DEFAULT, SeedNetKernel, seedNetKernelShapes, type NormKind, type SgdOptions } from '../../kernels/index.js';
import { seedNetForward, seedNetTrainStep, type SeedNetConfig, type Tensors } from '../../reference/index.js';
import { countTypedArrays } from '../helpers/allocations.js';
import { seed, seededRng } from '../helpers/arbitraries.js';
import { hasTensor, listFixtures, loadFixture, tensorOf } from '../helpers/fixtures.js';
import { compareWithBound } from './gemm_error_model.js';
import { evalLogitsB, exact, roundedToFloat32, trainStepB, type Bounded, type NetSpec } from './network_error_model.js';

const acc = GEMM_DEFAULT.accumulation;
const SGD: SgdOptions = { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 };
const TWIN: NetSpec['sizes'] = [13, 9, 7, 5];
const SEED: NetSpec['sizes'] = [784, 256, 128, 10];

/**
 * torch.optim.SGD settings: momentum off or on, dampening, Nesterov (only with momentum and no dampening, as
 * PyTorch requires), and weight decay up to 0.3 — large enough that a wrong decay term moves a parameter by far
 * more than its bound (at 1e-4 the term is below the BatchNorm network's propagated gradient bound).
 */
const sgdSettings: fc.Arbitrary<SgdOptions> = fc
  .record({
    lr: fc.constantFrom(0.05, 0.5),
    momentum: fc.constantFrom(0, 0.9),
    dampening: fc.constantFrom(0, 0.5),
    weightDecay: fc.constantFrom(0, 1e-4, 0.3),
    nesterov: fc.boolean(),
  })
  .filter((o) => !o.nesterov || (o.momentum > 0 && o.dampening === 0));

function expectBounded(got: ArrayLike<number>, want: ArrayLike<number>, e: ArrayLike<number>, what: string): void {
  const bad = compareWithBound(got, want, (i) => 2 * e[i]! + 2 ** -149);
  expect(bad, `${what}: worst mismatches (index, got, want, bound)`).toEqual([]);
}

function inputs(s: number, N: number, d0: number, K: number): { x: Float32Array; targets: Int32Array } {
  const rng = seededRng(s);
  return { x: Float32Array.from({ length: N * d0 }, () => rng.normal()), targets: Int32Array.from({ length: N }, () => rng.int(K)) };
}

const toF64 = (t: Record<string, Float32Array>): Tensors => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Float64Array.from(v)]));
const toBounded = (t: Tensors): Record<string, Bounded> => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, exact(v)]));

/**
 * Two training steps (batch N1, then a smaller last batch N2) and an eval forward, each checked against the
 * reference network with the propagated bound: loss, every gradient, every parameter and running buffer after
 * the step, the momentum buffers, eval logits.
 */
function checkTwoStepsAndEval(
  sizes: NetSpec['sizes'], norm: NormKind, s: number, N1: number, N2: number, Neval: number, sgd: SgdOptions = SGD,
): void {
  const [d0, , , d3] = sizes;
  const spec: NetSpec = { sizes, norm, eps: 1e-5, momentum: 0.1 };
  const refConfig: SeedNetConfig = { sizes, norm, eps: 1e-5, momentum: 0.1 };
  const net = new SeedNetKernel({ sizes, norm, maxBatch: Math.max(N1, N2, Neval) });
  net.initDefault(s);
  let refParams = toF64(net.exportStateDict());
  let bParams = toBounded(refParams);
  let refMomentum: Tensors | null = null;
  let bMomentum: Record<string, Bounded> | null = null;
  for (const [step, N] of [[0, N1], [1, N2]] as const) {
    const { x, targets } = inputs(s + 1 + step, N, d0, d3);
    const x0 = Float32Array.from(x);
    const loss = net.trainStep(x, targets, N, sgd);
    const ref = seedNetTrainStep(refParams, x, targets, N, sgd, refMomentum, refConfig);
    const b = trainStepB(bParams, x, targets, N, spec, sgd, bMomentum, acc);
    const at = `step ${step} (N = ${N}, norm ${norm})`;
    expect(Math.abs(loss - ref.loss), `${at}: loss ${loss} vs ${ref.loss}, bound ${2 * b.lossBound}`).toBeLessThanOrEqual(2 * b.lossBound + 2 ** -149);
    for (const name of net.trainable) {
      expectBounded(net.grads[name]!, ref.grads[name]!, b.grads[name]!.e, `${at}: grad ${name}`);
      if ((sgd.momentum ?? 0) !== 0) {
        expectBounded(net.momentumBuffers[name]!, ref.momentumBuffers[name]!, b.momentumBuffers[name]!.e, `${at}: momentum buffer ${name}`);
      }
    }
    for (const [name] of seedNetKernelShapes(spec)) {
      expectBounded(net.params[name]!, ref.params[name]!, b.params[name]!.e, `${at}: ${name} after the step`);
    }
    expect(x, 'the input batch is not modified').toEqual(x0);
    refParams = ref.params;
    refMomentum = ref.momentumBuffers;
    bParams = b.params;
    bMomentum = b.momentumBuffers;
  }
  const { x } = inputs(s + 7, Neval, d0, d3);
  const logits = net.evalLogits(x, Neval);
  const ref = seedNetForward(refParams, x, Neval, false, refConfig);
  const b = evalLogitsB(bParams, x, Neval, spec, acc);
  expectBounded(logits, ref.logits, b.e, `eval logits (norm ${norm})`);
}

describe('seed network step against the float64 reference', () => {
  it.each<NormKind>(['batchnorm', 'layernorm', 'none'])(
    'a small twin with norm %s: two steps (the second a smaller last batch) and eval agree with the reference within the propagated bound',
    (norm) => {
      fc.assert(
        fc.property(seed, fc.integer({ min: 2, max: 12 }), fc.integer({ min: 2, max: 12 }), sgdSettings, (s, N1, N2, sgd) => {
          checkTwoStepsAndEval(TWIN, norm, s, N1, N2, 5, sgd);
        }),
        { numRuns: 12 },
      );
    },
  );

  it('the full-size network (784→256→128→10, BatchNorm) at batch 8 then 5 agrees with the reference within the propagated bound', () => {
    checkTwoStepsAndEval(SEED, 'batchnorm', 20261127, 8, 5, 4);
  });
});

// ---------------------------------------------------------------------------------------------------------
// PyTorch golden steps

/** A fixture tensor's values where stored whole, else its sample, compared with the matching bound entries. */
function expectFixture(got: ArrayLike<number>, fixtureName: string, tensorName: string, e: ArrayLike<number>, what: string): void {
  const t = tensorOf(loadFixture(fixtureName), tensorName);
  if (t.data !== null) {
    expectBounded(got, t.data, e, what);
    return;
  }
  const sample = t.sample!;
  const pick = (a: ArrayLike<number>) => sample.index.map((i) => a[i]!);
  expectBounded(pick(got), sample.data, pick(e), `${what} (sampled)`);
  if (t.sumLast !== null) {
    // row sums: |Σ got - Σ want| ≤ Σ bound (the float64 sums here add ~1e-16 relative, inside the factor 2)
    const cols = got.length / t.sumLast.length;
    const rowSum = (a: ArrayLike<number>) => Float64Array.from(t.sumLast!, (_, r) => {
      let s = 0;
      for (let c = 0; c < cols; c++) s += a[r * cols + c]!;
      return s;
    });
    expectBounded(rowSum(got), t.sumLast, rowSum(e), `${what} (row sums)`);
  }
}

describe('seed network step against PyTorch golden steps', () => {
  const fixtures = listFixtures('seed_net');

  it('the seed-network fixtures are present (net_seed and net_twin)', () => {
    expect(fixtures).toEqual(expect.arrayContaining(['net_seed', 'net_twin']));
  });

  it.each(fixtures)('fixture %s: every step reproduces PyTorch (float64) within the propagated float32 bound', (name) => {
    const fx = loadFixture(name, 'seed_net');
    const { sizes, batch: N, eps, momentum, steps, sgd: s } = fx.settings;
    const sgd: SgdOptions = { lr: s.lr, momentum: s.momentum, weightDecay: s.weight_decay, dampening: s.dampening, nesterov: s.nesterov };
    const spec: NetSpec = { sizes, norm: 'batchnorm', eps, momentum };
    const net = new SeedNetKernel({ sizes, norm: 'batchnorm', eps, momentum, maxBatch: N });
    const init: Record<string, Float64Array> = {};
    for (const [param] of seedNetKernelShapes(spec)) init[param] = tensorOf(fx, `init.${param}`).data!;
    net.loadStateDict(init);
    // PyTorch's float64 values round to float32 on loading; that rounding is each parameter's starting bound
    let bParams: Record<string, Bounded> = Object.fromEntries(Object.entries(init).map(([p, v]) => [p, roundedToFloat32(v)]));
    let bMomentum: Record<string, Bounded> | null = null;
    for (let k = 0; k < steps; k++) {
      const x64 = tensorOf(fx, `step${k}.x`).data!;
      const targets = Int32Array.from(tensorOf(fx, `step${k}.targets`).data!);
      const loss = net.trainStep(Float32Array.from(x64), targets, N, sgd);
      const b = trainStepB(bParams, roundedToFloat32(x64), targets, N, spec, sgd, bMomentum, acc);
      const torchLoss = tensorOf(fx, `step${k}.loss`).data![0]!;
      expect(Math.abs(loss - torchLoss), `step ${k} loss`).toBeLessThanOrEqual(2 * b.lossBound + 2 ** -149);
      for (const param of net.trainable) {
        expectFixture(net.grads[param]!, name, `step${k}.grad.${param}`, b.grads[param]!.e, `step ${k} grad ${param}`);
        if (hasTensor(fx, `step${k}.momentum_buffer.${param}`)) {
          expectFixture(net.momentumBuffers[param]!, name, `step${k}.momentum_buffer.${param}`, b.momentumBuffers[param]!.e, `step ${k} momentum ${param}`);
        }
      }
      for (const [param] of seedNetKernelShapes(spec)) {
        expectFixture(net.params[param]!, name, `step${k}.after.${param}`, b.params[param]!.e, `step ${k} ${param} after`);
      }
      bParams = b.params;
      bMomentum = b.momentumBuffers;
    }
    const x64 = tensorOf(fx, 'eval.x').data!;
    const Ne = x64.length / sizes[0];
    const logits = net.evalLogits(Float32Array.from(x64), Ne);
    expectFixture(logits, name, 'eval.logits', evalLogitsB(bParams, roundedToFloat32(x64), Ne, spec, acc).e, 'eval logits');
  });
});

// ---------------------------------------------------------------------------------------------------------
// Workspace: no allocation after the first step

describe('seed network workspace', () => {
  // countTypedArrays (test/helpers/allocations.ts) wraps the typed-array constructors and subarray while a body runs
  it('the allocation counter sees a typed array made inside it (so a count of 0 means something)', () => {
    expect(countTypedArrays(() => void new Float32Array(4).subarray(1))).toBe(2);
    expect(countTypedArrays(() => void Float64Array.from([1, 2]))).toBe(1);
  });

  it('after the first step at each batch size, 100 steps (batch 128 and a last batch of 40) create no typed array or view, keep every buffer the same object and do not grow arrayBuffers', () => {
    const net = new SeedNetKernel({ maxBatch: 128 });
    net.initDefault(1);
    const { x, targets } = inputs(2, 128, 784, 10);
    const { x: xLast, targets: tLast } = inputs(3, 40, 784, 10);
    // first steps at both batch sizes: the views of those sizes are made here, and the GEMM's memory grows here
    net.trainStep(x, targets, 128, SGD);
    net.trainStep(xLast, tLast, 40, SGD);
    const logitsView = net.forward(x, 128, true);
    net.backward(targets);
    const objects = [...Object.values(net.params), ...Object.values(net.grads), ...Object.values(net.momentumBuffers), logitsView];
    const before = process.memoryUsage().arrayBuffers;
    const made = countTypedArrays(() => {
      for (let k = 0; k < 100; k++) {
        if (k % 10 === 9) net.trainStep(xLast, tLast, 40, SGD);
        else net.trainStep(x, targets, 128, SGD);
      }
      net.evalLogits(x, 128);
      net.predict(xLast, 40);
    });
    expect(made, 'typed arrays, ArrayBuffers and views created by 100 steps').toBe(0);
    // arrayBuffers counts the memory behind every ArrayBuffer, WebAssembly memory included
    expect(process.memoryUsage().arrayBuffers).toBeLessThanOrEqual(before);
    expect(net.forward(x, 128, true)).toBe(logitsView);
    const now = [...Object.values(net.params), ...Object.values(net.grads), ...Object.values(net.momentumBuffers), logitsView];
    for (const [i, o] of objects.entries()) expect(now[i], `buffer ${i} is the same object`).toBe(o);
    // and the counter does see inside the kernels: the first step at a new batch size makes that size's views
    const { x: xNew, targets: tNew } = inputs(4, 17, 784, 10);
    expect(countTypedArrays(() => void net.trainStep(xNew, tNew, 17, SGD))).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Initialisation, state dict, argument checks

describe('seed network state and arguments', () => {
  it('initDefault draws Linear weights and biases in ±1/sqrt(fan_in), norm weight 1 and bias 0, running 0 and 1, reproducibly', () => {
    const twinA = new SeedNetKernel({ sizes: TWIN, maxBatch: 2 });
    const twinB = new SeedNetKernel({ sizes: TWIN, maxBatch: 2 });
    twinA.initDefault(42);
    twinB.initDefault(42);
    expect(twinA.exportStateDict()).toEqual(twinB.exportStateDict());
    const a = new SeedNetKernel({ maxBatch: 2 });
    a.initDefault(42);
    const fanIn: Record<string, number> = { fc1: 784, fc2: 256, fc3: 128 };
    for (const [name, p] of Object.entries(a.params)) {
      const [layer, field] = name.split('.') as [string, string];
      if (layer in fanIn) {
        const bound = 1 / Math.sqrt(fanIn[layer]!);
        expect(p.every((v) => Math.abs(v) <= bound), `${name} within ±1/sqrt(${fanIn[layer]})`).toBe(true);
        // a uniform draw of ≥ 10 values spreads over more than half the interval
        expect(p.reduce((m, v) => Math.max(m, v), -Infinity) - p.reduce((m, v) => Math.min(m, v), Infinity)).toBeGreaterThan(bound);
      } else {
        const want = field === 'weight' || field === 'running_var' ? 1 : 0;
        expect(p.every((v) => v === want), `${name} = ${want}`).toBe(true);
      }
    }
  });

  it('state-dict names and shapes follow PyTorch, with ln1/ln2 for LayerNorm and none for norm none', () => {
    expect(Object.keys(new SeedNetKernel({ maxBatch: 1 }).params)).toEqual([
      'fc1.weight', 'fc1.bias', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var', 'bn1.num_batches_tracked',
      'fc2.weight', 'fc2.bias', 'bn2.weight', 'bn2.bias', 'bn2.running_mean', 'bn2.running_var', 'bn2.num_batches_tracked',
      'fc3.weight', 'fc3.bias',
    ]);
    expect(Object.keys(new SeedNetKernel({ maxBatch: 1, norm: 'layernorm' }).params)).toEqual([
      'fc1.weight', 'fc1.bias', 'ln1.weight', 'ln1.bias', 'fc2.weight', 'fc2.bias', 'ln2.weight', 'ln2.bias', 'fc3.weight', 'fc3.bias',
    ]);
    expect(Object.keys(new SeedNetKernel({ maxBatch: 1, norm: 'none' }).params)).toEqual([
      'fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias', 'fc3.weight', 'fc3.bias',
    ]);
  });

  it('predict returns the argmax of the eval logits', () => {
    const net = new SeedNetKernel({ sizes: TWIN, maxBatch: 6 });
    net.initDefault(5);
    const { x } = inputs(6, 6, TWIN[0], TWIN[3]);
    const logits = Float32Array.from(net.evalLogits(x, 6));
    const pred = Array.from(net.predict(x, 6));
    for (let n = 0; n < 6; n++) {
      const row = Array.from(logits.subarray(n * 5, n * 5 + 5));
      expect(pred[n]).toBe(row.indexOf(Math.max(...row)));
    }
  });

  it('bad arguments are rejected naming the argument and the expected size', () => {
    const net = new SeedNetKernel({ sizes: TWIN, maxBatch: 4 });
    const x = new Float32Array(4 * 13);
    expect(() => net.trainStep(x, [0, 1, 2, 3, 4], 5, SGD)).toThrow(/N: expected an integer batch size in \[1, 4\] \(maxBatch\), got 5/);
    expect(() => net.trainStep(x.subarray(0, 20), [0, 1], 2, SGD)).toThrow(/x: expected an input of shape \(N, 13\) = \(2, 13\) \(26 values\), got 20/);
    expect(() => net.trainStep(x, [0, 1, 2, 9], 4, SGD)).toThrow(/targets\[3\]: expected an integer class index in \[0, 5\), got 9/);
    expect(() => net.trainStep(x, [0, 1, 2, 3], 4, { lr: -1 })).toThrow(/sgd.lr: expected a finite number >= 0, got -1/);
    expect(() => new SeedNetKernel({ maxBatch: 1 }).backward([0])).toThrow(/backward: expected a training-mode forward/);
    expect(() => net.loadStateDict({ ...net.exportStateDict(), 'fc1.weight': new Float32Array(3) })).toThrow(/stateDict\['fc1.weight'\]: expected shape \(9, 13\) \(117 values\), got 3 values/);
    expect(() => net.loadStateDict({ ...net.exportStateDict(), 'fc4.weight': new Float32Array(3) })).toThrow(/stateDict\['fc4.weight'\]: not a tensor of this network/);
    expect(() => new SeedNetKernel({ sizes: [1, 2, 3] as unknown as NetSpec['sizes'] })).toThrow(/sizes: expected four positive integers/);
    // BatchNorm cannot train on one sample (its variance is 0/0 unbiased), as PyTorch refuses; LayerNorm can
    expect(() => net.trainStep(x.subarray(0, 13), [0], 1, SGD)).toThrow(/N: BatchNorm in training mode needs a batch of at least 2 .*got 1/);
    const ln = new SeedNetKernel({ sizes: TWIN, norm: 'layernorm', maxBatch: 4 });
    expect(Number.isFinite(ln.trainStep(x.subarray(0, 13), [0], 1, SGD))).toBe(true);
  });
});
