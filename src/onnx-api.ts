// Public API of the ONNX I/O and float engine (re-exported by src/index.ts). The mutable Graph,
// graph builders, folding and the conformance runner are internal tools: src/tools.ts ('onnx-ptq/tools').
export { loadModel, saveModel, modelToBytes, loadTensorProto, tensorProtoBytes, type LoadOptions, type SaveOptions } from './onnx/io.js';
export type { Graph, Attribute, Dim, Model, Node, OpsetImport, ValueInfo } from './ir/graph.js';
export { InferenceSession, type Feed, type SessionOptions } from './runtime/session.js';
export type { FetchesType, RunOptions } from './runtime/fetches.js';
export { Tensor, type DataType, type TensorData } from './tensor.js';
export { defaultOps, OpRegistry, type OpImpl, type OpContext, type InferContext, type TypeInfo } from './ops/index.js';
export { readNpy, writeNpy, parseNpy, npyBytes } from './io/npy.js';
export { readIdx, parseIdx } from './io/idx.js';
