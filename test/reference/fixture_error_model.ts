/**
 * Error bounds for comparing two float64 computations of the same math: normcheck's reference and
 * PyTorch (the golden fixtures). Every bound is for |reference − torch|, so it is twice a bound on
 * one implementation's distance from the exact result: the factor 2 in front of every formula.
 *
 * Key: u = 2^-53 (float64 unit roundoff). A sum of n terms has error ≤ (n−1)·u·Σ|terms| (first order),
 * whatever the order of summation, so torch's blocked/pairwise sums obey the same bound as our loops.
 * Per normalisation group (a BatchNorm channel, M = N·S values; a LayerNorm row, D values):
 *   rstd   = 1/sqrt(var + eps),  x̂ = (x − mean)·rstd,  X̂ = max|x̂| over the group
 *   κ      = max(1, max|x|·rstd)  — the group's condition number: how far the values sit from their mean,
 *            in standard deviations. At offset 1e6 and std 1, κ ≈ 1e6: the mean carries an absolute error
 *            ≈ M·u·1e6, which is ≈ M·u·κ standard deviations.
 * Training mode (statistics from the M values):
 *   δx̂ ≤ (M+4)·u·κ·(1 + X̂)
 *     mean error ≤ M·u·max|x|, i.e. M·u·κ in units of std; the variance's relative error ≤ (M+4)·u·κ
 *     (the bound of the updating/Welford algorithms; two-pass is better, (M+4)·u), entering x̂ times |x̂|.
 * Eval mode (mean, var given exactly, no reductions):
 *   δx̂ ≤ 4·u·(X̂ + κ)
 *     x − mean and the product rounded (u·|x̂| each); torch folds the affine map into
 *     y = x·α + β with α = w·rstd, β = b − mean·α, which rounds at the scale of |x|·rstd = κ.
 * Everything downstream (y, dx, dweight) is linear in δx̂ plus its own few roundings.
 */

export const u = 2 ** -53;

export interface GroupStats {
  /** values in the group (M or D): the length of every reduction over it */
  count: number;
  /** values the statistics were computed from: count in training, 0 in eval (given statistics) */
  statCount: number;
  rstd: number;
  kappa: number;
  /** max |x̂| */
  xhatMax: number;
  /** max |x| */
  xMax: number;
}

/** Statistics of one group of values xs with the given mean and rstd. */
export function groupStats(xs: ArrayLike<number>, mean: number, rstd: number, statCount: number): GroupStats {
  let xMax = 0;
  let xhatMax = 0;
  for (let i = 0; i < xs.length; i++) {
    xMax = Math.max(xMax, Math.abs(xs[i]!));
    xhatMax = Math.max(xhatMax, Math.abs((xs[i]! - mean) * rstd));
  }
  return { count: xs.length, statCount, rstd, kappa: Math.max(1, xMax * rstd), xhatMax, xMax };
}

/** Bound on one implementation's |δx̂| (see the header). */
export function xhatError(g: GroupStats): number {
  return g.statCount > 0 ? (g.statCount + 4) * u * g.kappa * (1 + g.xhatMax) : 4 * u * (g.xhatMax + g.kappa);
}

/** y = w·x̂ + b:  |Δy| ≤ 2·(|w|·δx̂ + 2u·(|w|·X̂ + |b|))  (the product and the sum round once each). */
export function tolY(g: GroupStats, w: number, b: number): number {
  return 2 * (Math.abs(w) * xhatError(g) + 2 * u * (Math.abs(w) * g.xhatMax + Math.abs(b)));
}

/** Saved mean: a sum of M terms and a division:  |Δmean| ≤ 2·(M+1)·u·max|x|. */
export function tolMean(g: GroupStats): number {
  return 2 * (g.count + 1) * u * g.xMax;
}

/** Saved rstd: relative error of var ≤ (M+4)·u·κ, halved by the square root, plus the sqrt and the division. */
export function tolRstd(g: GroupStats): number {
  return 2 * (g.count + 4) * u * g.kappa * g.rstd;
}

/**
 * Running mean (1−f)·old + f·mean: the batch mean's error (M+1)·u·max|x| scaled by f ≤ 1, and three
 * roundings of the update at the scale of |old| + |mean|:  |Δ| ≤ 2·(M+4)·u·(max|x| + |old|).
 */
export function tolRunningMean(g: GroupStats, old: number): number {
  return 2 * (g.count + 4) * u * (g.xMax + Math.abs(old));
}

/**
 * Running variance (1−f)·old + f·var·M/(M−1): the batch variance's relative error 2·(M+4)·u·κ (twice
 * rstd's), the Bessel factor, f = 1/k for momentum=None and three roundings of the update (4u):
 * |Δ| ≤ 2·(2·(M+4)·u·κ + 4u)·(|old| + var·M/(M−1)).
 */
export function tolRunningVar(g: GroupStats, old: number, unbiasedVar: number): number {
  return 2 * (2 * (g.count + 4) * u * g.kappa + 4 * u) * (Math.abs(old) + unbiasedVar);
}

