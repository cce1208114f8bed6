/** Quantized 2-D pooling, NCHW (native/include/opq_qpool.h). */
import type { Int8Like, KernelVariant } from './types.js';
import type { RequantParams } from '../quant/requant.js';
import { OnnxPtqError } from '../errors.js';
import { windowOutputSize } from '../util/shape.js';

/** ONNX pooling attributes for an [n, c, h, w] input. */
export interface PoolGeometry {
  n: number;
  c: number;
  h: number;
  w: number;
  kernel: readonly [number, number];
  strides?: readonly [number, number];
  /** [top, left, bottom, right] (ONNX order: begins then ends). */
  pads?: readonly [number, number, number, number];
  dilations?: readonly [number, number];
  ceilMode?: boolean;
}

export interface MaxPoolArgs extends PoolGeometry {
  x: Int8Like;
  y: Int8Like;
  variant?: KernelVariant;
}

export interface AvgPoolArgs extends PoolGeometry {
  x: Int8Like;
  xZeroPoint: number;
  /** Per tensor; M = Sx / Sy (exactly 1 when x and y share their quantization). */
  requant: RequantParams;
  countIncludePad?: boolean;
  y: Int8Like;
  variant?: KernelVariant;
}

export interface GlobalMaxPoolArgs {
  x: Int8Like;
  channels: number;
  spatial: number;
  y: Int8Like;
  variant?: KernelVariant;
}

export interface GlobalAvgPoolArgs extends GlobalMaxPoolArgs {
  xZeroPoint: number;
  requant: RequantParams;
}

export interface QPoolKernels {
  maxPool(args: MaxPoolArgs): void;
  avgPool(args: AvgPoolArgs): void;
  globalMaxPool(args: GlobalMaxPoolArgs): void;
  globalAvgPool(args: GlobalAvgPoolArgs): void;
}

/** The flat form the C ABI takes. */
export interface FlatPool {
  n: number;
  c: number;
  h: number;
  w: number;
  kernelH: number;
  kernelW: number;
  strideH: number;
  strideW: number;
  padTop: number;
  padLeft: number;
  padBottom: number;
  padRight: number;
  dilationH: number;
  dilationW: number;
  ceilMode: number;
}

export function flatPool(g: PoolGeometry): FlatPool {
  if (!Array.isArray(g.kernel) || g.kernel.length !== 2)
    throw new OnnxPtqError('KERNEL_ARGUMENT', 'pool: kernel must be [kernel_h, kernel_w]');
  const s = g.strides ?? [1, 1],
    p = g.pads ?? [0, 0, 0, 0],
    d = g.dilations ?? [1, 1];
  if (s.length !== 2 || p.length !== 4 || d.length !== 2)
    throw new OnnxPtqError('KERNEL_ARGUMENT', 'pool: strides, dilations need 2 entries and pads 4');
  return {
    n: g.n,
    c: g.c,
    h: g.h,
    w: g.w,
    kernelH: g.kernel[0],
    kernelW: g.kernel[1],
    strideH: s[0],
    strideW: s[1],
    padTop: p[0],
    padLeft: p[1],
    padBottom: p[2],
    padRight: p[3],
    dilationH: d[0],
    dilationW: d[1],
    ceilMode: g.ceilMode ? 1 : 0,
  };
}

/** [outH, outW] of a pooling geometry. */
export function poolOutputShape(g: PoolGeometry): [number, number] {
  const f = flatPool(g);
  return [
    windowOutputSize(f.h, f.kernelH, f.strideH, f.padTop, f.padBottom, f.dilationH, f.ceilMode === 1),
    windowOutputSize(f.w, f.kernelW, f.strideW, f.padLeft, f.padRight, f.dilationW, f.ceilMode === 1),
  ];
}
