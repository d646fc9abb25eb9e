/**
 * The page built-ins through the browser host, judged with conformance/expectations.json: tfjs-webgl
 * (WebGL2 on ANGLE/SwiftShader) declares the tfjs ops' gradient limits, as its page does, and passes what
 * runs here; tfjs-webgl-f16 is judged as float16; and the example WGSL adapter, unchanged, runs in the page
 * on Chromium's own WebGPU (navigator.gpu). Subsets keep this lean: `normcheck check tfjs-webgl` runs it all.
 */
import { describe, expect, it } from 'vitest';
import { loadExpectations } from '../../conformance/expectations.js';
import { openHost } from '../../conformance/hosts/open.js';
import { runConformance } from '../../conformance/runner.js';
import { BROWSER_SKIP, browserTitle } from './browser_env.js';

const seed = Number(process.env.NORMCHECK_FC_SEED ?? 20261201);
const expectations = loadExpectations('conformance/expectations.json');

async function outcomes(spec: string, only: string) {
  const report = await runConformance([{ host: await openHost(spec), spec }], { quick: true, seed, only, expectations, timeoutMs: 30_000 });
  const a = report.adapters[0]!;
  return { host: a.host, precision: a.precision, state: a.state, exitCode: report.exitCode, unsupported: a.unsupported, checks: Object.fromEntries(a.checks.map((c) => [c.id, `${c.status}/${c.outcome}`])) };
}

describe.skipIf(BROWSER_SKIP !== null)(browserTitle('the page built-ins'), () => {
  it('tfjs-webgl runs in a page, declares its rank-5 and non-affine BatchNorm backward unsupported, and passes BatchNorm training forward and backward', async () => {
    const r = await outcomes('tfjs-webgl', 'bn.train.forward,bn.backward.train');
    expect(r).toMatchObject({ host: 'browser', precision: 'float32', state: 'ran', exitCode: 0 });
    expect(r.unsupported).toEqual({ all: [], byCapability: { bnBackward: ['no_affine', 'rank5'] } });
    expect(r.checks).toEqual({ 'bn.train.forward': 'pass/ok', 'bn.backward.train': 'pass/ok' });
  });

  it('tfjs-webgl-f16 is judged as float16 and passes BatchNorm eval at that precision; tfjs-webgl-f16-backward-nan: its BatchNorm backward is NaN on a channel of variance below ~6e-4', async () => {
    const host = await openHost('tfjs-webgl-f16');
    // one channel of two values, 0 and d: variance (d/2)²; dx = w·0.75·eps / (var + eps)^(3/2) · (1, -1) for dy = (1, -0.5)
    const dx = async (d: number) => Array.from(((await host.call('bnBackward', {
      dy: Float32Array.of(1, -0.5), x: Float32Array.of(0, d), shape: [2, 1], weight: Float32Array.of(0.5), bias: Float32Array.of(0),
      training: true, runningMean: null, runningVar: null, eps: 1e-5,
    }, { timeoutMs: 30_000 })) as { dx: Float32Array }).dx);
    expect((await dx(0.045)).every(Number.isNaN)).toBe(true); // var 5.1e-4: (var + eps)^(-3/2) = 8.5e4 > 65504, float16's largest
    const [d0, d1] = await dx(0.0625); // var 9.8e-4: (var + eps)^(-3/2) = 3.2e4, finite
    expect(d0).toBeCloseTo(0.121, 1); // 0.5·0.75·1e-5 / (9.866e-4)^(3/2) = 0.121; float16 storage (u = 2^-11) gives 0.113
    expect(d1).toBeCloseTo(-0.121, 1);
    const report = await runConformance([{ host, spec: 'tfjs-webgl-f16' }], { quick: true, seed, only: 'bn.eval.forward', expectations, timeoutMs: 30_000 });
    const a = report.adapters[0]!;
    expect({ precision: a.precision, state: a.state, exitCode: report.exitCode }).toEqual({ precision: 'float16', state: 'ran', exitCode: 0 });
    expect(a.checks.map((c) => `${c.id} ${c.status}/${c.outcome}`)).toEqual(['bn.eval.forward pass/ok']);
  });

  it('the example WGSL adapter passes in the page on Chromium\'s WebGPU', async () => {
    const r = await outcomes('browser:dist/conformance/examples/wgsl-norms.js', 'ln.forward.offset_1e4,bn.backward.train');
    expect(r).toMatchObject({ host: 'browser', state: 'ran', exitCode: 0 });
    expect(r.checks).toEqual({ 'ln.forward.offset_1e4': 'pass/ok', 'bn.backward.train': 'pass/ok' });
  });
});
