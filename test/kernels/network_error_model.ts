/**
 * An error bound for every quantity of the float32 seed-network step, computed alongside the float64 reference:
 * first-order running error analysis. Each tensor is carried as { v, e }: v its float64 reference value, e a
 * per-element bound on |float32 kernel value - v|. Each stage adds
 *   propagated  the input bounds pushed through the stage's first-order sensitivity (|Jacobian|·e, written out
 *               per stage below), and
 *   local       the stage's own rounding: the GEMM model of gemm_error_model.ts (float64 or float32 accumulation),
 *               u32·|v| for a value computed in float64 and rounded once to float32 (the BatchNorm, LayerNorm,
 *               cross-entropy and SGD kernels work that way).
 * The comparison then asks |kernel - v| ≤ 2·e + 2⁻¹⁴⁹. The factor 2 covers what first order leaves out: products of
 * two errors (each ≤ ~1e-4 relative, so ≤ 1e-4 of e), the float64 arithmetic inside the norm kernels and the
 * reference's own float64 error (γ_k(u64) ≈ 1e-13 relative, against u32 ≈ 6e-8 in every local term).
 *
 * Sizes: N batch, d columns of the (N, d) activation matrices. BatchNorm groups are columns (channel c over the
 * batch), LayerNorm groups are rows; both normalise x̂ = (h - mean)·rstd and scale by the per-column weight γ.
 */
import {
  batchNormBackward, batchNormTrain, crossEntropyBackward, crossEntropyForward, layerNormBackward, layerNormForward,
  linearBackward, linearForward, type SgdOptions,
} from '../../reference/index.js';
import { absOf, gemmBound, U32 } from './gemm_error_model.js';

export interface Bounded {
  v: Float64Array;
  e: Float64Array;
}

export type Accumulation = 'float64' | 'float32';

const zeros = (n: number) => new Float64Array(n);
export const exact = (v: ArrayLike<number>): Bounded => ({ v: Float64Array.from(v), e: zeros(v.length) });
const add = (...xs: Float64Array[]) => xs[0]!.map((_, i) => xs.reduce((s, x) => s + x[i]!, 0));
const localRound = (v: Float64Array) => v.map((x) => U32 * Math.abs(x));

// ---------------------------------------------------------------------------------------------------------
// Linear

/** y = x·Wᵀ + b. Propagated: e_x·|W|ᵀ + |x|·e_Wᵀ + e_b. Local: the GEMM bound with k = I + 1 (bias a term). */
export function linearB(x: Bounded, W: Bounded, b: Bounded, N: number, I: number, O: number, acc: Accumulation): Bounded {
  const dims = { N, I, O };
  const v = linearForward(x.v, W.v, b.v, dims);
  const S = linearForward(absOf(x.v), absOf(W.v), absOf(b.v), dims);
  const prop = add(linearForward(x.e, absOf(W.v), b.e, dims), linearForward(absOf(x.v), W.e, null, dims));
  return { v, e: prop.map((p, i) => p + gemmBound(I + 1, v[i]!, S[i]!, acc)) };
}

/**
 * Gradients of y = x·Wᵀ + b given dy: dW = dyᵀ·x, db = Σ_n dy, dx = dy·W. Propagated: each product's two factors'
 * bounds times the other's magnitude. Local: GEMM bounds (k = N for dW, O for dx; db is summed in float64).
 */
export function linearBackwardB(
  dy: Bounded, x: Bounded, W: Bounded, N: number, I: number, O: number, acc: Accumulation,
): { dW: Bounded; db: Bounded; dx: Bounded } {
  const dims = { N, I, O };
  const ref = linearBackward(dy.v, x.v, W.v, dims);
  const abs = linearBackward(absOf(dy.v), absOf(x.v), absOf(W.v), dims);
  const p1 = linearBackward(dy.e, absOf(x.v), absOf(W.v), dims);
  const p2 = linearBackward(absOf(dy.v), x.e, W.e, dims);
  return {
    dW: { v: ref.dweight, e: ref.dweight.map((r, i) => p1.dweight[i]! + p2.dweight[i]! + gemmBound(N, r, abs.dweight[i]!, acc)) },
    db: { v: ref.dbias!, e: ref.dbias!.map((r, i) => p1.dbias![i]! + gemmBound(N, r, abs.dbias![i]!, 'float64')) },
    dx: { v: ref.dx, e: ref.dx.map((r, i) => p1.dx[i]! + p2.dx[i]! + gemmBound(O, r, abs.dx[i]!, acc)) },
  };
}

