/**
 * The seed network's training step and eval forward in float32, on a workspace allocated once.
 *
 *   x (N, d0) → fc1 Linear d0→d1 → norm1 → ReLU → fc2 Linear d1→d2 → norm2 → ReLU → fc3 Linear d2→d3 → logits (N, d3)
 *   seed sizes [784, 256, 128, 10]; norm 'batchnorm' (BatchNorm1d, layers bn1/bn2), 'layernorm' (ln1/ln2) or 'none'.
 * Parameters and buffers are named as PyTorch's state_dict (fc1.weight (d1, d0), fc1.bias, bn1.weight, bn1.bias,
 * bn1.running_mean, bn1.running_var, bn1.num_batches_tracked, …), one Float32Array each; num_batches_tracked is
 * int64 in PyTorch and a one-element Float32Array here (exact up to 2²⁴ steps).
 *
 * A step (`trainStep`) is the PyTorch loop: forward in training mode (batch statistics, running buffers updated),
 * softmax cross-entropy (mean over the batch), backward, then torch.optim.SGD's update of every trainable
 * parameter (momentum, dampening, weight decay, Nesterov). Backward, layer by layer in reverse:
 *   dlogits = (softmax - onehot)/N
 *   fc3:  dW3 = dlogitsᵀ·a2, db3 = Σ dlogits,  dn2 = dlogits·W3 masked by a2 > 0   (ReLU backward fused in the GEMM)
 *   norm2 backward: dh2, dγ2, dβ2 from dn2 and the saved mean2, rstd2
 *   fc2:  dW2 = dh2ᵀ·a1, db2,  dn1 = dh2·W2 masked by a1 > 0
 *   norm1 backward: dh1, dγ1, dβ1
 *   fc1:  dW1 = dh1ᵀ·x, db1                     (no dx: nothing upstream needs it)
 * With norm 'none' the ReLU is fused into the forward GEMM and dh = dn.
 *
 * Workspace: every activation, gradient and statistic is allocated in the constructor for `maxBatch` rows; a
 * step at N ≤ maxBatch uses views of the first N rows and argument records for the kernels, made the first time
 * N is seen and cached (BatchPlan), so after the first step at a given N a step creates no typed array, no view
 * and no argument record. The caller's x is read, never written, and must not change between `forward` and
 * `backward`.
 *
 * Use:
 *   const net = new SeedNetKernel({ sizes: [784, 256, 128, 10], norm: 'batchnorm', maxBatch: 128 });
 *   net.initDefault(seed);                      // or net.loadStateDict({ 'fc1.weight': …, … }) from PyTorch
 *   const loss = net.trainStep(x, targets, N, { lr: 0.01, momentum: 0.9, weightDecay: 1e-4 });
 *   const logits = net.evalLogits(xTest, M);    // or net.predict(xTest, M): Int32Array of classes
 *   const state = net.exportStateDict();        // copies, by state-dict name
 *
 * The normalisation kernels are batchnorm/api.ts (BatchNorm1d on (N, C) is its channels-last case, with the
 * ReLU fused into the training and eval forward) and layernorm/api.ts (ReLU applied after, in place); the
 * GEMMs are gemm/api.ts. Saved statistics (mean, rstd) are float64, as those kernels keep them.
 */
import {
  batchNormBackward, batchNormEvalForward, batchNormTrainForward, BatchNormWorkspace,
  type BatchNormBackwardArgs, type BatchNormEvalForwardArgs, type BatchNormRunning, type BatchNormTrainForwardArgs,
} from '../batchnorm/api.js';
import { gemmDyTX, gemmDyW, gemmXWt, type DyTXOptions, type DyWOptions, type GemmDims, type GemmVersion, type XWtOptions } from '../gemm/api.js';
import { GEMM_DEFAULT } from '../registry.js';
import {
  layerNormBackward, layerNormForward, LayerNormWorkspace, type LayerNormBackwardArgs, type LayerNormForwardArgs,
} from '../layernorm/api.js';
import {
  argSpec, checkArgs, checkEps, checkF32, checkMomentum, describe, isF32, KernelShapeError, KernelValueError,
} from '../shared/args.js';
import { freeWasmArray, wasmFloat32Array, wasmFloat64Array } from '../shared/wasm_arrays.js';
import { fillUniform, mulberry32 } from './init.js';
import { argmaxRows, crossEntropyForwardBackward } from './loss.js';
import { checkSgdOptions, sgdUpdate, type SgdOptions } from './sgd_impl.js';

