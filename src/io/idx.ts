// IDX files (the MNIST format), optionally gzipped: magic 00 00 <type> <ndims>, big-endian uint32
// dims, then the data. Decoded with node:zlib; sizes are checked before allocating.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { OnnxPtqError, check } from '../errors.js';
import { Tensor, type DataType } from '../tensor.js';

const IDX_TYPES: Record<number, { dtype: DataType; bytes: number }> = {
  8: { dtype: 'uint8', bytes: 1 },
  9: { dtype: 'int8', bytes: 1 },
  11: { dtype: 'int16', bytes: 2 },
  12: { dtype: 'int32', bytes: 4 },
  13: { dtype: 'float32', bytes: 4 },
  14: { dtype: 'float64', bytes: 8 },
};

/** Parses IDX bytes (gzipped or not) into a tensor. */
export function parseIdx(buf: Uint8Array, what = 'IDX data'): Tensor {
  let b = buf;
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) {
    try {
      b = gunzipSync(b);
    } catch (e) {
      throw new OnnxPtqError('INVALID_DATA', `${what}: corrupt gzip stream: ${(e as Error).message}`);
    }
  }
  check(b.length >= 4 && b[0] === 0 && b[1] === 0, 'INVALID_DATA', `${what} is not an IDX file (bad magic)`);
  const t = IDX_TYPES[b[2]!];
  check(t, 'INVALID_DATA', `${what}: unknown IDX element type 0x${b[2]!.toString(16)}`);
  const nd = b[3]!;
  check(b.length >= 4 + 4 * nd, 'INVALID_DATA', `${what}: truncated header`);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const dims: number[] = [];
  let n = 1;
  for (let i = 0; i < nd; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    n *= d;
  }
  const off = 4 + 4 * nd;
  check(
    b.length - off === n * t.bytes,
    'INVALID_DATA',
    `${what}: header declares ${n} elements (${n * t.bytes} bytes), file holds ${b.length - off}`,
  );
  let data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
  switch (t.dtype) {
    case 'uint8':
      data = Uint8Array.from(b.subarray(off));
      break;
    case 'int8':
      data = Int8Array.from(b.subarray(off), (v) => (v << 24) >> 24);
      break;
    default: {
      // multi-byte IDX values are big-endian
      const arr =
        t.dtype === 'int16'
          ? new Int16Array(n)
          : t.dtype === 'int32'
            ? new Int32Array(n)
            : t.dtype === 'float32'
              ? new Float32Array(n)
              : new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const p = off + i * t.bytes;
        arr[i] =
          t.dtype === 'int16'
            ? view.getInt16(p)
            : t.dtype === 'int32'
              ? view.getInt32(p)
              : t.dtype === 'float32'
                ? view.getFloat32(p)
                : view.getFloat64(p);
      }
      data = arr;
    }
  }
  return new Tensor(t.dtype, data, dims);
}

export function readIdx(path: string): Tensor {
  let buf: Uint8Array;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new OnnxPtqError('IO_ERROR', `cannot read IDX file '${path}': ${(e as Error).message}`);
  }
  return parseIdx(buf, `IDX file '${path}'`);
}
