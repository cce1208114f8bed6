// NumPy .npy (format 1.0/2.0/3.0), little-endian, C order. Header is validated and the data size is
// checked against the file before allocating.
import { readFileSync } from 'node:fs';
import { OnnxPtqError, check } from '../errors.js';
import { Tensor, allocData, bytesPerElement, type DataType, type TensorData } from '../tensor.js';
import { writeFilesAtomic } from '../util/atomic-write.js';

const DESCR: Record<string, DataType> = {
  '<f4': 'float32',
  '<f8': 'float64',
  '<f2': 'float16',
  '|i1': 'int8',
  '|u1': 'uint8',
  '<i2': 'int16',
  '<u2': 'uint16',
  '<i4': 'int32',
  '<u4': 'uint32',
  '<i8': 'int64',
  '<u8': 'uint64',
  '|b1': 'bool',
};
// NumPy has no 4-bit type: int4/uint4 are written one per byte, as int8/uint8 (ml_dtypes' layout too).
const DESCR_OF = { ...Object.fromEntries(Object.entries(DESCR).map(([k, v]) => [v, k])), int4: '|i1', uint4: '|u1' } as Record<
  DataType,
  string
>;

export function parseNpy(buf: Uint8Array, what = '.npy data'): Tensor {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  check(buf.length >= 10 && magic.every((m, i) => buf[i] === m), 'INVALID_DATA', `${what} is not a .npy file (bad magic)`);
  const major = buf[6]!;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const hlen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const hoff = major === 1 ? 10 : 12;
  check(buf.length >= hoff + hlen, 'INVALID_DATA', `${what}: truncated header`);
  const header = new TextDecoder().decode(buf.subarray(hoff, hoff + hlen));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeStr = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  check(descr && fortran && shapeStr !== undefined, 'INVALID_DATA', `${what}: malformed header ${JSON.stringify(header)}`);
  check(fortran === 'False', 'INVALID_DATA', `${what}: Fortran-order arrays are not supported`);
  const dtype = DESCR[descr];
  check(dtype, 'INVALID_DATA', `${what}: unsupported dtype '${descr}'`);
  const dims = shapeStr
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s)
    .map(Number);
  check(
    dims.every((d) => Number.isSafeInteger(d) && d >= 0),
    'INVALID_DATA',
    `${what}: bad shape (${shapeStr})`,
  );
  const n = dims.reduce((a, b) => a * b, 1);
  const off = hoff + hlen;
  const bytes = n * bytesPerElement(dtype);
  check(
    buf.length - off === bytes,
    'INVALID_DATA',
    `${what}: shape (${dims.join(', ')}) needs ${bytes} data bytes, file holds ${buf.length - off}`,
  );
  const data = allocData(dtype, n) as Exclude<TensorData, string[]>;
  new Uint8Array(data.buffer).set(buf.subarray(off, off + bytes));
  return new Tensor(dtype, data, dims);
}

export function readNpy(path: string): Tensor {
  let buf: Uint8Array;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new OnnxPtqError('IO_ERROR', `cannot read '${path}': ${(e as Error).message}`);
  }
  return parseNpy(buf, `'${path}'`);
}

export function npyBytes(t: Tensor): Uint8Array {
  check(t.dtype !== 'string', 'INVALID_ARGUMENT', 'string tensors cannot be written as .npy');
  const shape = t.dims.length === 1 ? `(${t.dims[0]},)` : `(${t.dims.join(', ')})`;
  let header = `{'descr': '${DESCR_OF[t.dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  // pad so that magic + len + header + '\n' is a multiple of 64 (numpy's alignment)
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = `${header.padEnd(total - 10 - 1, ' ')}\n`;
  const d = t.data as Exclude<TensorData, string[]>;
  const out = new Uint8Array(10 + header.length + d.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), 10 + header.length);
  return out;
}

/** Writes a .npy atomically (temporary name, then rename). */
export function writeNpy(path: string, t: Tensor): void {
  writeFilesAtomic([{ path, data: npyBytes(t) }]);
}
