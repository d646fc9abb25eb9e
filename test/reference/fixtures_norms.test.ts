/**
 * The GroupNorm, InstanceNorm and RMSNorm references reproduce PyTorch's golden fixtures (fixtures/gn*, in*,
 * rms*; format in fixtures/README.md). Every comparison is |reference − torch| ≤ bound, with the bounds of
 * fixture_error_model.ts applied per normalisation group (the header there derives them):
 *   GroupNorm     a group is (sample n, group g): D = (C/G)·S values, statistics from them
 *   InstanceNorm  a group is (sample n, channel c): S values, statistics from them (useInputStats), or the
 *                 running buffers (eval with track_running_stats: given statistics, statCount 0)
 *   RMSNorm       a group is a row of D values. Its statistic is a mean of squares, a sum of non-negative
 *                 terms with no mean subtracted, so there is no cancellation to amplify: κ = 1 in the model
 *                 (its (D+4)·u relative error on the statistic already covers the sum of squares' (D+1)·u).
 * Parameter gradients sum over every group sharing the parameter: N·S terms per channel (GN, IN), R rows
 * per element (RMS), with the worst group's X̂ and δx̂.
 * Each InstanceNorm training step starts from the fixture's buffers before it (PyTorch's, not ours).
 * At the end it prints, per family, the largest normwise relative error and the largest |Δ|/bound.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { groupNormBackward, groupNormForward, instanceNormBackward, instanceNormForward, rmsNormBackward, rmsNormForward } from '../../reference/index.js';
import { listFixtures, loadFixture, values } from '../helpers/fixtures.js';
import { moments } from '../helpers/moments.js';
import { check, reportFamilies } from './fixture_compare.js';
import {
  groupStats, tolDbias, tolDweight, tolDx, tolMean, tolRstd, tolRunningMean, tolRunningVar, tolY, xhatError, type GroupStats,
} from './fixture_error_model.js';

afterAll(() => reportFamilies('GroupNorm, InstanceNorm, RMSNorm references vs PyTorch fixtures, float64'));

const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/**
 * Bounds shared by GroupNorm and InstanceNorm on (N, C, S) data whose groups are contiguous blocks of
 * `blockSize` values, block k holding channels channelOf(k, 0 .. blockSize-1): y, dx, dweight, dbias.
 */
function blockBounds(
  x: Float64Array, dy: Float64Array, dims: { N: number; C: number; S: number }, blockSize: number, groups: GroupStats[],
  weight: Float64Array | null, bias: Float64Array | null, channelOf: (block: number, i: number) => number,
) {
  const { N, C, S } = dims;
  const y = new Float64Array(x.length);
  const dx = new Float64Array(x.length);
  const xhatMax = new Float64Array(C);
  const dxhat = new Float64Array(C);
  const sumAbsDy = new Float64Array(C);
  groups.forEach((g, k) => {
    let G = 0;
    for (let i = 0; i < blockSize; i++) {
      const c = channelOf(k, i);
      G = Math.max(G, Math.abs(dy[k * blockSize + i]! * (weight ? weight[c]! : 1)));
    }
    for (let i = 0; i < blockSize; i++) {
      const c = channelOf(k, i);
      y[k * blockSize + i] = tolY(g, weight ? weight[c]! : 1, bias ? bias[c]! : 0);
      dx[k * blockSize + i] = tolDx(g, G);
      xhatMax[c] = Math.max(xhatMax[c]!, g.xhatMax);
      dxhat[c] = Math.max(dxhat[c]!, xhatError(g));
      sumAbsDy[c] += Math.abs(dy[k * blockSize + i]!);
    }
  });
  return {
    y, dx,
    dweight: Array.from(sumAbsDy, (a, c) => tolDweight(N * S, xhatMax[c]!, dxhat[c]!, a)),
    dbias: Array.from(sumAbsDy, (a) => tolDbias(N * S, a)),
  };
}

// ---------------------------------------------------------------------------------------------

describe('GroupNorm, InstanceNorm and RMSNorm fixtures: provenance', () => {
  it('are there, from torch 1.13 in float64; the RMSNorm files say they were computed with torch ops and autograd', () => {
    expect(listFixtures('groupnorm').length).toBeGreaterThanOrEqual(7);
    expect(listFixtures('instancenorm').length).toBeGreaterThanOrEqual(7);
    expect(listFixtures('rmsnorm').length).toBeGreaterThanOrEqual(5);
    for (const name of listFixtures('rmsnorm')) {
      expect(loadFixture(name).provenance.computed_with, name).toMatch(/torch ops and autograd in float64.*torch 1\.13 has no nn\.RMSNorm/);
    }
  });
});

