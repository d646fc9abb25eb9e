/**
 * The float32 GroupNorm kernels (kernels/groupnorm/), every registered version in both layouts, against the
 * float64 reference (reference/groupnorm.ts) with the bounds of family_error_model.ts; their accuracy at large
 * offsets, the one-pass cancellation check, determinism and the argument contract. Cases from
 * test/helpers/family_cases.ts (seeded values; fast-check prints the seed and path of a failure).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  GN_FORWARD_WASM, GROUPNORM_BACKWARD_VERSIONS, GROUPNORM_FORWARD_VERSIONS, groupNormBackward, groupNormForward, GroupNormWorkspace,
  KernelArgError, KernelShapeError, KernelValueError, wasmFloat32Array, wasmFloat64Array, freeWasmArray,
} from '../../kernels/index.js';
import { onePassVarianceIsAccurate } from '../../kernels/shared/one_pass.js';
import { groupNormBackward as refBackward, groupNormForward as refForward } from '../../reference/index.js';
import { seededRng, useReproducibleSeed } from '../helpers/arbitraries.js';
import { groupNormCase } from '../helpers/family_cases.js';
import {
  backwardTerms, dxBoundAt, forwardTerms, groupNormGrouping, parameterBounds, yBound,
} from './family_error_model.js';
import { channelCase, expectWithin, gnKernel, gnKernelBackward, into, LAYOUTS, offsetValues, type ChannelCase } from './family_fixture.js';
import { ulpError } from './norm_error_model.js';

useReproducibleSeed();

function reference(k: ChannelCase, G: number) {
  return refForward({ x: k.x, shape: [k.N, k.C, k.S], numGroups: G, weight: k.weight, bias: k.bias });
}

describe.each(GROUPNORM_FORWARD_VERSIONS.map((v) => [v.name, v] as const))('GroupNorm forward, version %s', (_name, version) => {
  it.each(LAYOUTS)('%s: y is the float32 rounding of the reference within 1 ulp plus the statistics error of the model; mean and rstd are saved', (layout) => {
    fc.assert(
      fc.property(groupNormCase(), (kase) => {
        const k = channelCase(kase);
        const G = kase.numGroups;
        const got = gnKernel(k, G, layout, version);
        const ref = reference(k, G);
        const grouping = groupNormGrouping(k.N, k.C, G, k.S);
        const t = forwardTerms(k.x, grouping, ref.mean, ref.rstd);
        expectWithin(got.y, ref.y, (i) => yBound(i, ref.y[i]!, grouping, t, k.weight, k.bias), 'y');
        expectWithin(got.mean, ref.mean, (g) => t.rho[g]! / ref.rstd[g]!, 'mean');
        expectWithin(got.rstd, ref.rstd, (g) => t.rho[g]! * ref.rstd[g]!, 'rstd');
      }),
      { numRuns: 40 },
    );
  });

  /**
   * The accuracy claim. GroupNorm ignores a shift of a group, and x - K for K the group's first value is
   * exact in float64 (two float32 of nearby size), so the reference run on the shifted groups sees values of unit
   * size and errs by ~1e-13 of an output: the kernel's y is held to 1 ulp of that.
   */
  it.each(LAYOUTS)('%s: groups at offsets 1e2 to 1e6 (std 1) come out within 1 ulp of the exact result, D = 128 and D = 2048 (seed 1)', (layout) => {
    for (const [N, C, G, S] of [[4, 8, 4, 64], [1, 4, 2, 1024]] as const) {
      const D = (C / G) * S;
      for (const offset of [1e2, 1e3, 1e4, 1e5, 1e6]) {
        for (const seed of [1]) {
          const rng = seededRng(seed);
          const x = offsetValues(N * C * S, offset, () => rng.normal());
          const weight = Float32Array.from({ length: C }, () => rng.between(-2, 2));
          const bias = Float32Array.from({ length: C }, () => rng.between(-1, 1));
          const k: ChannelCase = { N, C, S, x, weight, bias };
          const got = gnKernel(k, G, layout, version);
          const shifted = new Float64Array(x.length);
          for (let i = 0; i < x.length; i++) shifted[i] = x[i]! - x[Math.floor(i / D) * D]!;
          const want = refForward({ x: shifted, shape: [N, C, S], numGroups: G, weight, bias }).y;
          let worst = 0;
          for (let i = 0; i < want.length; i++) worst = Math.max(worst, ulpError(got.y[i]!, want[i]!));
          expect(worst, `(${N}, ${C}, ${S}) G ${G}, offset ${offset}, seed ${seed}: worst error in ulps`).toBeLessThanOrEqual(1);
        }
      }
    }
  });

  /**
   * A group of D = 4096 values whose first value (the shift K) is 1e4 standard deviations out: E[(x - K)²] is
   * about D times the variance, so the one-pass bound 3·γ_D·E[(x - K)²] exceeds 2⁻³⁰·var and the one-pass version
   * must take the exact second pass; the two-pass version always does. Both must meet the forward bound.
   */
  it.each(LAYOUTS)('%s: a group whose first value is an outlier (which triggers the exact second pass) stays within the bound (seed 5)', (layout) => {
    const [N, C, G, S] = [2, 4, 2, 2048];
    const D = (C / G) * S;
    const rng = seededRng(5);
    const x = offsetValues(N * C * S, 0, () => rng.normal());
    x[0] = 1e4;
    x[D] = -1e4;
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < D; i++) {
      s1 += x[i]! - x[0]!;
      s2 += (x[i]! - x[0]!) ** 2;
    }
    expect(onePassVarianceIsAccurate(s2 / D - (s1 / D) ** 2, s2 / D, D), 'the case must trigger the second pass').toBe(false);
    const k: ChannelCase = { N, C, S, x, weight: Float32Array.of(1, -2, 0.5, 3), bias: Float32Array.of(0, 1, -1, 2) };
    const got = gnKernel(k, G, layout, version);
    const ref = reference(k, G);
    const grouping = groupNormGrouping(N, C, G, S);
    const t = forwardTerms(x, grouping, ref.mean, ref.rstd);
    expectWithin(got.y, ref.y, (i) => yBound(i, ref.y[i]!, grouping, t, k.weight, k.bias), 'y');
  });
});

