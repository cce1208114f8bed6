/** Table lookup, QuantizeLinear, DequantizeLinear (native/include/opq_qunary.h), Softmax and LayerNorm. */
import type { Int8Like, KernelVariant } from './types.js';
import { OnnxPtqError } from '../errors.js';

/** y[i] = table[x[i] & 0xff] for i < x.length (table: 256 entries, src/quant/lut.ts). */
export interface LutArgs {
  x: Int8Like;
  table: Uint8Array;
  y: Int8Like;
  variant?: KernelVariant;
}

/**
 * x viewed as [outer, axisLen, inner]. Parameters: one (per tensor), axisLen (per axis) or, with
 * blockSize > 0, outer * ceil(axisLen / blockSize) * inner (blocked, ONNX opset 21).
 */
export interface QdqLayout {
  outer: number;
  axisLen: number;
  inner: number;
  blockSize?: number;
  scale: Float32Array;
  zeroPoint: Int32Array;
  variant?: KernelVariant;
}

/** y = clamp(roundHalfEven(x / scale) + zeroPoint), the division in float32; y's type decides. */
export interface QuantizeLinearArgs extends QdqLayout {
  x: Float32Array;
  y: Int8Like;
}

/** y = float32(x - zeroPoint) * scale; x is uint8, int8 or int32. */
export interface DequantizeLinearArgs extends QdqLayout {
  x: Uint8Array | Int8Array | Int32Array;
  y: Float32Array;
}

/**
 * Integer Softmax along the axis of x viewed as [outer, axisLen, inner] (native/include/opq_qsoftmax.h):
 * per row, d = max - x, t = table[d], s = sum t; y = clamp(round_half_up(t * multiplier / (s * 2^shift))
 * + zeroPoint, min, max) exactly. Parameters from src/quant/softmax.ts.
 */
export interface SoftmaxArgs {
  x: Int8Like;
  outer: number;
  axisLen: number;
  inner: number;
  /** 256 entries in [0, SOFTMAX_ONE]: round(SOFTMAX_ONE * exp(-x_scale * d)). */
  table: Uint32Array;
  multiplier: number;
  shift: number;
  zeroPoint: number;
  min: number;
  max: number;
  y: Int8Like;
  variant?: KernelVariant;
}

/**
 * Integer LayerNorm of x viewed as [rows, length] (native/include/opq_qlayernorm.h; the definition and
 * its error against float are in src/kernels/int8/qlayernorm-ref.ts): eps, gm and gs from
 * layerNormParams, gamma and beta (both or neither) from layerNormAffine.
 */
export interface LayerNormArgs {
  x: Int8Like;
  xZeroPoint: number;
  rows: number;
  length: number;
  /** The integer eps term E, in [0, 2^50]. */
  eps: number;
  gm: number;
  gs: number;
  gamma?: Int32Array;
  beta?: Int32Array;
  zeroPoint: number;
  min: number;
  max: number;
  y: Int8Like;
  variant?: KernelVariant;
}

export interface QUnaryKernels {
  lut(args: LutArgs): void;
  softmax(args: SoftmaxArgs): void;
  layerNorm(args: LayerNormArgs): void;
  quantizeLinear(args: QuantizeLinearArgs): void;
  dequantizeLinear(args: DequantizeLinearArgs): void;
}

/** outer/axisLen/inner of a shape around `axis` (negative counts from the back). */
export function qdqLayout(shape: readonly number[], axis: number): { outer: number; axisLen: number; inner: number } {
  const r = shape.length;
  if (r === 0) return { outer: 1, axisLen: 1, inner: 1 };
  const a = axis < 0 ? axis + r : axis;
  if (!Number.isInteger(a) || a < 0 || a >= r) throw new OnnxPtqError('KERNEL_ARGUMENT', `axis ${axis} is outside [-${r}, ${r - 1}]`);
  const prod = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);
  return { outer: prod(shape.slice(0, a)), axisLen: shape[a], inner: prod(shape.slice(a + 1)) };
}
