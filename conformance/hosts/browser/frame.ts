/**
 * The wire protocol's frame (docs/protocol.md, the subprocess hosts' conformance/hosts/wire.ts) without
 * Node's Buffer, so that the same bytes are written and read in a browser page:
 *
 *   u32 LE   L, the number of bytes after this field
 *   u32 LE   H, the number of bytes of the header
 *   H bytes  the header: a JSON object, UTF-8
 *   0–7 zero bytes, so that the payload starts at a multiple of 8 from the frame's first byte
 *   payload  the arrays' bytes, little-endian, each at header.arrays[i].offset (a multiple of 8) from its start
 *
 * In the header's values an array is `{"$array": i}`, described by header.arrays[i] = {dtype, shape, offset}.
 * Typed arrays travel as their raw bytes (NaN payloads, ±Infinity and -0 included), never as JSON numbers.
 * Between Node and a page the frame crosses the DevTools protocol, which carries text: as base64.
 */

const DTYPES = { float32: Float32Array, float64: Float64Array } as const;
type Dtype = keyof typeof DTYPES;

interface ArrayInfo {
  dtype: string;
  shape: number[];
  offset: number;
}

const align8 = (n: number) => (n + 7) & ~7;

export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

/** Encodes `header`, every Float32Array/Float64Array in its values as raw bytes (flat: shape [length]). */
export function encodeFrame(header: Record<string, unknown>): Uint8Array {
  const arrays: ArrayInfo[] = [];
  const views: ArrayBufferView[] = [];
  let bytes = 0;
  const replace = (v: unknown): unknown => {
    if (ArrayBuffer.isView(v)) {
      const dtype: Dtype | null = v instanceof Float32Array ? 'float32' : v instanceof Float64Array ? 'float64' : null;
      if (!dtype) throw new FrameError(`the wire protocol carries float32 and float64 arrays, not ${v.constructor.name}`);
      arrays.push({ dtype, shape: [(v as Float32Array).length], offset: bytes });
      views.push(v);
      bytes = align8(bytes + v.byteLength);
      return { $array: arrays.length - 1 };
    }
    if (Array.isArray(v)) return v.map(replace);
    if (v !== null && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) o[k] = replace(x);
      return o;
    }
    return v;
  };
  const body = replace(header) as Record<string, unknown>;
  const json = new TextEncoder().encode(JSON.stringify(arrays.length ? { ...body, arrays } : body));
  const payloadStart = align8(8 + json.length);
  const frame = new Uint8Array(payloadStart + bytes);
  const view = new DataView(frame.buffer);
  view.setUint32(0, frame.length - 4, true);
  view.setUint32(4, json.length, true);
  frame.set(json, 8);
  for (const [i, v] of views.entries()) frame.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), payloadStart + arrays[i]!.offset);
  return frame;
}

/** Decodes a whole frame (with its length field): the header, array references replaced by fresh typed arrays. */
export function decodeFrame(frame: Uint8Array): Record<string, unknown> {
  if (frame.length < 8) throw new FrameError(`a frame of ${frame.length} bytes has no header`);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const L = view.getUint32(0, true);
  if (L !== frame.length - 4) throw new FrameError(`the frame says ${L} bytes follow its length, but ${frame.length - 4} do`);
  const H = view.getUint32(4, true);
  if (8 + H > frame.length) throw new FrameError(`header length ${H} exceeds the frame`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(frame.subarray(8, 8 + H)));
  } catch (e) {
    throw new FrameError(`the header is not JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new FrameError('the header is not a JSON object');
  const { arrays: infos = [], ...rest } = header as Record<string, unknown> & { arrays?: unknown };
  if (!Array.isArray(infos)) throw new FrameError('header.arrays is not a list');
  const payloadStart = align8(8 + H);
  const decoded = infos.map((info: ArrayInfo, i: number) => {
    const Ctor = DTYPES[info?.dtype as Dtype];
    if (!Ctor || !Array.isArray(info.shape) || !Number.isInteger(info.offset) || info.offset % 8 !== 0) throw new FrameError(`header.arrays[${i}] is not a float32/float64 {dtype, shape, offset}: ${JSON.stringify(info)}`);
    const n = info.shape.reduce((p, d) => p * d, 1);
    const start = payloadStart + info.offset;
    if (start + n * Ctor.BYTES_PER_ELEMENT > frame.length) throw new FrameError(`header.arrays[${i}] runs past the frame's end`);
    const out = new Ctor(n);
    new Uint8Array(out.buffer).set(frame.subarray(start, start + n * Ctor.BYTES_PER_ELEMENT));
    return out;
  });
  const resolve = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(resolve);
    if (v !== null && typeof v === 'object') {
      const ref = (v as { $array?: unknown }).$array;
      if (ref !== undefined && Object.keys(v).length === 1) {
        const a = decoded[ref as number];
        if (!a) throw new FrameError(`{"$array": ${JSON.stringify(ref)}} names no array of the frame's ${decoded.length}`);
        return a;
      }
      const r: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) r[k] = resolve(x);
      return r;
    }
    return v;
  };
  return resolve(rest) as Record<string, unknown>;
}

/** base64 of `bytes`, in chunks (String.fromCharCode takes a bounded argument list). */
export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
