/**
 * Uniform affine quantization parameters (Jacob et al. 2018; PocketFlow's uniform quantizer):
 * r = S (q - Z). Asymmetric or symmetric, uint8 or int8 storage, 2..8 bits, per tensor, per
 * output channel (an axis), per group ("buckets" of a fixed size along the flattened tensor), or
 * per block (blocks of a fixed size along one axis, one parameter pair per block and position on the
 * other axes: ONNX opset 21's blocked QuantizeLinear/DequantizeLinear, and MatMulNBits).
 *
 * Asymmetric, range [a, b] first widened to contain 0 (so real 0 is exact):
 *   S = (b - a) / (qmax - qmin),  Z = clamp(round(qmin - a / S), qmin, qmax)
 * Symmetric, restricted range (qmin = -qmax, so -128 never appears in int8 and the negation of a
 * weight is representable; onnxruntime does the same for weights):
 *   S = max(|a|, |b|) / qmax',  Z = 0 for int8, 2^(bits-1) for uint8
 * Scales are float32, as ONNX stores them; Z is computed from the float32 scale.
 */
import { OnnxPtqError } from '../errors.js';
import { roundHalfEven } from './fixedpoint.js';
import { sizeOf } from '../tensor.js';

export type Granularity = 'per-tensor' | 'per-channel' | 'per-group' | 'per-block';

export interface QuantScheme {
  /** Number of bits, 2..8 (stored in 8-bit containers). */
  bits: number;
  /** int8 storage when true, uint8 otherwise. */
  signed: boolean;
  symmetric: boolean;
  granularity: Granularity;
  /** Channel axis for per-channel (default 0, the output channel of Conv weights); the blocked axis for per-block. */
  axis?: number;
  /** Bucket size for per-group, along the flattened tensor; block size along `axis` for per-block. */
  groupSize?: number;
}

export interface QuantParams {
  scale: Float32Array;
  zeroPoint: Int32Array;
  bits: number;
  signed: boolean;
  symmetric: boolean;
  granularity: Granularity;
  axis?: number;
  groupSize?: number;
  /** Integer range of the stored values. */
  qmin: number;
  qmax: number;
}

/** The integer range of a scheme: the full 2^bits levels, or one fewer when symmetric. */
export function quantRange(bits: number, signed: boolean, symmetric: boolean): { qmin: number; qmax: number } {
  if (!Number.isInteger(bits) || bits < 2 || (bits > 8 && bits !== 16))
    throw new OnnxPtqError('INVALID_OPTION', `bits must be an integer in [2, 8] or 16, got ${bits}`);
  const levels = 2 ** bits;
  if (signed) {
    const qmax = levels / 2 - 1;
    return { qmin: symmetric ? -qmax : -levels / 2, qmax };
  }
  return { qmin: 0, qmax: symmetric ? levels - 2 : levels - 1 };
}

/** Scale and zero point for one range [lo, hi] under a scheme. */
export function paramsForRange(
  lo: number,
  hi: number,
  bits: number,
  signed: boolean,
  symmetric: boolean,
): { scale: number; zeroPoint: number } {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo > hi) {
    throw new OnnxPtqError('INVALID_DATA', `quantization range must be finite with min <= max, got [${lo}, ${hi}]`);
  }
  const { qmin, qmax } = quantRange(bits, signed, symmetric);
  // A degenerate range (all zeros) still needs a positive scale; any value gives exact zeros.
  const tiny = 1e-12;
  if (symmetric) {
    const amax = Math.max(Math.abs(lo), Math.abs(hi));
    const half = (qmax - qmin) / 2;
    const scale = Math.fround(amax > tiny ? amax / half : 1);
    return { scale, zeroPoint: signed ? 0 : (qmin + qmax) / 2 };
  }
  const a = Math.min(lo, 0),
    b = Math.max(hi, 0);
  const scale = Math.fround(b - a > tiny ? (b - a) / (qmax - qmin) : 1);
  const z = roundHalfEven(qmin - a / scale);
  return { scale, zeroPoint: Math.min(qmax, Math.max(qmin, z)) };
}

