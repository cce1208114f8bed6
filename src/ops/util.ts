import type { Dim } from '../ir/graph.js';
import { Tensor, type DataType, type TensorData } from '../tensor.js';
import { fail, need, unsupported, type OpContext, type TypeInfo } from './types.js';
import { broadcastShape } from '../util/shape.js';

/** Normalizes a possibly negative axis into [0, rank). */
export function normAxis(ctx: OpContext, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  need(ctx, a >= 0 && a < rank, `axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** Row-major strides of `dims`. */
export function stridesOf(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i]!;
  }
  return s;
}

/** Numpy broadcast of two concrete shapes; fails naming the node. */
export function broadcastShapes(ctx: OpContext, a: readonly number[], b: readonly number[]): number[] {
  return broadcastShape(a, b) ?? fail(ctx, `shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`);
}

/** Broadcast of possibly symbolic shapes (unknown when undecidable). */
export function broadcastDims(shapes: (Dim[] | undefined)[]): Dim[] | undefined {
  if (shapes.some((s) => !s)) return undefined;
  const ss = shapes as Dim[][];
  const r = Math.max(...ss.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < r; i++) {
    let d: Dim = 1;
    for (const s of ss) {
      // A missing leading axis is 1; an unknown (null) dim stays unknown (`?? 1` made it 1).
      const j = s.length - r + i;
      const x = j >= 0 ? s[j]! : 1;
      if (x === 1) continue;
      if (d === 1) d = x;
      else if (d !== x) d = typeof d === 'number' && typeof x === 'number' ? d : null;
    }
    out.push(d);
  }
  return out;
}

/** Strides of `dims` as seen from a broadcast output of rank `rank` (0 on broadcast axes). */
export function broadcastStrides(dims: readonly number[], outDims: readonly number[]): number[] {
  const r = outDims.length;
  const s = stridesOf(dims);
  const out = new Array<number>(r).fill(0);
  for (let i = 0; i < dims.length; i++) {
    const oi = r - dims.length + i;
    out[oi] = dims[i] === 1 && outDims[oi] !== 1 ? 0 : s[i]!;
  }
  return out;
}

export function isStatic(shape: Dim[] | undefined): shape is number[] {
  return !!shape && shape.every((d) => typeof d === 'number');
}

export const same = (t: TypeInfo | undefined): TypeInfo[] => [{ dtype: t?.dtype, shape: t?.shape }];

/** A tensor's values as numbers (int64 shapes, axes, pads, ...). */
export function ints(t: Tensor | undefined): number[] | undefined {
  return t ? t.toNumbers() : undefined;
}

/** New tensor of `dtype` from a data array already of the right kind. */
export function mk(dtype: DataType, data: TensorData, dims: readonly number[]): Tensor {
  return new Tensor(dtype, data, dims);
}

/** The Float32Array of a float32 tensor; other dtypes are UNSUPPORTED_OP for float-only ops. */
export function float32Of(ctx: OpContext, t: Tensor, what: string): Float32Array {
  if (t.dtype !== 'float32') unsupported(ctx, `${what} is ${t.dtype}; this op supports float32 only`);
  return t.data as Float32Array;
}

/** One run of a gather: dst[o + j] = src[p + j * step] for j < n. */
type RunCopy = (src: any, p: number, step: number, dst: any, o: number, n: number) => void;
const runCopies = new Map<string, RunCopy>();

/**
 * The run loop for this pair of array types, compiled once per pair: one shared loop sees every
 * typed-array kind (Transpose alone copies float32, int8, int64, ...) and V8 then makes its element
 * accesses megamorphic, several times slower than a loop that only ever sees one kind.
 */
function runCopy(src: any, dst: any): RunCopy {
  const key = `${src?.constructor?.name}>${dst?.constructor?.name}`;
  let f = runCopies.get(key);
  if (!f) {
    f = new Function('src', 'p', 'step', 'dst', 'o', 'n', 'for (let j = 0; j < n; j++, p += step) dst[o + j] = src[p];') as RunCopy;
    runCopies.set(key, f);
  }
  return f;
}

/**
 * dst[i] = src[srcOff + sum(idx_k * srcStrides[k])] for every index of `outDims` in row-major
 * order: the one gather loop behind Transpose, Slice, Expand and friends. Runs along the last axis
 * that are contiguous in src and long enough are block copies (TypedArray.set) when both are typed
 * arrays of one kind.
 */
export function stridedCopy(src: any, srcOff: number, srcStrides: readonly number[], dst: any, outDims: readonly number[]): void {
  const r = outDims.length;
  const n = outDims.reduce((a, b) => a * b, 1);
  if (n === 0) return;
  if (r === 0) {
    dst[0] = src[srcOff];
    return;
  }
  const inner = outDims[r - 1]!;
  const is = srcStrides[r - 1]!;
  const block = is === 1 && inner >= 16 && ArrayBuffer.isView(src) && src.constructor === dst.constructor;
  const copy = block ? undefined : runCopy(src, dst);
  const idx = new Array<number>(r).fill(0);
  let off = srcOff;
  let o = 0;
  const outer = n / inner;
  for (let it = 0; it < outer; it++) {
    if (block) dst.set((src as Float32Array).subarray(off, off + inner), o);
    else copy!(src, off, is, dst, o, inner);
    o += inner;
    for (let ax = r - 2; ax >= 0; ax--) {
      idx[ax]!++;
      off += srcStrides[ax]!;
      if (idx[ax]! < outDims[ax]!) break;
      off -= srcStrides[ax]! * outDims[ax]!;
      idx[ax] = 0;
    }
  }
}
