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

/** IR version 8 is what opset 15-17 models carry (onnx 1.10-1.12); ONNX Runtime 1.x reads it. */
const IR_VERSION = 8;
export const BATCHNORM_OPSET = 15;
export const LAYERNORM_OPSET = 17;

function valueInfo(onnx: Onnx, name: string, dims: readonly number[]): onnxProto.onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } };
}

function oneNodeModel(
  onnx: Onnx, node: onnxProto.onnx.INodeProto, inputs: onnxProto.onnx.IValueInfoProto[], outputs: onnxProto.onnx.IValueInfoProto[], opset: number,
): Uint8Array {
  const graph = { name: `normcheck_${node.opType}`, node: [node], input: inputs, output: outputs };
  const model = onnx.ModelProto.create({ irVersion: IR_VERSION, producerName: 'normcheck', opsetImport: [{ domain: '', version: opset }], graph });
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
