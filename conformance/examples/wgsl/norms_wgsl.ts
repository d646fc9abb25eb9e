/**
 * WGSL compute shaders for BatchNorm (NCHW, training and eval, forward and backward) and LayerNorm
 * (forward and backward): the kernels of the example WebGPU adapter (../wgsl-norms.ts).
 *
 * Sizes: N batch, C channels, S spatial, M = N·S values per channel; R rows of D values for LayerNorm.
 * One workgroup of WG = 64 invocations owns one channel (one row): each invocation strides over the
 * group's values, and a tree reduction in workgroup memory adds the 64 partial sums. Workgroups loop over
 * channels (rows) with a stride of the dispatch size, so any C (R) fits the 65 535-workgroup limit.
 *
 * Moments, two-pass (the default): mean = Σx / M, then var = Σ(x - mean)² / M, the biased variance. The
 * deviations are formed before squaring, so the variance's error grows with the offset κ = |mean|/σ only
 * linearly (through the mean's rounding). `moments('one-pass')` instead forms var = Σx²/M - mean²
 * (one sweep, two sums), whose two terms are of size mean² and cancel: its error grows like κ², and in
 * float32 it returns a negative variance, hence NaN, near κ = 1e4. The example ships both, so the suite
 * can be seen to tell them apart.
 *
 * Buffers are packed to stay within WebGPU's default of 8 storage buffers per shader stage:
 *   affine  (2C) weight then bias          running  (2C) running_mean then running_var
 *   stats   (4C) mean, rstd, new running_mean, new running_var
 *   dparams (2C) dweight then dbias        (LayerNorm: D instead of C, stats (2R) mean then rstd)
 * Absent affine parameters are passed as weight 1, bias 0. BatchNorm training:
 *   y = (x - mean)·rstd·w + b,  rstd = 1/sqrt(var + eps)
 *   running_mean ← (1 - f)·running_mean + f·mean,  running_var ← (1 - f)·running_var + f·var·M/(M - 1)
 * Backward, training mode (x̂ = (x - mean)·rstd, g = dy·w):
 *   dx = rstd·(g - mean(g) - x̂·mean(g·x̂)),  dweight = Σ dy·x̂,  dbias = Σ dy
 * Eval mode: the statistics are constants, dx = dy·w·rstd_running. LayerNorm's backward is the training
 * formula over a row, and its dweight/dbias sum over rows in a second kernel (one invocation per column).
 */

export type Moments = 'two-pass' | 'one-pass';

/** WGSL statements computing `mu` and `v` (biased) of the M values `x[INDEX]`, m = 0 … M-1. */
function moments(kind: Moments, index: string): string {
  if (kind === 'one-pass') {
    return `
    var s1 = 0.0;
    var s2 = 0.0;
    for (var m = lid; m < M; m += WG) { let xi = x[${index}]; s1 += xi; s2 += xi * xi; }
    let mu = reduce_sum(s1, lid) / f32(M);
    let v = reduce_sum(s2, lid) / f32(M) - mu * mu;`;
  }
  return `
    var s1 = 0.0;
    for (var m = lid; m < M; m += WG) { s1 += x[${index}]; }
    let mu = reduce_sum(s1, lid) / f32(M);
    var s2 = 0.0;
    for (var m = lid; m < M; m += WG) { let d = x[${index}] - mu; s2 += d * d; }
    let v = reduce_sum(s2, lid) / f32(M);`;
}

const COMMON = /* wgsl */ `
const WG: u32 = 64u;
var<workgroup> scratch: array<f32, 64>;

// Sum of one value per invocation, returned to all of them (a tree over workgroup memory).
fn reduce_sum(value: f32, lid: u32) -> f32 {
  scratch[lid] = value;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k = k / 2u) {
    if (lid < k) { scratch[lid] += scratch[lid + k]; }
    workgroupBarrier();
  }
  let total = scratch[0];
  workgroupBarrier();
  return total;
}
`;

