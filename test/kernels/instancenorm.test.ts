/**
 * The float32 InstanceNorm kernels (kernels/instancenorm/), every registered version in both layouts, against the
 * float64 reference (reference/instancenorm.ts) in its three modes (the instance's statistics with and without
 * running buffers, eval with the running buffers), with the bounds of family_error_model.ts; accuracy at large
 * offsets, the relation to GroupNorm, the running-statistics contract and bad input. Cases from
 * test/helpers/family_cases.ts (seeded values; fast-check prints the seed and path of a failure).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  GROUPNORM_FORWARD_VERSIONS, INSTANCENORM_BACKWARD_VERSIONS, INSTANCENORM_FORWARD_VERSIONS, instanceNormBackward, instanceNormForward,
  InstanceNormWorkspace, KernelArgError, KernelShapeError, KernelValueError, type InstanceNormRunning,
} from '../../kernels/index.js';
import { instanceNormBackward as refBackward, instanceNormForward as refForward } from '../../reference/index.js';
import { momentumValue, seededRng, useReproducibleSeed } from '../helpers/arbitraries.js';
import { instanceNormCase } from '../helpers/family_cases.js';
import { moments } from '../helpers/moments.js';
import {
  backwardTerms, dxBoundAt, evalDxBound, evalYBound, forwardTerms, instanceNormGrouping, parameterBounds, yBound,
} from './family_error_model.js';
import { channelCase, expectWithin, gnKernel, inKernel, inKernelBackward, into, LAYOUTS, offsetValues, type ChannelCase } from './family_fixture.js';
import { gamma, U64, ulp32, ulpError } from './norm_error_model.js';

useReproducibleSeed();

function running(kase: { runningMean: Float64Array; runningVar: Float64Array }): InstanceNormRunning {
  return { runningMean: Float32Array.from(kase.runningMean), runningVar: Float32Array.from(kase.runningVar) };
}

/**
 * One step's bound on the running buffers, each compared with the reference's update of the same old float32
 * buffers: the rounding to float32 (1 ulp32 at the new value), f times the error of the batch-averaged statistic,
 * and float64 roundings of the blend and of the average over N instances. Per instance (norm_error_model.ts),
 *   δm ≤ 2γ_{S+2}·mean|x|,   δv ≤ (2⁻³⁰ + 3γ_{S+2})·v + δm² + 2δm·mean|x - mean|
 * and b = S/(S-1) the Bessel factor:
 *   mean: ulp32 + f·max δm + (4u64 + γ_N)·(|old| + mean|mean|)
 *   var:  ulp32 + f·b·max δv + (4u64 + γ_N)·(|old| + f·b·mean v)
 */
function runningBounds(k: ChannelCase, c: number, f: number, old: { m: number; v: number }, want: { m: number; v: number }) {
  const { N, C, S } = k;
  let dmMax = 0;
  let dvMax = 0;
  let meanAbsMean = 0;
  let meanVar = 0;
  for (let n = 0; n < N; n++) {
    const inst = k.x.subarray((n * C + c) * S, (n * C + c + 1) * S);
    const m = moments(inst);
    let meanAbsDev = 0;
    for (let s = 0; s < S; s++) meanAbsDev += Math.abs(inst[s]! - m.mean) / S;
    const dm = 2 * gamma(S + 2) * m.meanAbs;
    dmMax = Math.max(dmMax, dm);
    dvMax = Math.max(dvMax, (2 ** -30 + 3 * gamma(S + 2)) * m.var + dm * dm + 2 * dm * meanAbsDev);
    meanAbsMean += Math.abs(m.mean) / N;
    meanVar += m.var / N;
  }
  const b = S / (S - 1);
  const r = 4 * U64 + gamma(N);
  return {
    mean: ulp32(want.m) + f * dmMax + r * (Math.abs(old.m) + meanAbsMean),
    var: ulp32(want.v) + f * b * dvMax + r * (Math.abs(old.v) + f * b * meanVar),
  };
}

