/**
 * Golden PyTorch fixtures (fixtures/*.json, computed by torch in float64; see fixtures/README.md): the
 * adapter against real PyTorch, not against our own reference.
 *
 * The fixtures' inputs are float64. For a float32 or float16 adapter they are rounded first; that moves each
 * input by at most u relative, which perturbs the result by no more than one more rounding of every input
 * would — so the bound gets the adapter's u once more (`extraRoundoffs`). PyTorch's own float64 error is
 * the reference term of the bound (roundoffs() in error_model.ts).
 *
 * Applies to adapters judged by the pytorch profile. Running buffers are compared when the adapter's
 * conventions match the fixture's (running variance unbiased), each step starting from PyTorch's buffers.
 */
import type { Check } from '../check.js';
import { fixedCheck } from '../check.js';
import { compare, type Comparison } from '../compare.js';
import { bnEvalBounds, bnGrouping, lnGrouping, normBackwardBounds, normForwardBounds, roundoffs, runningStepBounds } from '../error_model.js';
import { loadFixtures, maybeTensor, tensor, type Fixture } from '../fixture_reader.js';
import { bnBackward, bnEval, bnTrain, lnBackward, lnForward, type CheckContext } from '../invoke.js';
import { PRECISIONS, roundArray } from '../precision.js';

const pytorchOnly = (ctx: CheckContext) => ctx.profile === 'pytorch' || 'fixtures hold PyTorch\'s conventions; the adapter follows another profile';

function bounds(ctx: CheckContext) {
  const extra = ctx.precision === 'float64' ? [] : [PRECISIONS[ctx.precision].u];
  return { us: [...roundoffs(ctx.precision), ...extra], round: (a: Float64Array) => roundArray(ctx.precision, a) };
}

/**
 * A fixture whose values do not fit the adapter's precision (offset 1e6 or rstd 1e6 in float16) cannot be
 * posed to it: the reason, or null when every value fits.
 */
function unrepresentable(ctx: CheckContext, fx: Fixture): string | null {
  const max = PRECISIONS[ctx.precision].max;
  for (const [name, t] of fx.tensors) {
    if (t.data.some((v) => Math.abs(v) > max / 2)) return `${name} holds values beyond ${ctx.precision}'s range`;
  }
  return null;
}

async function judgeBnFixture(ctx: CheckContext, fx: Fixture): Promise<Comparison[] | string> {
  const skip = unrepresentable(ctx, fx);
  if (skip) return skip;
  const s = fx.settings as { shape: number[]; eps: number; momentum: number | null; affine: boolean; track_running_stats: boolean; steps: number };
  const { us, round } = bounds(ctx);
  const p = ctx.precision;
  const [N, C] = s.shape as [number, number];
  const S = s.shape.slice(2).reduce((a, b) => a * b, 1);
  const grouping = bnGrouping(N, C, S);
  const weight = s.affine ? round(tensor(fx, 'weight')) : null;
  const bias = s.affine ? round(tensor(fx, 'bias')) : null;
  const a = ctx.adapter;
  const comps: Comparison[] = [];
  let runningMean = s.track_running_stats ? tensor(fx, 'init.running_mean') : new Float64Array(C);
  let runningVar = s.track_running_stats ? tensor(fx, 'init.running_var') : new Float64Array(C).fill(1);
  let tracked = s.track_running_stats ? tensor(fx, 'init.num_batches_tracked')[0]! : 0;
  for (let k = 0; k < s.steps; k++) {
    const at = (name: string) => tensor(fx, `step${k}.${name}`);
    const x = round(at('x'));
    const out = await bnTrain(ctx, {
      shape: s.shape, x, weight, bias, runningMean: round(runningMean), runningVar: round(runningVar), numBatchesTracked: tracked, momentum: s.momentum, eps: s.eps,
    });
    const b = normForwardBounds(us, x, grouping, weight, bias, s.eps);
    comps.push(compare(`step ${k} y`, out.y, at('y'), b.y, p));
    if (out.mean) comps.push(compare(`step ${k} mean`, out.mean, at('save_mean'), b.mean, p));
    if (out.rstd) comps.push(compare(`step ${k} rstd`, out.rstd, at('save_rstd'), b.rstd, p));
    if (s.track_running_stats) {
      const f = s.momentum === null ? 1 / (tracked + 1) : s.momentum;
      const rb = runningStepBounds(us, b, runningMean, runningVar, f, true);
      comps.push(compare(`step ${k} runningMean`, out.runningMean, at('running_mean'), rb.runningMean, p));
      if (ctx.conventions.runningVar === 'unbiased') comps.push(compare(`step ${k} runningVar`, out.runningVar, at('running_var'), rb.runningVar, p));
      runningMean = at('running_mean');
      runningVar = at('running_var');
      tracked += 1;
    }
    if (a.bnBackward) {
      const dy = round(at('dy'));
      const g = await bnBackward(ctx, { shape: s.shape, x, dy, weight, bias, training: true, runningMean: null, runningVar: null, eps: s.eps });
      const gb = normBackwardBounds(us, x, dy, grouping, weight, s.eps);
      comps.push(compare(`step ${k} dx`, g.dx, at('dx'), gb.dx, p));
      if (weight) comps.push(compare(`step ${k} dweight`, g.dweight!, at('dweight'), gb.dweight, p));
      if (bias) comps.push(compare(`step ${k} dbias`, g.dbias!, at('dbias'), gb.dbias, p));
    }
    if (comps.some((c) => !c.ok)) return comps;
  }
  // eval mode normalises with the last step's running buffers (only when tracking: otherwise eval uses batch statistics)
  if (s.track_running_stats) {
    const x = round(tensor(fx, 'eval.x'));
    const rm = round(runningMean);
    const rv = round(runningVar);
    if (a.bnEvalForward) {
      const y = await bnEval(ctx, { shape: s.shape, x, weight, bias, runningMean: rm, runningVar: rv, eps: s.eps });
      comps.push(compare('eval y', y, tensor(fx, 'eval.y'), bnEvalBounds(us, x, grouping, weight, bias, rm, rv, s.eps), p));
    }
    const dyEval = maybeTensor(fx, 'eval.dy');
    if (a.bnBackward && dyEval) {
      const dy = round(dyEval);
      const g = await bnBackward(ctx, { shape: s.shape, x, dy, weight, bias, training: false, runningMean: rm, runningVar: rv, eps: s.eps });
      const gb = normBackwardBounds(us, x, dy, grouping, weight, s.eps, { runningMean: rm, runningVar: rv });
      comps.push(compare('eval dx', g.dx, tensor(fx, 'eval.dx'), gb.dx, p));
      if (weight) comps.push(compare('eval dweight', g.dweight!, tensor(fx, 'eval.dweight'), gb.dweight, p));
      if (bias) comps.push(compare('eval dbias', g.dbias!, tensor(fx, 'eval.dbias'), gb.dbias, p));
    }
  }
  return comps;
}