/** Parameters for per-slice ranges (one slice per tensor, channel or group). */
export function computeParams(mins: ArrayLike<number>, maxs: ArrayLike<number>, scheme: QuantScheme): QuantParams {
  const { qmin, qmax } = quantRange(scheme.bits, scheme.signed, scheme.symmetric);
  const n = mins.length;
  const scale = new Float32Array(n),
    zeroPoint = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const p = paramsForRange(mins[i], maxs[i], scheme.bits, scheme.signed, scheme.symmetric);
    scale[i] = p.scale;
    zeroPoint[i] = p.zeroPoint;
  }
  return {
    scale,
    zeroPoint,
    bits: scheme.bits,
    signed: scheme.signed,
    symmetric: scheme.symmetric,
    granularity: scheme.granularity,
    ...(scheme.granularity === 'per-channel' || scheme.granularity === 'per-block' ? { axis: scheme.axis ?? 0 } : {}),
    ...(scheme.granularity === 'per-group' || scheme.granularity === 'per-block' ? { groupSize: scheme.groupSize } : {}),
    qmin,
    qmax,
  };
}

/** Index of the parameter slice that element i of a tensor with `dims` uses. */
export function sliceIndexer(dims: readonly number[], p: Pick<QuantParams, 'granularity' | 'axis' | 'groupSize'>): (i: number) => number {
  if (p.granularity === 'per-tensor') return () => 0;
  if (p.granularity === 'per-group') {
    const g = p.groupSize!;
    return (i) => Math.floor(i / g);
  }
  const axis = p.axis ?? 0;
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const ch = dims[axis];
  if (p.granularity === 'per-block') {
    // Parameters laid out as the tensor with dims[axis] -> ceil(dims[axis] / block): ONNX's blocked layout.
    const b = p.groupSize!,
      nb = Math.ceil(ch / b);
    return (i) => {
      const inr = i % inner,
        rest = (i - inr) / inner;
      return (Math.floor(rest / ch) * nb + Math.floor((rest % ch) / b)) * inner + inr;
    };
  }
  return (i) => Math.floor(i / inner) % ch;
}

/**
 * The contiguous runs of elements that share a slice, in index order: f(slice, start, end) for each
 * (per-block slices are not runs: one call per element there). The per-element loops over a tensor
 * take this instead of sliceIndexer's division per element (PP-OCRv4 det: 1.2M weights per
 * quantize, ~80 ms of start-up through the indexer).
 */
export function forEachSliceRun(
  n: number,
  dims: readonly number[],
  p: Pick<QuantParams, 'granularity' | 'axis' | 'groupSize'>,
  f: (slice: number, start: number, end: number) => void,
): void {
  if (p.granularity === 'per-block') {
    const idx = sliceIndexer(dims, p);
    for (let i = 0; i < n; i++) f(idx(i), i, i + 1);
    return;
  }
  if (p.granularity === 'per-tensor') {
    if (n > 0) f(0, 0, n);
    return;
  }
  if (p.granularity === 'per-group') {
    const g = p.groupSize!;
    for (let start = 0, s = 0; start < n; start += g, s++) f(s, start, Math.min(n, start + g));
    return;
  }
  const axis = p.axis ?? 0;
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const ch = dims[axis]!;
  if (inner === 0) return;
  for (let start = 0, r = 0; start < n; start += inner, r++) f(r % ch, start, Math.min(n, start + inner));
}

/** A block size onnxruntime's blocked DequantizeLinear and MatMulNBits take: a power of two >= 16. */
export function isBlockSize(b: number): boolean {
  return Number.isSafeInteger(b) && b >= 16 && (b & (b - 1)) === 0;
}

/** The dims of a per-block parameter tensor: the tensor's, with the blocked axis divided into blocks. */
export function blockedDims(dims: readonly number[], axis: number, block: number): number[] {
  return dims.map((d, k) => (k === axis ? Math.ceil(d / block) : d));
}

