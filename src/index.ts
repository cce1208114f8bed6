/**
 * onnx-ptq: post-training quantization and bit-exact integer-only inference for ONNX models.
 * This entry file only re-exports; every piece lives in its own module.
 */
export { OnnxPtqError, type OnnxPtqErrorCode } from './errors.js';
export { getBackend, getRegistry, createDefaultRegistry, BackendRegistry, type BackendEntry, type BackendStatus } from './backends/registry.js';
export type { Backend, BackendName, BackendRequest, KernelVariant, QGemmArgs, Int8Like } from './backends/types.js';
export { makeRequant, floatMultiplier, requantizeOne, REQUANT_MODES, type RequantMode, type RequantParams, type RequantOutput } from './quant/requant.js';
export * as fixedpoint from './quant/fixedpoint.js';
export * from './onnx-api.js';
export * from './ptq-api.js';
export { IntegerSession, createQdqRegistry, type IntegerSessionOptions, type LoweringEntry } from './runtime/integer/index.js';