// ---------------------------------------------------------------------------------------------------------
// ReLU

/** a = max(y, 0): 1-Lipschitz, so e passes; `ambiguous` marks where the kernel's sign of y may differ. */
export function reluB(y: Bounded): Bounded & { ambiguous: Uint8Array } {
  return {
    v: y.v.map((t) => (t > 0 ? t : 0)),
    e: Float64Array.from(y.e),
    ambiguous: Uint8Array.from(y.v, (t, i) => (Math.abs(t) <= y.e[i]! ? 1 : 0)),
  };
}

/**
 * ReLU backward dn = da·[y > 0]. Where the sign of y is certain the bound passes masked; where it is ambiguous the
 * kernel may pass the gradient or not: |da| + e_da.
 */
export function reluBackwardB(da: Bounded, y: Bounded, relu: { ambiguous: Uint8Array }): Bounded {
  return {
    v: da.v.map((g, i) => (y.v[i]! > 0 ? g : 0)),
    e: da.e.map((e, i) => (relu.ambiguous[i] ? Math.abs(da.v[i]!) + e : y.v[i]! > 0 ? e : 0)),
  };
}

// ---------------------------------------------------------------------------------------------------------
// BatchNorm (groups = columns) and LayerNorm (groups = rows), training mode

export interface NormSaved {
  kind: 'batchnorm' | 'layernorm';
  N: number;
  d: number;
  h: Bounded;
  xhat: Bounded;
  /** per group: rstd, and the relative bound on it */
  rstd: Float64Array;
  rstdRel: Float64Array;
  mean: Bounded;
  variance: Bounded;
}

/** group index of element (n, c) */
const groupOf = (kind: NormSaved['kind'], n: number, c: number) => (kind === 'batchnorm' ? c : n);

/**
 * y = γ·x̂ + β, x̂ = (h - mean)·rstd, rstd = (var + eps)^(-1/2), statistics over each group of G values.
 * Propagated, first order:  e_mean = mean(e_h);  e_var = 2·mean(|h - mean|·e_h) (Σ(h - mean) = 0 removes the
 * mean's own term);  e_rstd/rstd = ½·e_var/(var + eps);  e_x̂ = rstd·(e_h + e_mean) + |x̂|·e_rstd/rstd;
 * e_y = |γ|·e_x̂ + |x̂|·e_γ + e_β.  Local: u32·|y| (float64 arithmetic, one rounding).
 */
export function normTrainB(
  kind: 'batchnorm' | 'layernorm', h: Bounded, gamma: Bounded, beta: Bounded, N: number, d: number, eps: number,
): { y: Bounded; saved: NormSaved } {
  const G = kind === 'batchnorm' ? d : N; // number of groups
  const M = kind === 'batchnorm' ? N : d; // values per group
  let y: Float64Array;
  let mean: Float64Array;
  let rstd: Float64Array;
  let variance: Float64Array;
  if (kind === 'batchnorm') {
    const r = batchNormTrain({ x: h.v, shape: [N, d], weight: gamma.v, bias: beta.v, eps });
    ({ y, mean, rstd } = r);
    variance = r.var;
  } else {
    ({ y, mean, rstd } = layerNormForward({ x: h.v, shape: [N, d], normalizedShape: [d], weight: gamma.v, bias: beta.v, eps }));
    variance = rstd.map((r) => 1 / (r * r) - eps);
  }
  const eMean = zeros(G);
  const eVar = zeros(G);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < d; c++) {
      const g = groupOf(kind, n, c);
      const i = n * d + c;
      eMean[g] = eMean[g]! + h.e[i]! / M;
      eVar[g] = eVar[g]! + (2 * Math.abs(h.v[i]! - mean[g]!) * h.e[i]!) / M;
    }
  }
  const rstdRel = eVar.map((e, g) => (0.5 * e) / (variance[g]! + eps));
  const xhat = zeros(N * d);
  const eXhat = zeros(N * d);
  const eY = zeros(N * d);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < d; c++) {
      const g = groupOf(kind, n, c);
      const i = n * d + c;
      xhat[i] = (h.v[i]! - mean[g]!) * rstd[g]!;
      eXhat[i] = rstd[g]! * (h.e[i]! + eMean[g]!) + Math.abs(xhat[i]!) * rstdRel[g]!;
      eY[i] = Math.abs(gamma.v[c]!) * eXhat[i]! + Math.abs(xhat[i]!) * gamma.e[c]! + beta.e[c]! + U32 * Math.abs(y[i]!);
    }
  }
  return {
    y: { v: y, e: eY },
    saved: { kind, N, d, h, xhat: { v: xhat, e: eXhat }, rstd, rstdRel, mean: { v: mean, e: eMean }, variance: { v: variance, e: eVar } },
  };
}

