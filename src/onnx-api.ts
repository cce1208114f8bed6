// Public API of the ONNX I/O, IR and float engine (re-exported by src/index.ts).
export { loadModel, saveModel, modelToBytes, loadTensorProto, tensorProtoBytes, type LoadOptions, type SaveOptions } from './onnx/io.js';
export { Graph, makeNode, nodeLabel, opsetVersion, type Attribute, type Dim, type Model, type Node, type OpsetImport, type ValueInfo } from './ir/graph.js';
export { inferAndFold, pruneInitializers, type InferOptions, type InferResult } from './ir/infer.js';
export { InferenceSession, cloneGraph, cloneModel, type BackendName, type Feed, type SessionOptions } from './runtime/session.js';
export { Tensor, type DataType, type TensorData } from './tensor.js';
export { defaultOps, OpRegistry, type OpImpl, type OpContext, type InferContext, type TypeInfo } from './ops/index.js';
export { readNpy, writeNpy, parseNpy, npyBytes } from './io/npy.js';
export { readIdx, parseIdx } from './io/idx.js';
export { runConformance, formatReport, type ConformanceReport } from './conformance/runner.js';
