/**
 * The browser host's frames (hosts/browser/frame.ts, no Node Buffer, so the page can run it) are the wire
 * protocol's frames byte for byte (hosts/wire.ts, the subprocess hosts'), and carry every float exactly.
 */
import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame, fromBase64, toBase64 } from '../../conformance/hosts/browser/frame.js';
import { decodeFrame as wireDecode, encodeFrame as wireEncode } from '../../conformance/hosts/wire.js';

const header = () => ({
  type: 'calls',
  calls: [{ id: 7, cap: 'bnEvalForward', args: { x: Float32Array.of(1.5, -0, NaN, Infinity, -Infinity, 2 ** -149), shape: [2, 3], weight: null, eps: 1e-5 } },
    { id: 8, cap: 'lnForward', args: { x: Float64Array.of(Math.PI, -1e308, 5e-324), normalizedShape: [3] } }],
});

describe('browser frames', () => {
  it('are the wire protocol\'s frames, byte for byte, both ways', () => {
    const mine = encodeFrame(header());
    const wire = wireEncode(header());
    expect(Buffer.from(mine).equals(wire)).toBe(true);
    // wire.ts decodes a frame without its length field
    expect(wireDecode(wire.subarray(4))).toEqual(decodeFrame(mine));
  });

  it('carry NaN, -0, infinities and subnormals exactly, through base64', () => {
    const back = decodeFrame(fromBase64(toBase64(encodeFrame(header())))) as ReturnType<typeof header>;
    const x = back.calls[0]!.args.x as Float32Array;
    expect(x).toBeInstanceOf(Float32Array);
    expect(Object.is(x[1], -0)).toBe(true);
    expect(Number.isNaN(x[2])).toBe(true);
    expect(Array.from(x.subarray(3))).toEqual([Infinity, -Infinity, 2 ** -149]);
    expect(Array.from(back.calls[1]!.args.x as Float64Array)).toEqual([Math.PI, -1e308, 5e-324]);
    expect(back.calls[0]!.args.shape).toEqual([2, 3]);
  });

  it('refuse an Int32Array, naming it', () => {
    expect(() => encodeFrame({ y: new Int32Array(2) })).toThrow('the wire protocol carries float32 and float64 arrays, not Int32Array');
  });
});