/**
 * Running buffers after a training forward (BatchNorm only), factor f = momentum:
 *   mean' = (1 - f)·mean + f·batch mean                 e = (1 - f)·e + f·e_mean + u32·|mean'|
 *   var'  = (1 - f)·var + f·var_batch·M/(M - 1)         e = (1 - f)·e + f·M/(M - 1)·e_var + u32·|var'|
 */
export function runningB(
  saved: NormSaved, runningMean: Bounded, runningVar: Bounded, f: number,
): { runningMean: Bounded; runningVar: Bounded } {
  const M = saved.N;
  const bessel = M / (M - 1);
  const rm = runningMean.v.map((r, c) => (1 - f) * r + f * saved.mean.v[c]!);
  const rv = runningVar.v.map((r, c) => (1 - f) * r + f * saved.variance.v[c]! * bessel);
  return {
    runningMean: { v: rm, e: rm.map((r, c) => (1 - f) * runningMean.e[c]! + f * saved.mean.e[c]! + U32 * Math.abs(r)) },
    runningVar: { v: rv, e: rv.map((r, c) => (1 - f) * runningVar.e[c]! + f * bessel * saved.variance.e[c]! + U32 * Math.abs(r)) },
  };
}

/**
 * Backward of a training-mode norm layer, g = dy·γ:
 *   dx = rstd·(g - mean(g) - x̂·mean(g·x̂))     (means over the group)
 *   dγ = Σ_rows dy·x̂,   dβ = Σ_rows dy
 * Propagated, first order, with e_g = e_dy·|γ| + |dy|·e_γ:
 *   e_dx = rstd·(e_g + mean(e_g) + e_x̂·|mean(g·x̂)| + |x̂|·mean(e_g·|x̂| + |g|·e_x̂)) + |dx|·e_rstd/rstd
 *   e_dγ = Σ(e_dy·|x̂| + |dy|·e_x̂),   e_dβ = Σ e_dy
 * Local: u32 of each output (float64 arithmetic, one rounding).
 */
