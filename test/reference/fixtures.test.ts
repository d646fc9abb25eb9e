/**
 * The float64 reference reproduces PyTorch's golden fixtures (fixtures/*.json, see fixtures/README.md).
 *
 * Every comparison is |reference − torch| ≤ bound, the bound from the error model in
 * fixture_error_model.ts (single ops) and seed_net_error_model.ts (the network), written next to each
 * check as the function it calls. Each training step is checked in isolation: it starts from the
 * fixture's state before the step (PyTorch's running buffers, parameters, momentum buffers), so one
 * step's bound does not have to carry the previous steps' errors. The eval pass of the network starts
 * from the reference's own post-step state (net_seed's post-step fc1.weight is only sampled), with the
 * post-step bounds as its input errors.
 * The network is checked twice: layer by layer, each op on PyTorch's own input for that layer (tight
 * single-op bounds, ~1e-13 relative), and end to end through seedNetTrainStep/seedNetForward with the
 * worst-case bound propagated through the layers (loose for the full-size net, ~1e-3 relative for
 * fc1.weight's gradient, but it is what tests network.ts's wiring, whose mistakes are O(1)).
 *
 * At the end it prints, per family, the largest normwise relative error max|Δ|/max|torch| over all
 * tensors, and the largest ratio |Δ|/bound (how much of the bound was used).
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  batchNormBackward, batchNormEval, batchNormTrain, crossEntropyBackward, crossEntropyForward, layerNormBackward, layerNormForward,
  linearBackward, linearForward, reluBackward, reluForward, seedNetForward, seedNetTrainStep, sgdStep, type SeedNetConfig, type Tensors,
} from '../../reference/index.js';
import {
  hasTensor, listFixtures, loadFixture, values, type Fixture, type FixtureKind,
} from '../helpers/fixtures.js';
import {
  crossEntropyTolerances, groupStats, linearTolerances, tolDbias, tolDweight, tolDx, tolMean, tolRstd, tolRunningMean, tolRunningVar,
  tolY, u, xhatError, type GroupStats,
} from './fixture_error_model.js';
import { check, checkTensor, reportFamilies } from './fixture_compare.js';
import { seedNetBounds } from './seed_net_error_model.js';

afterAll(() => reportFamilies('reference vs PyTorch fixtures, float64'));


// ---------------------------------------------------------------------------------------------

describe('every fixture', () => {
  it('carries its provenance: generator, torch and python versions, float64, seed and date', () => {
    const names = listFixtures();
    expect(names.length).toBeGreaterThanOrEqual(48);
    for (const name of names) {
      const p = loadFixture(name).provenance;
      expect(p.generator, name).toBe('scripts/fixtures/generate.py');
      expect(p.torch, name).toMatch(/^1\.13/);
      expect(p.python, name).toMatch(/^3\./);
      expect(p.dtype, name).toBe('float64');
      expect(Number.isInteger(p.seed), name).toBe(true);
      expect(p.date, name).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
  });

  it('the loader refuses an unknown kind and names a missing tensor', () => {
    expect(() => listFixtures('group_norm' as FixtureKind)).toThrow(/kind: expected one of/);
    expect(() => values(loadFixture('relu'), 'nope')).toThrow(/no tensor nope \(it has x, dy, y, dx\)/);
  });
});

// ---------------------------------------------------------------------------------------------
// BatchNorm

/** Per-channel statistics for the bounds: channel c of x (N, C, S) with its mean and rstd. */
function channelStats(x: Float64Array, N: number, C: number, S: number, mean: ArrayLike<number>, rstd: ArrayLike<number>, training: boolean): GroupStats[] {
  const out: GroupStats[] = [];
  for (let c = 0; c < C; c++) {
    const xs = new Float64Array(N * S);
    for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) xs[n * S + s] = x[(n * C + c) * S + s]!;
    out.push(groupStats(xs, mean[c]!, rstd[c]!, training ? N * S : 0));
  }
  return out;
}

