/** Concat with requantization and nearest Resize on 8-bit data (native/include/opq_qlayout.h). */
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

export interface QLayoutKernels {
  concat(args: ConcatArgs): void;
  resizeNearest(args: ResizeNearestArgs): void;
}
