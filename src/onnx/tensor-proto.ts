// TensorProto <-> Tensor. Every size is checked against the bytes actually present before any
// allocation, so a malicious file cannot make us allocate gigabytes from a 100-byte header.
import { closeSync, fstatSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { OnnxPtqError, check } from '../errors.js';
import {
  Tensor,
  allocData,
  bytesPerElement,
  dataTypeFromOnnx,
  onnxDataType,
  packedBytes,
  type DataType,
  type TensorData,
} from '../tensor.js';
import { toBigInt, toNumber, type Msg } from './proto.js';

/** Largest tensor we agree to materialize (bytes). Node can go higher, but no real CNN weight does. */
export const MAX_TENSOR_BYTES = 2 ** 31;

const ONNX_TYPE_NAMES: Record<number, string> = {
  0: 'UNDEFINED',
  14: 'COMPLEX64',
  15: 'COMPLEX128',
  16: 'BFLOAT16',
  17: 'FLOAT8E4M3FN',
  18: 'FLOAT8E4M3FNUZ',
  19: 'FLOAT8E5M2',
  20: 'FLOAT8E5M2FNUZ',
  21: 'UINT4',
  22: 'INT4',
};

export interface TensorReadOptions {
  /** Directory of the model file, for external data; undefined when loaded from bytes. */
  baseDir?: string;
  /** What to call the tensor in error messages when it has no name. */
  what?: string;
}

/** Element count of `dims`, refusing negative, non-integer or absurd sizes before any allocation. */
export function checkedSize(dims: readonly number[], dtype: DataType, what: string): number {
  let n = 1;
  for (const d of dims) {
    check(Number.isSafeInteger(d) && d >= 0, 'INVALID_MODEL', () => `${what} has invalid dims [${dims.join(', ')}]`);
    n *= d;
    check(
      n * Math.max(1, bytesPerElement(dtype)) <= MAX_TENSOR_BYTES,
      'INVALID_MODEL',
      () => `${what} declares dims [${dims.join(', ')}], larger than the ${MAX_TENSOR_BYTES}-byte limit; refused before allocation`,
    );
  }
  return n;
}

export function tensorFromProto(tp: Msg, opts: TensorReadOptions = {}): Tensor {
  const name: string = tp.name || '';
  const what = name ? `tensor '${name}'` : (opts.what ?? 'an unnamed tensor');
  const code = toNumber(tp.data_type ?? 0);
  const dtype = dataTypeFromOnnx(code);
  if (!dtype) {
    throw new OnnxPtqError('UNSUPPORTED_OP', `${what} has data type ${ONNX_TYPE_NAMES[code] ?? code}, which onnx-ptq does not support`);
  }
  check(!tp.segment, 'UNSUPPORTED_OP', () => `${what} is stored in segments, which onnx-ptq does not support`);
  const dims = ((tp.dims ?? []) as unknown[]).map(toNumber);
  const n = checkedSize(dims, dtype, what);

  if (toNumber(tp.data_location ?? 0) === 1) {
    return new Tensor(dtype, fromBytes(dtype, readExternal(tp, packedBytes(dtype, n), opts.baseDir, what), n, what), dims);
  }
  if (dtype === 'string') {
    const s = (tp.string_data ?? []) as Uint8Array[];
    check(s.length === n, 'INVALID_MODEL', () => `${what} declares ${n} strings, holds ${s.length}`);
    const dec = new TextDecoder();
    return new Tensor(
      'string',
      s.map((b) => dec.decode(b)),
      dims,
    );
  }
  const raw = tp.raw_data as Uint8Array | undefined;
  if (raw && raw.length > 0) return new Tensor(dtype, fromBytes(dtype, raw, n, what), dims);
  return new Tensor(dtype, fromTypedFields(tp, dtype, n, what), dims);
}

/** raw_data (little-endian, fixed width) into a fresh, aligned typed array. */
function fromBytes(dtype: DataType, raw: Uint8Array, n: number, what: string): TensorData {
  const bytes = packedBytes(dtype, n);
  check(
    raw.length === bytes,
    'INVALID_MODEL',
    () => `${what} declares ${n} ${dtype} elements (${bytes} bytes) but its data holds ${raw.length} bytes`,
  );
  if (dtype === 'int4' || dtype === 'uint4') return unpack4(dtype, raw, n);
  const out = allocData(dtype, n) as Exclude<TensorData, string[]>;
  new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(raw);
  return out;
}

/** Two 4-bit values per byte, element 2i in the low nibble (ONNX's order); int4 sign-extended. */
function unpack4(dtype: 'int4' | 'uint4', packed: ArrayLike<number>, n: number): TensorData {
  const out = allocData(dtype, n) as Int8Array | Uint8Array;
  const signed = dtype === 'int4';
  for (let i = 0; i < n; i++) {
    const v = (packed[i >> 1]! >> ((i & 1) * 4)) & 15;
    out[i] = signed && v > 7 ? v - 16 : v;
  }
  return out;
}

function pack4(data: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(Math.ceil(data.length / 2));
  for (let i = 0; i < data.length; i++) out[i >> 1]! |= (data[i]! & 15) << ((i & 1) * 4);
  return out;
}

function fromTypedFields(tp: Msg, dtype: DataType, n: number, what: string): TensorData {
  if (dtype === 'int4' || dtype === 'uint4') {
    // onnx's helper packs two values per int32_data entry, in the entry's low byte.
    const src = (tp.int32_data ?? []) as unknown[];
    const bytes = packedBytes(dtype, n);
    check(
      src.length === bytes,
      'INVALID_MODEL',
      () => `${what} declares ${n} ${dtype} elements (${bytes} packed) but int32_data holds ${src.length}`,
    );
    return unpack4(
      dtype,
      src.map((v) => toNumber(v) & 255),
      n,
    );
  }
  const field = (() => {
    switch (dtype) {
      case 'float32':
        return 'float_data';
      case 'float64':
        return 'double_data';
      case 'int64':
        return 'int64_data';
      case 'uint32':
      case 'uint64':
        return 'uint64_data';
      default:
        return 'int32_data';
    }
  })();
  const src = (tp[field] ?? []) as unknown[];
  check(src.length === n, 'INVALID_MODEL', () => `${what} declares ${n} ${dtype} elements but ${field} holds ${src.length}`);
  const out = allocData(dtype, n);
  if (out instanceof BigInt64Array) for (let i = 0; i < n; i++) out[i] = toBigInt(src[i]);
  else if (out instanceof BigUint64Array) for (let i = 0; i < n; i++) out[i] = toBigInt(src[i], true);
  else if (dtype === 'uint32') for (let i = 0; i < n; i++) (out as Uint32Array)[i] = toNumber(src[i]);
  else {
    const o = out as Exclude<TensorData, string[] | BigInt64Array | BigUint64Array>;
    for (let i = 0; i < n; i++) o[i] = src[i] as number;
  }
  return out;
}

function readExternal(tp: Msg, declaredBytes: number, baseDir: string | undefined, what: string): Uint8Array {
  const kv = new Map<string, string>();
  for (const e of (tp.external_data ?? []) as Msg[]) kv.set(e.key, e.value);
  const location = kv.get('location');
  check(location, 'INVALID_MODEL', () => `${what} is external but has no 'location'`);
  check(
    baseDir !== undefined,
    'IO_ERROR',
    () => `${what} keeps its data in external file '${location}'; load the model from a path, not from bytes`,
  );
  const base = resolve(baseDir);
  const file = resolve(base, location);
  const rel = relative(base, file);
  check(
    !isAbsolute(location) && rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel),
    'INVALID_MODEL',
    () => `${what}: external data location '${location}' escapes the model directory; refused`,
  );
  // The lexical check above does not see symlinks: a link inside the folder may point anywhere (it
  // read /etc/passwd as weights). Both sides are resolved with realpath and compared again, and only
  // a regular file is opened (a FIFO would block the open forever, a device has no end).
  let real: string;
  try {
    const realBase = realpathSync(base);
    real = realpathSync(file);
    const realRel = relative(realBase, real);
    check(
      realRel !== '' && !realRel.startsWith(`..${sep}`) && realRel !== '..' && !isAbsolute(realRel),
      'INVALID_MODEL',
      () =>
        `${what}: external data location '${location}' resolves (through a symbolic link) to '${real}', outside the model directory; refused`,
    );
    check(statSync(real).isFile(), 'INVALID_MODEL', () => `${what}: external data '${location}' is not a regular file`);
  } catch (e) {
    if (e instanceof OnnxPtqError) throw e;
    throw new OnnxPtqError('IO_ERROR', `${what}: cannot open external data file '${file}': ${(e as Error).message}`);
  }
  const offset = kv.has('offset') ? Number(kv.get('offset')) : 0;
  const length = kv.has('length') ? Number(kv.get('length')) : declaredBytes;
  check(Number.isSafeInteger(offset) && offset >= 0, 'INVALID_MODEL', () => `${what}: bad external offset '${kv.get('offset')}'`);
  check(
    length === declaredBytes,
    'INVALID_MODEL',
    () => `${what} declares ${declaredBytes} bytes but its external data length is ${length}`,
  );
  let fd: number;
  try {
    fd = openSync(real, 'r');
  } catch (e) {
    throw new OnnxPtqError('IO_ERROR', `${what}: cannot open external data file '${file}': ${(e as Error).message}`);
  }
  try {
    const size = fstatSync(fd).size;
    check(
      offset + length <= size,
      'INVALID_MODEL',
      () => `${what}: external data [${offset}, ${offset + length}) runs past the end of '${file}' (${size} bytes)`,
    );
    const buf = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const r = readSync(fd, buf, got, length - got, offset + got);
      if (r <= 0) break;
      got += r;
    }
    check(got === length, 'IO_ERROR', () => `${what}: short read from '${file}'`);
    return buf;
  } finally {
    closeSync(fd);
  }
}

/** Raw little-endian bytes of a numeric tensor as a file holds them (a view, no copy; int4/uint4 packed). */
export function tensorBytes(t: Tensor): Uint8Array {
  const d = t.data;
  if (Array.isArray(d)) throw new OnnxPtqError('INVALID_ARGUMENT', 'string tensors have no raw bytes');
  if (t.dtype === 'int4' || t.dtype === 'uint4') return pack4(d as Int8Array | Uint8Array);
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/** Tensor to a TensorProto plain object (raw_data for numbers, string_data for strings). */
export function tensorToProto(t: Tensor, name = ''): Msg {
  const tp: Msg = { name, dims: [...t.dims], data_type: onnxDataType(t.dtype) };
  if (Array.isArray(t.data)) {
    const enc = new TextEncoder();
    tp.string_data = (t.data as string[]).map((s) => enc.encode(s));
  } else {
    tp.raw_data = tensorBytes(t);
  }
  return tp;
}
