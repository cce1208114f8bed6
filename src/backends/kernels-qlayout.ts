/** Concat with requantization and nearest and linear Resize on 8-bit data (native/include/opq_qlayout.h). */
import type { Int8Like, KernelVariant } from './types.js';
import type { RequantParams } from '../quant/requant.js';

/**
 * Input i is [outer, axisDims[i], inner]; y is [outer, sum(axisDims), inner]. requant[i] null copies
 * input i (same scale and zero point as y); otherwise y = RequantizeOne(x - zeroPoints[i], requant[i]).
 */
export interface ConcatArgs {
  inputs: readonly Int8Like[];
  axisDims: readonly number[];
  zeroPoints: readonly number[];
  requant: readonly (RequantParams | null)[];
  outer: number;
  inner: number;
  y: Int8Like;
  variant?: KernelVariant;
}

/** y[p][oy][ox] = x[p][yIndex[oy]][xIndex[ox]] (indices from resizeNearestIndex). */
export interface ResizeNearestArgs {
  x: Int8Like;
  nc: number;
  inH: number;
  inW: number;
  outH: number;
  outW: number;
  yIndex: Int32Array;
  xIndex: Int32Array;
  y: Int8Like;
  variant?: KernelVariant;
}

/**
 * Linear resize over the last two axes with 11-bit weights (opq_qresize_linear): yTaps (3 * outH)
 * and xTaps (3 * outW) hold i0, i1, w per output index (resizeLinearTaps); with a = x - xZeroPoint,
 * acc = sum of (2048 - w or w) products along both axes (exact int32), y = RequantizeOne(acc,
 * requant) with M = Sx / (Sy * 2^22). x and y share one 8-bit type.
 */
export interface ResizeLinearArgs {
  x: Int8Like;
  nc: number;
  inH: number;
  inW: number;
  outH: number;
  outW: number;
  yTaps: Int32Array;
  xTaps: Int32Array;
  xZeroPoint: number;
  requant: RequantParams;
  y: Int8Like;
  variant?: KernelVariant;
}

/** y = x transposed: y's dims are dims[perm[k]]; 8-bit data of either signedness (bytes moved as they are). */
export interface Transpose8Args {
  x: Int8Like;
  dims: readonly number[];
  perm: readonly number[];
  y: Int8Like;
  variant?: KernelVariant;
}

export interface QLayoutKernels {
  concat(args: ConcatArgs): void;
  transpose8(args: Transpose8Args): void;
  resizeNearest(args: ResizeNearestArgs): void;
  resizeLinear(args: ResizeLinearArgs): void;
}