/**
 * dx, training mode: dx = rstd·(g − mean(g) − x̂·mean(g·x̂)), g = w·dy, G = max|g| over the group.
 * One implementation: the two means carry (M+2)·u·G·(1 + X̂) plus G·δx̂ through x̂; x̂ multiplies the second
 * mean (≤ G·X̂) with its own δx̂; the final combination rounds 3u·G·(2 + X̂²); rstd's relative error
 * (M+4)·u·κ multiplies |dx| ≤ rstd·G·(2 + X̂²). With δx̂ = (M+4)·u·κ·(1 + X̂) and κ ≥ 1 the sum is at most
 * 5·(M+4)·u·κ·(1 + X̂)²·rstd·G, so |Δdx| ≤ 10·(M+4)·u·κ·(1 + X̂)²·rstd·G.
 * Eval mode: dx = w·dy·rstd, three roundings and rstd's 3u: |Δdx| ≤ 2·5u·rstd·G.
 */
export function tolDx(g: GroupStats, G: number): number {
  if (g.statCount === 0) return 10 * u * g.rstd * G;
  return 10 * (g.count + 4) * u * g.kappa * (1 + g.xhatMax) ** 2 * g.rstd * G;
}

/**
 * dweight = Σ dy·x̂ over n terms (the group, or for LayerNorm the rows): the sum's (n+1)·u·Σ|dy|·X̂ and
 * x̂'s error δx̂ times Σ|dy|:  |Δ| ≤ 2·((n+1)·u·X̂ + δx̂)·Σ|dy|.
 */
export function tolDweight(n: number, xhatMax: number, dxhat: number, sumAbsDy: number): number {
  return 2 * ((n + 1) * u * xhatMax + dxhat) * sumAbsDy;
}

/** dbias = Σ dy over n terms:  |Δ| ≤ 2·n·u·Σ|dy|. */
export function tolDbias(n: number, sumAbsDy: number): number {
  return 2 * n * u * sumAbsDy;
}

/** Σ_k |a[i,k]|·|b[k,j]| for row-major a (R×K) and b given by an accessor: the magnitude of a matrix product. */
export function absProduct(R: number, K: number, C: number, a: (i: number, k: number) => number, b: (k: number, j: number) => number): Float64Array {
  const out = new Float64Array(R * C);
  for (let i = 0; i < R; i++) {
    for (let j = 0; j < C; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += Math.abs(a(i, k)) * Math.abs(b(k, j));
      out[i * C + j] = s;
    }
  }
  return out;
}

/**
 * Linear layer, N batch, I in, O out. A dot product of n terms has error ≤ n·u·Σ|terms|, so elementwise
 *   y  = x·Wᵀ + b :  |Δy|  ≤ 2·(I+1)·u·(|x|·|W|ᵀ + |b|)
 *   dx = dy·W     :  |Δdx| ≤ 2·O·u·(|dy|·|W|)
 *   dW = dyᵀ·x    :  |ΔdW| ≤ 2·N·u·(|dy|ᵀ·|x|)
 *   db = Σ_n dy   :  |Δdb| ≤ 2·N·u·Σ_n|dy|
 */
export function linearTolerances(x: ArrayLike<number>, W: ArrayLike<number>, b: ArrayLike<number> | null, dy: ArrayLike<number>, N: number, I: number, O: number) {
  const y = absProduct(N, I, O, (n, i) => x[n * I + i]!, (i, o) => W[o * I + i]!);
  for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) y[n * O + o] = 2 * (I + 1) * u * (y[n * O + o]! + (b ? Math.abs(b[o]!) : 0));
  const dx = absProduct(N, O, I, (n, o) => dy[n * O + o]!, (o, i) => W[o * I + i]!).map((v) => 2 * O * u * v);
  const dW = absProduct(O, N, I, (o, n) => dy[n * O + o]!, (n, i) => x[n * I + i]!).map((v) => 2 * N * u * v);
  const db = new Float64Array(O);
  for (let o = 0; o < O; o++) {
    let s = 0;
    for (let n = 0; n < N; n++) s += Math.abs(dy[n * O + o]!);
    db[o] = 2 * N * u * s;
  }
  return { y, dx, dW, db };
}

/**
 * Cross-entropy over K classes, mean over N rows, Z = max|logit| of the row.
 * One row: loss_n = lse − z_t with lse = m + log Σ exp(z − m). Each z − m rounds at u·2Z, each exp adds u,
 * the sum of K terms in [1, K] adds K·u relatively, log adds u·log K, and the final additions round at
 * the scale of |m| + |lse| ≤ 2Z + log K. So |Δloss_n| ≤ (K+4)·u·(2Z + log K + 1); the mean adds (N+1)·u·|loss|.
 *   |Δloss| ≤ 2·((K+4)·u·(2Z + log K + 1) + (N+1)·u·|loss|)
 * Gradient (p − onehot)/N with p = exp(z − lse): the exponent's error above is p's relative error, plus
 * the subtraction and division (2u):  |Δdlogit| ≤ 2·(p·(K+5)·u·(2Z + log K + 1) + 2u·(p + 1))/N.
 */
export function crossEntropyTolerances(logits: ArrayLike<number>, probs: ArrayLike<number>, loss: number, N: number, K: number) {
  let lossTol = 0;
  const dl = new Float64Array(N * K);
  for (let n = 0; n < N; n++) {
    let Z = 0;
    for (let k = 0; k < K; k++) Z = Math.max(Z, Math.abs(logits[n * K + k]!));
    const scale = 2 * Z + Math.log(K) + 1;
    lossTol = Math.max(lossTol, (K + 4) * u * scale);
    for (let k = 0; k < K; k++) {
      const p = probs[n * K + k]!;
      dl[n * K + k] = (2 * (p * (K + 5) * u * scale + 2 * u * (p + 1))) / N;
    }
  }
  return { loss: 2 * (lossTol + (N + 1) * u * Math.abs(loss)), dlogits: dl };
}