describe('GroupNorm fixtures', () => {
  for (const name of listFixtures('groupnorm')) {
    const f = loadFixture(name, 'groupnorm');
    const s = f.settings;
    it(`${name}: the reference reproduces PyTorch's output, mean, rstd and gradients (${f.description})`, () => {
      const fam = s.input.offset >= 1e4 ? 'groupnorm, offset ≥ 1e4 (κ ≥ 1e4)' : 'groupnorm';
      const { shape, num_groups: numGroups, eps } = s;
      const [N, C] = shape as [number, number];
      const S = product(shape.slice(2));
      const D = (C / numGroups) * S;
      const weight = s.affine ? values(f, 'weight') : null;
      const bias = s.affine ? values(f, 'bias') : null;
      const x = values(f, 'x');
      const dy = values(f, 'dy');
      const r = groupNormForward({ x, shape, numGroups, weight, bias, eps });
      const groups = Array.from({ length: N * numGroups }, (_, k) => groupStats(x.subarray(k * D, (k + 1) * D), r.mean[k]!, r.rstd[k]!, D));
      const b = blockBounds(x, dy, { N, C, S }, D, groups, weight, bias, (k, i) => (k % numGroups) * (C / numGroups) + Math.floor(i / S));
      check(fam, `${name} y`, r.y, values(f, 'y'), b.y);
      check(fam, `${name} mean`, r.mean, values(f, 'mean'), groups.map(tolMean));
      check(fam, `${name} rstd`, r.rstd, values(f, 'rstd'), groups.map(tolRstd));
      const g = groupNormBackward({ dy, x, shape, numGroups, weight, mean: r.mean, rstd: r.rstd });
      check(fam, `${name} dx`, g.dx, values(f, 'dx'), b.dx);
      if (!s.affine) {
        expect(g.dweight, 'affine=False has no weight gradient').toBeNull();
        return;
      }
      check(fam, `${name} dweight`, g.dweight!, values(f, 'dweight'), b.dweight);
      check(fam, `${name} dbias`, g.dbias!, values(f, 'dbias'), b.dbias);
    });
  }
});

describe('InstanceNorm fixtures', () => {
  for (const name of listFixtures('instancenorm')) {
    const f = loadFixture(name, 'instancenorm');
    const s = f.settings;
    it(`${name}: the reference reproduces PyTorch's outputs, saved statistics, running buffers and gradients (${f.description})`, () => {
      const fam = s.input.offset >= 1e4 ? 'instancenorm, offset ≥ 1e4 (κ ≥ 1e4)' : 'instancenorm';
      const { shape, eps, momentum } = s;
      const [N, C] = shape as [number, number];
      const S = product(shape.slice(2));
      const weight = s.affine ? values(f, 'weight') : null;
      const bias = s.affine ? values(f, 'bias') : null;
      const runningBefore = (k: number) => {
        if (!s.track_running_stats) return null;
        const p = k === 0 ? 'init.' : `step${k - 1}.`;
        return { runningMean: values(f, `${p}running_mean`), runningVar: values(f, `${p}running_var`), numBatchesTracked: values(f, `${p}num_batches_tracked`)[0]! };
      };

      const pass = (p: string, running: ReturnType<typeof runningBefore>, useInputStats: boolean) => {
        const x = values(f, `${p}x`);
        const dy = values(f, `${p}dy`);
        const r = instanceNormForward({ x, shape, weight, bias, running, useInputStats, momentum, eps });
        const groups = Array.from({ length: N * C }, (_, k) => groupStats(x.subarray(k * S, (k + 1) * S), r.mean[k]!, r.rstd[k]!, useInputStats ? S : 0));
        const b = blockBounds(x, dy, { N, C, S }, S, groups, weight, bias, (k) => k % C);
        check(fam, `${name} ${p}y`, r.y, values(f, `${p}y`), b.y);
        if (useInputStats) {
          check(fam, `${name} ${p}save_mean`, r.mean, values(f, `${p}save_mean`), groups.map(tolMean));
          check(fam, `${name} ${p}save_rstd`, r.rstd, values(f, `${p}save_rstd`), groups.map(tolRstd));
        }
        const g = instanceNormBackward({ dy, x, shape, weight, mean: r.mean, rstd: r.rstd, useInputStats });
        check(fam, `${name} ${p}dx`, g.dx, values(f, `${p}dx`), b.dx);
        if (s.affine) {
          check(fam, `${name} ${p}dweight`, g.dweight!, values(f, `${p}dweight`), b.dweight);
          check(fam, `${name} ${p}dbias`, g.dbias!, values(f, `${p}dbias`), b.dbias);
        } else {
          expect(g.dweight, 'affine=False has no weight gradient').toBeNull();
        }
        return { r, groups, x };
      };

      for (let k = 0; k < s.steps; k++) {
        const p = `step${k}.`;
        const before = runningBefore(k);
        const { r, groups, x } = pass(p, before, true);
        if (!before) {
          expect(r.running, 'no running buffers without track_running_stats').toBeNull();
          continue;
        }
        // InstanceNorm never increments num_batches_tracked: exact.
        expect(r.running!.numBatchesTracked, `${name} ${p}num_batches_tracked`).toBe(values(f, `${p}num_batches_tracked`)[0]);
        // A channel's running update averages its N instances' statistics, each with the error of a
        // count-S group; with the N-term average that stays within the model's count N·S (S + N + 1 ≤ N·S + 4)
        // at the channel's worst κ.
        const channel = (c: number): GroupStats => {
          let kappa = 1;
          let xMax = 0;
          for (let n = 0; n < N; n++) {
            kappa = Math.max(kappa, groups[n * C + c]!.kappa);
            xMax = Math.max(xMax, groups[n * C + c]!.xMax);
          }
          return { count: N * S, statCount: N * S, rstd: 0, kappa, xhatMax: 0, xMax };
        };
        // the batch average of the instances' unbiased variances (the test's own two-pass moments), for the bound's scale
        const unbiasedVar = (c: number) => {
          let sum = 0;
          for (let n = 0; n < N; n++) sum += (moments(x.subarray((n * C + c) * S, (n * C + c + 1) * S)).var * S) / (S - 1);
          return sum / N;
        };
        const ch = Array.from({ length: C }, (_, c) => channel(c));
        check(fam, `${name} ${p}running_mean`, r.running!.runningMean, values(f, `${p}running_mean`), ch.map((g, c) => tolRunningMean(g, before.runningMean[c]!)));
        check(fam, `${name} ${p}running_var`, r.running!.runningVar, values(f, `${p}running_var`),
          ch.map((g, c) => tolRunningVar(g, before.runningVar[c]!, unbiasedVar(c))));
      }
      // eval: the last step's running buffers with tracking, the instances' statistics without
      pass('eval.', runningBefore(s.steps), !s.track_running_stats);
    });
  }
});