export function normBackwardB(dy: Bounded, saved: NormSaved, gamma: Bounded): { dx: Bounded; dgamma: Bounded; dbeta: Bounded } {
  const { kind, N, d, xhat, rstd, rstdRel, h, mean } = saved;
  const G = kind === 'batchnorm' ? d : N;
  const M = kind === 'batchnorm' ? N : d;
  const ref = kind === 'batchnorm'
    ? batchNormBackward({ dy: dy.v, x: h.v, shape: [N, d], weight: gamma.v, mean: mean.v, rstd, training: true })
    : layerNormBackward({ dy: dy.v, x: h.v, shape: [N, d], normalizedShape: [d], weight: gamma.v, mean: mean.v, rstd });
  const dx = ref.dx;
  const dgamma = ref.dweight!;
  const dbeta = ref.dbias!;
  // per-group means of e_g, g·x̂ and e_g·|x̂| + |g|·e_x̂
  const mEg = zeros(G);
  const mGx = zeros(G);
  const mMix = zeros(G);
  const eg = zeros(N * d);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < d; c++) {
      const i = n * d + c;
      const k = groupOf(kind, n, c);
      const g = dy.v[i]! * gamma.v[c]!;
      eg[i] = dy.e[i]! * Math.abs(gamma.v[c]!) + Math.abs(dy.v[i]!) * gamma.e[c]!;
      mEg[k] = mEg[k]! + eg[i]! / M;
      mGx[k] = mGx[k]! + (g * xhat.v[i]!) / M;
      mMix[k] = mMix[k]! + (eg[i]! * Math.abs(xhat.v[i]!) + Math.abs(g) * xhat.e[i]!) / M;
    }
  }
  const eDx = zeros(N * d);
  const eDgamma = zeros(d);
  const eDbeta = zeros(d);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < d; c++) {
      const i = n * d + c;
      const k = groupOf(kind, n, c);
      eDx[i] = rstd[k]! * (eg[i]! + mEg[k]! + xhat.e[i]! * Math.abs(mGx[k]!) + Math.abs(xhat.v[i]!) * mMix[k]!)
        + Math.abs(dx[i]!) * rstdRel[k]! + U32 * Math.abs(dx[i]!);
      eDgamma[c] = eDgamma[c]! + dy.e[i]! * Math.abs(xhat.v[i]!) + Math.abs(dy.v[i]!) * xhat.e[i]!;
      eDbeta[c] = eDbeta[c]! + dy.e[i]!;
    }
  }
  return {
    dx: { v: dx, e: eDx },
    dgamma: { v: dgamma, e: eDgamma.map((e, c) => e + U32 * Math.abs(dgamma[c]!)) },
    dbeta: { v: dbeta, e: eDbeta.map((e, c) => e + U32 * Math.abs(dbeta[c]!)) },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Cross-entropy

/**
 * loss = -(1/N) Σ log p[n, t_n], dlogits = (p - onehot)/N with p = softmax(z). First order, Δp_k = p_k(Δz_k - Σ_j p_j Δz_j):
 *   e_loss = (1/N) Σ_n Σ_k |p - onehot|·e_z
 *   e_dlogits = p·(e_z + Σ_j p_j e_z,j)/N + u32·|dlogits|
 */
export function crossEntropyB(z: Bounded, targets: ArrayLike<number>, N: number, K: number): { loss: number; lossBound: number; dlogits: Bounded } {
  const { loss, probs } = crossEntropyForward(z.v, targets, N, K);
  const dl = crossEntropyBackward(probs, targets, N, K);
  let eLoss = 0;
  const eDl = zeros(N * K);
  for (let n = 0; n < N; n++) {
    let pe = 0;
    for (let k = 0; k < K; k++) pe += probs[n * K + k]! * z.e[n * K + k]!;
    for (let k = 0; k < K; k++) {
      const i = n * K + k;
      eLoss += (Math.abs(dl[i]!) * N * z.e[i]!) / N;
      eDl[i] = (probs[i]! * (z.e[i]! + pe)) / N + U32 * Math.abs(dl[i]!);
    }
  }
  return { loss, lossBound: eLoss, dlogits: { v: dl, e: eDl } };
}

// ---------------------------------------------------------------------------------------------------------
// SGD

/**
 * torch.optim.SGD: d = g + wd·p; buf = d (first step) or m·buf + (1 - damp)·d; step s = buf, or d + m·buf
 * with Nesterov; p' = p - lr·s.
 *   e_d = e_g + wd·e_p;   e_buf = e_d or m·e_buf + |1 - damp|·e_d, + u32·|buf| (stored as float32)
 *   e_s = e_buf, or e_d + m·e_buf;   e_p' = e_p + lr·e_s + u32·|p'|
 */
export function sgdB(
  p: Bounded, g: Bounded, buf: Bounded | null, { lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false }: SgdOptions,
): { p: Bounded; buf: Bounded } {
  const d = g.v.map((x, i) => x + weightDecay * p.v[i]!);
  const eD = g.e.map((x, i) => x + weightDecay * p.e[i]!);
  let b: Bounded;
  if (momentum === 0) b = { v: d, e: eD };
  else if (buf === null) b = { v: d, e: eD.map((e, i) => e + U32 * Math.abs(d[i]!)) };
  else {
    const v = d.map((x, i) => momentum * buf.v[i]! + (1 - dampening) * x);
    b = { v, e: eD.map((e, i) => momentum * buf.e[i]! + Math.abs(1 - dampening) * e + U32 * Math.abs(v[i]!)) };
  }
  const step: Bounded = nesterov && momentum !== 0
    ? { v: d.map((x, i) => x + momentum * b.v[i]!), e: eD.map((e, i) => e + momentum * b.e[i]!) }
    : b;
  const next = p.v.map((x, i) => x - lr * step.v[i]!);
  return { p: { v: next, e: next.map((x, i) => p.e[i]! + lr * step.e[i]! + U32 * Math.abs(x)) }, buf: b };
}

/**
 * Eval-mode BatchNorm with the running statistics (rm, rv): x̂ = (h - rm)·(rv + eps)^(-1/2), y = γ·x̂ + β.
 *   e_x̂ = rstd·(e_h + e_rm) + |x̂|·½·e_rv/(rv + eps);   e_y = |γ|·e_x̂ + |x̂|·e_γ + e_β + u32·|y|
 */
export function batchNormEvalB(h: Bounded, gamma: Bounded, beta: Bounded, rm: Bounded, rv: Bounded, N: number, d: number, eps: number): Bounded {
  const v = zeros(N * d);
  const e = zeros(N * d);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < d; c++) {
      const i = n * d + c;
      const rstd = 1 / Math.sqrt(rv.v[c]! + eps);
      const xhat = (h.v[i]! - rm.v[c]!) * rstd;
      v[i] = gamma.v[c]! * xhat + beta.v[c]!;
      const eXhat = rstd * (h.e[i]! + rm.e[c]!) + (Math.abs(xhat) * 0.5 * rv.e[c]!) / (rv.v[c]! + eps);
      e[i] = Math.abs(gamma.v[c]!) * eXhat + Math.abs(xhat) * gamma.e[c]! + beta.e[c]! + U32 * Math.abs(v[i]!);
    }
  }
  return { v, e };
}

