/**
 * onnx-ptq: post-training quantization and bit-exact integer-only inference for ONNX models.
 * This entry file only re-exports; every piece lives in its own module. Internal tools (the mutable
 * Graph and its builders, constant folding, the conformance runner, synthetic data, the fixed-point
 * mirror) are in src/tools.ts, the 'onnx-ptq/tools' subpath, so that this import stays light.
 */
export { OnnxPtqError, type OnnxPtqErrorCode } from './errors.js';
export {
  getBackend,
  getRegistry,
  createDefaultRegistry,
  BackendRegistry,
  type BackendEntry,
  type BackendStatus,
} from './backends/registry.js';
export type { Backend, BackendName, BackendRequest, KernelVariant, QGemmArgs, Int8Like } from './backends/types.js';
export {
  makeRequant,
  floatMultiplier,
  requantizeOne,
  REQUANT_MODES,
  type RequantMode,
  type RequantParams,
  type RequantOutput,
} from './quant/requant.js';
export * from './onnx-api.js';
export * from './ptq-api.js';
export {
  IntegerSession,
  createQdqRegistry,
  type IntegerSessionOptions,
  type IntegerFeed,
  type IntegerBackendName,
  type LoweringEntry,
  quantizationInfo,
  type QuantizationInfo,
} from './runtime/integer/index.js';