export type { SgdOptions } from './sgd_impl.js';

export type NormKind = 'batchnorm' | 'layernorm' | 'none';

export interface SeedNetKernelConfig {
  /** [input, hidden1, hidden2, classes]; the seed is [784, 256, 128, 10]. */
  sizes: readonly [number, number, number, number];
  norm: NormKind;
  /** Added to the variance inside the square root (PyTorch: 1e-5). */
  eps: number;
  /** BatchNorm momentum, PyTorch's meaning (fraction of the batch statistic); null: cumulative average. */
  momentum: number | null;
  /** Rows the workspace holds; every step and forward takes N ≤ maxBatch. */
  maxBatch: number;
  /** GEMM version (default: kernels/registry.ts's GEMM_DEFAULT). */
  gemm?: GemmVersion;
}

export const SEED_NET_KERNEL: SeedNetKernelConfig = {
  sizes: [784, 256, 128, 10], norm: 'batchnorm', eps: 1e-5, momentum: 0.1, maxBatch: 128,
};

const NORM_PREFIX: Record<NormKind, string> = { batchnorm: 'bn', layernorm: 'ln', none: '' };

/** State-dict names and shapes in PyTorch's order (the same list as reference/network.ts's seedNetShapes). */
export function seedNetKernelShapes(config: Pick<SeedNetKernelConfig, 'sizes' | 'norm'>): [string, number[]][] {
  const [d0, d1, d2, d3] = config.sizes;
  const p = NORM_PREFIX[config.norm];
  const norm = (k: number, d: number): [string, number[]][] => {
    if (config.norm === 'none') return [];
    const layer: [string, number[]][] = [[`${p}${k}.weight`, [d]], [`${p}${k}.bias`, [d]]];
    if (config.norm === 'batchnorm') {
      layer.push([`${p}${k}.running_mean`, [d]], [`${p}${k}.running_var`, [d]], [`${p}${k}.num_batches_tracked`, [1]]);
    }
    return layer;
  };
  return [
    ['fc1.weight', [d1, d0]], ['fc1.bias', [d1]], ...norm(1, d1),
    ['fc2.weight', [d2, d1]], ['fc2.bias', [d2]], ...norm(2, d2),
    ['fc3.weight', [d3, d2]], ['fc3.bias', [d3]],
  ];
}

/** Buffers are updated by the forward pass, not by the optimiser. */
export function isBufferName(name: string): boolean {
  return /\.(running_mean|running_var|num_batches_tracked)$/.test(name);
}

/**
 * Everything a step at batch N passes to the kernels, made once per N: views of the first N rows of every
 * workspace array, the GEMM dims, and the argument records of the norm kernels (their inputs and outputs are
 * workspace views, fixed for a given N). A step then creates no object at all on its own account.
 */
interface BatchPlan {
  h1: Float32Array; a1: Float32Array; h2: Float32Array; a2: Float32Array; logits: Float32Array;
  mean1: Float64Array; rstd1: Float64Array; mean2: Float64Array; rstd2: Float64Array;
  dlogits: Float32Array; dn2: Float32Array; dh2: Float32Array; dn1: Float32Array; dh1: Float32Array;
  predictions: Int32Array;
  dims: [GemmDims, GemmDims, GemmDims];
  /** input-gradient GEMM options per Linear layer: the ReLU mask is the layer's input (a1 for fc2, a2 for fc3) */
  dxOptions: (DyWOptions | null)[];
  /** per norm layer (index 0, 1): training forward, eval forward and backward records; null where not used */
  bnTrain: (BatchNormTrainForwardArgs | null)[];
  bnEval: (BatchNormEvalForwardArgs | null)[];
  bnBackward: (BatchNormBackwardArgs | null)[];
  lnForward: (LayerNormForwardArgs | null)[];
  lnBackward: (LayerNormBackwardArgs | null)[];
}