/** Number of parameter slices a tensor of `dims` needs under a scheme. */
export function sliceCount(dims: readonly number[], scheme: QuantScheme): number {
  const size = dims.reduce((a, b) => a * b, 1);
  switch (scheme.granularity) {
    case 'per-tensor':
      return 1;
    case 'per-channel': {
      const axis = scheme.axis ?? 0;
      if (axis < 0 || axis >= dims.length)
        throw new OnnxPtqError('INVALID_OPTION', `per-channel axis ${axis} is out of range for a tensor of rank ${dims.length}`);
      return dims[axis];
    }
    case 'per-group': {
      const g = scheme.groupSize;
      if (!g || !Number.isInteger(g) || g < 1)
        throw new OnnxPtqError('INVALID_OPTION', `per-group quantization needs an integer groupSize >= 1, got ${g}`);
      return Math.ceil(size / g);
    }
    case 'per-block': {
      const g = scheme.groupSize,
        axis = scheme.axis ?? 0;
      if (!g || !Number.isInteger(g) || g < 2)
        throw new OnnxPtqError('INVALID_OPTION', `per-block quantization needs an integer block size >= 2, got ${g}`);
      if (axis < 0 || axis >= dims.length)
        throw new OnnxPtqError('INVALID_OPTION', `per-block axis ${axis} is out of range for a tensor of rank ${dims.length}`);
      return sizeOf(blockedDims(dims, axis, g));
    }
  }
}

/** Per-slice min and max of a float tensor (weights). */
export function sliceRanges(data: Float32Array, dims: readonly number[], scheme: QuantScheme): { mins: Float64Array; maxs: Float64Array } {
  const n = sliceCount(dims, scheme);
  const layout = { granularity: scheme.granularity, axis: scheme.axis, groupSize: scheme.groupSize };
  const mins = new Float64Array(n).fill(Infinity),
    maxs = new Float64Array(n).fill(-Infinity);
  const bad = (i: number): never => {
    throw new OnnxPtqError('INVALID_DATA', `tensor holds a non-finite value (${data[i]}) at element ${i}`);
  };
  forEachSliceRun(data.length, dims, layout, (s, start, end) => {
    let lo = mins[s]!,
      hi = maxs[s]!;
    for (let i = start; i < end; i++) {
      const v = data[i]!;
      if (v - v !== 0) bad(i); // NaN or +-Infinity
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    mins[s] = lo;
    maxs[s] = hi;
  });
  for (let s = 0; s < n; s++)
    if (mins[s] === Infinity) {
      mins[s] = 0;
      maxs[s] = 0;
    }
  return { mins, maxs };
}

/**
 * ONNX QuantizeLinear: q = clamp(roundHalfEven(x / S) + Z, qmin, qmax), x / S in float32.
 * `round: false` is "PTQ without rounding": the value stays real (x / S + Z, clamped) so that
 * rounding error can be told apart from clipping error.
 */
export function quantizeValue(x: number, scale: number, zeroPoint: number, qmin: number, qmax: number, round = true): number {
  const v = Math.fround(x / scale);
  const q = (round ? roundHalfEven(v) : v) + zeroPoint;
  return q < qmin ? qmin : q > qmax ? qmax : q;
}

/** Quantizes a float tensor with its parameters into an 8-bit container (or Float32Array when unrounded). */
export function quantizeTensor(data: Float32Array, dims: readonly number[], p: QuantParams): Int8Array | Uint8Array {
  const out = p.signed ? new Int8Array(data.length) : new Uint8Array(data.length);
  forEachSliceRun(data.length, dims, p, (s, start, end) => {
    const scale = p.scale[s]!,
      zp = p.zeroPoint[s]!;
    for (let i = start; i < end; i++) out[i] = quantizeValue(data[i]!, scale, zp, p.qmin, p.qmax);
  });
  return out;
}

/** r = S (q - Z), in float32. */
export function dequantizeTensor(q: ArrayLike<number>, dims: readonly number[], p: QuantParams): Float32Array {
  const out = new Float32Array(q.length);
  forEachSliceRun(q.length, dims, p, (s, start, end) => {
    const scale = p.scale[s]!,
      zp = p.zeroPoint[s]!;
    for (let i = start; i < end; i++) out[i] = Math.fround(scale * (q[i]! - zp));
  });
  return out;
}

/** Fake quantization (quantize then dequantize), optionally without rounding. */
export function fakeQuantize(data: Float32Array, dims: readonly number[], p: QuantParams, round = true): Float32Array {
  const out = new Float32Array(data.length);
  forEachSliceRun(data.length, dims, p, (s, start, end) => {
    const scale = p.scale[s]!,
      zp = p.zeroPoint[s]!;
    for (let i = start; i < end; i++) out[i] = Math.fround(scale * (quantizeValue(data[i]!, scale, zp, p.qmin, p.qmax, round) - zp));
  });
  return out;
}
