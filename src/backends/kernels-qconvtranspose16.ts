/**
 * The A16W8 ConvTranspose kernel family "qconvtranspose16" (native/include/opq_qconvtranspose16.h):
 * the integer ConvTranspose of kernels-convtranspose.ts (geometry, ONNX weight layout
 * inChannels x outChannels/groups x kernelH x kernelW, explicit pads and output_padding) with 8- or
 * 16-bit activations on either side, exact int64 accumulation and the wide requantization of
 * qconv16 (src/quant/requant-wide.ts): exactly qconvTranspose2dRef(..., wide = true).
 *
 * Refused unless K * xr * wr + max|bias| < 2^47 with K = inChannels/groups * kernelH * kernelW,
 * xr = max |x - xZeroPoint| over X's type range and wr = max |w - wZeroPoint| over int8 (the
 * geometry's K <= 33025 already keeps every valid call below it).
 */
import { OnnxPtqError } from '../errors.js';
import type { RequantParams } from '../quant/requant.js';
import { convTransposeFields, convTransposeGeom, type ConvTranspose2dShape, type ConvTransposeGeom } from './kernels-convtranspose.js';
import { checkQConv16Types, qc16Range, qc16Type, validateRequantWide, type WideLike } from './kernels-qconv16.js';
import type { KernelVariant } from './types.js';

export interface QConvTranspose16Args {
  shape: ConvTranspose2dShape;
  /** batch x inChannels x inHeight x inWidth; its type decides x_type. */
  x: WideLike;
  /** Inside X's type range. */
  xZeroPoint: number;
  /** int8, inChannels x outChannels/groups x kernelH x kernelW. */
  w: Int8Array;
  /** 1 or outChannels entries in [-128, 127]. */
  wZeroPoint: Int32Array;
  /** int32 in the accumulator scale, outChannels entries, or none. */
  bias?: Int32Array | null;
  /** 1 or outChannels channels; the clamp [min, max] and zeroPoint inside Y's type range. */
  requant: RequantParams;
  /** batch x outChannels x outH x outW; its type decides y_type. */
  y: WideLike;
  variant?: KernelVariant;
}

export interface QConvTranspose16Kernels {
  /** Y = requantizeWide(bias + sum (X - xZeroPoint) * (W - wZeroPoint)) scattered as ConvTranspose defines. */
  qconvTranspose16(args: QConvTranspose16Args): void;
}

function fail(msg: string): never {
  throw new OnnxPtqError('KERNEL_ARGUMENT', msg);
}

/** The typed-array checks every backend makes before marshalling (same words as the N-API glue). */
export function checkQConvTranspose16Types(a: QConvTranspose16Args): void {
  if (a === null || typeof a !== 'object') fail('qconvtranspose16: arguments must be an object');
  checkQConv16Types(a as unknown as Parameters<typeof checkQConv16Types>[0]);
}

/** Every check of opq_qconvtranspose16 after the typed-array ones, in the same order and words. */
export function validateQConvTranspose16(a: QConvTranspose16Args): ConvTransposeGeom {
  const g = convTransposeGeom(convTransposeFields(a.shape));
  const xt = qc16Type(a.x),
    yt = qc16Type(a.y);
  if (a.x.length < g.n * g.cin * g.h * g.w) fail('qconvtranspose16: buffer X is smaller than batch * in_channels * in_height * in_width');
  if (a.y.length < g.n * g.cout * g.oh * g.ow) fail('qconvtranspose16: buffer Y is smaller than batch * out_channels * out_h * out_w');
  if (a.w.length < g.cin * g.coutG * g.kh * g.kw)
    fail('qconvtranspose16: buffer W is smaller than in_channels * out_channels/groups * kernel_h * kernel_w');
  const [xmin, xmax] = qc16Range(xt);
  if (a.xZeroPoint < xmin || a.xZeroPoint > xmax) fail("qconvtranspose16: x_zero_point out of X's type range");
  if (a.wZeroPoint.length !== 1 && a.wZeroPoint.length !== g.cout) fail('qconvtranspose16: w_zero_point needs 1 or out_channels entries');
  let wr = 0;
  for (const z of a.wZeroPoint) {
    if (z < -128 || z > 127) fail('qconvtranspose16: w_zero_point entries must be in [-128, 127]');
    wr = Math.max(wr, z + 128, 127 - z);
  }
  const nb = a.bias ? a.bias.length : 0;
  if (nb !== 0 && nb !== g.cout) fail('qconvtranspose16: bias needs 0 or out_channels entries');
  validateRequantWide(a.requant, g.cout, yt);
  const xr = Math.max(a.xZeroPoint - xmin, xmax - a.xZeroPoint);
  let bmax = 0;
  for (let i = 0; i < nb; i++) bmax = Math.max(bmax, Math.abs(a.bias![i]!));
  // Doubles round monotonically: a product at or past 2^47 never rounds below it, one below is exact.
  if (g.cinG * g.kh * g.kw * xr * wr + bmax >= 2 ** 47)
    fail(
      'qconvtranspose16: in_channels/groups * kernel_h * kernel_w * max|x - x_zero_point| * max|w - w_zero_point| + max|bias| must be below 2^47 (exact int64 accumulation)',
    );
  return g;
}