// ---------------------------------------------------------------------------------------------------------
// The whole network

export interface NetSpec {
  sizes: readonly [number, number, number, number];
  norm: 'batchnorm' | 'layernorm' | 'none';
  eps: number;
  momentum: number;
}

/** An input given as values (exact) or with its bound (e.g. a float64 fixture rounded to float32). */
const asBounded = (x: Bounded | ArrayLike<number>): Bounded => ('v' in x && 'e' in x ? x : exact(x as ArrayLike<number>));

/** A float64 tensor as the kernel sees it after rounding to float32: e = |fl32(v) - v| exactly. */
export function roundedToFloat32(v: ArrayLike<number>): Bounded {
  const f = Float64Array.from(v);
  return { v: f, e: f.map((t) => Math.abs(Math.fround(t) - t)) };
}

const prefix = (norm: NetSpec['norm']) => (norm === 'batchnorm' ? 'bn' : 'ln');

/** Forward of the network on bounded parameters; training mode uses batch statistics. */
function forwardB(P: Record<string, Bounded>, x: Bounded, N: number, spec: NetSpec, training: boolean, acc: Accumulation) {
  const [d0, d1, d2, d3] = spec.sizes;
  const p = prefix(spec.norm);
  const layer = (k: number, input: Bounded, I: number, O: number) => {
    const h = linearB(input, P[`fc${k}.weight`]!, P[`fc${k}.bias`]!, N, I, O, acc);
    if (spec.norm === 'none') return { h, pre: h, saved: null };
    const gamma = P[`${p}${k}.weight`]!;
    const beta = P[`${p}${k}.bias`]!;
    if (!training && spec.norm === 'batchnorm') {
      const pre = batchNormEvalB(h, gamma, beta, P[`${p}${k}.running_mean`]!, P[`${p}${k}.running_var`]!, N, O, spec.eps);
      return { h, pre, saved: null };
    }
    const { y, saved } = normTrainB(spec.norm, h, gamma, beta, N, O, spec.eps);
    return { h, pre: y, saved };
  };
  const l1 = layer(1, x, d0, d1);
  const a1 = reluB(l1.pre);
  const l2 = layer(2, a1, d1, d2);
  const a2 = reluB(l2.pre);
  const logits = linearB(a2, P['fc3.weight']!, P['fc3.bias']!, N, d2, d3, acc);
  return { l1, a1, l2, a2, logits };
}