/** Per channel: max|dy| and Σ|dy|. */
function channelDy(dy: Float64Array, N: number, C: number, S: number): { max: number[]; sumAbs: number[] } {
  const max = new Array<number>(C).fill(0);
  const sumAbs = new Array<number>(C).fill(0);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let s = 0; s < S; s++) {
        const v = Math.abs(dy[(n * C + c) * S + s]!);
        max[c] = Math.max(max[c]!, v);
        sumAbs[c]! += v;
      }
    }
  }
  return { max, sumAbs };
}

/** Expands a per-channel bound to every element of (N, C, S). */
function perElement(bounds: number[], N: number, C: number, S: number): Float64Array {
  const out = new Float64Array(N * C * S);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) out.fill(bounds[c]!, (n * C + c) * S, (n * C + c + 1) * S);
  return out;
}

describe('BatchNorm fixtures', () => {
  for (const name of listFixtures('batchnorm')) {
    const f = loadFixture(name, 'batchnorm');
    const s = f.settings;
    it(`${name}: the reference reproduces PyTorch's outputs, saved statistics, running buffers and gradients (${f.description})`, () => {
      const shape = s.shape;
      const [N, C] = shape as [number, number];
      const S = shape.slice(2).reduce((a, b) => a * b, 1);
      const M = N * S;
      const weight = s.affine ? values(f, 'weight') : null;
      const bias = s.affine ? values(f, 'bias') : null;
      const w = (c: number) => (weight ? weight[c]! : 1);
      const b = (c: number) => (bias ? bias[c]! : 0);
      const fam = s.input.offset >= 1e4 ? 'batchnorm, offset ≥ 1e4 (κ ≥ 1e4)' : 'batchnorm';

      const runningBefore = (k: number) => {
        if (!s.track_running_stats) return null;
        const p = k === 0 ? 'init.' : `step${k - 1}.`;
        return {
          runningMean: values(f, `${p}running_mean`),
          runningVar: values(f, `${p}running_var`),
          numBatchesTracked: values(f, `${p}num_batches_tracked`)[0]!,
        };
      };

      /** Output and gradients of one pass, with statistics `mean`, `rstd` (batch ones when training). */
      const checkPass = (p: string, x: Float64Array, dy: Float64Array, y: Float64Array, mean: Float64Array, rstd: Float64Array, training: boolean) => {
        const groups = channelStats(x, N, C, S, mean, rstd, training);
        const { max: dyMax, sumAbs } = channelDy(dy, N, C, S);
        check(fam, `${name} ${p}y`, y, values(f, `${p}y`), perElement(groups.map((g, c) => tolY(g, w(c), b(c))), N, C, S));
        const grads = batchNormBackward({ dy, x, shape, weight, mean, rstd, training });
        const G = (c: number) => Math.abs(w(c)) * dyMax[c]!;
        // With two values per channel, training-mode x̂ is ±1 whatever x is, so y does not depend on x: dx is
        // exactly 0 and both sides hold rounding noise.
        const dxIsZero = training && M === 2;
        check(fam, `${name} ${p}dx`, grads.dx, values(f, `${p}dx`), perElement(groups.map((g, c) => tolDx(g, G(c))), N, C, S), dxIsZero);
        if (s.affine) {
          check(fam, `${name} ${p}dweight`, grads.dweight!, values(f, `${p}dweight`), groups.map((g, c) => tolDweight(M, g.xhatMax, xhatError(g), sumAbs[c]!)));
          check(fam, `${name} ${p}dbias`, grads.dbias!, values(f, `${p}dbias`), sumAbs.map((a) => tolDbias(M, a)));
        } else {
          expect(grads.dweight, 'affine=False has no weight gradient').toBeNull();
        }
        return groups;
      };

      const trainPass = (p: string, running: ReturnType<typeof runningBefore>) => {
        const x = values(f, `${p}x`);
        const r = batchNormTrain({ x, shape, weight, bias, running, momentum: s.momentum, eps: s.eps });
        const groups = checkPass(p, x, values(f, `${p}dy`), r.y, r.mean, r.rstd, true);
        check(fam, `${name} ${p}save_mean`, r.mean, values(f, `${p}save_mean`), groups.map(tolMean));
        check(fam, `${name} ${p}save_rstd`, r.rstd, values(f, `${p}save_rstd`), groups.map(tolRstd));
        return { r, groups };
      };

      for (let k = 0; k < s.steps; k++) {
        const p = `step${k}.`;
        const before = runningBefore(k);
        const { r, groups } = trainPass(p, before);
        if (!before) {
          expect(r.running, 'no running buffers without track_running_stats').toBeNull();
          continue;
        }
        const after = r.running!;
        // num_batches_tracked is an integer count: exact.
        expect(after.numBatchesTracked, `${name} ${p}num_batches_tracked`).toBe(values(f, `${p}num_batches_tracked`)[0]);
        check(fam, `${name} ${p}running_mean`, after.runningMean, values(f, `${p}running_mean`),
          groups.map((g, c) => tolRunningMean(g, before.runningMean[c]!)));
        const unbiased = (c: number) => r.var[c]! * M / (M - 1);
        check(fam, `${name} ${p}running_var`, after.runningVar, values(f, `${p}running_var`),
          groups.map((g, c) => tolRunningVar(g, before.runningVar[c]!, unbiased(c))));
      }

      // eval: the last step's running buffers, or the batch statistics without tracking
      const x = values(f, 'eval.x');
      const dy = values(f, 'eval.dy');
      if (s.track_running_stats) {
        const last = runningBefore(s.steps)!;
        const r = batchNormEval({ x, shape, weight, bias, running: { runningMean: last.runningMean, runningVar: last.runningVar }, eps: s.eps });
        checkPass('eval.', x, dy, r.y, Float64Array.from(last.runningMean), r.rstd, false);
      } else {
        trainPass('eval.', null);
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------
// LayerNorm

describe('LayerNorm fixtures', () => {
  for (const name of listFixtures('layernorm')) {
    const f = loadFixture(name, 'layernorm');
    const s = f.settings;
    it(`${name}: the reference reproduces PyTorch's output, mean, rstd and gradients (${f.description})`, () => {
      const fam = s.input.offset >= 1e4 ? 'layernorm, offset ≥ 1e4 (κ ≥ 1e4)' : 'layernorm';
      const { shape, normalized_shape: normalizedShape, eps } = s;
      const D = normalizedShape.reduce((a, b) => a * b, 1);
      const R = shape.reduce((a, b) => a * b, 1) / D;
      const weight = s.elementwise_affine ? values(f, 'weight') : null;
      const bias = s.elementwise_affine ? values(f, 'bias') : null;
      const x = values(f, 'x');
      const dy = values(f, 'dy');
      const r = layerNormForward({ x, shape, normalizedShape, weight, bias, eps });
      // One group per row: D values, statistics from the row itself.
      const rows = Array.from({ length: R }, (_, i) => groupStats(x.subarray(i * D, (i + 1) * D), r.mean[i]!, r.rstd[i]!, D));
      const yBound = new Float64Array(R * D);
      const dxBound = new Float64Array(R * D);
      for (let i = 0; i < R; i++) {
        let G = 0;
        for (let j = 0; j < D; j++) G = Math.max(G, Math.abs(dy[i * D + j]! * (weight ? weight[j]! : 1)));
        for (let j = 0; j < D; j++) {
          yBound[i * D + j] = tolY(rows[i]!, weight ? weight[j]! : 1, bias ? bias[j]! : 0);
          dxBound[i * D + j] = tolDx(rows[i]!, G);
        }
      }
      check(fam, `${name} y`, r.y, values(f, 'y'), yBound);
      check(fam, `${name} mean`, r.mean, values(f, 'mean'), rows.map(tolMean));
      check(fam, `${name} rstd`, r.rstd, values(f, 'rstd'), rows.map(tolRstd));
      const g = layerNormBackward({ dy, x, shape, normalizedShape, weight, mean: r.mean, rstd: r.rstd });
      check(fam, `${name} dx`, g.dx, values(f, 'dx'), dxBound);
      if (!s.elementwise_affine) {
        expect(g.dweight, 'no elementwise affine, no weight gradient').toBeNull();
        expect(g.dbias, 'no elementwise affine, no bias gradient').toBeNull();
        return;
      }
      // dweight_j = Σ over the R rows of dy·x̂: tolDweight with n = R, the worst row's X̂ and δx̂.
      const xhatMax = Math.max(...rows.map((g) => g.xhatMax));
      const dxhat = Math.max(...rows.map(xhatError));
      const sumAbs = new Float64Array(D);
      for (let i = 0; i < R; i++) for (let j = 0; j < D; j++) sumAbs[j] += Math.abs(dy[i * D + j]!);
      check(fam, `${name} dweight`, g.dweight!, values(f, 'dweight'), sumAbs.map((a) => tolDweight(R, xhatMax, dxhat, a)));
      check(fam, `${name} dbias`, g.dbias!, values(f, 'dbias'), sumAbs.map((a) => tolDbias(R, a)));
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Linear, ReLU, cross-entropy

describe('Linear, ReLU and cross-entropy fixtures', () => {
  for (const name of listFixtures('linear')) {
    const f = loadFixture(name, 'linear');
    it(`${name}: the reference reproduces PyTorch's y, dx, dweight and dbias within the dot-product bound`, () => {
      const { batch: N, in_features: I, out_features: O, bias: hasBias } = f.settings;
      const x = values(f, 'x');
      const W = values(f, 'weight');
      const b = hasBias ? values(f, 'bias') : null;
      const dy = values(f, 'dy');
      const tol = linearTolerances(x, W, b, dy, N, I, O);
      check('linear', `${name} y`, linearForward(x, W, b, { N, I, O }), values(f, 'y'), tol.y);
      const g = linearBackward(dy, x, W, { N, I, O }, hasBias);
      check('linear', `${name} dx`, g.dx, values(f, 'dx'), tol.dx);
      check('linear', `${name} dweight`, g.dweight, values(f, 'dweight'), tol.dW);
      if (hasBias) check('linear', `${name} dbias`, g.dbias!, values(f, 'dbias'), tol.db);
      else expect(g.dbias, 'no bias, no bias gradient').toBeNull();
    });
  }

  it('relu: the reference reproduces PyTorch exactly, gradient 0 at x = 0 (sign of zero aside)', () => {
    const f = loadFixture('relu', 'relu');
    const x = values(f, 'x');
    // max(x, 0) and the masked gradient involve no rounding: bound 0. PyTorch returns relu(-0) = -0 and the
    // reference +0: numerically equal (|Δ| = 0), and no later operation here divides by it, so the sign
    // of zero is not part of the contract.
    check('relu', 'relu y', reluForward(x), values(f, 'y'), 0);
    check('relu', 'relu dx', reluBackward(values(f, 'dy'), x), values(f, 'dx'), 0);
    const zeros = Array.from(x.keys()).filter((i) => x[i] === 0);
    expect(zeros.length, 'the fixture has exact zeros').toBe(2);
    for (const i of zeros) expect(values(f, 'dx')[i], 'torch: gradient 0 at x = 0').toBe(0);
  });

  for (const name of listFixtures('cross_entropy')) {
    const f = loadFixture(name, 'cross_entropy');
    it(`${name}: the reference reproduces PyTorch's loss and gradient (${f.description})`, () => {
      const { batch: N, classes: K } = f.settings;
      const logits = values(f, 'logits');
      const targets = values(f, 'targets');
      const { loss, probs } = crossEntropyForward(logits, targets, N, K);
      // torch's probabilities, recovered from its gradient p = N·dlogit + onehot, scale the bound.
      const torchProbs = values(f, 'dlogits').map((g, i) => N * g + (i % K === targets[Math.floor(i / K)] ? 1 : 0));
      const tol = crossEntropyTolerances(logits, torchProbs, loss, N, K);
      check('cross_entropy', `${name} loss`, [loss], values(f, 'loss'), tol.loss);
      check('cross_entropy', `${name} dlogits`, crossEntropyBackward(probs, targets, N, K), values(f, 'dlogits'), tol.dlogits);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// The seed network

/**
 * One training step of the network checked layer by layer: every op runs on PyTorch's own input for that
 * layer (the fixture's `out.*` and `dout.*`), so each comparison carries only that op's rounding and the
 * single-op bounds apply, tight even for the full-size network. Returns nothing; throws on a mismatch.
 */
function checkSeedNetLayers(f: Fixture<'seed_net'>, k: number, params: Tensors, oldMomentum: Tensors | null): void {
  const fam = 'seed_net, layer by layer';
  const s = f.settings;
  const [d0, d1, d2, d3] = s.sizes;
  const N = s.batch;
  const p = `step${k}.`;
  const t = (name: string) => values(f, p + name);
  const targets = t('targets');
  const grads: Tensors = {};
  const gradBounds: Record<string, Float64Array> = {};

  const linear = (layer: string, x: Float64Array, I: number, O: number, out: Float64Array | null, dout: Float64Array, dinName: string | null) => {
    const W = params[`${layer}.weight`]!;
    const b = params[`${layer}.bias`]!;
    const tol = linearTolerances(x, W, b, dout, N, I, O);
    if (out) check(fam, `${f.name} ${p}${layer} forward`, linearForward(x, W, b, { N, I, O }), out, tol.y);
    const g = linearBackward(dout, x, W, { N, I, O });
    grads[`${layer}.weight`] = g.dweight;
    grads[`${layer}.bias`] = g.dbias!;
    gradBounds[`${layer}.weight`] = tol.dW;
    gradBounds[`${layer}.bias`] = tol.db;
    checkTensor(fam, f, `${p}grad.${layer}.weight`, g.dweight, tol.dW);
    // A Linear layer followed by training-mode BatchNorm has an exactly-zero bias gradient.
    checkTensor(fam, f, `${p}grad.${layer}.bias`, g.dbias!, tol.db, layer !== 'fc3');
    if (dinName) check(fam, `${f.name} ${p}dout.${dinName}`, g.dx, t(`dout.${dinName}`), tol.dx);
  };

  const batchNorm = (layer: string, x: Float64Array, d: number) => {
    const weight = params[`${layer}.weight`]!;
    const bias = params[`${layer}.bias`]!;
    const running = {
      runningMean: params[`${layer}.running_mean`]!, runningVar: params[`${layer}.running_var`]!,
      numBatchesTracked: params[`${layer}.num_batches_tracked`]![0]!,
    };
    const r = batchNormTrain({ x, shape: [N, d], weight, bias, running, momentum: s.momentum, eps: s.eps });
    const groups = channelStats(x, N, d, 1, r.mean, r.rstd, true);
    check(fam, `${f.name} ${p}${layer} forward`, r.y, t(`out.${layer}`), perElement(groups.map((g, c) => tolY(g, weight[c]!, bias[c]!)), N, d, 1));
    check(fam, `${f.name} ${p}after.${layer}.running_mean`, r.running!.runningMean, t(`after.${layer}.running_mean`),
      groups.map((g, c) => tolRunningMean(g, running.runningMean[c]!)));
    check(fam, `${f.name} ${p}after.${layer}.running_var`, r.running!.runningVar, t(`after.${layer}.running_var`),
      groups.map((g, c) => tolRunningVar(g, running.runningVar[c]!, r.var[c]! * N / (N - 1))));
    expect(r.running!.numBatchesTracked).toBe(t(`after.${layer}.num_batches_tracked`)[0]);
    // backward, from PyTorch's gradient at this layer's output
    const dy = t(`dout.${layer}`);
    const g = batchNormBackward({ dy, x, shape: [N, d], weight, mean: r.mean, rstd: r.rstd, training: true });
    const { max: dyMax, sumAbs } = channelDy(dy, N, d, 1);
    const fcName = layer === 'bn1' ? 'fc1' : 'fc2';
    check(fam, `${f.name} ${p}dout.${fcName}`, g.dx, t(`dout.${fcName}`), perElement(groups.map((gr, c) => tolDx(gr, Math.abs(weight[c]!) * dyMax[c]!)), N, d, 1));
    const dwBound = groups.map((gr, c) => tolDweight(N, gr.xhatMax, xhatError(gr), sumAbs[c]!));
    const dbBound = sumAbs.map((a) => tolDbias(N, a));
    checkTensor(fam, f, `${p}grad.${layer}.weight`, g.dweight!, dwBound);
    checkTensor(fam, f, `${p}grad.${layer}.bias`, g.dbias!, dbBound);
    grads[`${layer}.weight`] = g.dweight!;
    grads[`${layer}.bias`] = g.dbias!;
    gradBounds[`${layer}.weight`] = Float64Array.from(dwBound);
    gradBounds[`${layer}.bias`] = Float64Array.from(dbBound);
  };

  const relu = (layer: string, bnLayer: string) => {
    // max(x, 0) and its masked gradient do not round: bound 0.
    check(fam, `${f.name} ${p}dout.${bnLayer}`, reluBackward(t(`dout.${layer}`), t(`out.${bnLayer}`)), t(`dout.${bnLayer}`), 0);
    return reluForward(t(`out.${bnLayer}`));
  };

  // forward and backward, each layer from PyTorch's input
  const x = t('x');
  linear('fc1', x, d0, d1, t('out.fc1'), t('dout.fc1'), null);
  batchNorm('bn1', t('out.fc1'), d1);
  const a1 = relu('relu1', 'bn1');
  linear('fc2', a1, d1, d2, t('out.fc2'), t('dout.fc2'), 'relu1');
  batchNorm('bn2', t('out.fc2'), d2);
  const a2 = relu('relu2', 'bn2');
  linear('fc3', a2, d2, d3, t('logits'), t('dout.fc3'), 'relu2');
  const logits = t('logits');
  const { loss, probs } = crossEntropyForward(logits, targets, N, d3);
  const ce = crossEntropyTolerances(logits, probs, loss, N, d3);
  check(fam, `${f.name} ${p}loss`, [loss], t('loss'), ce.loss);
  check(fam, `${f.name} ${p}dout.fc3`, crossEntropyBackward(probs, targets, N, d3), t('dout.fc3'), ce.dlogits);

  // SGD from the reference's layer gradients (each within gradBounds of PyTorch's):
  //   buf = m·old + g + wd·p:  |Δbuf| ≤ bound(g) + 2·3u·(m|old| + |g| + wd|p|)
  //   p'  = p − lr·buf:         |Δp'|  ≤ lr·bound(buf) + 2·2u·(|p| + lr|buf|)
  const sgd = { lr: s.sgd.lr, momentum: s.sgd.momentum, weightDecay: s.sgd.weight_decay };
  const stepped = sgdStep(params, grads, oldMomentum, sgd);
  for (const [name, g] of Object.entries(grads)) {
    const param = params[name]!;
    const old = oldMomentum?.[name];
    const buf = stepped.momentumBuffers[name]!;
    const bufBound = g.map((gi, i) => gradBounds[name]![i]! + 6 * u * ((old ? sgd.momentum * Math.abs(old[i]!) : 0) + Math.abs(gi) + sgd.weightDecay * Math.abs(param[i]!)));
    if (hasTensor(f, `${p}momentum_buffer.${name}`)) checkTensor(fam, f, `${p}momentum_buffer.${name}`, buf, bufBound);
    checkTensor(fam, f, `${p}after.${name}`, stepped.params[name]!, bufBound.map((b, i) => sgd.lr * b + 4 * u * (Math.abs(param[i]!) + sgd.lr * Math.abs(buf[i]!))));
  }
}

describe('seed network fixtures', () => {
  for (const name of listFixtures('seed_net')) {
    const f = loadFixture(name, 'seed_net');
    const s = f.settings;
    const stateBefore = (k: number): { params: Tensors; momentum: Tensors | null } => {
      const stateNames = Object.keys(f.tensors).filter((t) => t.startsWith('init.')).map((t) => t.slice('init.'.length));
      const prefix = k === 0 ? 'init.' : `step${k - 1}.after.`;
      const params = Object.fromEntries(stateNames.map((n) => [n, values(f, prefix + n)]));
      const paramNames = stateNames.filter((n) => !/running_|num_batches/.test(n));
      const momentum = k === 0 ? null : Object.fromEntries(paramNames.map((n) => [n, values(f, `step${k - 1}.momentum_buffer.${n}`)]));
      return { params, momentum };
    };

    it(`${name}, layer by layer from PyTorch's own intermediates: every layer's output and gradient, every parameter gradient, the buffers and the SGD step within single-op bounds`, () => {
      for (let k = 0; k < s.steps; k++) {
        const { params, momentum } = stateBefore(k);
        checkSeedNetLayers(f, k, params, momentum);
      }
    });

    it(`${name}, end to end through seedNetTrainStep: the reference reproduces PyTorch's logits, loss, every gradient, the SGD step, the buffers and the eval pass within the propagated bound`, () => {
      const fam = 'seed_net';
      const config: SeedNetConfig = { sizes: s.sizes, norm: 'batchnorm', eps: s.eps, momentum: s.momentum };
      const sgd = { lr: s.sgd.lr, momentum: s.sgd.momentum, weightDecay: s.sgd.weight_decay, dampening: s.sgd.dampening, nesterov: s.sgd.nesterov };
      const N = s.batch;
      const stateNames = Object.keys(f.tensors).filter((t) => t.startsWith('init.')).map((t) => t.slice('init.'.length));
      const paramNames = stateNames.filter((n) => !/running_|num_batches/.test(n));

      let refState: Tensors = {};
      let refErrors: Record<string, number> = {};
      for (let k = 0; k < s.steps; k++) {
        const p = `step${k}.`;
        // The state before the step, from the fixture (the whole post-step state of a stored step when k > 0).
        const { params, momentum: oldMomentum } = stateBefore(k);
        const x = values(f, `${p}x`);
        const targets = values(f, `${p}targets`);
        const fwd = seedNetForward(params, x, N, true, config);
        const step = seedNetTrainStep(params, x, targets, N, sgd, oldMomentum, config);
        const bounds = seedNetBounds({ params, paramErrors: {}, cache: fwd.cache, targets, config, sgd, oldMomentum, newMomentum: step.momentumBuffers });
        for (const m of bounds.reluMargins) {
          expect(m.margin, `${name} ${p}${m.layer}: no pre-activation within its error of 0, so both sides take the same ReLU branch`).toBeGreaterThan(m.error);
        }
        check(fam, `${name} ${p}logits`, fwd.logits, values(f, `${p}logits`), bounds.logits);
        check(fam, `${name} ${p}loss`, [step.loss], values(f, `${p}loss`), bounds.loss);
        // fc1.bias and fc2.bias feed training-mode BatchNorm: their gradient is exactly 0, both sides hold noise.
        for (const n of paramNames) checkTensor(fam, f, `${p}grad.${n}`, step.grads[n]!, bounds.grads[n]!, /^fc[12]\.bias$/.test(n));
        for (const n of paramNames) {
          if (hasTensor(f, `${p}momentum_buffer.${n}`)) {
            checkTensor(fam, f, `${p}momentum_buffer.${n}`, step.momentumBuffers[n]!, bounds.momentumBuffers[n]!);
          }
        }
        for (const n of stateNames) {
          if (n.endsWith('num_batches_tracked')) expect(step.params[n]![0], `${name} ${p}after.${n}`).toBe(values(f, `${p}after.${n}`)[0]);
          else checkTensor(fam, f, `${p}after.${n}`, step.params[n]!, bounds.after[n]!);
        }
        refState = step.params;
        refErrors = bounds.after;
      }

      // eval, from the reference's own final state and its errors
      const x = values(f, 'eval.x');
      const targets = values(f, 'eval.targets');
      const fwd = seedNetForward(refState, x, N, false, config);
      const bounds = seedNetBounds({ params: refState, paramErrors: refErrors, cache: fwd.cache, targets, config });
      check(fam, `${name} eval.logits`, fwd.logits, values(f, 'eval.logits'), bounds.logits);
      check(fam, `${name} eval.loss`, [crossEntropyForward(fwd.logits, targets, N, s.sizes[3]).loss], values(f, 'eval.loss'), bounds.loss);
    });
  }
});
