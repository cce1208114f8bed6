/**
 * The A16W8 convolution kernel family "qconv16" (native/include/opq_qconv16.h): 2-D NCHW
 * convolution of 8- or 16-bit activations with int8 OIHW weights (unpacked), exact int64
 * accumulation, requantized per output channel to an 8- or 16-bit output.
 *
 * Geometry: exactly the integer convolution's (Conv2dShape, conv2dOutputSize), out = (in + pads -
 * ((kernel - 1) * dilation + 1)) / stride + 1.
 *
 *   acc = bias[oc] + sum over (ic in the group, kh, kw inside the input) (x - xZeroPoint) * (w - wZeroPoint[oc or 0])
 *
 * exactly (padding contributes nothing). Refused unless K * xr * wr + max|bias| < 2^47, with
 * K = inChannels/groups * kernelH * kernelW, xr = max |x - xZeroPoint| over X's type range and
 * wr = max |w - wZeroPoint| over int8, so |acc| < 2^47. y = requantizeWide(acc, requant, c)
 * (src/quant/requant-wide.ts: fixed-point 16x8, float, shift); fixed-point params with
 * 15 - shift < 1 are refused.
 */
import { OnnxPtqError } from '../errors.js';
import type { RequantParams } from '../quant/requant.js';
import { checkRequantShape } from './qgemm-args.js';
import { convGeom, shapeFields, type ConvGeom } from './conv-args.js';
import type { Conv2dShape } from './kernels-conv.js';
import type { KernelVariant } from './types.js';

export type WideLike = Uint8Array | Int8Array | Int16Array | Uint16Array;

/** Element type ids of the C ABI (OPQ_QC16_*). */
export const QC16_TYPE = { uint8: 0, int8: 1, int16: 2, uint16: 3 } as const;

export interface QConv16Args {
  /** The convolution's geometry (as the integer conv family's). */
  shape: Conv2dShape;
  /** batch x inChannels x inHeight x inWidth; its type decides x_type. */
  x: WideLike;
  /** Inside X's type range. */
  xZeroPoint: number;
  /** int8, OIHW: outChannels x inChannels/groups x kernelH x kernelW. */
  w: Int8Array;
  /** 1 or outChannels entries in [-128, 127]. */
  wZeroPoint: Int32Array;
  /** int32 in the accumulator's scale, outChannels entries, or none. */
  bias?: Int32Array | null;
  /** 1 or outChannels channels; the clamp [min, max] and zeroPoint inside Y's type range. */
  requant: RequantParams;
  /** batch x outChannels x outH x outW; its type decides y_type. */
  y: WideLike;
  variant?: KernelVariant;
}

export interface QConv16Kernels {
  /** Y = requantizeWide(bias + sum (X - xZeroPoint) * (W - wZeroPoint)), exact int64 accumulation. */
  qconv16(args: QConv16Args): void;
}

function fail(msg: string): never {
  throw new OnnxPtqError('KERNEL_ARGUMENT', msg);
}

/** The OPQ_QC16_* type of a typed array, or -1 for any other value. */
export function qc16Type(a: unknown): number {
  if (a instanceof Uint8Array) return QC16_TYPE.uint8;
  if (a instanceof Int8Array) return QC16_TYPE.int8;
  if (a instanceof Int16Array) return QC16_TYPE.int16;
  if (a instanceof Uint16Array) return QC16_TYPE.uint16;
  return -1;
}

/** [min, max] of an OPQ_QC16_* type. */
export function qc16Range(type: number): [number, number] {
  return type === 0 ? [0, 255] : type === 1 ? [-128, 127] : type === 2 ? [-32768, 32767] : [0, 65535];
}

/** The typed-array checks every backend makes before marshalling (same words as the N-API glue). */
export function checkQConv16Types(a: QConv16Args): void {
  if (a === null || typeof a !== 'object') fail('qconv16: arguments must be an object');
  if (qc16Type(a.x) < 0) fail('x must be a Uint8Array, Int8Array, Int16Array or Uint16Array');
  if (qc16Type(a.y) < 0) fail('y must be a Uint8Array, Int8Array, Int16Array or Uint16Array');
  if (!(a.w instanceof Int8Array)) fail('w must be an Int8Array');
  if (!(a.wZeroPoint instanceof Int32Array)) fail('wZeroPoint must be an Int32Array');
  if (a.bias != null && !(a.bias instanceof Int32Array)) fail('bias must be an Int32Array');
  if (typeof a.xZeroPoint !== 'number' || !Number.isInteger(a.xZeroPoint) || Math.abs(a.xZeroPoint) > 2 ** 31 - 1)
    fail('xZeroPoint must be an int32 integer');
  checkRequantShape(a.requant, 'qconv16');
  for (const k of ['zeroPoint', 'min', 'max'] as const) {
    const v = a.requant[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || Math.abs(v) > 2 ** 31 - 1) fail(`requant.${k} must be an int32 integer`);
  }
}

