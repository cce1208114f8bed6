// Public API of the integer-only executor (re-exported by src/index.ts).
export {
  IntegerSession,
  REQUANT_MODE_METADATA_KEY,
  type IntegerSessionOptions,
  type IntegerFeed,
  type IntegerBackendName,
  type LoweringEntry,
} from './session.js';
export { createQdqRegistry } from './qdq-registry.js';
export { quantizationInfo, QDQ_OPS, QOPERATOR_OPS, type QuantizationInfo } from './detect.js';
