/**
 * Whether a model is quantized, and in which form: QDQ (QuantizeLinear/DequantizeLinear pairs
 * around float ops, what `quantize` writes) or QOperator (ops that take quantized tensors and their
 * parameters: QLinearConv, QLinearMatMul, ConvInteger, MatMulInteger, com.microsoft QLinearAdd, ...).
 * `onnx-ptq run` picks its executor from this.
 */
import type { Model, Node } from '../../ir/graph.js';

/** QDQ ops (default domain; com.microsoft has copies of them). */
export const QDQ_OPS: ReadonlySet<string> = new Set(['QuantizeLinear', 'DequantizeLinear']);

/** QOperator ops of the default domain and of com.microsoft (onnxruntime's quantization tool writes these). */
export const QOPERATOR_OPS: ReadonlySet<string> = new Set([
  'QLinearConv',
  'QLinearMatMul',
  'ConvInteger',
  'MatMulInteger',
  'DynamicQuantizeLinear',
  // com.microsoft
  'QLinearAdd',
  'QLinearMul',
  'QLinearSigmoid',
  'QLinearLeakyRelu',
  'QLinearAveragePool',
  'QLinearGlobalAveragePool',
  'QLinearConcat',
  'QLinearSoftmax',
  'QLinearReduceMean',
  'QLinearWhere',
  'QLinearConvTranspose',
  'QGemm',
  'QAttention',
  'DynamicQuantizeMatMul',
  'MatMulIntegerToFloat',
  'DynamicQuantizeLSTM',
]);

export interface QuantizationInfo {
  /** 'float' when no node is a quantization op. */
  format: 'float' | 'qdq' | 'qoperator' | 'qdq+qoperator';
  qdqNodes: number;
  qoperatorNodes: number;
}

function isQdq(n: Node): boolean {
  return (!n.domain || n.domain === 'ai.onnx' || n.domain === 'com.microsoft') && QDQ_OPS.has(n.opType);
}
function isQOperator(n: Node): boolean {
  return (!n.domain || n.domain === 'ai.onnx' || n.domain === 'com.microsoft') && QOPERATOR_OPS.has(n.opType);
}

/** The quantization form of a model's (top-level) graph. */
export function quantizationInfo(model: Model): QuantizationInfo {
  let qdqNodes = 0,
    qoperatorNodes = 0;
  for (const n of model.graph.nodes) {
    if (isQdq(n)) qdqNodes++;
    else if (isQOperator(n)) qoperatorNodes++;
  }
  const format = qdqNodes && qoperatorNodes ? 'qdq+qoperator' : qdqNodes ? 'qdq' : qoperatorNodes ? 'qoperator' : 'float';
  return { format, qdqNodes, qoperatorNodes };
}