describe.each(INSTANCENORM_FORWARD_VERSIONS.map((v) => [v.name, v] as const))('InstanceNorm forward, version %s', (_name, version) => {
  it.each(LAYOUTS)("%s: with the instance's statistics, y, mean, rstd within the model, and the running buffers updated in place as PyTorch does", (layout) => {
    fc.assert(
      fc.property(instanceNormCase(), fc.boolean(), momentumValue, (kase, track, momentum) => {
        const k = channelCase(kase);
        const buffers = track ? running(kase) : null;
        const old = buffers && { runningMean: buffers.runningMean.slice(), runningVar: buffers.runningVar.slice() };
        const got = inKernel(k, layout, { running: buffers, momentum, version });
        const ref = refForward({ x: k.x, shape: [k.N, k.C, k.S], weight: k.weight, bias: k.bias, running: old, momentum });
        const grouping = instanceNormGrouping(k.N, k.C, k.S);
        const t = forwardTerms(k.x, grouping, ref.mean, ref.rstd);
        expectWithin(got.y, ref.y, (i) => yBound(i, ref.y[i]!, grouping, t, k.weight, k.bias), 'y');
        expectWithin(got.mean, ref.mean, (g) => t.rho[g]! / ref.rstd[g]!, 'mean');
        expectWithin(got.rstd, ref.rstd, (g) => t.rho[g]! * ref.rstd[g]!, 'rstd');
        if (buffers && old) {
          const want = ref.running!;
          for (let c = 0; c < k.C; c++) {
            const bound = runningBounds(k, c, momentum, { m: old.runningMean[c]!, v: old.runningVar[c]! }, { m: want.runningMean[c]!, v: want.runningVar[c]! });
            expect(Math.abs(buffers.runningMean[c]! - want.runningMean[c]!), `runningMean[${c}]`).toBeLessThanOrEqual(bound.mean);
            expect(Math.abs(buffers.runningVar[c]! - want.runningVar[c]!), `runningVar[${c}]`).toBeLessThanOrEqual(bound.var);
          }
        }
      }),
      { numRuns: 40 },
    );
  });

  it.each(LAYOUTS)('%s: eval with the running statistics: y within the model, mean and rstd are the running ones per sample, the buffers untouched', (layout) => {
    fc.assert(
      fc.property(instanceNormCase(), (kase) => {
        const k = channelCase(kase);
        const buffers = running(kase);
        const old = { runningMean: buffers.runningMean.slice(), runningVar: buffers.runningVar.slice() };
        const got = inKernel(k, layout, { running: buffers, useInputStats: false, version });
        const ref = refForward({ x: k.x, shape: [k.N, k.C, k.S], weight: k.weight, bias: k.bias, running: old, useInputStats: false });
        expect(got.mean).toEqual(ref.mean); // the float32 running mean, widened: exact
        expect(got.rstd).toEqual(ref.rstd); // 1/sqrt(runningVar + eps), the same two float64 operations
        expect(buffers).toEqual(old);
        const xhat = (i: number): number => (k.x[i]! - ref.mean[Math.floor(i / k.S)]!) * ref.rstd[Math.floor(i / k.S)]!;
        const c = (i: number): number => Math.floor(i / k.S) % k.C;
        expectWithin(got.y, ref.y, (i) => evalYBound(ref.y[i]!, k.weight ? k.weight[c(i)]! : 1, xhat(i), k.bias ? k.bias[c(i)]! : 0), 'y');
      }),
      { numRuns: 40 },
    );
  });

  it.each(LAYOUTS)('%s: instances at offsets 1e2 to 1e6 (std 1) come out within 1 ulp of the exact result, S = 128 and S = 1024 (seed 1)', (layout) => {
    for (const [N, C, S] of [[4, 6, 128], [1, 3, 1024]] as const) {
      for (const offset of [1e2, 1e3, 1e4, 1e5, 1e6]) {
        for (const seed of [1]) {
          const rng = seededRng(seed);
          const x = offsetValues(N * C * S, offset, () => rng.normal());
          const weight = Float32Array.from({ length: C }, () => rng.between(-2, 2));
          const bias = Float32Array.from({ length: C }, () => rng.between(-1, 1));
          const got = inKernel({ N, C, S, x, weight, bias }, layout, { version });
          // the reference on each instance shifted by its first value (exact in float64): see groupnorm.test.ts
          const shifted = new Float64Array(x.length);
          for (let i = 0; i < x.length; i++) shifted[i] = x[i]! - x[Math.floor(i / S) * S]!;
          const want = refForward({ x: shifted, shape: [N, C, S], weight, bias }).y;
          let worst = 0;
          for (let i = 0; i < want.length; i++) worst = Math.max(worst, ulpError(got.y[i]!, want[i]!));
          expect(worst, `(${N}, ${C}, ${S}), offset ${offset}, seed ${seed}: worst error in ulps`).toBeLessThanOrEqual(1);
        }
      }
    }
  });
});

