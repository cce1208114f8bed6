/** Quantized ReduceMean over any set of axes (native/include/opq_qreduce.h). */
import type { Int8Like, KernelVariant } from './types.js';
import type { RequantParams } from '../quant/requant.js';

/**
 * x has `dims` (rank <= 8); `axes` (normalized, each in [0, rank)) are reduced, y holds the kept
 * axes in order. count = product of the reduced dims (<= 2^23); acc = sum (x - xZeroPoint) exactly,
 * y = RequantizeOne(acc, requant) with M = Sx / (Sy * count). x and y share one 8-bit type.
 */
export interface ReduceMeanArgs {
  x: Int8Like;
  dims: readonly number[];
  axes: readonly number[];
  xZeroPoint: number;
  requant: RequantParams;
  y: Int8Like;
  variant?: KernelVariant;
}

export interface QReduceKernels {
  reduceMean(args: ReduceMeanArgs): void;
}

/** One 0/1 flag per axis from the reduced axes (shared by the backends' marshalling). */
export function reduceFlags(rank: number, axes: readonly number[]): number[] {
  const f = new Array<number>(rank).fill(0);
  for (const a of axes) if (Number.isInteger(a) && a >= 0 && a < rank) f[a] = 1;
  return f;
}
