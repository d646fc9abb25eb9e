/**
 * The float32 RMSNorm kernels (kernels/rmsnorm/), every registered version, against the float64 reference
 * (reference/rmsnorm.ts) with the bounds of family_error_model.ts: the forward correctly rounded but for results
 * within 2ε(D) of a rounding boundary, at every scale of x from float32's subnormals to its largest values;
 * RMSNorm's own edge cases (all-zero rows, x² beyond float32's range), PyTorch's eps=None, determinism and the
 * argument contract. Cases from test/helpers/family_cases.ts (fast-check prints the seed and path of a failure).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  freeWasmArray, KernelArgError, KernelShapeError, KernelValueError, RMSNORM_BACKWARD_VERSIONS, RMSNORM_DEFAULT_EPS, RMSNORM_FORWARD_VERSIONS,
  rmsNormBackward, rmsNormForward, RmsNormWorkspace, wasmFloat32Array, wasmFloat64Array, type RmsNormForwardVersion,
} from '../../kernels/index.js';
import { rmsNormBackward as refBackward, rmsNormDefaultEps, rmsNormForward as refForward } from '../../reference/index.js';
import { seededRng, useReproducibleSeed } from '../helpers/arbitraries.js';
import { rmsNormCase } from '../helpers/family_cases.js';
import { backwardTerms, dxBoundAt, parameterBounds, rmsEpsilon, rmsYBound, rowGrouping } from './family_error_model.js';
import { expectWithin } from './family_fixture.js';
import { ulpError } from './norm_error_model.js';

useReproducibleSeed();

interface Rows {
  R: number;
  D: number;
  x: Float32Array;
  weight: Float32Array | null;
}

function run(k: Rows, options: { version?: RmsNormForwardVersion; eps?: number | null } = {}) {
  const y = new Float32Array(k.R * k.D).fill(NaN); // every element must be written
  const rstd = new Float64Array(k.R).fill(NaN);
  rmsNormForward({ x: k.x, dims: { R: k.R, D: k.D }, weight: k.weight, y, rstd, ...options });
  return { y, rstd };
}

/** The reference with PyTorch's eps=None for float32 input (the reference's own null is float64's). */
const reference = (k: Rows, eps = rmsNormDefaultEps('float32')) => refForward({ x: k.x, shape: [k.R, k.D], normalizedShape: [k.D], weight: k.weight, eps });

/** Every y within rmsYBound of the reference and rstd within 2ε(D) relative; returns the worst error in ulps. */
function expectCorrectlyRounded(k: Rows, got: { y: Float32Array; rstd: Float64Array }, ref: { y: Float64Array; rstd: Float64Array }, what: string): number {
  expectWithin(got.y, ref.y, (i) => rmsYBound(got.y[i]!, ref.y[i]!, k.D), `${what} y`);
  expectWithin(got.rstd, ref.rstd, (r) => 2 * rmsEpsilon(k.D) * ref.rstd[r]!, `${what} rstd`);
  let worst = 0;
  for (let i = 0; i < ref.y.length; i++) worst = Math.max(worst, ulpError(got.y[i]!, ref.y[i]!));
  return worst;
}