/** The parameter, gradient and scratch arrays of one norm layer, resolved once. */
interface NormLayer {
  weight: Float32Array; bias: Float32Array; dweight: Float32Array; dbias: Float32Array;
  bn: BatchNormWorkspace | null; ln: LayerNormWorkspace | null;
  /** BatchNorm: the running record the kernel updates (arrays are the parameters) and num_batches_tracked */
  running: BatchNormRunning | null; count: Float32Array | null;
}

export class SeedNetKernel {
  readonly config: Readonly<SeedNetKernelConfig>;
  /** Parameters and buffers by state-dict name; the arrays are updated in place and never replaced. */
  readonly params: Readonly<Record<string, Float32Array>>;
  /** Gradients of the trainable parameters from the last backward, by parameter name. */
  readonly grads: Readonly<Record<string, Float32Array>>;
  /** torch.optim.SGD's momentum_buffer per trainable parameter (meaningful once a step with momentum ran). */
  readonly momentumBuffers: Readonly<Record<string, Float32Array>>;
  /** Names of the trainable parameters, in state-dict order. */
  readonly trainable: readonly string[];

  private readonly ws: Record<string, Float32Array>;
  private readonly stats: Record<'mean1' | 'rstd1' | 'mean2' | 'rstd2', Float64Array>;
  private readonly predictionsAll: Int32Array;
  /** The two norm layers (empty for norm 'none'). */
  private readonly normLayers: NormLayer[];
  /** GEMM option records per Linear layer (index 0..2): forward, weight gradient, input gradient. */
  private readonly fwdOptions: XWtOptions[];
  private readonly dwOptions: DyTXOptions[];
  private readonly plans = new Map<number, BatchPlan>();
  private hasMomentum = false;
  /** Set by forward: the batch and input the saved activations belong to, and whether it was training mode. */
  private lastN = 0;
  private lastX: Float32Array | null = null;
  private lastTraining = false;
  /** the wasm arrays this network allocated (freed by dispose, or when the network is collected) */
  private readonly owned: (Float32Array | Float64Array)[] = [];
  private disposed = false;

  constructor(config: Partial<SeedNetKernelConfig> = {}) {
    checkArgs(CONFIG_ARGS, config, 'config.');
    const full: SeedNetKernelConfig = { ...SEED_NET_KERNEL, ...config };
    checkConfig(full);
    this.config = Object.freeze({ ...full, sizes: [...full.sizes] as unknown as SeedNetKernelConfig['sizes'] });
    const [, d1, d2, d3] = full.sizes;
    const B = full.maxBatch;
    // every array in the kernels' WebAssembly memory, so the wasm GEMM, BatchNorm, LayerNorm and SGD versions use
    // them in place; freed when the network is disposed or collected
    const owned = this.owned;
    const f32 = (n: number): Float32Array => {
      const a = wasmFloat32Array(n);
      owned.push(a);
      return a;
    };
    const f64 = (n: number): Float64Array => {
      const a = wasmFloat64Array(n);
      owned.push(a);
      return a;
    };

    const params: Record<string, Float32Array> = {};
    const grads: Record<string, Float32Array> = {};
    const momentumBuffers: Record<string, Float32Array> = {};
    const trainable: string[] = [];
    for (const [name, shape] of seedNetKernelShapes(full)) {
      const size = shape.reduce((a, b) => a * b, 1);
      params[name] = f32(size);
      if (!isBufferName(name)) {
        grads[name] = f32(size);
        momentumBuffers[name] = f32(size);
        trainable.push(name);
      }
    }
    this.params = params;
    this.grads = grads;
    this.momentumBuffers = momentumBuffers;
    this.trainable = trainable;
    // per-row statistics: BatchNorm has one per channel, LayerNorm one per row
    const stat1 = full.norm === 'layernorm' ? B : d1;
    const stat2 = full.norm === 'layernorm' ? B : d2;
    this.ws = {
      h1: f32(B * d1), a1: f32(B * d1),
      h2: f32(B * d2), a2: f32(B * d2),
      logits: f32(B * d3), dlogits: f32(B * d3),
      dn2: f32(B * d2), dh2: f32(B * d2),
      dn1: f32(B * d1), dh1: f32(B * d1),
    };
    this.stats = {
      mean1: f64(stat1), rstd1: f64(stat1), mean2: f64(stat2), rstd2: f64(stat2),
    };
    this.predictionsAll = new Int32Array(B);
    const p = NORM_PREFIX[full.norm];
    this.normLayers = full.norm === 'none' ? [] : [d1, d2].map((d, j): NormLayer => {
      const name = `${p}${j + 1}`;
      const bn = full.norm === 'batchnorm';
      return {
        weight: params[`${name}.weight`]!, bias: params[`${name}.bias`]!, dweight: grads[`${name}.weight`]!, dbias: grads[`${name}.bias`]!,
        bn: bn ? new BatchNormWorkspace(d) : null,
        ln: bn ? null : new LayerNormWorkspace(d),
        // the running record points at the parameter arrays, so the kernel's in-place update lands in params
        running: bn ? { runningMean: params[`${name}.running_mean`]!, runningVar: params[`${name}.running_var`]!, numBatchesTracked: 0 } : null,
        count: bn ? params[`${name}.num_batches_tracked`]! : null,
      };
    });
    const version = full.gemm ?? GEMM_DEFAULT;
    const relu = full.norm === 'none'; // no norm layer between a Linear and its ReLU: fuse the ReLU into the GEMM
    this.fwdOptions = [1, 2, 3].map((k) => ({ bias: params[`fc${k}.bias`]!, relu: relu && k < 3, version }));
    this.dwOptions = [1, 2, 3].map((k) => ({ dbias: grads[`fc${k}.bias`]!, version }));
    this.initDefault(0);
    collected.register(this, owned, this);
  }

