// protobufjs reflection types for onnx.proto, built once from the generated JSON descriptor.
// protobufjs (rather than generated static code) because it is already a dependency, handles
// proto2 packed fields and int64 (via Long) correctly, and keeps the schema a single data file.
import protobuf from 'protobufjs';
import { onnxSchema } from './onnx-schema.js';

const root = protobuf.Root.fromJSON(onnxSchema as protobuf.INamespace);

export const ModelProto = root.lookupType('onnx.ModelProto');
export const TensorProto = root.lookupType('onnx.TensorProto');

/** Long-or-number as a JS number (int64 fields decode to Long when the `long` package is present). */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v);
  if (v && typeof v === 'object' && 'low' in v && 'high' in v) {
    const l = v as { low: number; high: number; unsigned?: boolean };
    return l.unsigned ? (l.high >>> 0) * 4294967296 + (l.low >>> 0) : l.high * 4294967296 + (l.low >>> 0);
  }
  return 0;
}

/** Long-or-number as an exact bigint. */
export function toBigInt(v: unknown, unsigned = false): bigint {
  if (typeof v === 'number') return BigInt(v);
  if (typeof v === 'string') return BigInt(v);
  if (v && typeof v === 'object' && 'low' in v && 'high' in v) {
    const l = v as { low: number; high: number };
    const u = (BigInt(l.high >>> 0) << 32n) | BigInt(l.low >>> 0);
    return unsigned ? u : BigInt.asIntN(64, u);
  }
  return 0n;
}

/** A plain-object view of decoded messages; fields absent in the file read as undefined/[]. */
export type Msg = Record<string, any>;
