/**
 * The integer ConvTranspose kernel family (native/include/opq_convtranspose.h): 2-D, NCHW, weights
 * in the ONNX layout inChannels x outChannels/groups x kernelH x kernelW, explicit pads and
 * output_padding (auto_pad and output_shape resolve to them in the lowering).
 */
import { OnnxPtqError } from '../errors.js';
import type { RequantParams } from '../quant/requant.js';
import type { Int8Like, KernelVariant } from './types.js';

export interface ConvTranspose2dShape {
  batch: number;
  inChannels: number;
  inHeight: number;
  inWidth: number;
  outChannels: number;
  kernelH: number;
  kernelW: number;
  /** Default 1. */
  groups?: number;
  /** [h, w], default [1, 1]. */
  strides?: readonly number[];
  /** [h, w], default [1, 1]. */
  dilations?: readonly number[];
  /** [top, left, bottom, right] (ONNX order), default zeros. */
  pads?: readonly number[];
  /** [h, w], default [0, 0]. */
  outputPadding?: readonly number[];
}

export interface QConvTranspose2dArgs {
  shape: ConvTranspose2dShape;
  /** uint8 or int8 (its type decides), batch x inChannels x inHeight x inWidth. */
  x: Int8Like;
  xZeroPoint: number;
  /** int8, inChannels x outChannels/groups x kernelH x kernelW. */
  w: Int8Array;
  /** 1 or outChannels entries in [-128, 127]. */
  wZeroPoint: Int32Array;
  /** int32 in the accumulator scale Sx * Sw[c], outChannels entries, or none. */
  bias?: Int32Array | null;
  /** 1 or outChannels channels. */
  requant: RequantParams;
  /** uint8 or int8 (its type decides), batch x outChannels x outH x outW. */
  y: Int8Like;
  variant?: KernelVariant;
}

export interface QConvTransposeKernels {
  /** Y = requant(bias + sum (X - xZeroPoint) * (W - wZeroPoint)) scattered as ConvTranspose defines. */
  qconvTranspose2d(args: QConvTranspose2dArgs): void;
}

function fail(msg: string): never {
  throw new OnnxPtqError('KERNEL_ARGUMENT', msg);
}

/** The 18 int32 fields of opq_convtranspose2d_shape (values checked to be int32 integers only). */
export function convTransposeFields(s: ConvTranspose2dShape): Int32Array {
  if (s === null || typeof s !== 'object') fail('convtranspose: shape must be an object');
  const st = s.strides ?? [1, 1],
    d = s.dilations ?? [1, 1],
    p = s.pads ?? [0, 0, 0, 0],
    op = s.outputPadding ?? [0, 0];
  if (st.length !== 2 || d.length !== 2 || p.length !== 4 || op.length !== 2)
    fail('convtranspose: strides, dilations and outputPadding need 2 entries and pads 4');
  const v = [
    s.batch,
    s.inChannels,
    s.inHeight,
    s.inWidth,
    s.outChannels,
    s.kernelH,
    s.kernelW,
    s.groups ?? 1,
    st[0],
    st[1],
    d[0],
    d[1],
    p[0],
    p[1],
    p[2],
    p[3],
    op[0],
    op[1],
  ];
  for (const x of v)
    if (typeof x !== 'number' || !Number.isInteger(x) || x < -(2 ** 31) || x > 2 ** 31 - 1)
      fail(`convtranspose: shape values must be int32 integers, got ${String(x)}`);
  return Int32Array.from(v as number[]);
}

export interface ConvTransposeGeom {
  n: number;
  cin: number;
  h: number;
  w: number;
  cout: number;
  kh: number;
  kw: number;
  groups: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  pt: number;
  pl: number;
  pb: number;
  pr: number;
  oph: number;
  opw: number;
  oh: number;
  ow: number;
  cinG: number;
  coutG: number;
}

/** The checks of MakeCtGeom (native/qconvtranspose/qconvtranspose-driver.cc), in the same words. */
export function convTransposeGeom(f: Int32Array): ConvTransposeGeom {
  for (const v of f) {
    if (v < 0) fail('convtranspose: every shape field must be >= 0 (negative pads or output_padding are invalid)');
    if (v > 2 ** 28) fail('convtranspose: every shape field must be at most 2^28');
  }
  const [n, cin, h, w, cout, kh, kw, groups, sh, sw, dh, dw, pt, pl, pb, pr, oph, opw] = Array.from(f) as number[] as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (cin === 0 || cout === 0 || h === 0 || w === 0) fail('convtranspose: in_channels, out_channels, in_height and in_width must be >= 1');
  if (kh === 0 || kw === 0) fail('convtranspose: kernel_h and kernel_w must be >= 1');
  if (sh === 0 || sw === 0) fail('convtranspose: stride_h and stride_w must be >= 1');
  if (dh === 0 || dw === 0) fail('convtranspose: dilation_h and dilation_w must be >= 1');
  if (groups === 0) fail('convtranspose: groups must be >= 1');
  if (cin % groups !== 0 || cout % groups !== 0) fail('convtranspose: in_channels and out_channels must be divisible by groups');
  if (oph >= sh && oph >= dh) fail('convtranspose: output_padding_h must be smaller than stride_h or dilation_h');
  if (opw >= sw && opw >= dw) fail('convtranspose: output_padding_w must be smaller than stride_w or dilation_w');
  const fullH = (h - 1) * sh + (kh - 1) * dh + 1 + oph,
    fullW = (w - 1) * sw + (kw - 1) * dw + 1 + opw;
  if (fullH <= pt + pb) fail('convtranspose: pad_top + pad_bottom leave no output row');
  if (fullW <= pl + pr) fail('convtranspose: pad_left + pad_right leave no output column');
  const oh = fullH - pt - pb,
    ow = fullW - pl - pr;
  const MAXE = 2 ** 31 - 1;
  if (oh > 2 ** 28 || ow > 2 ** 28 || fullH > MAXE || fullW > MAXE) fail('convtranspose: the output size must be at most 2^28');
  const cinG = cin / groups,
    coutG = cout / groups;
  if (cinG * kh * kw > 33025)
    fail('convtranspose: in_channels/groups * kernel_h * kernel_w must be at most 33025 (exact int32 accumulation)');
  if (cin * h > MAXE || cin * h * w > MAXE || n * cin * h * w > MAXE) fail('convtranspose: the input has more than 2^31 - 1 elements');
  if (oh * ow > MAXE || oh * ow * cout > MAXE || oh * ow * cout * n > MAXE)
    fail('convtranspose: the output has more than 2^31 - 1 elements');
  if (cin * coutG * kh * kw > MAXE) fail('convtranspose: the weights have more than 2^31 - 1 elements');
  return { n, cin, h, w, cout, kh, kw, groups, sh, sw, dh, dw, pt, pl, pb, pr, oph, opw, oh, ow, cinG, coutG };
}

/** [outH, outW] of a ConvTranspose geometry (validated). */
export function convTransposeOutputSize(s: ConvTranspose2dShape): [number, number] {
  const g = convTransposeGeom(convTransposeFields(s));
  return [g.oh, g.ow];
}
