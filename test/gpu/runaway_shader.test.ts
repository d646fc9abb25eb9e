/**
 * A WebGPU adapter given by path runs in a process of its own, not a worker thread: terminating a thread
 * while Dawn has GPU work pending aborts the whole process (node-webgpu 0.6.2), which would end the run
 * with no report. In a process, a shader that never finishes fails its call as a timeout, the process is
 * killed, and the next call runs in a new one.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { AdapterFailure } from '../../conformance/hosts/failure.js';
import type { Host } from '../../conformance/hosts/host.js';
import { openHost } from '../../conformance/hosts/open.js';
import { GPU_SKIP, gpuTitle } from './gpu_env.js';

const args = (eps: number) => ({
  x: Float32Array.of(1, 2, 3, 4), shape: [2, 2], weight: null, bias: null, runningMean: Float32Array.of(0, 0), runningVar: Float32Array.of(1, 1), eps,
});
let host: Host | null = null;
afterAll(async () => {
  await host?.kill();
});

describe.skipIf(GPU_SKIP !== null)(gpuTitle('a WebGPU adapter given by path'), () => {
  it('runs in a process; a shader that never finishes fails its call as a timeout and the next call runs in a new process', async () => {
    host = await openHost('test/gpu/fixtures/runaway_shader.mjs');
    expect(host.kind).toBe('subprocess');
    expect(await host.available(60_000)).toBe(true);
    const stuck = await host.call('bnEvalForward', args(0.75), { timeoutMs: 3000 }).catch((e: unknown) => e);
    expect(stuck).toBeInstanceOf(AdapterFailure);
    expect((stuck as Error).message).toBe('bnEvalForward did not return within 3000 ms (its process was stopped; the next call starts a new one)');
    const fine = (await host.call('bnEvalForward', args(1e-5), { timeoutMs: 60_000 })) as { y: Float32Array };
    expect(fine.y[3]).toBeCloseTo(4 / Math.sqrt(1 + 1e-5), 6); // x / sqrt(1 + eps), float32
    expect(host.stats.restarts).toBe(1);
  });
});