  /**
   * Frees the network's arrays in the kernels' WebAssembly memory now, instead of when the network is collected.
   * The network, and every view it returned, must not be used afterwards.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    collected.unregister(this);
    freeAll(this.owned);
  }

  /**
   * PyTorch's default initialisation from a seeded stream (init.ts): Linear weight and bias
   * U(±1/sqrt(fan_in)); norm weight 1, bias 0; running_mean 0, running_var 1, num_batches_tracked 0.
   * Resets the optimiser's momentum buffers.
   */
  initDefault(seed: number): void {
    const next = mulberry32(seed);
    const [d0, d1, d2] = this.config.sizes;
    const fanIn: Record<string, number> = { fc1: d0, fc2: d1, fc3: d2 };
    for (const [name, p] of Object.entries(this.params)) {
      const [layer, field] = name.split('.') as [string, string];
      if (layer in fanIn) fillUniform(p, 1 / Math.sqrt(fanIn[layer]!), next);
      else p.fill(field === 'weight' || field === 'running_var' ? 1 : 0);
    }
    this.resetOptimizer();
  }

  /** Forget the momentum buffers: the next step starts them from its gradient, as a fresh torch.optim.SGD does. */
  resetOptimizer(): void {
    this.hasMomentum = false;
    for (const b of Object.values(this.momentumBuffers)) b.fill(0);
  }

  /**
   * Copies every tensor of a state dict into the parameters (float64 values are rounded to float32).
   * Every name of this network must be present with its size; unknown names are an error.
   */
  loadStateDict(dict: Readonly<Record<string, ArrayLike<number>>>): void {
    const shapes = seedNetKernelShapes(this.config);
    const known = new Set(shapes.map(([n]) => n));
    if (dict === null || typeof dict !== 'object') throw new KernelValueError(`stateDict: expected an object of tensors by name, got ${describe(dict)}`);
    for (const name of Object.keys(dict)) {
      if (!known.has(name)) throw new KernelValueError(`stateDict['${name}']: not a tensor of this network (expected one of ${[...known].join(', ')})`);
    }
    for (const [name, shape] of shapes) {
      const src = dict[name];
      const size = shape.reduce((a, b) => a * b, 1);
      if (src == null || typeof src !== 'object' || typeof src.length !== 'number') {
        throw new KernelValueError(`stateDict['${name}']: expected a tensor of shape (${shape.join(', ')}) (${size} values), got ${describe(src)}`);
      }
      if (src.length !== size) throw new KernelShapeError(`stateDict['${name}']: expected shape (${shape.join(', ')}) (${size} values), got ${src.length} values`);
      // every element a number (a string or a hole would be converted silently by Float32Array.set)
      for (let i = 0; i < size; i++) {
        const v = src[i];
        if (typeof v !== 'number' && typeof v !== 'bigint') throw new KernelValueError(`stateDict['${name}'][${i}]: expected a number, got ${describe(v)}`);
      }
      // PyTorch's num_batches_tracked is an int64 count: a fraction or a negative count is not one
      if (name.endsWith('.num_batches_tracked')) {
        const v = Number(src[0]);
        if (!Number.isInteger(v) || v < 0 || v > 2 ** 24) {
          throw new KernelValueError(`stateDict['${name}'][0]: expected a non-negative integer count (at most 2^24, exact in float32), got ${describe(src[0])}`);
        }
      }
    }
    for (const [name] of shapes) {
      const src = dict[name]!;
      const dst = this.params[name]!;
      for (let i = 0; i < dst.length; i++) dst[i] = Number(src[i]);
    }
  }

