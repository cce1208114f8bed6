/**
 * The one error type onnx-ptq throws for bad input. `code` is stable (tests and callers match on it);
 * `message` names the node, tensor, file or argument concerned and what was expected.
 */
export type OnnxPtqErrorCode =
  | 'INVALID_ARGUMENT' // an API argument of the wrong type, size or range
  | 'KERNEL_ARGUMENT' // a kernel entry point refused its dimensions or buffers
  | 'BACKEND_UNAVAILABLE' // a forced backend could not be loaded, or none could
  | 'INVALID_MODEL' // the file is not a well-formed ONNX model
  | 'UNSUPPORTED_OP' // the model uses an op (or an op form) onnx-ptq does not implement
  | 'FLOAT_FALLBACK' // strictInteger: a node of a quantized model would run in float
  | 'SHAPE_MISMATCH' // shapes or dtypes that do not fit together
  | 'INVALID_INPUT' // session feeds: wrong names, shapes or dtypes
  | 'IO_ERROR' // a file that cannot be read or written
  | 'INVALID_DATA' // calibration/evaluation data of the wrong form
  | 'INVALID_OPTION' // an option or config key out of range or unknown
  | 'PASS_ERROR' // a graph pass cannot apply to the graph it was given
  | 'INVALID_STATS' // a calibration statistics file that is truncated, foreign or malformed
  | 'STATS_MISMATCH' // statistics from another model, other options or bin settings, or an inconsistent set of shards
  | 'WORKER_FAILED' // a calibration worker thread died or failed to start
  | 'INTERNAL'; // a broken invariant: a bug in onnx-ptq

export class OnnxPtqError extends Error {
  readonly code: OnnxPtqErrorCode;
  constructor(code: OnnxPtqErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OnnxPtqError';
    this.code = code;
  }
}

/** Throws an OnnxPtqError with `code` unless `cond` holds. */
export function check(cond: unknown, code: OnnxPtqErrorCode, message: string | (() => string)): asserts cond {
  if (!cond) throw new OnnxPtqError(code, typeof message === 'function' ? message() : message);
}
