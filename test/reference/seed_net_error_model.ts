/**
 * Error bound for the seed network, reference vs torch, both float64: first-order propagation of
 * max-norm absolute errors e(t) = max_i |Δt_i| through the layers, in the order network.ts runs them.
 * Each layer adds its own rounding bound (fixture_error_model.ts, "local") to its inputs' errors
 * amplified by its sensitivity:
 *   Linear  y = x·Wᵀ + b       e(y)  ≤ ‖W‖∞·e(x) + I·max|x|·e(W) + e(b) + local     ‖W‖∞ = max_o Σ_i |W[o,i]|
 *   BN, training               e(y)  ≤ max_c |w_c|·rstd_c·(2 + X̂_c)·e(x) + X̂·e(w) + e(b) + local
 *       (x − mean moves by ≤ 2e, sqrt(var + eps) by ≤ e (the standard deviation is 1-Lipschitz),
 *        so x̂ moves by ≤ rstd·2e + |x̂|·rstd·e)
 *   BN, eval                   δx̂ ≤ rstd·(e(x) + e(running_mean)) + |x̂|·rstd²·e(running_var)/2
 *   ReLU                       e(y)  ≤ e(x)     and, backward, the mask is the same on both sides as long
 *                              as no pre-activation lies within its error of 0 (asserted: `reluMargins`)
 *   cross-entropy              e(loss) ≤ 2·e(logits) + local;  δp ≤ p·(exp(2·e(logits)) − 1)
 * Backward, with magnitudes from the reference's own forward cache:
 *   Linear  dW = dyᵀ·x:  N·(e(dy)·max|x| + max|dy|·e(x));  db: N·e(dy);  dx = dy·W: ‖Wᵀ‖∞·e(dy) + O·max|dy|·e(W)
 *   BN, training (g = w·dy, ξ = rstd·e(x)·(2 + X̂) the move of x̂, rstd moves by ≤ rstd²·e(x)):
 *       dx: rstd·(2 + X̂²)·(|w|·e(dy) + e(w)·max|dy|) + rstd²·e(x)·G·(2 + 4X̂ + 3X̂²)
 *       dweight: M·(e(dy)·X̂ + max|dy|·ξ);   dbias: M·e(dy)
 *   SGD  d = g + wd·p, buf = m·old + d, p' = p − lr·buf:
 *       e(buf) ≤ e(g) + wd·e(p) + 2·3u·max(m|old| + |g| + wd|p|);   e(p') ≤ e(p) + lr·e(buf) + 2·2u·max(|p| + lr|buf|)
 * The bound is loose (max norms, worst-case signs), by design: it is a bound, not an estimate, and the
 * semantic errors it must expose (a wrong Bessel factor, momentum convention, eps placement) are of
 * relative size 1e-3 and up, many orders above it.
 */
import type { SeedNetCache, SeedNetConfig, Tensors } from '../../reference/index.js';
// The reference's own ops supply the magnitudes of the backward's intermediate gradients (they scale the
// bounds, they are not compared with anything here); each op is checked against its own fixtures.
import { batchNormBackward, crossEntropyForward, linearBackward as refLinearBackward, reluBackward } from '../../reference/index.js';
import {
  crossEntropyTolerances, groupStats, linearTolerances, tolDbias, tolDweight, tolDx, tolRunningMean, tolRunningVar, tolY, u, xhatError,
} from './fixture_error_model.js';

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** ‖W‖∞ (transposed: ‖Wᵀ‖∞) of a row-major (O, I) matrix. */
function normInf(W: ArrayLike<number>, O: number, I: number, transposed = false): number {
  const sums = new Float64Array(transposed ? I : O);
  for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) sums[transposed ? i : o] += Math.abs(W[o * I + i]!);
  return maxAbs(sums);
}

function column(a: ArrayLike<number>, N: number, d: number, c: number): Float64Array {
  const out = new Float64Array(N);
  for (let n = 0; n < N; n++) out[n] = a[n * d + c]!;
  return out;
}

export interface SeedNetBounds {
  logits: number;
  loss: number;
  /** trainable parameters, by state_dict name */
  grads: Record<string, number>;
  /** every state_dict entry after the step (parameters and running buffers) */
  after: Record<string, number>;
  /** SGD momentum buffers after the step, by parameter name */
  momentumBuffers: Record<string, number>;
  /** per ReLU: the smallest |pre-activation| and that pre-activation's error bound */
  reluMargins: { layer: string; margin: number; error: number }[];
}

