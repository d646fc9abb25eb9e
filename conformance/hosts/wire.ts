/**
 * The wire protocol's frames (docs/protocol.md): encoding requests for a subprocess adapter and decoding its
 * answers. A frame is
 *
 *   u32 LE   L, the number of bytes after this field (at most MAX_FRAME)
 *   u32 LE   H, the number of bytes of the header
 *   H bytes  the header: a JSON object, UTF-8
 *   0–7 zero bytes, so that the payload starts at a multiple of 8 from the frame's first byte
 *   payload  the arrays' bytes, little-endian, each at header.arrays[i].offset (a multiple of 8) from its start
 *
 * In the header's values an array is `{"$array": i}`, described by header.arrays[i] = {dtype, shape, offset}.
 * Typed arrays are never base64'd or turned into JSON numbers: they travel as raw bytes (NaN, ±Infinity and
 * -0 included), and a reader on a little-endian machine can view them in place.
 */
import { endianness } from 'node:os';

export const PROTOCOL_VERSION = 1;
/** Frames larger than this are malformed (a corrupted length, not data): 1 GiB. */
export const MAX_FRAME = 2 ** 30;

export const DTYPES = { float32: Float32Array, float64: Float64Array } as const;
export type Dtype = keyof typeof DTYPES;

interface ArrayInfo {
  dtype: string;
  shape: number[];
  offset: number;
}

if (endianness() !== 'LE') throw new Error('normcheck\'s wire protocol needs a little-endian host (arrays travel as their in-memory bytes)');

const align8 = (n: number) => (n + 7) & ~7;

function dtypeOf(a: ArrayBufferView): Dtype | null {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  return null;
}

/** Encodes `header`, every typed array in its values sent as raw bytes (flat: shape [length]). */
export function encodeFrame(header: Record<string, unknown>): Buffer {
  const arrays: ArrayInfo[] = [];
  const views: ArrayBufferView[] = [];
  let bytes = 0;
  const replace = (v: unknown): unknown => {
    if (ArrayBuffer.isView(v)) {
      const dtype = dtypeOf(v);
      if (!dtype) throw new TypeError(`the wire protocol carries float32 and float64 arrays, not ${v.constructor.name}`);
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
  const json = Buffer.from(JSON.stringify(arrays.length ? { ...body, arrays } : body), 'utf8');
  const payloadStart = align8(8 + json.length);
  const frame = Buffer.alloc(payloadStart + bytes);
  frame.writeUInt32LE(frame.length - 4, 0);
  frame.writeUInt32LE(json.length, 4);
  json.copy(frame, 8);
  for (const [i, v] of views.entries()) {
    frame.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), payloadStart + arrays[i]!.offset);
  }
  return frame;
}

export class MalformedFrame extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedFrame';
  }
}

/**
 * An array of a dtype the protocol does not carry (int64, float16, …) decodes to this stand-in, which the
 * capability's wrapper (invoke.ts checkOutput) reports by its name: "returned y as an int64 array of shape
 * (2, 3) …; a float32 adapter must return Float32Array", a failure of that call, not of the frame.
 */
function unsupportedArray(dtype: string, shape: readonly number[]): object {
  return { constructor: { name: `an array of dtype ${dtype}, shape (${shape.join(', ')}) (the wire protocol carries float32 and float64)` } };
}

/**
 * Decodes one frame (without its length field): the header, with array references replaced by fresh typed
 * arrays (copies, so they own aligned memory). Throws MalformedFrame naming what is wrong.
 */