describe.each(RMSNORM_FORWARD_VERSIONS.map((v) => [v.name, v] as const))('RMSNorm forward, version %s', (_name, version) => {
  it('y is correctly rounded but within 2ε(D) of a rounding boundary, and rstd within 2ε(D), on the shared cases', () => {
    fc.assert(
      fc.property(rmsNormCase(), (kase) => {
        const k: Rows = { R: kase.R, D: kase.D, x: Float32Array.from(kase.x), weight: kase.weight && Float32Array.from(kase.weight) };
        expectCorrectlyRounded(k, run(k, { version }), reference(k), 'case');
      }),
      { numRuns: 60 },
    );
  });

  /**
   * Nothing cancels in RMSNorm, so the claim holds at any scale and offset (kernels/rmsnorm/forward_impl.ts):
   * rows of 768 values s·(offset + z), z ~ N(0, 1), for scales from float32's subnormals (1e-45: the values are a
   * few multiples of 2⁻¹⁴⁹) to 1e30 (x² ≈ 1e60, far beyond float32's 3.4e38), offsets 0, 1e3 and 1e6, and a
   * row at float32's largest values. eps = 1e-300 as well as PyTorch's default, so the tiny scales are not all
   * eps-dominated.
   */
  it('rows at scales 1e-45 to 1e30 and offsets 0 to 1e6 are within 1 ulp, in fact within ½ ulp + 2ε(D) (seed 3)', () => {
    const D = 768;
    const rng = seededRng(3);
    const weight = Float32Array.from({ length: D }, () => rng.between(-2, 2));
    for (const scale of [1e-45, 1e-30, 1e-10, 1, 1e10, 1e30]) {
      for (const offset of [0, 1e3, 1e6]) {
        const x = new Float32Array(2 * D);
        for (let i = 0; i < x.length; i++) x[i] = scale * (offset + rng.normal());
        for (const eps of [RMSNORM_DEFAULT_EPS, 1e-300]) {
          const k: Rows = { R: 2, D, x, weight };
          const worst = expectCorrectlyRounded(k, run(k, { version, eps }), reference(k, eps), `scale ${scale}, offset ${offset}, eps ${eps}`);
          expect(worst, `scale ${scale}, offset ${offset}, eps ${eps}: worst error in ulps`).toBeLessThanOrEqual(1);
        }
      }
    }
    const big = Float32Array.from({ length: D }, (_, i) => (i % 2 ? -1 : 1) * Math.fround(3.4e38 * (0.5 + (i % 7) / 14)));
    const k: Rows = { R: 1, D, x: big, weight };
    const got = run(k, { version });
    expect(got.y.every(Number.isFinite), 'x² beyond float32 range: finite y').toBe(true);
    expectCorrectlyRounded(k, got, reference(k), 'float32 max');
  });

  it('an all-zero row gives y = 0 and rstd = 1/sqrt(eps), not NaN', () => {
    const k: Rows = { R: 2, D: 5, x: Float32Array.of(0, 0, 0, 0, 0, 1, 2, 3, 4, 5), weight: Float32Array.of(1, -2, 3, 4, 5) };
    const got = run(k, { version });
    expect(Array.from(got.y.subarray(0, 5)).map(Math.abs)).toEqual([0, 0, 0, 0, 0]);
    expect(got.rstd[0]).toBe(1 / Math.sqrt(2 ** -23));
  });

  it("eps omitted or null is PyTorch's eps=None for float32, 2⁻²³ (not 1e-5): the same bits as eps 2⁻²³, visibly not those of 1e-5", () => {
    // mean square 1e-7: eps = 1.19e-7 and 1e-5 give rstd 2180 and 315
    const rng = seededRng(4);
    const k: Rows = { R: 1, D: 64, x: Float32Array.from({ length: 64 }, () => 3.16e-4 * rng.normal()), weight: null };
    const omitted = run(k, { version });
    expect(run(k, { version, eps: null })).toEqual(omitted);
    expect(run(k, { version, eps: 2 ** -23 })).toEqual(omitted);
    expect(RMSNORM_DEFAULT_EPS).toBe(rmsNormDefaultEps('float32'));
    const other = run(k, { version, eps: 1e-5 });
    expect(Math.abs(other.rstd[0]! / omitted.rstd[0]! - 1)).toBeGreaterThan(0.5);
  });
});

describe.each(RMSNORM_BACKWARD_VERSIONS.map((v) => [v.name, v] as const))('RMSNorm backward, version %s', (_name, version) => {
  it('dx and dweight match the reference within the cancellation-aware bound, with and without weight', () => {
    fc.assert(
      fc.property(rmsNormCase(), (kase) => {
        const k: Rows = { R: kase.R, D: kase.D, x: Float32Array.from(kase.x), weight: kase.weight && Float32Array.from(kase.weight) };
        const { R, D } = k;
        const fwd = run(k);
        const rng = seededRng(kase.seed + 1);
        const dy = Float32Array.from({ length: R * D }, () => rng.normal());
        const dx = new Float32Array(R * D).fill(NaN);
        const dweight = new Float32Array(D).fill(NaN);
        rmsNormBackward({ dy, x: k.x, dims: { R, D }, weight: k.weight, rstd: fwd.rstd, dx, dweight, workspace: new RmsNormWorkspace(D), version });
        const ref = reference(k);
        const grads = refBackward({ dy, x: k.x, shape: [R, D], normalizedShape: [D], weight: k.weight ?? new Float32Array(D).fill(1), rstd: ref.rstd });
        const grouping = rowGrouping(R, D);
        const xhat = Float64Array.from(k.x, (v, i) => v * ref.rstd[Math.floor(i / D)]!);
        // rstd enters dx's second term cubed: ρ = 3ε(D) per side, under the model's factor 4
        const rho = new Float64Array(R).fill(3 * rmsEpsilon(D));
        const terms = backwardTerms(dy, grouping, k.weight, xhat, rho, ref.rstd, { withMeanTerm: false });
        expectWithin(dx, grads.dx, (i) => dxBoundAt(i, grads.dx[i]!, dy, grouping, k.weight, xhat, terms), 'dx');
        const params = parameterBounds(dy, grouping, D, xhat, rho);
        expectWithin(dweight, grads.dweight!, (i) => params(grads.dweight![i]!, i), 'dweight');
      }),
      { numRuns: 60 },
    );
  });
});

