/**
 * The WebAssembly SIMD loop of the network's SGD update (sgd_wasm_impl.ts), assembled by shared/wasm_asm.ts:
 * torch.optim.SGD's momentum update (not Nesterov), two elements per f64x2 step (a last odd one in scalar f64),
 * the float64 expressions of
 * sgd_impl.ts in the same order:
 *   d = g + wd·p                       (float32 operands promoted to float64, exactly)
 *   b = fround(d)                      first step
 *   b = fround(m·buf + c·d)            afterwards (c = 1 - dampening)
 *   p ← fround(p - lr·b)               (b promoted back from float32)
 */
import { F64, Func, I32, V128 } from '../shared/wasm_asm.js';
import { PAIR, runLoop, SINGLE, type Lane } from '../shared/wasm_loops.js';
import { wasmModule } from '../shared/wasm_runtime.js';

/** The float32 rounding of the step value on the stack, as float64 (Math.fround). */
const fround = (f: Func, lane: Lane): void => void (lane === SINGLE ? f.f32Demote().f64Promote() : f.demoteZero().promoteLow());

// sgdMomentum(p, g, buf, n, m, c, wd, lr, first): byte offsets of p, g, buf (n float32 each)
function sgdMomentumFunction(): Func<'sgdMomentum'> {
  const f = new Func('sgdMomentum', { p: I32, g: I32, buf: I32, n: I32, m: F64, c: F64, wd: F64, lr: F64, first: I32 });
  const { p, g, buf, n, m, c, wd, lr, first } = f.params;
  const loop = { end: f.local(I32), end8: f.local(I32), end2: f.local(I32) };
  const k = (): { s: number; v: number } => ({ s: f.local(F64), v: f.local(V128) });
  const P = k(), D = k(), B = k(), M = k(), C = k(), WD = k(), LR = k();
  for (const [param, both] of [[m, M], [c, C], [wd, WD], [lr, LR]] as const) f.get(param).tee(both.s).f64x2Splat().set(both.v);
  const get = (both: { s: number; v: number }, lane: Lane): void => void f.get(lane === SINGLE ? both.s : both.v);
  const set = (both: { s: number; v: number }, lane: Lane): void => void f.set(lane === SINGLE ? both.s : both.v);
  const step = (isFirst: boolean) => (lane: Lane, o: number): void => {
    //   d = g + wd·p
    f.get(p);
    lane.loadF32(f, o);
    f.tee(lane === SINGLE ? P.s : P.v);
    get(WD, lane);
    lane.mul(f);
    f.get(g);
    lane.loadF32(f, o);
    lane.add(f);
    set(D, lane);
    //   b = fround(d)  or  fround(m·buf + c·d); stored as the new momentum buffer
    if (isFirst) get(D, lane);
    else {
      f.get(buf);
      lane.loadF32(f, o);
      get(M, lane);
      lane.mul(f);
      get(D, lane);
      get(C, lane);
      lane.mul(f);
      lane.add(f);
    }
    fround(f, lane);
    set(B, lane);
    f.get(buf);
    get(B, lane);
    lane.storeF32(f, o);
    //   p ← fround(p - lr·b)
    f.get(p);
    get(P, lane);
    get(B, lane);
    get(LR, lane);
    lane.mul(f);
    lane.sub(f);
    lane.storeF32(f, o);
  };
  const pointers = [[g, 4], [buf, 4]] as const;
  f.get(first).ifElse();
  runLoop(f, p, n, pointers, loop, (offsets) => offsets.forEach((o) => step(true)(PAIR, o)), (lane) => step(true)(lane, 0));
  f.else();
  runLoop(f, p, n, pointers, loop, (offsets) => offsets.forEach((o) => step(false)(PAIR, o)), (lane) => step(false)(lane, 0));
  f.end();
  return f;
}

/** The module: "sgdMomentum" on the shared memory. */
export const sgdWasm = wasmModule(() => [sgdMomentumFunction()]);
