/**
 * The WebAssembly SIMD loop of the network's SGD update (sgd_wasm_impl.ts), assembled by shared/wasm_asm.ts:
 * torch.optim.SGD's momentum update (not Nesterov), two elements per f64x2 step, the float64 expressions of
 * sgd_impl.ts in the same order:
 *   d = g + wd·p                       (float32 operands promoted to float64, exactly)
 *   b = fround(d)                      first step
 *   b = fround(m·buf + c·d)            afterwards (c = 1 - dampening)
 *   p ← fround(p - lr·b)               (b promoted back from float32)
 */
import { F64, Func, I32, V128 } from '../shared/wasm_asm.js';
import { wasmModule } from '../shared/wasm_runtime.js';

// sgdMomentum(p, g, buf, pairs, m, c, wd, lr, first): byte offsets of p, g, buf; pairs = ceil(n / 2)
function sgdMomentumFunction(): Func<'sgdMomentum'> {
  const f = new Func('sgdMomentum', { p: I32, g: I32, buf: I32, pairs: I32, m: F64, c: F64, wd: F64, lr: F64, first: I32 });
  const { p, g, buf, pairs, m, c, wd, lr, first } = f.params;
  const P = f.local(V128), D = f.local(V128), B = f.local(V128), M = f.local(V128), C = f.local(V128), WD = f.local(V128), LR = f.local(V128);
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
  return f;
}

/** The module: "sgdMomentum" on the shared memory. */
export const sgdWasm = wasmModule(() => [sgdMomentumFunction()]);
