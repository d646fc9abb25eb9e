/**
 * An adapter that supports every feature draws exactly the cases it drew before feature declarations
 * existed: the same seed gives the same calls with the same arguments, check by check. draws_before.json was
 * recorded on main (4fce7a8, the catalog with GroupNorm, InstanceNorm and RMSNorm) without the feature mechanism; each entry is a hash of every capability
 * call a quick run of the check made (capability name, then each argument: typed arrays by their bytes,
 * other values as JSON), in call order. Checks added since have no entry; every recorded one must match.
 *
 * Fixture checks are left out: they draw nothing (their cases are files), and the no_running_stats fixture
 * now passes null running buffers on purpose.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Adapter } from '../../conformance/adapter.js';
import { CAPABILITIES } from '../../conformance/adapter.js';
import kernelsNhwc from '../../conformance/adapters/kernels-nhwc.js';
import reference from '../../conformance/adapters/reference.js';
import { CHECKS } from '../../conformance/catalog.js';
import { runConformance } from '../../conformance/runner.js';

/** The adapter, with every capability call hashed into the current check's entry. */
function recording(inner: Adapter, log: Map<string, ReturnType<typeof createHash>>, current: { id: string }): Adapter {
  const out: Record<string, unknown> = { ...inner };
  for (const cap of CAPABILITIES) {
    const fn = inner[cap] as ((a: unknown) => unknown) | undefined;
    if (typeof fn !== 'function') continue;
    out[cap] = (args: Record<string, unknown>) => {
      let h = log.get(current.id);
      if (!h) log.set(current.id, (h = createHash('sha256')));
      h.update(cap);
      for (const k of Object.keys(args).sort()) {
        const v = args[k];
        h.update(k);
        if (ArrayBuffer.isView(v)) h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
        else h.update(JSON.stringify(v) ?? 'undefined');
      }
      return fn.call(inner, args);
    };
  }
  return out as unknown as Adapter;
}

async function drawHashes(adapter: Adapter): Promise<Record<string, string>> {
  const log = new Map<string, ReturnType<typeof createHash>>();
  const current = { id: '' };
  const only = CHECKS.filter((c) => c.category !== 'fixtures').map((c) => c.id).join(',');
  await runConformance([{ adapter: recording(adapter, log, current), spec: adapter.name }], {
    quick: true, seed: 20261127, only, onCheckStart: (_a, check) => void (current.id = check.id),
  });
  return Object.fromEntries([...log].sort(([a], [b]) => a.localeCompare(b)).map(([id, h]) => [id, h.digest('hex').slice(0, 16)]));
}

const BEFORE = JSON.parse(readFileSync(new URL('./draws_before.json', import.meta.url), 'utf8')) as Record<string, Record<string, string>>;

describe('an adapter that supports every feature', () => {
  for (const adapter of [reference, kernelsNhwc]) {
    it(`draws the same cases as before feature declarations (${adapter.name}: ${adapter.precision} ${adapter.layout})`, async () => {
      const now = await drawHashes(adapter);
      const before = BEFORE[adapter.name]!;
      expect(Object.keys(before).length).toBeGreaterThanOrEqual(50);
      expect(Object.fromEntries(Object.keys(before).map((id) => [id, now[id]]))).toEqual(before);
    });
  }
});
