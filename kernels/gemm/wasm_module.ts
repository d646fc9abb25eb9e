/**
 * The WebAssembly SIMD micro-kernel of GEMM version 3, assembled by shared/wasm_asm.ts (no wat2wasm in the
 * toolchain, and a few dozen instructions do not need one).
 *
 * `gemm` computes C = A·B (or C += A·B) over K values of k, A in packed 4-row tiles, B read as P panels of 8
 * columns:
 *   gemm(a, ts4, b, pstride4, bk4, c, Mt, P, K, ldc4, accumulate)
 *     A  tile t (rows 4t .. 4t+3) at byte a + t·ts4, its 4 values of one k contiguous, k after k (16 bytes per
 *        step): what packRows4 (x, dy) and packA4 (dyᵀ) write, ts4 = 16 × the full K of the product
 *     B  the 8 values B[k, 8p .. 8p+7] contiguous at byte b + p·pstride4 + k·bk4: either packed panels
 *        (pstride4 = K·32, bk4 = 32: the inner loop streams one panel) or a row-major matrix as it is
 *        (pstride4 = 32, bk4 = row bytes: 32 bytes of each row, one k-block of rows at a time)
 *     C  (4·Mt) × (8·P) floats, row stride ldc4 bytes; written whole, or added to when accumulate ≠ 0
 * The caller blocks k (wasm_impl.ts): a call per block of k, the first writing C and the rest accumulating.
 * Starting the accumulators from C continues each output's sum in the same k order, so blocking changes
 * which memory the operands come from, not the result.
 * Packing A costs a pass over it (N·K floats, against the product's N·K·O multiply-adds) and buys a k step
 * of one pointer (the four rows at offsets 0, 4, 8, 12) instead of four, and for dyᵀ contiguous reads instead of
 * 16-byte reads O·4 bytes apart (with O·4 a multiple of 1 KB the K reads of one tile fall into a few L1 sets).
 * `packT` writes the panels of Bᵀ for a B given as the transpose of a row-major matrix (W for x·Wᵀ).
 * Micro-tile 4 rows × 8 columns held in 8 f32x4 accumulators: per k, two vector loads of B, four
 * broadcast loads of A (v128.load32_splat), eight multiplies and eight adds — 64 flops for 6 loads.
 * Loop order: panels outer, row tiles inner, so one block of a B panel (≤ KC·32 bytes) stays in L1 while
 * A streams from L2. Float32 accumulation: each output is a sum of K rounded float32 products in
 * k order (one lane per output), so |ŝ - s| ≤ γ_K(u32)·Σ|a||b| with u32 = 2⁻²⁴.
 */

import { F64, Func, I32, V128 } from '../shared/wasm_asm.js';
import { wasmModule } from '../shared/wasm_runtime.js';

// ---------------------------------------------------------------------------------------------------------
// gemm(a, ts4, b, pstride4, bk4, c, Mt, P, K, ldc4, accumulate)

