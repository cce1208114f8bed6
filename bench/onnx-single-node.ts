// Builds single-node ONNX models in memory (for running the same op in onnxruntime-node next to
// our kernels). Uses the project's onnx.proto bindings directly.
import { ModelProto } from '../src/onnx/proto.js';

const DT = { float: 1, uint8: 2, int8: 3, int32: 6 } as const;
type DType = keyof typeof DT;

export interface Init {
  name: string;
  dtype: DType;
  dims: number[];
  data: ArrayBufferView;
}
export interface Io {
  name: string;
  dtype: DType;
  dims: number[];
}

export function singleNodeModel(
  op: string,
  inputs: Io[],
  inits: Init[],
  nodeInputs: string[],
  outputs: Io[],
  attrs: Record<string, number | number[]> = {},
  opset = 13,
): Uint8Array {
  const valueInfo = (v: Io) => ({
    name: v.name,
    type: { tensor_type: { elem_type: DT[v.dtype], shape: { dim: v.dims.map((d) => ({ dim_value: d })) } } },
  });
  const attribute = Object.entries(attrs).map(([name, v]) => (Array.isArray(v) ? { name, type: 7, ints: v } : { name, type: 2, i: v }));
  const msg = ModelProto.fromObject({
    ir_version: 8,
    opset_import: [{ domain: '', version: opset }],
    producer_name: 'onnx-ptq-bench',
    graph: {
      name: op,
      node: [{ op_type: op, input: nodeInputs, output: outputs.map((o) => o.name), attribute }],
      initializer: inits.map((t) => ({
        name: t.name,
        data_type: DT[t.dtype],
        dims: t.dims,
        raw_data: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
      })),
      input: inputs.map(valueInfo),
      output: outputs.map(valueInfo),
    },
  });
  return ModelProto.encode(msg).finish();
}
