/**
 * onnx-ptq/tools: the internal tools, apart from the main entry so that `import 'onnx-ptq'` loads
 * none of them (synthetic text pulls opentype.js and the DejaVu fonts). For tests, scripts and
 * people who build or rewrite graphs:
 * - the mutable IR: Graph, makeNode, nodeLabel, opsetVersion, cloneGraph, cloneModel;
 * - shape inference and constant folding: inferAndFold, pruneInitializers;
 * - the ONNX backend node-test runner: runConformance, formatReport;
 * - synthetic data: syntheticTextSet (text lines, or pages at a detection model's size), syntheticTextLabel;
 * - fixedpoint: the gemmlowp fixed-point helpers mirrored bit for bit in JS.
 */
export { Graph, makeNode, nodeLabel, opsetVersion } from './ir/graph.js';
export { cloneGraph, cloneModel } from './runtime/session.js';
export { inferAndFold, pruneInitializers, type InferOptions, type InferResult } from './ir/infer.js';
export { runConformance, formatReport, type ConformanceReport } from './conformance/runner.js';
export { syntheticTextLabel, syntheticTextSet, syntheticPageSet } from './data/synthetic-text.js';
export * as fixedpoint from './quant/fixedpoint.js';