/** Eval-mode logits with their bounds. */
export function evalLogitsB(P: Record<string, Bounded>, x: Bounded | ArrayLike<number>, N: number, spec: NetSpec, acc: Accumulation): Bounded {
  return forwardB(P, asBounded(x), N, spec, false, acc).logits;
}

export interface StepBounds {
  loss: number;
  lossBound: number;
  logits: Bounded;
  grads: Record<string, Bounded>;
  /** parameters and running buffers after the step */
  params: Record<string, Bounded>;
  momentumBuffers: Record<string, Bounded>;
}

/** One training step (forward, cross-entropy, backward, SGD) with bounds on every output. */
export function trainStepB(
  P: Record<string, Bounded>, x: Bounded | ArrayLike<number>, targets: ArrayLike<number>, N: number, spec: NetSpec, sgd: SgdOptions,
  momentumBuffers: Record<string, Bounded> | null, acc: Accumulation,
): StepBounds {
  const [d0, d1, d2, d3] = spec.sizes;
  const p = prefix(spec.norm);
  const xb = asBounded(x);
  const f = forwardB(P, xb, N, spec, true, acc);
  const ce = crossEntropyB(f.logits, targets, N, d3);
  const grads: Record<string, Bounded> = {};
  const after: Record<string, Bounded> = { ...P };
  const normBack = (k: number, dn: Bounded, l: typeof f.l1): Bounded => {
    if (l.saved === null) return dn;
    const g = normBackwardB(dn, l.saved, P[`${p}${k}.weight`]!);
    grads[`${p}${k}.weight`] = g.dgamma;
    grads[`${p}${k}.bias`] = g.dbeta;
    if (spec.norm === 'batchnorm') {
      const r = runningB(l.saved, P[`${p}${k}.running_mean`]!, P[`${p}${k}.running_var`]!, spec.momentum);
      after[`${p}${k}.running_mean`] = r.runningMean;
      after[`${p}${k}.running_var`] = r.runningVar;
      after[`${p}${k}.num_batches_tracked`] = exact([P[`${p}${k}.num_batches_tracked`]!.v[0]! + 1]);
    }
    return g.dx;
  };
  const g3 = linearBackwardB(ce.dlogits, f.a2, P['fc3.weight']!, N, d2, d3, acc);
  grads['fc3.weight'] = g3.dW;
  grads['fc3.bias'] = g3.db;
  const dh2 = normBack(2, reluBackwardB(g3.dx, f.l2.pre, f.a2), f.l2);
  const g2 = linearBackwardB(dh2, f.a1, P['fc2.weight']!, N, d1, d2, acc);
  grads['fc2.weight'] = g2.dW;
  grads['fc2.bias'] = g2.db;
  const dh1 = normBack(1, reluBackwardB(g2.dx, f.l1.pre, f.a1), f.l1);
  const g1 = linearBackwardB(dh1, xb, P['fc1.weight']!, N, d0, d1, acc);
  grads['fc1.weight'] = g1.dW;
  grads['fc1.bias'] = g1.db;
  const buffers: Record<string, Bounded> = {};
  for (const [name, g] of Object.entries(grads)) {
    const s = sgdB(P[name]!, g, momentumBuffers?.[name] ?? null, sgd);
    after[name] = s.p;
    buffers[name] = s.buf;
  }
  return { loss: ce.loss, lossBound: ce.lossBound, logits: f.logits, grads, params: after, momentumBuffers: buffers };
}