  /** A copy of every parameter and buffer, by state-dict name. */
  exportStateDict(): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    for (const [name, p] of Object.entries(this.params)) out[name] = Float32Array.from(p);
    return out;
  }

  /**
   * Forward pass on x (N, d0). Training mode uses batch statistics and updates the running buffers
   * (BatchNorm); eval mode uses the running buffers. Returns a view of the logits (N, d3) in the workspace,
   * valid until the next call.
   */
  forward(x: Float32Array, N: number, training: boolean): Float32Array {
    const d0 = this.config.sizes[0];
    if (training && N < 2 && this.config.norm === 'batchnorm') {
      // checked here so the error names the network's argument, not the BatchNorm kernel's
      throw new KernelShapeError(`N: BatchNorm in training mode needs a batch of at least 2 (PyTorch: "Expected more than 1 value per channel when training"), got ${N}`);
    }
    const v = this.plan(N);
    if (!isF32(x, N * d0)) checkF32('x', x, N * d0, `an input of shape (N, ${d0}) = (${N}, ${d0})`);
    const P = this.params;
    const fused = this.normLayers.length === 0;
    // fc1 (+ ReLU when there is no norm layer between), norm1 + ReLU
    gemmXWt(x, P['fc1.weight']!, fused ? v.a1 : v.h1, v.dims[0], this.fwdOptions[0]);
    if (!fused) this.norm(0, v, training);
    // fc2, norm2 + ReLU
    gemmXWt(v.a1, P['fc2.weight']!, fused ? v.a2 : v.h2, v.dims[1], this.fwdOptions[1]);
    if (!fused) this.norm(1, v, training);
    // fc3
    gemmXWt(v.a2, P['fc3.weight']!, v.logits, v.dims[2], this.fwdOptions[2]);
    this.lastN = N;
    this.lastX = x;
    this.lastTraining = training;
    return v.logits;
  }

  /**
   * Loss (softmax cross-entropy, mean over the batch) of the last forward and the gradients of every trainable
   * parameter into `grads`. Requires a training-mode forward just before.
   */
  backward(targets: ArrayLike<number>): number {
    const x = this.lastX;
    if (x === null || !this.lastTraining) throw new KernelValueError('backward: expected a training-mode forward(x, N, true) first');
    const N = this.lastN;
    const v = this.plan(N);
    const P = this.params;
    const G = this.grads;
    const fused = this.normLayers.length === 0;
    const loss = crossEntropyForwardBackward(v.logits, targets, v.dlogits, N, this.config.sizes[3]);
    // fc3, then ReLU2's backward fused into dn2 = dlogits·W3 (masked by a2 > 0)
    gemmDyTX(v.dlogits, v.a2, G['fc3.weight']!, v.dims[2], this.dwOptions[2]);
    gemmDyW(v.dlogits, P['fc3.weight']!, v.dn2, v.dims[2], v.dxOptions[2]!);
    // norm2
    if (!fused) this.normBackward(1, v);
    const dh2 = fused ? v.dn2 : v.dh2;
    // fc2, then ReLU1's backward
    gemmDyTX(dh2, v.a1, G['fc2.weight']!, v.dims[1], this.dwOptions[1]);
    gemmDyW(dh2, P['fc2.weight']!, v.dn1, v.dims[1], v.dxOptions[1]!);
    // norm1
    if (!fused) this.normBackward(0, v);
    const dh1 = fused ? v.dn1 : v.dh1;
    // fc1: weight and bias gradients only
    gemmDyTX(dh1, x, G['fc1.weight']!, v.dims[0], this.dwOptions[0]);
    return loss;
  }

  /** torch.optim.SGD's step on every trainable parameter from `grads`. */
  sgdStep(sgd: SgdOptions): void {
    checkSgdOptions(sgd);
    const first = !this.hasMomentum;
    for (const name of this.trainable) sgdUpdate(this.params[name]!, this.grads[name]!, this.momentumBuffers[name]!, first, sgd);
    if ((sgd.momentum ?? 0) !== 0) this.hasMomentum = true;
  }

  /** One training step: forward (training mode), loss, backward, SGD. Returns the loss. */
  trainStep(x: Float32Array, targets: ArrayLike<number>, N: number, sgd: SgdOptions): number {
    checkSgdOptions(sgd);
    this.forward(x, N, true);
    const loss = this.backward(targets);
    this.sgdStep(sgd);
    return loss;
  }

  /** Eval-mode logits (N, d3): a view into the workspace, valid until the next call. */
  evalLogits(x: Float32Array, N: number): Float32Array {
    return this.forward(x, N, false);
  }

  /** Eval-mode predicted class per row (argmax of the logits): a view into the workspace, valid until the next call. */
  predict(x: Float32Array, N: number): Int32Array {
    const logits = this.forward(x, N, false);
    const v = this.plan(N);
    argmaxRows(logits, v.predictions, N, this.config.sizes[3]);
    return v.predictions;
  }

  /** The forward activations of the last call (views), for tests and debugging. */
  activations(): { h1: Float32Array; a1: Float32Array; h2: Float32Array; a2: Float32Array; logits: Float32Array } | null {
    if (this.lastX === null) return null;
    const { h1, a1, h2, a2, logits } = this.plan(this.lastN);
    return { h1, a1, h2, a2, logits };
  }

  // -------------------------------------------------------------------------------------------------------
  // wiring

  private plan(N: number): BatchPlan {
    const cached = this.plans.get(N);
    if (cached !== undefined) return cached;
    const B = this.config.maxBatch;
    if (!Number.isInteger(N) || N < 1 || N > B) throw new KernelShapeError(`N: expected an integer batch size in [1, ${B}] (maxBatch), got ${N}`);
    const [d0, d1, d2, d3] = this.config.sizes;
    const { eps, momentum } = this.config;
    const w = this.ws;
    const rows = (a: Float32Array, d: number) => a.subarray(0, N * d);
    const stats = (a: Float64Array) => (this.config.norm === 'layernorm' ? a.subarray(0, N) : a);
    const st = this.stats;
    const v: BatchPlan = {
      h1: rows(w.h1!, d1), a1: rows(w.a1!, d1), h2: rows(w.h2!, d2), a2: rows(w.a2!, d2), logits: rows(w.logits!, d3),
      mean1: stats(st.mean1), rstd1: stats(st.rstd1), mean2: stats(st.mean2), rstd2: stats(st.rstd2),
      dlogits: rows(w.dlogits!, d3), dn2: rows(w.dn2!, d2), dh2: rows(w.dh2!, d2), dn1: rows(w.dn1!, d1), dh1: rows(w.dh1!, d1),
      predictions: this.predictionsAll.subarray(0, N),
      dims: [{ N, I: d0, O: d1 }, { N, I: d1, O: d2 }, { N, I: d2, O: d3 }],
      dxOptions: [],
      bnTrain: [], bnEval: [], bnBackward: [], lnForward: [], lnBackward: [],
    };
    const version = this.config.gemm ?? GEMM_DEFAULT;
    v.dxOptions = [null, { reluMask: v.a1, version }, { reluMask: v.a2, version }];
    this.normLayers.forEach((L, j) => {
      const [h, a, dn, dh, mean, rstd, d] = j === 0
        ? [v.h1, v.a1, v.dn1, v.dh1, v.mean1, v.rstd1, d1] as const
        : [v.h2, v.a2, v.dn2, v.dh2, v.mean2, v.rstd2, d2] as const;
      const { weight, bias, dweight, dbias } = L;
      if (L.bn !== null) {
        const dims = { N, C: d, S: 1 };
        const workspace = L.bn;
        v.bnTrain[j] = { x: h, dims, layout: 'NHWC', weight, bias, eps, relu: true, running: L.running, momentum, y: a, mean, rstd, workspace };
        v.bnEval[j] = {
          x: h, dims, layout: 'NHWC', weight, bias, running: L.running!,
          eps, relu: true, y: a, mean, rstd, workspace,
        };
        // the ReLU's backward is already in dn (the GEMM's mask), so the BatchNorm backward is the plain one
        v.bnBackward[j] = { dy: dn, x: h, dims, layout: 'NHWC', weight, mean, rstd, training: true, dx: dh, dweight, dbias, workspace };
      } else {
        const dims = { R: N, D: d };
        v.lnForward[j] = { x: h, dims, weight, bias, eps, y: a, mean, rstd };
        v.lnBackward[j] = { dy: dn, x: h, dims, weight, mean, rstd, dx: dh, dweight, dbias, workspace: L.ln! };
      }
    });
    this.plans.set(N, v);
    return v;
  }

  /** Norm layer j (0, 1) then ReLU, from h into a, saving mean and rstd for the backward. */
  private norm(j: number, v: BatchPlan, training: boolean): void {
    const L = this.normLayers[j]!;
    if (L.ln !== null) {
      // LayerNorm has no running statistics: the same in training and eval
      layerNormForward(v.lnForward[j]!);
      const a = j === 0 ? v.a1 : v.a2;
      for (let i = 0; i < a.length; i++) if (!(a[i]! > 0)) a[i] = 0; // ReLU in place
      return;
    }
    if (!training) {
      batchNormEvalForward(v.bnEval[j]!);
      return;
    }
    // num_batches_tracked lives in the parameter array (state dict); the kernel counts in its running record
    const running = L.running!;
    const count = L.count!;
    running.numBatchesTracked = count[0]!;
    batchNormTrainForward(v.bnTrain[j]!);
    count[0] = running.numBatchesTracked;
  }

  /** Backward of norm layer j given the gradient at its output, ReLU's backward already applied (the GEMM's mask). */
  private normBackward(j: number, v: BatchPlan): void {
    if (this.normLayers[j]!.ln !== null) layerNormBackward(v.lnBackward[j]!);
    else batchNormBackward(v.bnBackward[j]!);
  }
}