/** BatchNorm, NCHW. Entry points bn_train_forward, bn_eval_forward, bn_backward_train, bn_backward_eval. */
export function batchNormWgsl(kind: Moments = 'two-pass'): string {
  return /* wgsl */ `
struct Params { N: u32, C: u32, S: u32, eps: f32, f: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> affine: array<f32>;
@group(0) @binding(3) var<storage, read> running: array<f32>;
@group(0) @binding(4) var<storage, read> dy: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
@group(0) @binding(6) var<storage, read_write> stats: array<f32>;
@group(0) @binding(7) var<storage, read_write> dx: array<f32>;
@group(0) @binding(8) var<storage, read_write> dparams: array<f32>;
${COMMON}
// Flat NCHW index of the m-th value (m = n·S + s) of channel c.
fn at(c: u32, m: u32) -> u32 { return ((m / p.S) * p.C + c) * p.S + m % p.S; }

@compute @workgroup_size(WG)
fn bn_train_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let M = p.N * p.S;
  for (var c = wid.x; c < p.C; c += nwg.x) {
    ${moments(kind, 'at(c, m)')}
    let r = inverseSqrt(v + p.eps);
    let w = affine[c];
    let b = affine[p.C + c];
    for (var m = lid; m < M; m += WG) { let i = at(c, m); y[i] = (x[i] - mu) * r * w + b; }
    if (lid == 0u) {
      stats[c] = mu;
      stats[p.C + c] = r;
      stats[2u * p.C + c] = (1.0 - p.f) * running[c] + p.f * mu;
      // the unbiased variance: var·M/(M - 1)
      stats[3u * p.C + c] = (1.0 - p.f) * running[p.C + c] + p.f * (v * f32(M) / f32(M - 1u));
    }
  }
}

@compute @workgroup_size(WG)
fn bn_eval_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let total = p.N * p.C * p.S;
  for (var i = gid.x; i < total; i += nwg.x * WG) {
    let c = (i / p.S) % p.C;
    let r = inverseSqrt(running[p.C + c] + p.eps);
    y[i] = (x[i] - running[c]) * r * affine[c] + affine[p.C + c];
  }
}

@compute @workgroup_size(WG)
fn bn_backward_train(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let M = p.N * p.S;
  for (var c = wid.x; c < p.C; c += nwg.x) {
    ${moments(kind, 'at(c, m)')}
    let r = inverseSqrt(v + p.eps);
    let w = affine[c];
    // the two reductions the backward needs: Σdy and Σdy·x̂
    var sd = 0.0;
    var sdx = 0.0;
    for (var m = lid; m < M; m += WG) { let i = at(c, m); sd += dy[i]; sdx += dy[i] * (x[i] - mu) * r; }
    let sum_dy = reduce_sum(sd, lid);
    let sum_dy_xhat = reduce_sum(sdx, lid);
    // dx = w·rstd·(dy - Σdy/M - x̂·Σdy·x̂/M)
    for (var m = lid; m < M; m += WG) {
      let i = at(c, m);
      let xhat = (x[i] - mu) * r;
      dx[i] = w * r * (dy[i] - sum_dy / f32(M) - xhat * sum_dy_xhat / f32(M));
    }
    if (lid == 0u) { dparams[c] = sum_dy_xhat; dparams[p.C + c] = sum_dy; }
  }
}

@compute @workgroup_size(WG)
fn bn_backward_eval(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let M = p.N * p.S;
  for (var c = wid.x; c < p.C; c += nwg.x) {
    let mu = running[c];
    let r = inverseSqrt(running[p.C + c] + p.eps);
    let w = affine[c];
    var sd = 0.0;
    var sdx = 0.0;
    for (var m = lid; m < M; m += WG) {
      let i = at(c, m);
      dx[i] = dy[i] * w * r;
      sd += dy[i];
      sdx += dy[i] * (x[i] - mu) * r;
    }
    let sum_dy = reduce_sum(sd, lid);
    let sum_dy_xhat = reduce_sum(sdx, lid);
    if (lid == 0u) { dparams[c] = sum_dy_xhat; dparams[p.C + c] = sum_dy; }
  }
}
`;
}

/** LayerNorm over rows of D. Entry points ln_forward, ln_backward_dx, ln_backward_dparams. */
export function layerNormWgsl(kind: Moments = 'two-pass'): string {
  return /* wgsl */ `
struct Params { R: u32, D: u32, eps: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> affine: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read> saved: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
@group(0) @binding(6) var<storage, read_write> stats: array<f32>;
@group(0) @binding(7) var<storage, read_write> dx: array<f32>;
@group(0) @binding(8) var<storage, read_write> dparams: array<f32>;
${COMMON}
@compute @workgroup_size(WG)
fn ln_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let M = p.D;
  for (var row = wid.x; row < p.R; row += nwg.x) {
    ${moments(kind, 'row * p.D + m')}
    let r = inverseSqrt(v + p.eps);
    for (var m = lid; m < M; m += WG) { let i = row * p.D + m; y[i] = (x[i] - mu) * r * affine[m] + affine[p.D + m]; }
    if (lid == 0u) { stats[row] = mu; stats[p.R + row] = r; }
  }
}

@compute @workgroup_size(WG)
fn ln_backward_dx(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let M = p.D;
  for (var row = wid.x; row < p.R; row += nwg.x) {
    ${moments(kind, 'row * p.D + m')}
    let r = inverseSqrt(v + p.eps);
    // g = dy·w; the reductions Σg and Σg·x̂
    var sg = 0.0;
    var sgx = 0.0;
    for (var m = lid; m < M; m += WG) { let i = row * p.D + m; let g = dy[i] * affine[m]; sg += g; sgx += g * (x[i] - mu) * r; }
    let sum_g = reduce_sum(sg, lid);
    let sum_g_xhat = reduce_sum(sgx, lid);
    for (var m = lid; m < M; m += WG) {
      let i = row * p.D + m;
      let xhat = (x[i] - mu) * r;
      dx[i] = r * (dy[i] * affine[m] - sum_g / f32(M) - xhat * sum_g_xhat / f32(M));
    }
    if (lid == 0u) { stats[row] = mu; stats[p.R + row] = r; }
  }
}

// dweight[d] = Σ_rows dy·x̂, dbias[d] = Σ_rows dy, with each row's mean and rstd saved by ln_backward_dx.
@compute @workgroup_size(WG)
fn ln_backward_dparams(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var d = gid.x; d < p.D; d += nwg.x * WG) {
    var sw = 0.0;
    var sb = 0.0;
    for (var row = 0u; row < p.R; row++) {
      let i = row * p.D + d;
      sw += dy[i] * (x[i] - saved[row]) * saved[p.R + row];
      sb += dy[i];
    }
    dparams[d] = sw;
    dparams[p.D + d] = sb;
  }
}
`;
}
