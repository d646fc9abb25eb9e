/**
 * The WebAssembly SIMD loop of the InstanceNorm "wasm" version's eval path (wasm_impl.ts), assembled by
 * shared/wasm_asm.ts with the lanes and loops of shared/wasm_loops.ts (float64 arithmetic, float32 storage, tails
 * in wasm). The statistics path is GroupNorm's module (groupnorm/wasm_module.ts), and so is the NHWC eval path
 * (its nhwcNorm with dm = 0).
 *
 *   blockAffine(x, y, blocks, S, shift, scale, off)
 *     NCHW: for each instance i of `blocks` contiguous runs of S values,  y = (x - shift[i])·scale[i] + off[i]
 *     (shift, scale, off: float64 tables of `blocks` values)                  (forward_impl.ts's expression)
 */
import { Func, I32 } from '../shared/wasm_asm.js';
import { PAIR, runLoop, type Lane } from '../shared/wasm_loops.js';
import { wasmModule } from '../shared/wasm_runtime.js';
import { both, forRange, getBoth, runLocals, setBoth } from '../shared/wasm_steps.js';

function blockAffine(): Func<'blockAffine'> {
  const f = new Func('blockAffine', { x: I32, y: I32, blocks: I32, S: I32, shift: I32, scale: I32, off: I32 });
  const P = f.params;
  const i = f.local(I32), t = f.local(I32);
  const L = runLocals(f);
  const K = both(f), SC = both(f), OFF = both(f);
  const step = (lane: Lane, o: number): void => {
    f.get(P.y).get(P.x);
    lane.loadF32(f, o);
    getBoth(f, K, lane);
    lane.sub(f);
    getBoth(f, SC, lane);
    lane.mul(f);
    getBoth(f, OFF, lane);
    lane.add(f);
    lane.storeF32(f, o);
  };
  forRange(f, i, P.blocks, () => {
    f.get(i).i32(3).shl().set(t);
    f.get(t).get(P.shift).add().f64Load();
    setBoth(f, K);
    f.get(t).get(P.scale).add().f64Load();
    setBoth(f, SC);
    f.get(t).get(P.off).add().f64Load();
    setBoth(f, OFF);
    // x and y advance run by run: the instances are contiguous
    runLoop(f, P.x, P.S, [[P.y, 4]], L, (offsets) => offsets.forEach((o) => step(PAIR, o)), (lane) => step(lane, 0));
  });
  return f;
}

/** The module: the function of the header, exported by name, on the kernels' memory. */
export const instanceNormWasm = wasmModule(() => [blockAffine()]);