describe.each(INSTANCENORM_BACKWARD_VERSIONS.map((v) => [v.name, v] as const))('InstanceNorm backward, version %s', (_name, version) => {
  it.each(LAYOUTS)("%s: dx, dweight, dbias match the reference, with the instance's statistics (cancellation-aware bound) and with the running ones", (layout) => {
    fc.assert(
      fc.property(instanceNormCase(), fc.boolean(), (kase, useInputStats) => {
        const k = channelCase(kase);
        const rng = seededRng(kase.seed + 1);
        const dy = Float32Array.from({ length: k.x.length }, () => rng.normal());
        const buffers = running(kase);
        const fwd = inKernel(k, layout, { running: useInputStats ? null : buffers, useInputStats });
        const got = inKernelBackward(k, layout, dy, fwd, useInputStats, version);
        const ref = refForward({ x: k.x, shape: [k.N, k.C, k.S], weight: k.weight, bias: k.bias, running: buffers, useInputStats, momentum: 0 });
        const weight = k.weight ?? new Float32Array(k.C).fill(1);
        const grads = refBackward({ dy, x: k.x, shape: [k.N, k.C, k.S], weight, hasBias: true, mean: ref.mean, rstd: ref.rstd, useInputStats });
        const grouping = instanceNormGrouping(k.N, k.C, k.S);
        const t = forwardTerms(k.x, grouping, ref.mean, ref.rstd);
        // with the running statistics both sides use the same mean and (to 2u64) rstd: x̂ carries no statistics error
        const rho = useInputStats ? t.rho : t.rho.map(() => 4 * U64);
        if (useInputStats) {
          const terms = backwardTerms(dy, grouping, k.weight, t.xhat, rho, ref.rstd);
          expectWithin(got.dx, grads.dx, (i) => dxBoundAt(i, grads.dx[i]!, dy, grouping, k.weight, t.xhat, terms), 'dx');
        } else {
          expectWithin(got.dx, grads.dx, (i) => evalDxBound(grads.dx[i]!, weight[grouping.param(i)]!, ref.rstd[grouping.group(i)]!, dy[i]!), 'dx');
        }
        const params = parameterBounds(dy, grouping, k.C, t.xhat, rho);
        expectWithin(got.dweight, grads.dweight!, (c) => params(grads.dweight![c]!, c), 'dweight');
        expectWithin(got.dbias, grads.dbias!, (c) => params(grads.dbias![c]!, c), 'dbias');
      }),
      { numRuns: 40 },
    );
  });
});

