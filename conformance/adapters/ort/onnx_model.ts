/**
 * One-node ONNX models, built in memory with onnx-proto, for the ONNX Runtime adapters.
 *
 * BatchNormalization, opset 15 (https://onnx.ai/onnx/operators/onnx__BatchNormalization.html):
 *   inputs  X (N, C, ...spatial), scale (C), B (C), input_mean (C), input_var (C)
 *   eval    Y = scale · (X - input_mean) / sqrt(input_var + epsilon) + B
 *   train   (training_mode = 1) Y from the batch mean and biased batch variance, and
 *           running_mean = input_mean · momentum + current_mean · (1 - momentum)
 *           running_var  = input_var  · momentum + current_var  · (1 - momentum)   current_var biased
 *   Opset 14 removed the saved mean / saved inverse std outputs, so training mode has exactly three outputs.
 * LayerNormalization, opset 17 (https://onnx.ai/onnx/operators/onnx__LayerNormalization.html):
 *   inputs  X (...outer, ...normalized), Scale (normalized), B (normalized, optional)
 *   attrs   axis: the first normalised axis (here negative: -k for the last k axes), epsilon,
 *           stash_type: element type of the computation and of Mean / InvStdDev (1 = float32, the only
 *           one the spec allows for float32 inputs besides the default, which is also 1)
 *   outputs Y, Mean and InvStdDev with the normalised axes kept as size 1 — R values each.
 *
 * GroupNormalization, opset 21 (https://onnx.ai/onnx/operators/onnx__GroupNormalization.html):
 *   inputs  X (N, C, ...spatial), scale (C), bias (C) — per channel since opset 21; opset 18 took them per
 *           group (num_groups), which cannot express PyTorch's per-channel affine (ORT 1.30 runs both)
 *   attrs   num_groups, epsilon, stash_type 1 (float32);   outputs Y only (no saved statistics)
 * InstanceNormalization, opset 22 (version 6 of the operator; 22 only adds bfloat16):
 *   inputs  input (N, C, ...spatial), scale (C), B (C), both required;   attrs epsilon;   outputs Y only
 *   There are no running statistics: track_running_stats=True (training update, eval mode) is not expressible.
 * RMSNormalization, opset 23 (new in 23):
 *   inputs  X (...outer, ...normalized), scale (normalized);   attrs axis (-k), epsilon (default 1e-5, so
 *   PyTorch's eps=None must be passed as its value), stash_type 1;   outputs Y only
 *
 * Every dimension is fixed in the model (no symbolic dims), so ONNX Runtime can plan memory once per shape;
 * the adapters cache one session per model. Not here: float16/float64 models, spatial = 0 (opset < 9).
 */
import type onnxProto from 'onnx-proto';
import { importEngines } from '../engines.js';

/** onnx-proto's `onnx` namespace (protobufjs static code): an optional peer, imported with the runtime. */
export type Onnx = typeof onnxProto.onnx;

/** The namespace from a dynamic import of onnx-proto (a CommonJS module: its exports arrive as `default`). */
export function onnxNamespace(mod: unknown): Onnx {
  const m = mod as { default?: typeof onnxProto; onnx?: Onnx };
  return m.onnx ?? m.default!.onnx;
}

/** onnx-proto for callers that cannot go on without it (the bench, probes): throws the reason it is missing. */
export async function requireOnnx(): Promise<Onnx> {
  const mods = await importEngines(['onnx-proto']);
  if (typeof mods === 'string') throw new Error(mods);
  return onnxNamespace(mods[0]);
}

/**
 * IR version 8 is what opset 15-17 models carry (onnx 1.10-1.12); opsets 21-23 need IR 10 (onnx 1.16+).
 * ONNX Runtime 1.30 reads both.
 */
const irVersion = (opset: number) => (opset >= 21 ? 10 : 8);
export const BATCHNORM_OPSET = 15;
export const LAYERNORM_OPSET = 17;
export const GROUPNORM_OPSET = 21;
export const INSTANCENORM_OPSET = 22;
export const RMSNORM_OPSET = 23;

function valueInfo(onnx: Onnx, name: string, dims: readonly number[]): onnxProto.onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } };
}

function oneNodeModel(
  onnx: Onnx, node: onnxProto.onnx.INodeProto, inputs: onnxProto.onnx.IValueInfoProto[], outputs: onnxProto.onnx.IValueInfoProto[], opset: number,
): Uint8Array {
  const graph = { name: `normcheck_${node.opType}`, node: [node], input: inputs, output: outputs };
  const model = onnx.ModelProto.create({ irVersion: irVersion(opset), producerName: 'normcheck', opsetImport: [{ domain: '', version: opset }], graph });
  return onnx.ModelProto.encode(model).finish();
}

export interface BatchNormModelSpec {
  shape: readonly number[]; // (N, C, ...spatial)
  training: boolean;
  epsilon: number;
  /** ONNX meaning: fraction of the running value KEPT (the adapter contract's momentum is 1 minus this). */
  momentum: number;
}

/** Input and output names, in the order the operator defines them. */
export const BN_INPUTS = ['X', 'scale', 'B', 'input_mean', 'input_var'] as const;