describe.each(GROUPNORM_BACKWARD_VERSIONS.map((v) => [v.name, v] as const))('GroupNorm backward, version %s', (_name, version) => {
  it.each(LAYOUTS)('%s: dx, dweight, dbias match the reference within the cancellation-aware bound', (layout) => {
    fc.assert(
      fc.property(groupNormCase(), (kase) => {
        const k = channelCase(kase);
        const G = kase.numGroups;
        const rng = seededRng(kase.seed + 1);
        const dy = Float32Array.from({ length: k.x.length }, () => rng.normal());
        const fwd = gnKernel(k, G, layout);
        const got = gnKernelBackward(k, G, layout, dy, fwd, version);
        const ref = reference(k, G);
        const weight = k.weight ?? new Float32Array(k.C).fill(1);
        const grads = refBackward({ dy, x: k.x, shape: [k.N, k.C, k.S], numGroups: G, weight, hasBias: true, mean: ref.mean, rstd: ref.rstd });
        const grouping = groupNormGrouping(k.N, k.C, G, k.S);
        const t = forwardTerms(k.x, grouping, ref.mean, ref.rstd);
        const terms = backwardTerms(dy, grouping, k.weight, t.xhat, t.rho, ref.rstd);
        expectWithin(got.dx, grads.dx, (i) => dxBoundAt(i, grads.dx[i]!, dy, grouping, k.weight, t.xhat, terms), 'dx');
        const params = parameterBounds(dy, grouping, k.C, t.xhat, t.rho);
        expectWithin(got.dweight, grads.dweight!, (c) => params(grads.dweight![c]!, c), 'dweight');
        expectWithin(got.dbias, grads.dbias!, (c) => params(grads.dbias![c]!, c), 'dbias');
      }),
      { numRuns: 40 },
    );
  });
});