describe('InstanceNorm contract', () => {
  it.each(LAYOUTS)("%s: with the instance's statistics every version gives GroupNorm's bits with one channel per group (G = C)", (layout) => {
    fc.assert(
      fc.property(instanceNormCase(), (kase) => {
        const k = channelCase(kase);
        INSTANCENORM_FORWARD_VERSIONS.forEach((version, i) => {
          const a = inKernel(k, layout, { version });
          const b = gnKernel(k, k.C, layout, GROUPNORM_FORWARD_VERSIONS[i]);
          expect(version.groups).toBe(GROUPNORM_FORWARD_VERSIONS[i]);
          expect(a).toEqual(b);
        });
      }),
      { numRuns: 20 },
    );
  });

  it('no input is modified; the running buffers change only with the input statistics, and numBatchesTracked never', () => {
    fc.assert(
      fc.property(instanceNormCase(), fc.constantFrom(...LAYOUTS), fc.boolean(), (kase, layout, useInputStats) => {
        const k = channelCase(kase);
        const x = into(k.x, k, layout);
        const copies = { x: x.slice(), weight: k.weight?.slice(), bias: k.bias?.slice() };
        const buffers = { ...running(kase), numBatchesTracked: 7 };
        const before = { runningMean: buffers.runningMean.slice(), runningVar: buffers.runningVar.slice() };
        const { N, C, S } = k;
        const mean = new Float64Array(N * C);
        const rstd = new Float64Array(N * C);
        const workspace = new InstanceNormWorkspace(C);
        instanceNormForward({
          x, dims: { N, C, S }, layout, weight: k.weight, bias: k.bias, running: buffers, useInputStats, momentum: 0.5, y: new Float32Array(x.length),
          mean, rstd, workspace,
        });
        expect(buffers.numBatchesTracked).toBe(7);
        if (!useInputStats) expect({ runningMean: buffers.runningMean, runningVar: buffers.runningVar }).toEqual(before);
        else expect(buffers.runningMean).not.toEqual(before.runningMean);
        const dy = new Float32Array(x.length).fill(0.5);
        const saved = { mean: mean.slice(), rstd: rstd.slice() };
        instanceNormBackward({
          dy, x, dims: { N, C, S }, layout, weight: k.weight, mean, rstd, useInputStats, dx: new Float32Array(x.length),
          dweight: new Float32Array(C), dbias: new Float32Array(C), workspace,
        });
        expect(x).toEqual(copies.x);
        expect(k.weight ?? undefined).toEqual(copies.weight);
        expect(k.bias ?? undefined).toEqual(copies.bias);
        expect(dy.every((v) => v === 0.5)).toBe(true);
        expect(mean).toEqual(saved.mean);
        expect(rstd).toEqual(saved.rstd);
      }),
      { numRuns: 30 },
    );
  });

  it('momentum 0 leaves the running statistics where they were, momentum 1 replaces them with the batch averages', () => {
    // two instances per channel with means 1 and 3 and unbiased variances 2 and 4 (values ±1, ±sqrt(2)·… chosen exactly)
    const k: ChannelCase = { N: 2, C: 1, S: 2, x: Float32Array.of(0, 2, 1, 5), weight: null, bias: null };
    const buffers = { runningMean: Float32Array.of(10), runningVar: Float32Array.of(20) };
    inKernel(k, 'NCHW', { running: buffers, momentum: 0 });
    expect(Array.from(buffers.runningMean)).toEqual([10]);
    expect(Array.from(buffers.runningVar)).toEqual([20]);
    inKernel(k, 'NCHW', { running: buffers, momentum: 1 });
    // instance means 1 and 3 average to 2; unbiased variances (0-1)²+(2-1)² = 2 and (1-3)²+(5-3)² = 8 average to 5
    expect(Array.from(buffers.runningMean)).toEqual([2]);
    expect(Array.from(buffers.runningVar)).toEqual([5]);
  });

  describe('bad arguments throw a KernelShapeError (a size) or KernelValueError (a value), both KernelArgErrors, naming the argument', () => {
    const [N, C, S] = [2, 3, 4];
    const good = () => ({
      x: new Float32Array(N * C * S).map((_, i) => i % 5), dims: { N, C, S }, weight: new Float32Array(C), bias: new Float32Array(C),
      y: new Float32Array(N * C * S), mean: new Float64Array(N * C), rstd: new Float64Array(N * C), workspace: new InstanceNormWorkspace(C),
    });
    const buffers = () => ({ runningMean: new Float32Array(C), runningVar: new Float32Array(C).fill(1) });
    const cases: [string, Record<string, unknown>, RegExp, typeof KernelShapeError | typeof KernelValueError][] = [
      ['one spatial element with the input statistics', { dims: { N, C, S: 1 }, x: new Float32Array(N * C), y: new Float32Array(N * C) }, /^x: expected more than 1 spatial element when using the input's statistics, got \(N, C, S\) = \(2, 3, 1\)$/, KernelShapeError],
      ['eval without running buffers', { useInputStats: false }, /^running: expected the running statistics \{ runningMean, runningVar \} when useInputStats is false/, KernelValueError],
      ['momentum null', { momentum: null, running: buffers() }, /^momentum: expected a number in \[0, 1\], got null \(nn\.InstanceNorm's momentum=None reaches F\.instance_norm as 0\.0: pass 0\)$/, KernelValueError],
      ['momentum 1.5', { momentum: 1.5 }, /^momentum: expected a number in \[0, 1\], got 1\.5$/, KernelValueError],
      ['a running variance of the wrong length', { running: { runningMean: new Float32Array(C), runningVar: new Float32Array(2) } }, /^running\.runningVar: expected one running variance per channel, shape \(3,\) \(3 values\), got 2 values$/, KernelShapeError],
      ['running buffers at the top level', { runningMean: new Float32Array(C) }, /^runningMean: not an argument of instanceNormForward; the running statistics go in running:/, KernelValueError],
      ['training instead of useInputStats', { training: true }, /^training: not an argument of instanceNormForward; pass useInputStats = training \|\| !trackRunningStats/, KernelValueError],
      ['useInputStats a string', { useInputStats: 'false' }, /^useInputStats: expected true or false/, KernelValueError],
      ['mean of (C) instead of (N·C)', { mean: new Float64Array(C) }, /^mean: expected an output: one mean per \(sample, channel\), shape \(6,\) \(6 values\), got 3 values$/, KernelShapeError],
      ['a GroupNorm workspace', { workspace: null }, /^workspace: expected an InstanceNormWorkspace for C = 3 \(new InstanceNormWorkspace\(3\)\), got null$/, KernelValueError],
      ['y aliasing the running mean', { running: 'alias' }, /^y: must not overlap running\.runningMean/, KernelValueError],
    ];
    it.each(cases)('%s', (_name, change, message, kind) => {
      const args: Record<string, unknown> = { ...good(), ...change };
      if (change.running === 'alias') {
        const y = args.y as Float32Array;
        args.running = { runningMean: y.subarray(0, C), runningVar: new Float32Array(C) };
      }
      expect(() => instanceNormForward(args as never)).toThrow(message);
      expect(() => instanceNormForward(args as never)).toThrow(kind);
      expect(() => instanceNormForward(args as never)).toThrow(KernelArgError);
    });

    it('the backward requires useInputStats and names misplaced running buffers', () => {
      const g = good();
      const base = { dy: g.x, x: g.x, dims: g.dims, mean: g.mean, rstd: g.rstd, dx: new Float32Array(N * C * S), workspace: g.workspace };
      expect(() => instanceNormBackward({ ...base } as never)).toThrow(/^useInputStats: expected true or false/);
      expect(() => instanceNormBackward({ ...base, useInputStats: true, running: buffers() } as never)).toThrow(/^running: not an argument of instanceNormBackward; the backward takes the forward's mean and rstd/);
    });
  });
});