export interface SeedNetBoundArgs {
  params: Tensors;
  /** errors of the parameters and buffers going in (0 when they come from the fixture) */
  paramErrors: Record<string, number>;
  cache: SeedNetCache;
  targets: ArrayLike<number>;
  config: SeedNetConfig;
  /** training step only: the SGD settings, the momentum buffers before and after the step */
  sgd?: { lr: number; momentum: number; weightDecay: number };
  oldMomentum?: Tensors | null;
  newMomentum?: Tensors;
}

export function seedNetBounds(args: SeedNetBoundArgs): SeedNetBounds {
  const { params, cache, targets, config } = args;
  const err = (name: string) => args.paramErrors[name] ?? 0;
  const [d0, d1, d2, d3] = config.sizes;
  const { N, training } = cache;
  const grads: Record<string, number> = {};
  const after: Record<string, number> = {};
  const momentumBuffers: Record<string, number> = {};
  const reluMargins: SeedNetBounds['reluMargins'] = [];

  const linearForward = (k: number, x: ArrayLike<number>, eX: number, I: number, O: number) => {
    const W = params[`fc${k}.weight`]!;
    const b = params[`fc${k}.bias`]!;
    const local = maxAbs(linearTolerances(x, W, b, new Float64Array(N * O), N, I, O).y);
    return normInf(W, O, I) * eX + I * maxAbs(x) * err(`fc${k}.weight`) + err(`fc${k}.bias`) + local;
  };

  const bnForward = (k: number, h: Float64Array, eH: number, d: number, mean: Float64Array, rstd: Float64Array) => {
    const w = params[`bn${k}.weight`]!;
    const b = params[`bn${k}.bias`]!;
    const eW = err(`bn${k}.weight`);
    const eB = err(`bn${k}.bias`);
    const eRM = err(`bn${k}.running_mean`);
    const eRV = err(`bn${k}.running_var`);
    let e = 0;
    let eRMNew = 0;
    let eRVNew = 0;
    const nbt = params[`bn${k}.num_batches_tracked`]![0]!;
    const f = config.momentum === null ? 1 / (nbt + 1) : config.momentum;
    for (let c = 0; c < d; c++) {
      const g = groupStats(column(h, N, d, c), mean[c]!, rstd[c]!, training ? N : 0);
      const r = rstd[c]!;
      const W = Math.abs(w[c]!);
      const moved = training ? r * (2 + g.xhatMax) * eH : r * (eH + eRM) + g.xhatMax * r * r * eRV / 2;
      e = Math.max(e, W * moved + g.xhatMax * eW + eB + tolY(g, w[c]!, b[c]!));
      if (training) {
        // running buffers: the batch mean moves by ≤ e(h), the batch variance by ≤ 2σ·e(h) + e(h)²
        const variance = Math.max(0, 1 / (r * r) - config.eps);
        const unbiased = variance * N / (N - 1);
        const oldMean = params[`bn${k}.running_mean`]![c]!;
        const oldVar = params[`bn${k}.running_var`]![c]!;
        eRMNew = Math.max(eRMNew, (1 - f) * eRM + f * eH + tolRunningMean(g, oldMean));
        eRVNew = Math.max(eRVNew, (1 - f) * eRV + f * (N / (N - 1)) * (2 * Math.sqrt(variance) * eH + eH * eH)
          + tolRunningVar(g, oldVar, unbiased));
      }
    }
    if (training) {
      after[`bn${k}.running_mean`] = eRMNew;
      after[`bn${k}.running_var`] = eRVNew;
      after[`bn${k}.num_batches_tracked`] = 0; // an integer count: exact
    }
    return e;
  };

  const relu = (layer: string, pre: Float64Array, e: number) => {
    reluMargins.push({ layer, margin: Math.min(...Array.from(pre, Math.abs)), error: e });
    return e;
  };

  // forward
  const eH1 = linearForward(1, cache.x, 0, d0, d1);
  const eN1 = bnForward(1, cache.h1, eH1, d1, cache.mean1, cache.rstd1);
  const eA1 = relu('bn1 → relu', cache.n1, eN1);
  const eH2 = linearForward(2, cache.a1, eA1, d1, d2);
  const eN2 = bnForward(2, cache.h2, eH2, d2, cache.mean2, cache.rstd2);
  const eA2 = relu('bn2 → relu', cache.n2, eN2);
  const eLogits = linearForward(3, cache.a2, eA2, d2, d3);
  const { loss, probs } = crossEntropyForward(cache.logits, targets, N, d3);
  const ce = crossEntropyTolerances(cache.logits, probs, loss, N, d3);
  const eLoss = 2 * eLogits + ce.loss;
  if (!training || !args.sgd) return { logits: eLogits, loss: eLoss, grads, after, momentumBuffers, reluMargins };

  // backward: gradient of the loss with respect to the logits
  const dlogits = new Float64Array(N * d3);
  for (let n = 0; n < N; n++) for (let k = 0; k < d3; k++) dlogits[n * d3 + k] = (probs[n * d3 + k]! - (k === targets[n] ? 1 : 0)) / N;
  const eDlogits = maxAbs(probs) * Math.expm1(2 * eLogits) / N + maxAbs(ce.dlogits);

  const linearBackward = (k: number, dy: Float64Array, eDy: number, x: ArrayLike<number>, eX: number, I: number, O: number) => {
    const W = params[`fc${k}.weight`]!;
    const tol = linearTolerances(x, W, params[`fc${k}.bias`]!, dy, N, I, O);
    grads[`fc${k}.weight`] = N * (eDy * maxAbs(x) + maxAbs(dy) * eX) + maxAbs(tol.dW);
    grads[`fc${k}.bias`] = N * eDy + maxAbs(tol.db);
    const { dx } = refLinearBackward(dy, x, W, { N, I, O });
    return { dx, e: normInf(W, O, I, true) * eDy + O * maxAbs(dy) * err(`fc${k}.weight`) + maxAbs(tol.dx) };
  };

  const bnBackward = (k: number, dy: Float64Array, eDy: number, h: Float64Array, eX: number, d: number, mean: Float64Array, rstd: Float64Array) => {
    const w = params[`bn${k}.weight`]!;
    const eW = err(`bn${k}.weight`);
    let eDx = 0;
    let eDw = 0;
    let eDb = 0;
    const { dx } = batchNormBackward({ dy, x: h, shape: [N, d], weight: w, mean, rstd, training: true });
    for (let c = 0; c < d; c++) {
      const g = groupStats(column(h, N, d, c), mean[c]!, rstd[c]!, N);
      const dyc = column(dy, N, d, c);
      const D = maxAbs(dyc);
      const S1 = dyc.reduce((s, v) => s + Math.abs(v), 0);
      const W = Math.abs(w[c]!);
      const G = W * D;
      const r = rstd[c]!;
      const X = g.xhatMax;
      const xi = r * eX * (2 + X);
      eDx = Math.max(eDx, r * (2 + X * X) * (W * eDy + eW * D) + r * r * eX * G * (2 + 4 * X + 3 * X * X) + tolDx(g, G));
      eDw = Math.max(eDw, N * (eDy * X + D * xi) + tolDweight(N, X, xhatError(g), S1));
      eDb = Math.max(eDb, N * eDy + tolDbias(N, S1));
    }
    grads[`bn${k}.weight`] = eDw;
    grads[`bn${k}.bias`] = eDb;
    return { dx, e: eDx };
  };

  const g3 = linearBackward(3, dlogits, eDlogits, cache.a2, eA2, d2, d3);
  const dn2 = reluBackward(g3.dx, cache.n2);
  const b2 = bnBackward(2, dn2, g3.e, cache.h2, eH2, d2, cache.mean2, cache.rstd2);
  const g2 = linearBackward(2, b2.dx, b2.e, cache.a1, eA1, d1, d2);
  const dn1 = reluBackward(g2.dx, cache.n1);
  const b1 = bnBackward(1, dn1, g2.e, cache.h1, eH1, d1, cache.mean1, cache.rstd1);
  linearBackward(1, b1.dx, b1.e, cache.x, 0, d0, d1);

  // SGD step
  const { lr, momentum, weightDecay } = args.sgd;
  for (const [name, eG] of Object.entries(grads)) {
    const p = params[name]!;
    const buf = args.newMomentum![name]!;
    const old = args.oldMomentum?.[name];
    let scaleBuf = 0;
    let scaleAfter = 0;
    for (let i = 0; i < p.length; i++) {
      const gi = (buf[i]! - (old ? momentum * old[i]! : 0)) - weightDecay * p[i]!; // the gradient, recovered for its magnitude
      scaleBuf = Math.max(scaleBuf, (old ? momentum * Math.abs(old[i]!) : 0) + Math.abs(gi) + weightDecay * Math.abs(p[i]!));
      scaleAfter = Math.max(scaleAfter, Math.abs(p[i]!) + lr * Math.abs(buf[i]!));
    }
    momentumBuffers[name] = eG + weightDecay * err(name) + 2 * 3 * u * scaleBuf;
    after[name] = err(name) + lr * momentumBuffers[name]! + 2 * 2 * u * scaleAfter;
  }
  return { logits: eLogits, loss: eLoss, grads, after, momentumBuffers, reluMargins };
}
