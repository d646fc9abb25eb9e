/**
 * torch.optim.SGD's momentum update (not Nesterov) of sgd_impl.ts in WebAssembly SIMD (wasm_module.ts), two elements per
 * f64x2 step, the same float64 expressions in the same order as the TypeScript loops, so the result is the
 * same bit for bit:
 *   d = g + wd·p                       (float32 operands promoted to float64, exactly)
 *   b = fround(d)                      first step
 *   b = fround(m·buf + c·d)            afterwards (c = 1 - dampening)
 *   p ← fround(p - lr·b)               (b promoted back from float32)
 * Every f64x2 lane operation is the IEEE double operation JavaScript does, and f32x4.demote_f64x2_zero rounds
 * to nearest even as Math.fround and a Float32Array store do. Measured on the seed network (235 146 trainable
 * values) this update is memory- and instruction-bound in TypeScript; here it is one pass of 2-wide vectors.
 * The arrays are copied into the shared wasm memory and the updated ones copied out (memcpys, cached views:
 * no allocation after the first call at a given size).
 */
import { beginStage, stageBytes } from '../shared/stage.js';
import { f32View } from '../shared/wasm_runtime.js';
import { sgdWasm } from './wasm_module.js';

/**
 * The momentum update (Nesterov off) of param and buf in place, as sgd_impl.ts's loops compute it.
 * Returns false, doing nothing, where WebAssembly SIMD is unavailable.
 */
export function sgdMomentumWasm(
  param: Float32Array, grad: Float32Array, buf: Float32Array, first: boolean, m: number, c: number, wd: number, lr: number,
): boolean {
  const n = param.length;
  // p, g, buf back to back, each rounded up to 4 floats (the last pair may read one float past n: discarded)
  const stride = Math.ceil(n / 4) * 4;
  const rt = sgdWasm();
  if (rt === null || !beginStage(rt.heap, 3 * stride * 4)) return false;
  if (n === 0) return true;
  const base = stageBytes(3 * stride * 4);
  const f32 = rt.heap.f32;
  f32.set(param, base >> 2);
  f32.set(grad, (base >> 2) + stride);
  if (!first) f32.set(buf, (base >> 2) + 2 * stride);
  rt.fn.sgdMomentum(base, base + stride * 4, base + 2 * stride * 4, Math.ceil(n / 2), m, c, wd, lr, first ? 1 : 0);
  param.set(f32View(rt.heap, base, n));
  buf.set(f32View(rt.heap, base + 2 * stride * 4, n));
  return true;
}