/** The geometry and the element-count checks of opq_qconv16 (native/api/qconv16-api.cc). */
export function qconv16Geom(s: Conv2dShape): ConvGeom {
  const g = convGeom(shapeFields(s));
  if (g.n * g.cin * g.h * g.w > 2 ** 31 - 1 || g.n * g.cout * g.oh * g.ow > 2 ** 31 - 1)
    fail('qconv16: X or Y has more than 2^31 - 1 elements');
  return g;
}

/** [outH, outW] of a qconv16 geometry (validated). */
export function qconv16OutputSize(s: Conv2dShape): [number, number] {
  const g = qconv16Geom(s);
  return [g.oh, g.ow];
}

export function validateRequantWide(rq: RequantParams, channels: number, yType: number): void {
  if (rq.mode !== 0 && rq.mode !== 1 && rq.mode !== 2) fail('requant: mode must be 0 (fixed-point), 1 (float) or 2 (shift)');
  const count = rq.shift.length;
  if (count !== 1 && count !== channels) fail('requant: count must be 1 or the number of output channels');
  const [tmin, tmax] = qc16Range(yType);
  if (!(rq.min >= tmin && rq.max <= tmax && rq.min <= rq.max))
    fail('requant: output_min/output_max must satisfy type_min <= output_min <= output_max <= type_max');
  if (!(rq.zeroPoint >= tmin && rq.zeroPoint <= tmax)) fail("requant: output_zero_point out of the output type's range");
  for (let i = 0; i < count; i++) {
    if (rq.mode === 1) {
      if (!(rq.scale[i]! >= 0 && rq.scale[i]! <= 3.0e38)) fail('requant: scale must be finite and >= 0');
    } else {
      if (rq.shift[i]! < -31 || rq.shift[i]! > 31) fail('requant: shift must be in [-31, 31]');
      if (rq.mode === 0) {
        if (rq.multiplier[i]! < 0) fail('requant: multiplier must be >= 0');
        if (rq.shift[i]! >= 15)
          fail('qconv16: fixed-point requant needs total_shift = 15 - shift >= 1 (multipliers >= 2^14 are not supported)');
      }
    }
  }
}

/** Every check of opq_qconv16 after the typed-array ones, in the same order and words. */
export function validateQConv16(a: QConv16Args): ConvGeom {
  const g = qconv16Geom(a.shape);
  const xt = qc16Type(a.x),
    yt = qc16Type(a.y);
  if (a.x.length < g.n * g.cin * g.h * g.w) fail('qconv16: buffer X is smaller than batch * in_channels * in_height * in_width');
  if (a.y.length < g.n * g.cout * g.oh * g.ow) fail('qconv16: buffer Y is smaller than batch * out_channels * out_h * out_w');
  if (a.w.length < g.cout * g.kg) fail('qconv16: buffer W is smaller than out_channels * in_channels/groups * kernel_h * kernel_w');
  const [xmin, xmax] = qc16Range(xt);
  if (a.xZeroPoint < xmin || a.xZeroPoint > xmax) fail("qconv16: x_zero_point out of X's type range");
  if (a.wZeroPoint.length !== 1 && a.wZeroPoint.length !== g.cout) fail('qconv16: w_zero_point needs 1 or out_channels entries');
  let wr = 0;
  for (const z of a.wZeroPoint) {
    if (z < -128 || z > 127) fail('qconv16: w_zero_point entries must be in [-128, 127]');
    wr = Math.max(wr, z + 128, 127 - z);
  }
  const nb = a.bias ? a.bias.length : 0;
  if (nb !== 0 && nb !== g.cout) fail('qconv16: bias needs 0 or out_channels entries');
  validateRequantWide(a.requant, g.cout, yt);
  const xr = Math.max(a.xZeroPoint - xmin, xmax - a.xZeroPoint);
  let bmax = 0;
  for (let i = 0; i < nb; i++) bmax = Math.max(bmax, Math.abs(a.bias![i]!));
  // Doubles round monotonically: a product at or past 2^47 never rounds below it, one below is exact.
  if (g.kg * xr * wr + bmax >= 2 ** 47)
    fail(
      'qconv16: in_channels/groups * kernel_h * kernel_w * max|x - x_zero_point| * max|w - w_zero_point| + max|bias| must be below 2^47 (exact int64 accumulation)',
    );
  return g;
}
