/** Quantized Add and Mul with numpy broadcasting (native/include/opq_qbinary.h). */
import type { Int8Like, KernelVariant } from './types.js';
import type { RequantParams } from '../quant/requant.js';
import type { QAddParams } from '../quant/qadd.js';
import { OnnxPtqError } from '../errors.js';
import { broadcastShape as broadcastOf } from '../util/shape.js';

/** a, b and y share one 8-bit type. Shapes of different ranks are right-aligned (numpy). */
export interface QAddArgs {
  a: Int8Like;
  aShape: readonly number[];
  b: Int8Like;
  bShape: readonly number[];
  params: QAddParams;
  y: Int8Like;
  variant?: KernelVariant;
}

/** y = RequantizeOne((a - aZeroPoint) * (b - bZeroPoint), requant), requant per tensor. */
export interface QMulArgs {
  a: Int8Like;
  aShape: readonly number[];
  aZeroPoint: number;
  b: Int8Like;
  bShape: readonly number[];
  bZeroPoint: number;
  requant: RequantParams;
  y: Int8Like;
  variant?: KernelVariant;
}

/**
 * A binary op of two 8-bit tensors as the table of its 65,536 results (opq_lut2):
 * y[i] = table[a[i] * 256 + b[i]] on raw bytes, with qadd's broadcasting. a, b and y share one type.
 */
export interface Lut2Args {
  a: Int8Like;
  aShape: readonly number[];
  b: Int8Like;
  bShape: readonly number[];
  /** 65,536 raw output bytes, row a, column b. */
  table: Uint8Array;
  y: Int8Like;
  variant?: KernelVariant;
}

export interface QBinaryKernels {
  qadd(args: QAddArgs): void;
  qmul(args: QMulArgs): void;
  lut2(args: Lut2Args): void;
}

/** Both shapes left-padded with 1s to the same rank (at most 8). */
export function alignShapes(a: readonly number[], b: readonly number[]): [number[], number[]] {
  if (!Array.isArray(a) || !Array.isArray(b)) throw new OnnxPtqError('KERNEL_ARGUMENT', 'aShape and bShape must be arrays');
  const r = Math.max(a.length, b.length);
  if (r > 8) throw new OnnxPtqError('KERNEL_ARGUMENT', 'broadcast: rank must be at most 8');
  return [
    [...new Array<number>(r - a.length).fill(1), ...a],
    [...new Array<number>(r - b.length).fill(1), ...b],
  ];
}

/** The numpy broadcast of two shapes; throws when they are not broadcastable. */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const out = broadcastOf(a, b);
  if (!out)
    throw new OnnxPtqError('KERNEL_ARGUMENT', 'broadcast: a_shape and b_shape are not broadcastable (dims differ and neither is 1)');
  return out;
}