export function batchNormModel(onnx: Onnx, { shape, training, epsilon, momentum }: BatchNormModelSpec): Uint8Array {
  const C = shape[1]!;
  const { FLOAT: ATTR_FLOAT, INT: ATTR_INT } = onnx.AttributeProto.AttributeType;
  const attribute: onnxProto.onnx.IAttributeProto[] = [
    { name: 'epsilon', type: ATTR_FLOAT, f: epsilon },
    { name: 'momentum', type: ATTR_FLOAT, f: momentum },
  ];
  if (training) attribute.push({ name: 'training_mode', type: ATTR_INT, i: 1 });
  const outputs = training ? ['Y', 'running_mean', 'running_var'] : ['Y'];
  const node = { opType: 'BatchNormalization', input: [...BN_INPUTS], output: outputs, attribute };
  const info = (name: string, dims: readonly number[]) => valueInfo(onnx, name, dims);
  return oneNodeModel(
    onnx, node,
    [info('X', shape), info('scale', [C]), info('B', [C]), info('input_mean', [C]), info('input_var', [C])],
    outputs.map((name) => info(name, name === 'Y' ? shape : [C])),
    BATCHNORM_OPSET,
  );
}

export interface LayerNormModelSpec {
  shape: readonly number[]; // (...outer, ...normalized)
  /** Number of trailing axes normalised together (k ≥ 1); the model's axis attribute is -k. */
  normalizedRank: number;
  epsilon: number;
  withBias: boolean;
}

export function layerNormModel(onnx: Onnx, { shape, normalizedRank: k, epsilon, withBias }: LayerNormModelSpec): Uint8Array {
  const { FLOAT: ATTR_FLOAT, INT: ATTR_INT } = onnx.AttributeProto.AttributeType;
  const rank = shape.length;
  const normalized = shape.slice(rank - k);
  // Mean and InvStdDev keep the normalised axes as 1s: (...outer, 1, ..., 1).
  const statShape = shape.map((d, i) => (i < rank - k ? d : 1));
  const inputs = withBias ? ['X', 'Scale', 'B'] : ['X', 'Scale'];
  const node = {
    opType: 'LayerNormalization', input: inputs, output: ['Y', 'Mean', 'InvStdDev'],
    attribute: [
      { name: 'axis', type: ATTR_INT, i: -k },
      { name: 'epsilon', type: ATTR_FLOAT, f: epsilon },
      { name: 'stash_type', type: ATTR_INT, i: 1 },
    ],
  };
  const info = (name: string, dims: readonly number[]) => valueInfo(onnx, name, dims);
  return oneNodeModel(
    onnx, node,
    inputs.map((name) => info(name, name === 'X' ? shape : normalized)),
    [info('Y', shape), info('Mean', statShape), info('InvStdDev', statShape)],
    LAYERNORM_OPSET,
  );
}

export interface GroupNormModelSpec {
  shape: readonly number[]; // (N, C, ...spatial)
  numGroups: number;
  epsilon: number;
}

export function groupNormModel(onnx: Onnx, { shape, numGroups, epsilon }: GroupNormModelSpec): Uint8Array {
  const { FLOAT: ATTR_FLOAT, INT: ATTR_INT } = onnx.AttributeProto.AttributeType;
  const C = shape[1]!;
  const node = {
    opType: 'GroupNormalization', input: ['X', 'scale', 'bias'], output: ['Y'],
    attribute: [
      { name: 'num_groups', type: ATTR_INT, i: numGroups },
      { name: 'epsilon', type: ATTR_FLOAT, f: epsilon },
      { name: 'stash_type', type: ATTR_INT, i: 1 },
    ],
  };
  const info = (name: string, dims: readonly number[]) => valueInfo(onnx, name, dims);
  return oneNodeModel(onnx, node, [info('X', shape), info('scale', [C]), info('bias', [C])], [info('Y', shape)], GROUPNORM_OPSET);
}

export function instanceNormModel(onnx: Onnx, { shape, epsilon }: { shape: readonly number[]; epsilon: number }): Uint8Array {
  const C = shape[1]!;
  const node = {
    opType: 'InstanceNormalization', input: ['input', 'scale', 'B'], output: ['Y'],
    attribute: [{ name: 'epsilon', type: onnx.AttributeProto.AttributeType.FLOAT, f: epsilon }],
  };
  const info = (name: string, dims: readonly number[]) => valueInfo(onnx, name, dims);
  return oneNodeModel(onnx, node, [info('input', shape), info('scale', [C]), info('B', [C])], [info('Y', shape)], INSTANCENORM_OPSET);
}

export interface RmsNormModelSpec {
  shape: readonly number[]; // (...outer, ...normalized)
  normalizedRank: number;
  epsilon: number;
}

export function rmsNormModel(onnx: Onnx, { shape, normalizedRank: k, epsilon }: RmsNormModelSpec): Uint8Array {
  const { FLOAT: ATTR_FLOAT, INT: ATTR_INT } = onnx.AttributeProto.AttributeType;
  const node = {
    opType: 'RMSNormalization', input: ['X', 'scale'], output: ['Y'],
    attribute: [
      { name: 'axis', type: ATTR_INT, i: -k },
      { name: 'epsilon', type: ATTR_FLOAT, f: epsilon },
      { name: 'stash_type', type: ATTR_INT, i: 1 },
    ],
  };
  const info = (name: string, dims: readonly number[]) => valueInfo(onnx, name, dims);
  return oneNodeModel(onnx, node, [info('X', shape), info('scale', shape.slice(shape.length - k))], [info('Y', shape)], RMSNORM_OPSET);
}