describe('GroupNorm special values and contract', () => {
  it.each(LAYOUTS)('%s: a constant group normalises to its bias, not NaN, at values 0 to ±3e38, and its gradient is finite', (layout) => {
    const [N, C, G, S] = [2, 4, 2, 3];
    for (const value of [0, -2.5, 1e4 + 0.5, 1e6, -3e38]) {
      const x = new Float32Array(N * C * S);
      for (let i = 0; i < x.length; i++) x[i] = Math.floor(i / (2 * S)) % 2 === 0 ? value : i; // group 0 of each sample constant
      const k: ChannelCase = { N, C, S, x, weight: Float32Array.of(3, -1, 2, 1), bias: Float32Array.of(0.75, 2, -1, 0) };
      for (const version of GROUPNORM_FORWARD_VERSIONS) {
        const got = gnKernel(k, G, layout, version);
        for (let n = 0; n < N; n++) {
          for (let s = 0; s < S; s++) {
            expect(got.y[(n * C) * S + s], `value ${value}`).toBe(0.75);
            expect(got.y[(n * C + 1) * S + s], `value ${value}`).toBe(2);
          }
          expect(got.rstd[n * G]).toBe(1 / Math.sqrt(1e-5)); // var is exactly 0
        }
        const g = gnKernelBackward(k, G, layout, new Float32Array(x.length).fill(1), got);
        expect(g.dx.every(Number.isFinite)).toBe(true);
      }
    }
  });

  it.each(LAYOUTS)('%s: the same call twice, with a workspace used in between for another shape, and on wasm arrays, gives the same bits', (layout) => {
    const [N, C, G, S] = [3, 6, 3, 37];
    const rng = seededRng(9);
    const k: ChannelCase = {
      N, C, S, x: offsetValues(N * C * S, 3, () => rng.normal()), weight: Float32Array.from({ length: C }, () => rng.normal()),
      bias: Float32Array.from({ length: C }, () => rng.normal()),
    };
    const dy = Float32Array.from({ length: k.x.length }, () => rng.normal());
    for (const version of GROUPNORM_FORWARD_VERSIONS) {
      const ws = new GroupNormWorkspace(C);
      const first = gnKernel(k, G, layout, version, ws);
      gnKernel({ ...k, N: 1, S: 5, x: k.x.subarray(0, C * 5) }, 2, layout, version, ws);
      const again = gnKernel(k, G, layout, version, ws);
      expect(again).toEqual(first);
      // in place on arrays in the kernels' memory
      const x = wasmFloat32Array(k.x.length);
      x.set(into(k.x, k, layout));
      const y = wasmFloat32Array(k.x.length);
      const mean = wasmFloat64Array(N * G);
      const rstd = wasmFloat64Array(N * G);
      groupNormForward({ x, dims: { N, C, S }, numGroups: G, layout, weight: k.weight, bias: k.bias, y, mean, rstd, workspace: ws, version });
      expect(y).toEqual(into(first.y, k, layout));
      expect(mean).toEqual(first.mean);
      const dyIn = wasmFloat32Array(k.x.length);
      dyIn.set(into(dy, k, layout));
      const dx = wasmFloat32Array(k.x.length);
      for (const bv of GROUPNORM_BACKWARD_VERSIONS) {
        const plain = gnKernelBackward(k, G, layout, dy, first, bv);
        const dweight = new Float32Array(C);
        groupNormBackward({ dy: dyIn, x, dims: { N, C, S }, numGroups: G, layout, weight: k.weight, mean, rstd, dx, dweight, workspace: ws, version: bv });
        expect(dx).toEqual(into(plain.dx, k, layout));
        expect(dweight).toEqual(plain.dweight);
      }
      for (const a of [x, y, mean, rstd, dyIn, dx]) freeWasmArray(a);
    }
  });

  it('no input is modified by the forward or the backward', () => {
    fc.assert(
      fc.property(groupNormCase(), fc.constantFrom(...LAYOUTS), (kase, layout) => {
        const k = channelCase(kase);
        const x = into(k.x, k, layout);
        const copies = { x: x.slice(), weight: k.weight?.slice(), bias: k.bias?.slice() };
        const { N, C, S } = k;
        const G = kase.numGroups;
        const y = new Float32Array(x.length);
        const mean = new Float64Array(N * G);
        const rstd = new Float64Array(N * G);
        const workspace = new GroupNormWorkspace(C);
        groupNormForward({ x, dims: { N, C, S }, numGroups: G, layout, weight: k.weight, bias: k.bias, y, mean, rstd, workspace });
        const dy = new Float32Array(x.length).fill(0.5);
        const saved = { mean: mean.slice(), rstd: rstd.slice() };
        groupNormBackward({
          dy, x, dims: { N, C, S }, numGroups: G, layout, weight: k.weight, mean, rstd, dx: new Float32Array(x.length),
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

  describe('bad arguments throw a KernelShapeError (a size) or KernelValueError (a value), both KernelArgErrors, naming the argument', () => {
    const [N, C, S] = [2, 6, 5];
    const good = () => ({
      x: new Float32Array(N * C * S).map((_, i) => i % 7), dims: { N, C, S }, numGroups: 3, weight: new Float32Array(C), bias: new Float32Array(C),
      y: new Float32Array(N * C * S), mean: new Float64Array(N * 3), rstd: new Float64Array(N * 3), workspace: new GroupNormWorkspace(C),
    });
    const cases: [string, Record<string, unknown>, RegExp, typeof KernelShapeError | typeof KernelValueError][] = [
      ['numGroups not dividing C', { numGroups: 4 }, /^numGroups: expected a divisor of the channel count C = 6, got 4$/, KernelShapeError],
      ['numGroups 0', { numGroups: 0 }, /^numGroups: expected a positive integer \(num_groups\), got 0$/, KernelShapeError],
      ['numGroups a string', { numGroups: '3' }, /^numGroups: expected a positive integer \(num_groups\), got string "3"$/, KernelValueError],
      ['mean of the wrong length', { mean: new Float64Array(5) }, /^mean: expected an output: one mean per \(sample, group\), shape \(6,\) \(6 values\), got 5 values$/, KernelShapeError],
      ['weight of the wrong length', { weight: new Float32Array(3) }, /^weight: expected one weight per channel, shape \(6,\) \(6 values\), got 3 values$/, KernelShapeError],
      ['x a Float64Array', { x: new Float64Array(N * C * S) }, /^x: expected a Float32Array of .*\(60 values\), got Float64Array$/, KernelValueError],
      ['workspace for another C', { workspace: new GroupNormWorkspace(4) }, /^workspace: expected a GroupNormWorkspace for C = 6/, KernelShapeError],
      ['an unknown layout', { layout: 'NWHC' }, /^layout: expected 'NCHW' or 'NHWC', got string "NWHC"$/, KernelValueError],
      ['eps given as undefined', { eps: undefined }, /^eps: got undefined; omit the key for the default \(1e-5\)$/, KernelValueError],
      ['a typo num_groups', { num_groups: 3 }, /^num_groups: not an argument of groupNormForward; the argument is numGroups$/, KernelValueError],
      ['running statistics', { running: {} }, /^running: not an argument of groupNormForward; GroupNorm keeps no running statistics/, KernelValueError],
      ['one value per group across the batch', { dims: { N: 1, C: 3, S: 1 }, numGroups: 3, x: new Float32Array(3), y: new Float32Array(3), weight: null, bias: null, mean: new Float64Array(3), rstd: new Float64Array(3), workspace: new GroupNormWorkspace(3) }, /^x: expected more than 1 value per group across the batch/, KernelShapeError],
      ['y aliasing x', { y: null }, /^y: must not overlap x/, KernelValueError],
    ];
    it.each(cases)('%s', (_name, change, message, kind) => {
      const args = { ...good(), ...change };
      if ('y' in change && change.y === null) args.y = args.x;
      expect(() => groupNormForward(args as never)).toThrow(message);
      expect(() => groupNormForward(args as never)).toThrow(kind);
      expect(() => groupNormForward(args as never)).toThrow(KernelArgError);
    });

    it('the backward names dx, the saved rstd and the misplaced eps', () => {
      const g = good();
      const base = { dy: g.x, x: g.x, dims: g.dims, numGroups: 3, mean: g.mean, rstd: g.rstd, workspace: g.workspace };
      expect(() => groupNormBackward({ ...base, dx: new Float32Array(10) })).toThrow(/^dx: expected an input gradient of shape \(N, C, S\) = \(2, 6, 5\) \(60 values\), got 10 values$/);
      expect(() => groupNormBackward({ ...base, rstd: new Float64Array(2), dx: new Float32Array(60) })).toThrow(/^rstd: expected the forward's saved rstd, one per \(sample, group\), shape \(6,\) \(6 values\), got 2 values$/);
      expect(() => groupNormBackward({ ...base, dx: new Float32Array(60), eps: 1e-5 } as never)).toThrow(/^eps: not an argument of groupNormBackward; the backward takes the forward's rstd/);
      expect(() => groupNormBackward({ ...base, dx: g.x })).toThrow(/^dx: must not overlap dy/);
    });
  });

  it('the wasm version runs its WebAssembly module here (otherwise it would silently run the TypeScript fallback)', async () => {
    const { groupNormWasm } = await import('../../kernels/groupnorm/wasm_module.js');
    expect(groupNormWasm()).not.toBeNull();
    expect(GN_FORWARD_WASM.name).toBe('wasm');
  });
});
