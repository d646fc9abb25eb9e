/**
 * tfjs-webgpu (TensorFlow.js' WebGPU backend on Dawn) through the runner, judged with
 * conformance/expectations.json: it declares the tfjs ops' gradient limits (no BatchNorm backward without
 * scale and offset, none at rank 5) and passes what is run here, the BatchNorm backward on the cases it
 * supports included (a subset: `normcheck check tfjs-webgpu --expect …` runs everything). And the
 * divergence of docs/divergences.md#tfjs-webgpu-rank5-vector-op still reproduces.
 */
import { describe, expect, it } from 'vitest';
import { loadTfjsWebgpu, takeWebgpuErrors } from '../../conformance/adapters/tfjs/webgpu.js';
import { rank5VectorOp } from '../../scripts/probe/gpu_repros.js';
import { outcomes } from './gpu_checks.js';
import { GPU_SKIP, gpuTitle } from './gpu_env.js';

describe.skipIf(GPU_SKIP !== null)(gpuTitle('tfjs-webgpu'), () => {
  it('passes BatchNorm training forward, LayerNorm forward and, without the rank-5 and non-affine cases it declares unsupported, BatchNorm backward', async () => {
    const r = await outcomes('tfjs-webgpu', 'bn.train.forward,ln.forward.odd_sizes,bn.backward.train');
    expect(r.state).toBe('ran');
    expect(r.unsupported).toEqual({ all: [], byCapability: { bnBackward: ['no_affine', 'rank5'] } });
    expect(r.checks).toEqual({ 'bn.train.forward': 'pass/ok', 'ln.forward.odd_sizes': 'pass/ok', 'bn.backward.train': 'pass/ok' });
    expect(r.exitCode).toBe(0);
  });

  it("tfjs-webgpu-rank5-vector-op: a rank-5 tensor times a 3-vector returns the previous op's buffer, and the adapter hears the WGSL compile error", async () => {
    const tf = await loadTfjsWebgpu();
    if (typeof tf === 'string') throw new Error(tf);
    const r = await rank5VectorOp(tf, takeWebgpuErrors);
    expect(r.previous).toEqual([2, 3, 4]);
    expect(r.got).toEqual(r.previous); // not [1, 2, 3]
    // the compiler's error the first time this program is built; tfjs caches the pipeline, so later it is
    // Dawn's "invalid due to a previous error" for the cached one (when an earlier test built it first)
    expect(r.errors).toMatch(/cannot index type 'vec5'|\[Invalid ComputePipeline "BinaryOpProgram"\] is invalid/);
  });
});