describe('RMSNorm contract', () => {
  it('the same call twice, and on wasm arrays, gives the same bits; no input is modified', () => {
    const [R, D] = [5, 37];
    const rng = seededRng(8);
    const k: Rows = { R, D, x: Float32Array.from({ length: R * D }, () => 2 + rng.normal()), weight: Float32Array.from({ length: D }, () => rng.normal()) };
    const dy = Float32Array.from({ length: R * D }, () => rng.normal());
    const copies = { x: k.x.slice(), weight: k.weight!.slice(), dy: dy.slice() };
    for (const version of RMSNORM_FORWARD_VERSIONS) {
      const first = run(k, { version });
      expect(run(k, { version })).toEqual(first);
      const x = wasmFloat32Array(R * D);
      x.set(k.x);
      const y = wasmFloat32Array(R * D);
      const rstd = wasmFloat64Array(R);
      rmsNormForward({ x, dims: { R, D }, weight: k.weight, y, rstd, version });
      expect(y).toEqual(first.y);
      expect(rstd).toEqual(first.rstd);
      for (const bv of RMSNORM_BACKWARD_VERSIONS) {
        const workspace = new RmsNormWorkspace(D);
        const plain = { dx: new Float32Array(R * D), dweight: new Float32Array(D) };
        rmsNormBackward({ dy, x: k.x, dims: { R, D }, weight: k.weight, rstd: first.rstd, ...plain, workspace, version: bv });
        const dyIn = wasmFloat32Array(R * D);
        dyIn.set(dy);
        const dx = wasmFloat32Array(R * D);
        const dweight = new Float32Array(D);
        rmsNormBackward({ dy: dyIn, x, dims: { R, D }, weight: k.weight, rstd, dx, dweight, workspace, version: bv });
        expect(dx).toEqual(plain.dx);
        expect(dweight).toEqual(plain.dweight);
        for (const a of [dyIn, dx]) freeWasmArray(a);
      }
      for (const a of [x, y, rstd]) freeWasmArray(a);
    }
    expect(k.x).toEqual(copies.x);
    expect(k.weight).toEqual(copies.weight);
    expect(dy).toEqual(copies.dy);
  });

  describe('bad arguments throw a KernelShapeError (a size) or KernelValueError (a value), both KernelArgErrors, naming the argument', () => {
    const good = () => ({ x: new Float32Array(12), dims: { R: 3, D: 4 }, y: new Float32Array(12), rstd: new Float64Array(3) });
    const cases: [string, Record<string, unknown>, RegExp, typeof KernelShapeError | typeof KernelValueError][] = [
      ['a bias', { bias: new Float32Array(4) }, /^bias: not an argument of rmsNormForward; RMSNorm has no bias \(torch\.nn\.RMSNorm has a weight only\)$/, KernelValueError],
      ['a mean output', { mean: new Float64Array(3) }, /^mean: not an argument of rmsNormForward; RMSNorm subtracts no mean/, KernelValueError],
      ['eps 0', { eps: 0 }, /^eps: expected a finite number > 0, or null for PyTorch's eps=None, got 0$/, KernelValueError],
      ['eps a string', { eps: '1e-6' }, /^eps: expected a finite number > 0, or null for PyTorch's eps=None, got string "1e-6"$/, KernelValueError],
      ['eps given as undefined', { eps: undefined }, /^eps: got undefined; omit the key for the default \(null, PyTorch's eps=None \(2\^-23\)\)$/, KernelValueError],
      ['weight of the wrong length', { weight: new Float32Array(3) }, /^weight: expected a weight of normalized_shape, 4 values \(4 values\), got 3 values$/, KernelShapeError],
      ['rstd of the wrong length', { rstd: new Float64Array(4) }, /^rstd: expected an output: one rstd per row, shape \(3,\) \(3 values\), got 4 values$/, KernelShapeError],
      ['dims.D of 0', { dims: { R: 3, D: 0 } }, /^dims\.D: expected a positive integer, got 0$/, KernelShapeError],
      ['y aliasing x', { y: null }, /^y: must not overlap x/, KernelValueError],
    ];
    it.each(cases)('%s', (_name, change, message, kind) => {
      const args = { ...good(), ...change };
      if ('y' in change && change.y === null) args.y = args.x;
      expect(() => rmsNormForward(args as never)).toThrow(message);
      expect(() => rmsNormForward(args as never)).toThrow(kind);
      expect(() => rmsNormForward(args as never)).toThrow(KernelArgError);
    });

    it('the backward names the workspace, a dbias, and dx aliasing dy', () => {
      const g = good();
      const base = { dy: g.x, x: g.x, dims: g.dims, rstd: g.rstd, dx: new Float32Array(12) };
      expect(() => rmsNormBackward({ ...base, workspace: new RmsNormWorkspace(5) })).toThrow(/^workspace: expected an RmsNormWorkspace for D = 4 \(new RmsNormWorkspace\(4\)\), got one for D = 5$/);
      expect(() => rmsNormBackward({ ...base, workspace: new RmsNormWorkspace(4), dbias: new Float32Array(4) } as never)).toThrow(/^dbias: not an argument of rmsNormBackward; RMSNorm has no bias/);
      expect(() => rmsNormBackward({ ...base, dx: g.x, workspace: new RmsNormWorkspace(4) })).toThrow(/^dx: must not overlap dy/);
    });
  });

  it('the wasm versions run their WebAssembly module here (otherwise they would silently run the TypeScript fallback)', async () => {
    const { rmsNormWasm } = await import('../../kernels/rmsnorm/wasm_module.js');
    const { instanceNormWasm } = await import('../../kernels/instancenorm/wasm_module.js');
    expect(rmsNormWasm()).not.toBeNull();
    expect(instanceNormWasm()).not.toBeNull();
  });
});
