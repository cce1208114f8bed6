// The ONNX-domain op registry: one table per op family, registered here.
import { castOps } from './cast.js';
import { FusedConv, convOps } from './conv.js';
import { elementwiseOps } from './elementwise.js';
import { gemmOps } from './gemm.js';
import { layoutOps } from './layout.js';
import { logicOps } from './logic.js';
import { MatMulNBits } from './matmul-nbits.js';
import { normalizationOps } from './normalization.js';
import { poolOps } from './pool.js';
import { qdqOps } from './qdq.js';
import { reduceOps } from './reduce.js';
import { OpRegistry } from './registry.js';
import { resizeOps } from './resize.js';
import { shapeOps } from './shape.js';
import { softmaxOps } from './softmax.js';

export const defaultOps = new OpRegistry();
for (const table of [
  elementwiseOps,
  convOps,
  gemmOps,
  normalizationOps,
  poolOps,
  softmaxOps,
  reduceOps,
  shapeOps,
  layoutOps,
  castOps,
  resizeOps,
  logicOps,
  qdqOps,
])
  defaultOps.registerAll(table);
// onnxruntime's contrib Conv + activation, which the float session's fusion writes (and optimized
// onnxruntime models carry).
defaultOps.register('FusedConv', FusedConv, 'com.microsoft');
// onnxruntime's 4/8-bit block-quantized weight MatMul (weight-only LLM quantization).
defaultOps.register('MatMulNBits', MatMulNBits, 'com.microsoft');

export { OpRegistry } from './registry.js';
export type { OpImpl, OpContext, InferContext, TypeInfo } from './types.js';
export { Attrs } from './types.js';
