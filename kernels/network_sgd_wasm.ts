/**
 * torch.optim.SGD's momentum update (not Nesterov) of network_sgd.ts in WebAssembly SIMD, two elements per
 * f64x2 step, the same float64 expressions in the same order as the TypeScript loops, so the result is the
 * same bit for bit:
 *   d = g + wd·p                       (float32 operands promoted to float64, exactly)
 *   b = fround(d)                      first step
 *   b = fround(m·buf + c·d)            afterwards (c = 1 - dampening)
 *   p ← fround(p - lr·b)               (b promoted back from float32)
 * Every f64x2 lane operation is the IEEE double operation JavaScript does, and f32x4.demote_f64x2_zero rounds
 * to nearest even as Math.fround and a Float32Array store do. Measured on the seed network (235 146 trainable
 * values) this update is memory- and instruction-bound in TypeScript; here it is one pass of 2-wide vectors.
 * The arrays are copied into the module's memory and the updated ones copied out (memcpys, cached views:
 * no allocation after the first call at a given size).
 */
import { Code, F64, I32, moduleBytes, V128, type WasmFunction } from './wasm_asm.js';

// sgdMomentum(p, g, buf, pairs, m, c, wd, lr, first): byte offsets of p, g, buf; pairs = ceil(n / 2)
function sgdMomentumFunction(): WasmFunction {
  const p = 0, g = 1, buf = 2, pairs = 3, m = 4, c = 5, wd = 6, lr = 7, first = 8;
  const P = 9, D = 10, B = 11, M = 12, C = 13, WD = 14, LR = 15;
  const f = new Code();
  f.get(m).f64x2Splat().set(M).get(c).f64x2Splat().set(C).get(wd).f64x2Splat().set(WD).get(lr).f64x2Splat().set(LR);
  const body = (isFirst: boolean) => {
    f.loop();
    //   d = g + wd·p
    f.get(p).load64Zero().promoteLow().tee(P).get(WD).f64x2Mul().get(g).load64Zero().promoteLow().f64x2Add().set(D);
    //   b = fround(d)  or  fround(m·buf + c·d); stored as the new momentum buffer
    if (isFirst) f.get(D);
    else f.get(buf).load64Zero().promoteLow().get(M).f64x2Mul().get(D).get(C).f64x2Mul().f64x2Add();
    f.demoteZero().set(B);
    f.get(buf).get(B).store64Lane0();
    //   p ← fround(p - lr·b)
    f.get(p).get(P).get(B).promoteLow().get(LR).f64x2Mul().f64x2Sub().demoteZero().store64Lane0();
    f.get(p).i32(8).add().set(p).get(g).i32(8).add().set(g).get(buf).i32(8).add().set(buf);
    f.get(pairs).i32(1).sub().tee(pairs).brIf(0);
    f.end();
  };
  f.get(first).ifElse();
  body(true);
  f.else();
  body(false);
  f.end();
  return { name: 'sgdMomentum', params: [I32, I32, I32, I32, F64, F64, F64, F64, I32], locals: [[7, V128]], body: f };
}

// The WebAssembly namespace is not in the ES2022 lib this project compiles against; Node has it at runtime.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmGlobal {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
type SgdFn = (p: number, g: number, buf: number, pairs: number, m: number, c: number, wd: number, lr: number, first: number) => void;

interface SgdWasm {
  memory: WasmMemory;
  f32: Float32Array;
  sgd: SgdFn;
  /** views by float offset, then length; dropped when the memory grows */
  views: Map<number, Map<number, Float32Array>>;
}

let instance: SgdWasm | null | undefined;

/** The instantiated module, or null where WebAssembly SIMD is unavailable (network_sgd.ts then uses its loops). */
function sgdWasm(): SgdWasm | null {
  if (instance !== undefined) return instance;
  try {
    const W = (globalThis as unknown as { WebAssembly: WasmGlobal }).WebAssembly;
    const e = new W.Instance(new W.Module(moduleBytes([sgdMomentumFunction()])), {}).exports;
    const memory = e['memory'] as WasmMemory;
    instance = { memory, f32: new Float32Array(memory.buffer), sgd: e['sgdMomentum'] as SgdFn, views: new Map() };
  } catch {
    instance = null;
  }
  return instance;
}

function view(rt: SgdWasm, off: number, len: number): Float32Array {
  let byLength = rt.views.get(off);
  if (byLength === undefined) rt.views.set(off, (byLength = new Map()));
  let v = byLength.get(len);
  if (v === undefined) byLength.set(len, (v = rt.f32.subarray(off, off + len)));
  return v;
}

/**
 * The momentum update (Nesterov off) of param and buf in place, as network_sgd.ts's loops compute it.
 * Returns false, doing nothing, where WebAssembly SIMD is unavailable.
 */
export function sgdMomentumWasm(
  param: Float32Array, grad: Float32Array, buf: Float32Array, first: boolean, m: number, c: number, wd: number, lr: number,
): boolean {
  const rt = sgdWasm();
  if (rt === null) return false;
  const n = param.length;
  if (n === 0) return true;
  // p, g, buf back to back, each rounded up to 4 floats (the last pair may read one float past n: discarded)
  const stride = Math.ceil(n / 4) * 4;
  const bytes = 3 * stride * 4;
  if (rt.memory.buffer.byteLength < bytes) {
    rt.memory.grow(Math.ceil((bytes - rt.memory.buffer.byteLength) / 65536));
    rt.f32 = new Float32Array(rt.memory.buffer);
    rt.views.clear(); // views of the old buffer are detached
  }
  const f32 = rt.f32;
  f32.set(param, 0);
  f32.set(grad, stride);
  if (!first) f32.set(buf, 2 * stride);
  rt.sgd(0, stride * 4, 2 * stride * 4, Math.ceil(n / 2), m, c, wd, lr, first ? 1 : 0);
  param.set(view(rt, 0, n));
  buf.set(view(rt, 2 * stride, n));
  return true;
}
