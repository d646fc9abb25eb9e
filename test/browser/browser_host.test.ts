/**
 * The browser host (conformance/hosts/browser.ts) runs an adapter module in a headless Chromium page behind
 * the host interface, and what goes wrong there is the adapter's failure, never a hung or crashed run: a
 * module that throws at load or never finishes loading is a load error naming it; a call that spins forever
 * fails as a timeout, one during which the page crashes as crashed, and the next call gets a new browser; a throw, a result the wire cannot carry and a
 * write into an input are reported as they are by the other hosts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { AdapterFailure } from '../../conformance/hosts/failure.js';
import type { Host } from '../../conformance/hosts/host.js';
import { openHost } from '../../conformance/hosts/open.js';
import { AdapterLoadError } from '../../conformance/load.js';
import { BROWSER_SKIP, browserTitle } from './browser_env.js';

const fixture = (name: string) => `browser:test/browser/fixtures/${name}.mjs`;
const args = (eps: number) => ({
  x: Float32Array.of(1, 2, 3, 4), shape: [2, 2], weight: null, bias: null, runningMean: Float32Array.of(0, 0), runningVar: Float32Array.of(1, 1), eps,
});
const opened: Host[] = [];
afterAll(async () => {
  for (const h of opened) await h.kill();
});

describe.skipIf(BROWSER_SKIP !== null)(browserTitle('the browser host'), () => {
  it('a module that throws at load is a load error naming it and the error', async () => {
    const e = await openHost(fixture('throws_at_load')).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AdapterLoadError);
    expect((e as Error).message).toMatch(/^browser:test\/browser\/fixtures\/throws_at_load\.mjs: .*this page module refuses to load/);
  });

  it('a module whose top-level await never settles is a load error after the load timeout', async () => {
    const e = await openHost(fixture('never_loads'), { loadTimeoutMs: 4000 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AdapterLoadError);
    expect((e as Error).message).toMatch(/the page did not finish loading within 4000 ms/);
  });

  it('a call stuck in a synchronous loop fails as a timeout; the next call runs in a new browser', async () => {
    const host = await openHost(fixture('spins'));
    opened.push(host);
    expect(host.kind).toBe('browser');
    expect(host.meta.capabilities).toEqual(['bnEvalForward']);
    expect(host.meta.unsupported).toEqual({ bnEvalForward: ['rank5'] });
    const stuck = await host.call('bnEvalForward', args(0.75), { timeoutMs: 1500 }).catch((x: unknown) => x);
    expect(stuck).toBeInstanceOf(AdapterFailure);
    expect((stuck as AdapterFailure).kind).toBe('timeout');
    expect((stuck as Error).message).toBe('bnEvalForward did not return within 1500 ms (its browser page was stopped; the next call starts a new one)');
    const fine = (await host.call('bnEvalForward', args(1e-5), { timeoutMs: 30_000 })) as { y: Float32Array };
    expect(fine.y).toBeInstanceOf(Float32Array);
    expect(fine.y[3]).toBeCloseTo(4 / Math.sqrt(1 + 1e-5), 6);
    expect(host.stats.restarts).toBe(1);
  });

  it('a page that crashes during a call (what chrome://crash does: DevTools Page.crash) fails that call as crashed; the next call runs in a new browser', async () => {
    const host = await openHost(fixture('spins'));
    opened.push(host);
    const spinning = host.call('bnEvalForward', args(0.75), { timeoutMs: 30_000 }).catch((x: unknown) => x);
    // the host's own DevTools session to the page (private: no API crashes a page on purpose)
    const cdp = (host as unknown as { cdp: { send(method: string): Promise<unknown> } }).cdp;
    setTimeout(() => void cdp.send('Page.crash').catch(() => undefined), 300);
    const crashed = await spinning;
    expect(crashed).toBeInstanceOf(AdapterFailure);
    expect((crashed as AdapterFailure).kind).toBe('crashed');
    expect((crashed as Error).message).toBe("bnEvalForward: the adapter's browser page crashed during the call (the next call starts a new one)");
    const fine = (await host.call('bnEvalForward', args(1e-5), { timeoutMs: 30_000 })) as { y: Float32Array };
    expect(fine.y[3]).toBeCloseTo(4 / Math.sqrt(1 + 1e-5), 6);
    expect(host.stats.restarts).toBe(1);
  });

  it('reports a throw, an Int32Array result and a write into an input as the other hosts do, in one batch', async () => {
    const host = await openHost(fixture('misbehaves'));
    opened.push(host);
    const mutating = args(0.125);
    const [threw, int32, wrote, fine] = await Promise.allSettled(host.callBatch(
      [args(0.5), args(0.25), mutating, args(1e-5)].map((a) => ({ cap: 'bnEvalForward' as const, args: a })), { timeoutMs: 30_000 }));
    expect(threw.status === 'rejected' && (threw.reason as AdapterFailure).kind).toBe('threw');
    expect(threw.status === 'rejected' && (threw.reason as Error).message).toBe('bnEvalForward threw RangeError: eps 0.5 is not for me');
    expect(int32.status === 'rejected' && (int32.reason as Error).message).toMatch(/the result cannot be sent from the page: .*Int32Array/);
    expect(wrote.status).toBe('fulfilled');
    expect(mutating.x[0]).toBe(42); // copied back, so hygiene.no_input_mutation sees it
    expect(fine.status).toBe('fulfilled');
    expect(host.stats.roundTrips).toBe(1);
  });
});