async function judgeLnFixture(ctx: CheckContext, fx: Fixture): Promise<Comparison[] | string> {
  const skip = unrepresentable(ctx, fx);
  if (skip) return skip;
  const s = fx.settings as { shape: number[]; normalized_shape: number[]; eps: number; elementwise_affine: boolean };
  const { us, round } = bounds(ctx);
  const p = ctx.precision;
  const D = s.normalized_shape.reduce((a, b) => a * b, 1);
  const R = s.shape.reduce((a, b) => a * b, 1) / D;
  const grouping = lnGrouping(R, D);
  const weight = s.elementwise_affine ? round(tensor(fx, 'weight')) : null;
  const bias = s.elementwise_affine ? round(tensor(fx, 'bias')) : null;
  const x = round(tensor(fx, 'x'));
  const d = { shape: s.shape, normalizedShape: s.normalized_shape, x, weight, bias, eps: s.eps };
  const out = await lnForward(ctx, d);
  const b = normForwardBounds(us, x, grouping, weight, bias, s.eps);
  const comps = [compare('y', out.y, tensor(fx, 'y'), b.y, p)];
  if (out.mean) comps.push(compare('mean', out.mean, tensor(fx, 'mean'), b.mean, p));
  if (out.rstd) comps.push(compare('rstd', out.rstd, tensor(fx, 'rstd'), b.rstd, p));
  if (ctx.adapter.lnBackward) {
    const dy = round(tensor(fx, 'dy'));
    const g = await lnBackward(ctx, { ...d, dy });
    const gb = normBackwardBounds(us, x, dy, grouping, weight, s.eps);
    comps.push(compare('dx', g.dx, tensor(fx, 'dx'), gb.dx, p));
    if (weight) comps.push(compare('dweight', g.dweight!, tensor(fx, 'dweight'), gb.dweight, p));
    if (bias) comps.push(compare('dbias', g.dbias!, tensor(fx, 'dbias'), gb.dbias, p));
  }
  return comps;
}

export const fixtureChecks: Check[] = [
  fixedCheck({
    id: 'fixtures.batchnorm', category: 'fixtures',
    description: 'PyTorch golden BatchNorm cases (3 training steps, running buffers, backward, eval), offsets up to 1e6',
    needs: ['bnTrainForward'], applies: pytorchOnly,
    cases: async (ctx) => loadFixtures('batchnorm').map((fx) => ({ label: `fixtures/${fx.name}.json`, run: () => judgeBnFixture(ctx, fx) })),
  }),
  fixedCheck({
    id: 'fixtures.layernorm', category: 'fixtures',
    description: 'PyTorch golden LayerNorm cases (one and two normalised dims, no affine, eps 1e-12, offset 1e4)',
    needs: ['lnForward'], applies: pytorchOnly,
    cases: async (ctx) => loadFixtures('layernorm').map((fx) => ({ label: `fixtures/${fx.name}.json`, run: () => judgeLnFixture(ctx, fx) })),
  }),
];