describe('RMSNorm fixtures', () => {
  for (const name of listFixtures('rmsnorm')) {
    const f = loadFixture(name, 'rmsnorm');
    const s = f.settings;
    it(`${name}: the reference reproduces the output, rstd and gradients of torch's ops (${f.description})`, () => {
      const { shape, normalized_shape: normalizedShape, eps } = s;
      const D = product(normalizedShape);
      const R = product(shape) / D;
      const weight = s.elementwise_affine ? values(f, 'weight') : null;
      const x = values(f, 'x');
      const dy = values(f, 'dy');
      // eps null is the reference's Number.EPSILON, the value torch used (settings.eps_value)
      expect(eps ?? Number.EPSILON).toBe(s.eps_value);
      const r = rmsNormForward({ x, shape, normalizedShape, weight, eps });
      const rows = Array.from({ length: R }, (_, i) => ({ ...groupStats(x.subarray(i * D, (i + 1) * D), 0, r.rstd[i]!, D), kappa: 1 }));
      const yBound = new Float64Array(R * D);
      const dxBound = new Float64Array(R * D);
      const sumAbs = new Float64Array(D);
      for (let i = 0; i < R; i++) {
        let G = 0;
        for (let j = 0; j < D; j++) G = Math.max(G, Math.abs(dy[i * D + j]! * (weight ? weight[j]! : 1)));
        for (let j = 0; j < D; j++) {
          yBound[i * D + j] = tolY(rows[i]!, weight ? weight[j]! : 1, 0);
          dxBound[i * D + j] = tolDx(rows[i]!, G);
          sumAbs[j] += Math.abs(dy[i * D + j]!);
        }
      }
      check('rmsnorm', `${name} y`, r.y, values(f, 'y'), yBound);
      check('rmsnorm', `${name} rstd`, r.rstd, values(f, 'rstd'), rows.map(tolRstd));
      const g = rmsNormBackward({ dy, x, shape, normalizedShape, weight, rstd: r.rstd });
      check('rmsnorm', `${name} dx`, g.dx, values(f, 'dx'), dxBound);
      if (!weight) {
        expect(g.dweight, 'no elementwise affine, no weight gradient').toBeNull();
        return;
      }
      const xhatMax = Math.max(...rows.map((g) => g.xhatMax));
      const dxhat = Math.max(...rows.map(xhatError));
      check('rmsnorm', `${name} dweight`, g.dweight!, values(f, 'dweight'), sumAbs.map((a) => tolDweight(R, xhatMax, dxhat, a)));
    });
  }
});