export function decodeFrame(frame: Buffer): Record<string, unknown> {
  if (frame.length < 4) throw new MalformedFrame(`a frame of ${frame.length} bytes has no header length`);
  const h = frame.readUInt32LE(0);
  if (4 + h > frame.length) throw new MalformedFrame(`header length ${h} exceeds the frame's ${frame.length - 4} bytes`);
  let header: unknown;
  try {
    header = JSON.parse(frame.toString('utf8', 4, 4 + h));
  } catch (e) {
    throw new MalformedFrame(`the header is not JSON (${(e as Error).message}): ${JSON.stringify(frame.toString('utf8', 4, Math.min(4 + h, 84)))}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new MalformedFrame('the header is not a JSON object');
  const o = header as Record<string, unknown>;
  const payloadStart = align8(8 + h) - 4;
  const infos = o.arrays ?? [];
  if (!Array.isArray(infos)) throw new MalformedFrame('header.arrays is not a list');
  const decoded = infos.map((info: unknown, i: number) => {
    const a = info as Partial<ArrayInfo> | null;
    if (!a || typeof a !== 'object' || typeof a.dtype !== 'string' || !Array.isArray(a.shape) || typeof a.offset !== 'number') {
      throw new MalformedFrame(`header.arrays[${i}] must be {dtype, shape, offset}, got ${JSON.stringify(info)}`);
    }
    if (!a.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new MalformedFrame(`header.arrays[${i}].shape ${JSON.stringify(a.shape)} is not a list of sizes`);
    if (!Number.isInteger(a.offset) || a.offset < 0 || a.offset % 8 !== 0) throw new MalformedFrame(`header.arrays[${i}].offset ${a.offset} is not a multiple of 8`);
    const n = a.shape.reduce((p: number, d: number) => p * d, 1);
    const Ctor = DTYPES[a.dtype as Dtype];
    // an unsupported dtype's item size from its name (int64: 8, float16: 2, bool: 1), for the bounds check
    const itemsize = Ctor ? Ctor.BYTES_PER_ELEMENT : Math.max(1, Number(/(\d+)$/.exec(a.dtype)?.[1] ?? 8) / 8);
    const start = payloadStart + a.offset;
    if (start + n * itemsize > frame.length) {
      throw new MalformedFrame(`header.arrays[${i}] (${a.dtype}, shape ${JSON.stringify(a.shape)}) runs past the frame's end by ${start + n * itemsize - frame.length} bytes`);
    }
    if (!Ctor) return unsupportedArray(a.dtype, a.shape);
    const out = new Ctor(n);
    new Uint8Array(out.buffer).set(frame.subarray(start, start + n * itemsize));
    return out;
  });
  const resolve = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(resolve);
    if (v !== null && typeof v === 'object') {
      const ref = (v as { $array?: unknown }).$array;
      if (ref !== undefined && Object.keys(v).length === 1) {
        if (!Number.isInteger(ref) || (ref as number) < 0 || (ref as number) >= decoded.length) throw new MalformedFrame(`{"$array": ${JSON.stringify(ref)}} names no array of the frame's ${decoded.length}`);
        return decoded[ref as number];
      }
      const r: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) r[k] = resolve(x);
      return r;
    }
    return v;
  };
  const { arrays: _arrays, ...rest } = o;
  return resolve(rest) as Record<string, unknown>;
}

/** Splits a byte stream into frames: push chunks, get each complete frame (without its length field). */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly onFrame: (frame: Buffer) => void, private readonly onMalformed: (e: MalformedFrame) => void) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.buffered < 4) return;
      const head = this.peek(4);
      const n = head.readUInt32LE(0);
      if (n > MAX_FRAME || n < 4) {
        const first = this.peek(Math.min(this.buffered, 40)).toString('latin1');
        this.chunks = [];
        this.buffered = 0;
        return this.onMalformed(new MalformedFrame(`a frame length of ${n} bytes (${n < 4 ? 'too short for a header length' : `more than the ${MAX_FRAME} allowed`}; are these bytes a frame? they begin ${JSON.stringify(first)})`));
      }
      if (this.buffered < 4 + n) return;
      const all = Buffer.concat(this.chunks, this.buffered);
      this.chunks = all.length > 4 + n ? [all.subarray(4 + n)] : [];
      this.buffered = all.length - 4 - n;
      this.onFrame(all.subarray(4, 4 + n));
    }
  }

  private peek(n: number): Buffer {
    return (this.chunks[0]!.length >= n ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered)).subarray(0, n);
  }

  /** Bytes of an incomplete frame left when the stream ended. */
  get pending(): number {
    return this.buffered;
  }
}
