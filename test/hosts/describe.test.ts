/**
 * The worker thread describes what an adapter threw with its own JavaScript copy of describeThrown
 * (hosts/adapter_module.js: a worker cannot load TypeScript): the two give the same text for every odd value.
 */
import { describe, expect, it } from 'vitest';
import { describeThrown } from '../../conformance/error_text.js';
import { messageOf } from '../../conformance/hosts/adapter_module.js';

class Custom extends Error {
  override name = 'Custom';
}

describe('the worker\'s description of a thrown value', () => {
  it.each<[string, unknown]>([
    ['an Error', new Error('boom')],
    ['an Error without a message', new TypeError('')],
    ['a subclass', new Custom('x')],
    ['a string', 'plain'],
    ['undefined', undefined],
    ['null', null],
    ['a number', 42],
    ['a symbol', Symbol('s')],
    ['Object.create(null)', Object.create(null)],
    ['an object with a message', { message: 'm' }],
    ['a plain object', { code: 5 }],
    ['a cyclic object', (() => { const o: Record<string, unknown> = {}; o.self = o; return o; })()],
    ['a Proxy whose traps throw', new Proxy({}, { get() { throw new Error('trap'); }, getPrototypeOf() { throw new Error('trap'); } })],
    ['an Error whose message getter throws', Object.defineProperty(new Error('x'), 'message', { get() { throw new Error('no'); } })],
    ['a long object', { s: 'x'.repeat(500) }],
  ])('is the same as describeThrown for %s', (_what, value) => {
    expect(messageOf(value)).toBe(describeThrown(value));
  });
});
