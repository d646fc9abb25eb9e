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
    expect(r.unsupported).toEqual({ all: [], byCapability: { bnBackward: ['rank5', 'no_affine'] } });
    expect(r.checks).toEqual({ 'bn.train.forward': 'pass/ok', 'bn.backward.train': 'pass/ok' });
  });

  it('tfjs-webgl-f16 is judged as float16 and passes BatchNorm eval at that precision', async () => {
    const r = await outcomes('tfjs-webgl-f16', 'bn.eval.forward');
    expect(r).toMatchObject({ host: 'browser', precision: 'float16', state: 'ran', exitCode: 0 });
    expect(r.checks).toEqual({ 'bn.eval.forward': 'pass/ok' });
  });

  it('the example WGSL adapter passes in the page on Chromium\'s WebGPU', async () => {
    const r = await outcomes('browser:dist/conformance/examples/wgsl-norms.js', 'ln.forward.offset_1e4,bn.backward.train');
    expect(r).toMatchObject({ host: 'browser', state: 'ran', exitCode: 0 });
    expect(r.checks).toEqual({ 'ln.forward.offset_1e4': 'pass/ok', 'bn.backward.train': 'pass/ok' });
  });
});