function gemmFunction<N extends 'gemm' | 'gemmFma'>(name: N): Func<N> {
  const fma = name === 'gemmFma';
  const f = new Func(name, {
    a: I32, ts4: I32, b: I32, pstride4: I32, bk4: I32, c: I32, Mt: I32, P: I32, K: I32, ldc4: I32, accumulate: I32,
  });
  const { a, ts4, b, pstride4, bk4, c, Mt, P, K, ldc4, accumulate } = f.params;
  const p = f.local(I32), t = f.local(I32), bk = f.local(I32), k = f.local(I32), bp = f.local(I32), cp = f.local(I32);
  // the tile's pointer into A
  const ak = f.local(I32);
  // the broadcast, two B vectors, eight accumulators acc[r][j]
  const s = f.local(V128), b0 = f.local(V128), b1 = f.local(V128);
  const accs = Array.from({ length: 8 }, () => f.local(V128));
  const acc = (r: number, j: number): number => accs[2 * r + j]!;

  f.i32(0).set(p);
  f.block().loop(); // panels
  f.get(p).get(P).geU().brIf(1);
  //   bp = b + p·pstride4
  f.get(p).get(pstride4).mul().get(b).add().set(bp);
  f.i32(0).set(t);
  f.block().loop(); // row tiles
  f.get(t).get(Mt).geU().brIf(1);
  //   ak = a + t·ts4
  f.get(t).get(ts4).mul().get(a).add().set(ak);
  //   cp = c + 4t·ldc4 + 32p: the tile's first row in C
  f.get(t).i32(2).shl().get(ldc4).mul().get(c).add().get(p).i32(5).shl().add().set(cp);
  //   acc = 0, or C's current tile when accumulating over k-blocks (then the sums continue in the same order)
  f.get(accumulate).ifElse();
  for (let r = 0; r < 4; r++) {
    for (let j = 0; j < 2; j++) f.get(cp).v128Load(16 * j).set(acc(r, j));
    if (r < 3) f.get(cp).get(ldc4).add().set(cp);
  }
  f.else();
  for (let r = 0; r < 4; r++) for (let j = 0; j < 2; j++) f.v128Zero().set(acc(r, j));
  f.end();
  f.get(bp).set(bk).get(K).set(k);
  f.loop(); // k
  f.get(bk).v128Load(0).set(b0).get(bk).v128Load(16).set(b1);
  for (let r = 0; r < 4; r++) {
    f.get(ak).load32Splat(4 * r).set(s);
    for (let j = 0; j < 2; j++) {
      if (fma) f.get(s).get(j === 0 ? b0 : b1).get(acc(r, j)).f32x4RelaxedMadd().set(acc(r, j));
      else f.get(acc(r, j)).get(s).get(j === 0 ? b0 : b1).f32x4Mul().f32x4Add().set(acc(r, j));
    }
  }
  f.get(ak).i32(16).add().set(ak);
  f.get(bk).get(bk4).add().set(bk);
  f.get(k).i32(1).sub().tee(k).brIf(0);
  f.end(); // k
  //   store the 4 × 8 tile at cp = c + 4t·ldc4 + 32p
  f.get(t).i32(2).shl().get(ldc4).mul().get(c).add().get(p).i32(5).shl().add().set(cp);
  for (let r = 0; r < 4; r++) {
    f.get(cp).get(acc(r, 0)).v128Store(0).get(cp).get(acc(r, 1)).v128Store(16);
    if (r < 3) f.get(cp).get(ldc4).add().set(cp);
  }
  f.get(t).i32(1).add().set(t).br(0);
  f.end().end(); // row tiles
  f.get(p).i32(1).add().set(p).br(0);
  f.end().end(); // panels (moduleBytes closes the function)

  return f;
}

// ---------------------------------------------------------------------------------------------------------
// packT(src, ld4, K, cols, dst, P): panels of Bᵀ from a row-major (cols, K) matrix (W for x·Wᵀ), zero past cols
//   dst[p][k][c] = src[(8p + c)·ld + k]  for 8p + c < cols,  else 0
// Reads run along k (contiguous), writes every 32 bytes: one pass, scalar.

function packTFunction(): Func<'packT'> {
  const f = new Func('packT', { src: I32, ld4: I32, K: I32, cols: I32, dst: I32, P: I32 });
  const { src, ld4, K, cols, dst, P } = f.params;
  const p = f.local(I32), c = f.local(I32), j = f.local(I32), d = f.local(I32), s = f.local(I32), k = f.local(I32);
  f.i32(0).set(p);
  f.block().loop(); // panels
  f.get(p).get(P).geU().brIf(1);
  f.i32(0).set(c);
  f.block().loop(); // the 8 columns of the panel
  f.get(c).i32(8).geU().brIf(1);
  //   j = 8p + c;  d = dst + p·K·32 + 4c;  k = K
  f.get(p).i32(3).shl().get(c).add().set(j);
  f.get(p).get(K).mul().i32(5).shl().get(dst).add().get(c).i32(2).shl().add().set(d);
  f.get(K).set(k);
  f.get(j).get(cols).ltU().ifElse();
  f.get(j).get(ld4).mul().get(src).add().set(s);
  f.loop();
  f.get(d).get(s).f32Load().f32Store();
  f.get(s).i32(4).add().set(s).get(d).i32(32).add().set(d);
  f.get(k).i32(1).sub().tee(k).brIf(0);
  f.end();
  f.else();
  f.loop();
  f.get(d).f32Zero().f32Store();
  f.get(d).i32(32).add().set(d);
  f.get(k).i32(1).sub().tee(k).brIf(0);
  f.end();
  f.end();
  f.get(c).i32(1).add().set(c).br(0);
  f.end().end(); // columns
  f.get(p).i32(1).add().set(p).br(0);
  f.end().end(); // panels (moduleBytes closes the function)
  return f;
}

// ---------------------------------------------------------------------------------------------------------
// packA4(src, ld4, K, Mt, dst): 4-row tiles of Aᵀ from a row-major (K, ≥ 4·Mt) matrix src (dy for dyᵀ·x)
//   dst[t][k][r] = src[k·ld + 4t + r]   (r < 4): one 16-byte copy per (t, k)
// The last tile of an A whose row count is not a multiple of 4 reads up to 3 values past a row of src (the next
// row's, or past src's end inside the memory: the rows they fill are discarded).