function freeAll(arrays: (Float32Array | Float64Array)[]): void {
  for (const a of arrays.splice(0)) freeWasmArray(a);
}

/** Frees a collected network's wasm arrays (they are referenced only through the network's own fields). */
const collected = new FinalizationRegistry<(Float32Array | Float64Array)[]>(freeAll);

const CONFIG_ARGS = argSpec('SeedNetKernel', [], {
  sizes: '[784, 256, 128, 10]', norm: "'batchnorm'", eps: '1e-5', momentum: '0.1; pass null for the cumulative average',
  maxBatch: '128', gemm: 'GEMM_DEFAULT',
});

function checkConfig(c: SeedNetKernelConfig): void {
  if (!Array.isArray(c.sizes) || c.sizes.length !== 4 || c.sizes.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 1)) {
    throw new KernelShapeError(`config.sizes: expected four positive integers [input, hidden1, hidden2, classes], got ${Array.isArray(c.sizes) ? `[${c.sizes.map(describe).join(', ')}]` : describe(c.sizes)}`);
  }
  if (typeof c.norm !== 'string' || !(c.norm in NORM_PREFIX)) throw new KernelValueError(`config.norm: expected 'batchnorm', 'layernorm' or 'none', got ${describe(c.norm)}`);
  checkEps(c.eps, 'config.eps');
  checkMomentum(c.momentum, 'config.momentum');
  if (typeof c.maxBatch !== 'number' || !Number.isInteger(c.maxBatch) || c.maxBatch < 1) {
    throw new KernelShapeError(`config.maxBatch: expected a positive integer, got ${describe(c.maxBatch)}`);
  }
}
