// Messages between a session and its worker thread. Tensors cross as plain {dtype, dims, data}
// (structured clone keeps typed arrays, not the Tensor class); errors as {code, message}.
import { OnnxPtqError, type OnnxPtqErrorCode } from '../../errors.js';
import { Tensor, type DataType, type TensorData } from '../../tensor.js';

export interface WireTensor {
  dtype: DataType;
  dims: number[];
  data: TensorData;
}

export interface WireError {
  code: OnnxPtqErrorCode;
  message: string;
}

/** What the worker is started with (workerData). */
export interface WorkerInit {
  kind: 'integer' | 'float';
  /** A file path or the model's ONNX bytes. */
  source: string | Uint8Array;
  options: Record<string, unknown>;
}

export type ToWorker = { type: 'run'; id: number; feeds: Record<string, WireTensor>; outputs?: string[] };
export type FromWorker =
  | { type: 'ready' }
  | { type: 'init-error'; error: WireError }
  | { type: 'result'; id: number; outputs: Record<string, WireTensor> }
  | { type: 'error'; id: number; error: WireError };

export function toWire(t: Tensor): WireTensor {
  return { dtype: t.dtype, dims: [...t.dims], data: t.data };
}

export function fromWire(w: WireTensor): Tensor {
  return new Tensor(w.dtype, w.data, w.dims);
}

/** Feeds as they arrive from the wire. */
export function feedsFromWire(wire: Record<string, WireTensor>): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(wire).map(([k, w]) => [k, fromWire(w)]));
}

export function errorToWire(e: unknown): WireError {
  if (e instanceof OnnxPtqError) return { code: e.code, message: e.message };
  return { code: 'INTERNAL', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
}

export function errorFromWire(w: WireError): OnnxPtqError {
  return new OnnxPtqError(w.code, w.message);
}
