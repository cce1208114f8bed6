import { OnnxPtqError, check } from './errors.js';
import { activeArrayPool } from './runtime/array-pool.js';

/** Element types the engine knows. int64/uint64 are BigInt arrays (exact, like onnxruntime-node). */
export type DataType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'int8'
  | 'uint8'
  | 'int4'
  | 'uint4'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'bool'
  | 'string';

export type NumericArray = Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;
export type BigIntArray = BigInt64Array | BigUint64Array;
export type TypedData = NumericArray | BigIntArray;
export type TensorData = TypedData | string[];

/** ONNX TensorProto.DataType codes, both ways. float16 is kept as raw uint16 bits. */
const ONNX_CODES: Record<number, DataType> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  21: 'uint4',
  22: 'int4',
};
const DTYPE_CODES = Object.fromEntries(Object.entries(ONNX_CODES).map(([k, v]) => [v, Number(k)])) as Record<DataType, number>;

export function dataTypeFromOnnx(code: number): DataType | undefined {
  return ONNX_CODES[code];
}
export function onnxDataType(dtype: DataType): number {
  return DTYPE_CODES[dtype];
}

/**
 * Bytes per element in memory (strings: 0, they have no fixed width). int4/uint4 are held one per
 * byte (Int8Array/Uint8Array) and packed two per byte only in files (packedBytes).
 */
export function bytesPerElement(dtype: DataType): number {
  switch (dtype) {
    case 'float64':
    case 'int64':
    case 'uint64':
      return 8;
    case 'float32':
    case 'int32':
    case 'uint32':
      return 4;
    case 'float16':
    case 'int16':
    case 'uint16':
      return 2;
    case 'int8':
    case 'uint8':
    case 'int4':
    case 'uint4':
    case 'bool':
      return 1;
    case 'string':
      return 0;
  }
}

/** Bytes of `n` elements in an ONNX file's raw data: int4/uint4 two per byte, low nibble first. */
export function packedBytes(dtype: DataType, n: number): number {
  return dtype === 'int4' || dtype === 'uint4' ? Math.ceil(n / 2) : n * bytesPerElement(dtype);
}

/**
 * Allocates an array of `dtype` with `n` elements (from a session's ArrayPool during its run),
 * zeroed unless `zeroed` is false: an op that writes every element passes false, so that a
 * recycled array is not cleared for nothing (a pass over memory per tensor: 8-10% of PP-OCRv4
 * det's float run).
 */
export function allocData(dtype: DataType, n: number, zeroed = true): TensorData {
  const pool = activeArrayPool();
  if (pool) return pool.take(dtype, n, () => freshData(dtype, n), zeroed) ?? freshData(dtype, n);
  return freshData(dtype, n);
}

function freshData(dtype: DataType, n: number): TensorData {
  switch (dtype) {
    case 'float32':
      return new Float32Array(n);
    case 'float64':
      return new Float64Array(n);
    case 'float16':
    case 'uint16':
      return new Uint16Array(n);
    case 'int8':
    case 'int4':
      return new Int8Array(n);
    case 'uint8':
    case 'uint4':
    case 'bool':
      return new Uint8Array(n);
    case 'int16':
      return new Int16Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'uint32':
      return new Uint32Array(n);
    case 'int64':
      return new BigInt64Array(n);
    case 'uint64':
      return new BigUint64Array(n);
    case 'string':
      return new Array<string>(n).fill('');
  }
}

/** The dtype a typed array stands for (Uint8Array reads as uint8, never bool). */
export function dtypeOfData(data: TensorData): DataType {
  if (Array.isArray(data)) return 'string';
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int16Array) return 'int16';
  if (data instanceof Uint16Array) return 'uint16';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint32Array) return 'uint32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof BigUint64Array) return 'uint64';
  throw new OnnxPtqError('INVALID_ARGUMENT', 'tensor data must be a typed array or a string array');
}

export function sizeOf(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

export function isBigIntType(dtype: DataType): dtype is 'int64' | 'uint64' {
  return dtype === 'int64' || dtype === 'uint64';
}
export function isFloatType(dtype: DataType): boolean {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'float16';
}

/**
 * A dense row-major tensor: `data` holds `prod(dims)` elements of `dtype`. Shaped like
 * onnxruntime's Tensor where it can be: `type` is `dtype`, `size` the element count, `dims`, `data`,
 * and `release()` (a no-op for JS-owned data, kept so that code written for onnxruntime runs as is).
 */
export class Tensor {
  readonly dtype: DataType;
  readonly dims: readonly number[];
  readonly data: TensorData;

  /** The element type, as onnxruntime names it (`tensor.type`): the same value as `dtype`. */
  get type(): DataType {
    return this.dtype;
  }

  /**
   * onnxruntime's `Tensor.dispose()`/`release` counterpart: the data is an ordinary JS array owned
   * by the garbage collector, so there is nothing to free; after this call the tensor is still valid.
   */
  release(): void {}

  /** Alias of `release()` (onnxruntime-common 1.16+ names it `dispose`). */
  dispose(): void {}

  constructor(dtype: DataType, data: TensorData, dims: readonly number[]);
  constructor(data: TensorData, dims: readonly number[]);
  constructor(a: DataType | TensorData, b: TensorData | readonly number[], c?: readonly number[]) {
    let dtype: DataType;
    let data: TensorData;
    let dims: readonly number[];
    if (typeof a === 'string') {
      dtype = a;
      data = b as TensorData;
      dims = c ?? [(b as TensorData).length];
    } else {
      data = a;
      dtype = dtypeOfData(a);
      dims = b as readonly number[];
    }
    check(
      dims.every((d) => Number.isInteger(d) && d >= 0),
      'INVALID_ARGUMENT',
      () => `tensor dims must be non-negative integers, got [${dims.join(', ')}]`,
    );
    check(
      sizeOf(dims) === data.length,
      'SHAPE_MISMATCH',
      () => `tensor of dims [${dims.join(', ')}] needs ${sizeOf(dims)} elements, data has ${data.length}`,
    );
    this.dtype = dtype;
    this.data = data;
    this.dims = Object.freeze([...dims]);
  }

  get size(): number {
    return this.data.length;
  }
  get rank(): number {
    return this.dims.length;
  }

  /** Same data, new dims (no copy). */
  reshape(dims: readonly number[]): Tensor {
    return new Tensor(this.dtype, this.data, dims);
  }

  /** Elements as JS numbers (int64 converted; for shapes, indices and small constants). */
  toNumbers(): number[] {
    const d = this.data;
    if (Array.isArray(d)) throw new OnnxPtqError('INVALID_ARGUMENT', 'string tensor has no numeric values');
    const out = new Array<number>(d.length);
    for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
    return out;
  }

  static zeros(dtype: DataType, dims: readonly number[]): Tensor {
    return new Tensor(dtype, allocData(dtype, sizeOf(dims)), dims);
  }

  /** An int64 tensor from numbers (Shape outputs, constant indices). */
  static int64(values: readonly number[], dims?: readonly number[]): Tensor {
    return new Tensor(
      'int64',
      BigInt64Array.from(values, (v) => BigInt(v)),
      dims ?? [values.length],
    );
  }

  static float32(values: ArrayLike<number>, dims?: readonly number[]): Tensor {
    const data = values instanceof Float32Array ? values : Float32Array.from(values);
    return new Tensor('float32', data, dims ?? [data.length]);
  }
}
