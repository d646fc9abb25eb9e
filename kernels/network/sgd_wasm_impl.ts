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
 * Arrays in the kernels' memory (the seed network keeps its parameters there) are updated in place; others are
 * copied into its scratch block and the updated ones copied out (memcpys, cached views: no allocation after the
 * first call at a given size).
 */
import { beginStage, finishOut, stagedBytes, stageIn, stageOut } from '../shared/stage.js';
import { sgdWasm } from './wasm_module.js';

/**
 * The momentum update (Nesterov off) of param and buf in place, as sgd_impl.ts's loops compute it.
 * Returns false, doing nothing, where WebAssembly SIMD is unavailable.
 */
export function sgdMomentumWasm(
  param: Float32Array, grad: Float32Array, buf: Float32Array, first: boolean, m: number, c: number, wd: number, lr: number,
): boolean {
  const rt = sgdWasm();
  if (rt === null) return false;
  const h = rt.heap;
  const n = param.length;
  if (n === 0) return true;
  if (!beginStage(h, stagedBytes(h, param) + stagedBytes(h, grad) + stagedBytes(h, buf))) return false;
  // arrays in the kernels' memory are updated in place; others go through scratch slots
  const pa = stageIn(h, param);
  const ga = stageIn(h, grad);
  const ba = first ? stageOut(h, buf) : stageIn(h, buf);
  rt.fn.sgdMomentum(pa, ga, ba, n, m, c, wd, lr, first ? 1 : 0);
  finishOut(h, param, pa);
  finishOut(h, buf, ba);
  return true;
}