function packA4Function(): Func<'packA4'> {
  const f = new Func('packA4', { src: I32, ld4: I32, K: I32, Mt: I32, dst: I32 });
  const { src, ld4, K, Mt, dst } = f.params;
  const t = f.local(I32), s = f.local(I32), d = f.local(I32), k = f.local(I32);
  f.get(dst).set(d);
  f.i32(0).set(t);
  f.block().loop(); // tiles
  f.get(t).get(Mt).geU().brIf(1);
  //   s = src + 16t; K rows of 16 bytes, ld4 apart, into K·16 contiguous bytes at d
  f.get(t).i32(4).shl().get(src).add().set(s);
  f.get(K).set(k);
  f.loop();
  f.get(d).get(s).v128Load().v128Store();
  f.get(s).get(ld4).add().set(s).get(d).i32(16).add().set(d);
  f.get(k).i32(1).sub().tee(k).brIf(0);
  f.end();
  f.get(t).i32(1).add().set(t).br(0);
  f.end().end(); // tiles (moduleBytes closes the function)
  return f;
}

// ---------------------------------------------------------------------------------------------------------
// packRows4(src, ld4, K, rows, Mt, dst): 4-row tiles of a row-major (rows, ≥ K) matrix src (x, dy)
//   dst[t][k][r] = src[min(4t + r, rows - 1)·ld + k]   (r < 4): four rows' k-runs of 4 read as vectors and
// transposed 4×4 by shuffles, a K not divisible by 4 finished value by value. Rows past the last repeat it (their
// outputs are discarded), so nothing is read outside src.

/** f32 lanes → the i8x16.shuffle byte lanes (0–3 from the first operand, 4–7 from the second) */
const f32Lanes = (...lanes: number[]): number[] => lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]);

function packRows4Function(): Func<'packRows4'> {
  const f = new Func('packRows4', { src: I32, ld4: I32, K: I32, rows: I32, Mt: I32, dst: I32 });
  const { src, ld4, K, rows, Mt, dst } = f.params;
  const t = f.local(I32), d = f.local(I32), k = f.local(I32), r = f.local(I32);
  const ptr = [f.local(I32), f.local(I32), f.local(I32), f.local(I32)] as const;
  const v = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)] as const;
  const u = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)] as const;
  f.get(dst).set(d);
  f.i32(0).set(t);
  f.block().loop(); // tiles
  f.get(t).get(Mt).geU().brIf(1);
  //   ptr[j] = src + min(4t + j, rows - 1)·ld4
  for (let j = 0; j < 4; j++) {
    f.get(t).i32(2).shl().i32(j).add().tee(r).get(rows).i32(1).sub().get(r).get(rows).ltU().select();
    f.get(ld4).mul().get(src).add().set(ptr[j]);
  }
  //   k-runs of 4: v[j] = row j's 4 values; u = pairs interleaved; the four k's columns stored one after another
  f.get(K).i32(2).shrU().set(k);
  f.block().loop();
  f.get(k).eqz().brIf(1);
  for (let j = 0; j < 4; j++) f.get(ptr[j]).v128Load().set(v[j]);
  f.get(v[0]).get(v[1]).shuffle(f32Lanes(0, 4, 1, 5)).set(u[0]);
  f.get(v[0]).get(v[1]).shuffle(f32Lanes(2, 6, 3, 7)).set(u[1]);
  f.get(v[2]).get(v[3]).shuffle(f32Lanes(0, 4, 1, 5)).set(u[2]);
  f.get(v[2]).get(v[3]).shuffle(f32Lanes(2, 6, 3, 7)).set(u[3]);
  f.get(d).get(u[0]).get(u[2]).shuffle(f32Lanes(0, 1, 4, 5)).v128Store(0);
  f.get(d).get(u[0]).get(u[2]).shuffle(f32Lanes(2, 3, 6, 7)).v128Store(16);
  f.get(d).get(u[1]).get(u[3]).shuffle(f32Lanes(0, 1, 4, 5)).v128Store(32);
  f.get(d).get(u[1]).get(u[3]).shuffle(f32Lanes(2, 3, 6, 7)).v128Store(48);
  for (let j = 0; j < 4; j++) f.get(ptr[j]).i32(16).add().set(ptr[j]);
  f.get(d).i32(64).add().set(d);
  f.get(k).i32(1).sub().set(k);
  f.br(0).end().end();
  //   the last K mod 4 values, one k at a time
  f.get(K).i32(3).and().set(k);
  f.block().loop();
  f.get(k).eqz().brIf(1);
  for (let j = 0; j < 4; j++) {
    f.get(d).get(ptr[j]).f32Load().f32Store(4 * j);
    f.get(ptr[j]).i32(4).add().set(ptr[j]);
  }
  f.get(d).i32(16).add().set(d);
  f.get(k).i32(1).sub().set(k);
  f.br(0).end().end();
  f.get(t).i32(1).add().set(t).br(0);
  f.end().end(); // tiles (moduleBytes closes the function)
  return f;
}

