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
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const { FLOAT: ATTR_FLOAT, INT: ATTR_INT } = onnx.AttributeProto.AttributeType;

/** IR version 8 is what opset 15-17 models carry (onnx 1.10-1.12); ONNX Runtime 1.x reads it. */
const IR_VERSION = 8;
export const BATCHNORM_OPSET = 15;
export const LAYERNORM_OPSET = 17;

function valueInfo(name: string, dims: readonly number[]): onnxProto.onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } };
}

function oneNodeModel(
  node: onnxProto.onnx.INodeProto, inputs: onnxProto.onnx.IValueInfoProto[], outputs: onnxProto.onnx.IValueInfoProto[], opset: number,
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

export function batchNormModel({ shape, training, epsilon, momentum }: BatchNormModelSpec): Uint8Array {
  const C = shape[1]!;
  const attribute: onnxProto.onnx.IAttributeProto[] = [
    { name: 'epsilon', type: ATTR_FLOAT, f: epsilon },
    { name: 'momentum', type: ATTR_FLOAT, f: momentum },
  ];
  if (training) attribute.push({ name: 'training_mode', type: ATTR_INT, i: 1 });
  const outputs = training ? ['Y', 'running_mean', 'running_var'] : ['Y'];
  const node = { opType: 'BatchNormalization', input: [...BN_INPUTS], output: outputs, attribute };
  return oneNodeModel(
    node,
    [valueInfo('X', shape), valueInfo('scale', [C]), valueInfo('B', [C]), valueInfo('input_mean', [C]), valueInfo('input_var', [C])],
    outputs.map((name) => valueInfo(name, name === 'Y' ? shape : [C])),
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

export function layerNormModel({ shape, normalizedRank: k, epsilon, withBias }: LayerNormModelSpec): Uint8Array {
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
  return oneNodeModel(
    node,
    inputs.map((name) => valueInfo(name, name === 'X' ? shape : normalized)),
    [valueInfo('Y', shape), valueInfo('Mean', statShape), valueInfo('InvStdDev', statShape)],
    LAYERNORM_OPSET,
  );
}
