/**
 * What the adapter did wrong is reported as the adapter's, naming the capability: a result whose getter
 * throws, an object pretending to be a Float32Array, a thrown value that cannot even be printed
 * (`Object.create(null)`), in a capability or in available/setup/teardown. None of these is "internal error
 * in the check (not the adapter's fault)", and none crashes the run.
 */
import { describe, expect, it } from 'vitest';
import type { Adapter, LayerNormArgs } from '../../conformance/adapter.js';
import reference from '../../conformance/adapters/reference.js';
import { runConformance } from '../../conformance/runner.js';

const seed = 20261127;

/** A float32 LayerNorm adapter whose lnForward answers with `result(correct y)`. */
function lnAdapter(name: string, result: (y: Float32Array) => unknown): Adapter {
  return {
    name, precision: 'float32', layout: 'NCHW',
    lnForward(a: LayerNormArgs) {
      const y = reference.lnForward!({ ...a, x: Float64Array.from(a.x), weight: a.weight && Float64Array.from(a.weight), bias: a.bias && Float64Array.from(a.bias) }) as { y: Float64Array };
      return result(Float32Array.from(y.y)) as { y: Float32Array };
    },
  };
}

async function lnForwardResult(adapter: Adapter) {
  const report = await runConformance([{ adapter, spec: adapter.name }], { quick: true, seed, only: 'ln.forward' });
  return report.adapters[0]!;
}

describe('blame', () => {
  it.each<[string, (y: Float32Array) => unknown, RegExp]>([
    ['a getter that throws', () => ({ get y(): never { throw new Error('getter exploded'); } }), /^lnForward returned an object whose y getter threw Error: getter exploded/],
    ['a Proxy whose get trap throws', () => new Proxy({}, { get() { throw new TypeError('trap'); } }), /^lnForward (threw|returned an object whose \w+ getter threw) TypeError: trap/],
    ['an object with Float32Array\'s prototype but no data', (y) => ({ y: Object.defineProperty(Object.create(Float32Array.prototype), 'length', { value: y.length }) }), /^lnForward returned y as an object pretending to be a Float32Array/],
    ['a plain object named Float32Array', (y) => ({ y: { constructor: { name: 'Float32Array' }, length: y.length, 0: 1 } }), /^lnForward returned y as an object pretending to be a Float32Array/],
    ['a Proxy of a real Float32Array', (y) => ({ y: new Proxy(y, {}) }), /^lnForward returned y as an object pretending to be a Float32Array/],
    ['a subclass lying about its length', (y) => {
      class Liar extends Float32Array { override get length() { return 3; } }
      const l = new Liar(y.length + 5);
      return { y: Object.defineProperty(l, 'length', { value: y.length }) };
    }, /^lnForward returned y with \d+ values; expected \d+/],
  ])('a result with %s fails the adapter, naming the capability', async (_what, result, message) => {
    const a = await lnForwardResult(lnAdapter('liar', result));
    const c = a.checks[0]!;
    expect(c.message).not.toMatch(/internal error/);
    expect(['fail', 'error']).toContain(c.status);
    expect(c.message).toMatch(message);
  });

  it('reports `throw Object.create(null)` from a capability as the adapter\'s error', async () => {
    const a = await lnForwardResult(lnAdapter('odd-throw', () => { throw Object.create(null); }));
    expect(a.checks[0]).toMatchObject({ status: 'error', message: expect.stringMatching(/^lnForward threw a non-Error object \{\}/) });
  });

  it.each(['available', 'setup', 'teardown'] as const)('reports `throw Object.create(null)` from %s() instead of crashing the run', async (hook) => {
    const adapter = { ...lnAdapter('odd-hook', (y) => ({ y })), [hook]: () => { throw Object.create(null); } };
    const a = await lnForwardResult(adapter);
    expect(a.message).toMatch(new RegExp(`${hook}\\(\\) (threw|failed): .*a non-Error object \\{\\}`));
  });
});