// ---------------------------------------------------------------------------------------------------------
// Epilogues, C (rows × cols, row stride ldc4 bytes) into the output (row stride ldo4 bytes):
//   epilogue(c, ldc4, rows, cols, bias, relu, out, ldo4)      out = relu?(fl32(c + bias))  (bias 0: none; the
//                                                             sum in float64, rounded once, as gemm/api.ts states)
//   maskEpilogue(c, ldc4, rows, cols, mask, out, ldo4)         out = mask > 0 ? c : 0    (mask rows like out's)

/** for each of `rows` rows: the pairs of `cols`, then an odd last column, `step(lane)` with the row pointers set */
function rowsOfPairs(f: Func, rows: number, cols: number, pointers: readonly (readonly [number, number, number])[], step: (pair: boolean) => void): void {
  // pointers: [row pointer local, base param, row stride param]
  const r = f.local(I32), k = f.local(I32);
  f.i32(0).set(r);
  f.block().loop();
  f.get(r).get(rows).geU().brIf(1);
  for (const [p, base, stride] of pointers) f.get(r).get(stride).mul().get(base).add().set(p);
  f.get(cols).i32(1).shrU().set(k);
  f.block().loop();
  f.get(k).eqz().brIf(1);
  step(true);
  for (const [p] of pointers) f.get(p).i32(8).add().set(p);
  f.get(k).i32(1).sub().set(k);
  f.br(0).end().end();
  f.get(cols).i32(1).and().ifElse();
  step(false);
  f.end();
  f.get(r).i32(1).add().set(r);
  f.br(0).end().end();
}

function epilogue(): Func<'epilogue'> {
  const f = new Func('epilogue', { c: I32, ldc4: I32, rows: I32, cols: I32, bias: I32, relu: I32, out: I32, ldo4: I32 });
  const P = f.params;
  const pc = f.local(I32), po = f.local(I32), pb = f.local(I32), zeroRow = f.local(I32);
  const v = f.local(V128), zero = f.local(V128), vs = f.local(F64);
  f.v128Zero().set(zero);
  f.i32(0).set(zeroRow);
  // the bias row is the same for every row: stride 0
  for (const withBias of [true, false]) {
    for (const withRelu of [true, false]) {
      f.get(P.bias).eqz().i32(withBias ? 0 : 1).eq();
      f.get(P.relu).eqz().i32(withRelu ? 0 : 1).eq();
      f.and().ifElse();
      rowsOfPairs(f, P.rows, P.cols, [[pc, P.c, P.ldc4], [po, P.out, P.ldo4], [pb, P.bias, zeroRow]], (pair) => {
        f.get(po);
        if (pair) {
          f.get(pc).load64Zero().promoteLow();
          if (withBias) f.get(pb).load64Zero().promoteLow().f64x2Add();
          if (withRelu) f.tee(v).get(v).get(zero).f64x2Gt().v128And();
          f.demoteZero().store64Lane0();
        } else {
          f.get(pc).f32Load().f64Promote();
          if (withBias) f.get(pb).f32Load().f64Promote().f64Add();
          if (withRelu) f.tee(vs).f64(0).get(vs).f64(0).f64Gt().select();
          f.f32Demote().f32Store();
        }
      });
      f.end();
    }
  }
  return f;
}

function maskEpilogue(): Func<'maskEpilogue'> {
  const f = new Func('maskEpilogue', { c: I32, ldc4: I32, rows: I32, cols: I32, mask: I32, out: I32, ldo4: I32 });
  const P = f.params;
  const pc = f.local(I32), po = f.local(I32), pm = f.local(I32), zero = f.local(V128);
  f.v128Zero().set(zero);
  rowsOfPairs(f, P.rows, P.cols, [[pc, P.c, P.ldc4], [po, P.out, P.ldo4], [pm, P.mask, P.ldo4]], (pair) => {
    f.get(po);
    if (pair) f.get(pc).load64Zero().get(pm).load64Zero().get(zero).f32x4Gt().v128And().store64Lane0();
    else f.get(pc).f32Load().f32Zero().get(pm).f32Load().f32Zero().f32Gt().select().f32Store();
  });
  return f;
}

/** The module: the micro-kernel, the two packing passes and the epilogues on the shared memory. */
export const gemmWasm = wasmModule(() => [gemmFunction('gemm'), packTFunction(), packRows4Function(), packA4Function(), epilogue(), maskEpilogue()]);
/** The fused version, where the engine has relaxed SIMD. */
export const gemmFmaWasm = wasmModule(() => [gemmFunction('gemmFma')]);
