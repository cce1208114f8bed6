/**
 * The A16W8 Add and Mul kernel family "qbinary16" (native/include/opq_qbinary16.h): the quantized
 * Add and Mul of the 8-bit family (kernels-qbinary.ts: numpy broadcasting, QAddParams, a per-tensor
 * requant for Mul) where each of a, b and y is a Uint8Array, Int8Array, Int16Array or Uint16Array on
 * its own, zero points and the output clamp in their own tensor's type range.
 *
 * - qadd16: y = qaddOne(a, b, params) (src/kernels/int8/qbinary-ref.ts). Fixed-point and shift modes
 *   compute (x - xZeroPoint) << leftShift in int32: refused unless max |x - xZeroPoint| over X's type
 *   range times 2^leftShift is below 2^31, for X = A and B.
 * - qmul16: y = requantizeOne((a - aZeroPoint) * (b - bZeroPoint), requant, 0): refused unless
 *   max |a - aZeroPoint| * max |b - bZeroPoint| < 2^31 (the product is exact in int32).
 */
import { OnnxPtqError } from '../errors.js';
import type { QAddParams } from '../quant/qadd.js';
import type { RequantParams } from '../quant/requant.js';
import { checkRequantShape } from './qgemm-args.js';
import { broadcastShape } from './kernels-qbinary.js';
import { qc16Range, qc16Type, type WideLike } from './kernels-qconv16.js';
import type { KernelVariant } from './types.js';

export interface QAdd16Args {
  a: WideLike;
  aShape: readonly number[];
  b: WideLike;
  bShape: readonly number[];
  params: QAddParams;
  y: WideLike;
  variant?: KernelVariant;
}

export interface QMul16Args {
  a: WideLike;
  aShape: readonly number[];
  aZeroPoint: number;
  b: WideLike;
  bShape: readonly number[];
  bZeroPoint: number;
  /** Per tensor; zeroPoint, min and max inside Y's type range. */
  requant: RequantParams;
  y: WideLike;
  variant?: KernelVariant;
}

export interface QBinary16Kernels {
  qadd16(args: QAdd16Args): void;
  qmul16(args: QMul16Args): void;
}

function fail(msg: string): never {
  throw new OnnxPtqError('KERNEL_ARGUMENT', msg);
}

const WIDE = 'a Uint8Array, Int8Array, Int16Array or Uint16Array';

/** The typed-array checks every backend makes before marshalling (same words as the N-API glue). */
export function checkQBinary16Types(g: QAdd16Args | QMul16Args, op: string): void {
  if (g === null || typeof g !== 'object') fail(`${op}: arguments must be an object`);
  for (const k of ['a', 'b', 'y'] as const) if (qc16Type(g[k]) < 0) fail(`${k} must be ${WIDE}`);
  if (!Array.isArray(g.aShape) || !Array.isArray(g.bShape)) fail('aShape and bShape must be arrays');
  for (const d of [...g.aShape, ...g.bShape])
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > 2 ** 31 - 1)
      fail('aShape and bShape entries must be integers in [0, 2^31 - 1]');
}

const count = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);

/** The broadcast and buffer checks of opq_qadd16/opq_qmul16, in the same order and words. */
function checkShapes(g: QAdd16Args | QMul16Args): void {
  const ys = broadcastShape(g.aShape, g.bShape);
  if (count(g.aShape) > 2 ** 31 - 1) fail('broadcast: a has more than 2^31 - 1 elements');
  if (count(g.bShape) > 2 ** 31 - 1) fail('broadcast: b has more than 2^31 - 1 elements');
  if (count(ys) > 2 ** 31 - 1) fail('broadcast: the output has more than 2^31 - 1 elements');
  if (g.a.length < count(g.aShape)) fail('buffer A is smaller than the product of a_shape');
  if (g.b.length < count(g.bShape)) fail('buffer B is smaller than the product of b_shape');
  if (g.y.length < count(ys)) fail('buffer Y is smaller than the broadcast output shape');
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const inRange = (type: number, v: number) => isInt(v) && v >= qc16Range(type)[0] && v <= qc16Range(type)[1];

/** max |x - z| over the type's range (z inside it). */
export function qb16Reach(type: number, z: number): number {
  const [lo, hi] = qc16Range(type);
  return Math.max(z - lo, hi - z);
}

/** Every check of opq_qadd16 after the typed-array ones, in the same order and words. */
export function validateQAdd16(g: QAdd16Args): void {
  checkShapes(g);
  const p = g.params;
  if (p === null || typeof p !== 'object') fail('qadd16: params are null');
  const at = qc16Type(g.a),
    bt = qc16Type(g.b),
    yt = qc16Type(g.y);
  if (p.mode !== 0 && p.mode !== 1 && p.mode !== 2) fail('qadd16: params.mode must be 0 (fixed-point), 1 (float) or 2 (shift)');
  if (!inRange(at, p.aZeroPoint)) fail("qadd16: params.a_zero_point out of A's type range");
  if (!inRange(bt, p.bZeroPoint)) fail("qadd16: params.b_zero_point out of B's type range");
  if (!inRange(yt, p.zeroPoint)) fail("qadd16: params.output_zero_point out of Y's type range");
  if (!inRange(yt, p.min) || !inRange(yt, p.max) || p.min > p.max)
    fail('qadd16: params.output_min/output_max must satisfy type_min <= output_min <= output_max <= type_max');
  if (p.mode === 1) {
    const fa = Math.fround(p.aScale),
      fb = Math.fround(p.bScale);
    if (!(fa >= 0 && fa <= 3.0e38)) fail('qadd16: params.a_scale must be finite and >= 0');
    if (!(fb >= 0 && fb <= 3.0e38)) fail('qadd16: params.b_scale must be finite and >= 0');
  } else {
    const ls = p.leftShift;
    if (!isInt(ls) || ls < 0 || ls > 22) fail('qadd16: params.left_shift must be in [0, 22]');
    for (const [k, n] of [
      ['aShift', 'a_shift'],
      ['bShift', 'b_shift'],
      ['outputShift', 'output_shift'],
    ] as const)
      if (!isInt(p[k]) || p[k] < -31 || p[k] > 31) fail(`qadd16: params.${n} must be in [-31, 31]`);
    if (p.mode === 0 && !(p.aMultiplier >= 0 && p.bMultiplier >= 0 && p.outputMultiplier >= 0))
      fail('qadd16: params.a_multiplier, b_multiplier and output_multiplier must be >= 0');
    if (qb16Reach(at, p.aZeroPoint) * 2 ** ls >= 2 ** 31 || qb16Reach(bt, p.bZeroPoint) * 2 ** ls >= 2 ** 31)
      fail('qadd16: max|x - x_zero_point| * 2^left_shift must be below 2^31 for A and B (int32 arithmetic)');
  }
}

/** Every check of opq_qmul16 after the typed-array ones, in the same order and words. */
export function validateQMul16(g: QMul16Args): void {
  checkShapes(g);
  const at = qc16Type(g.a),
    bt = qc16Type(g.b),
    yt = qc16Type(g.y);
  if (!inRange(at, g.aZeroPoint)) fail("qmul16: a_zero_point out of A's type range");
  if (!inRange(bt, g.bZeroPoint)) fail("qmul16: b_zero_point out of B's type range");
  if (qb16Reach(at, g.aZeroPoint) * qb16Reach(bt, g.bZeroPoint) >= 2 ** 31)
    fail('qmul16: max|a - a_zero_point| * max|b - b_zero_point| must be below 2^31 (exact int32 product)');
  const rq = g.requant;
  checkRequantShape(rq, 'qmul16');
  if (rq.shift.length !== 1) fail('requant: count must be 1 (per tensor) for this kernel');
  if (rq.mode !== 0 && rq.mode !== 1 && rq.mode !== 2) fail('requant: mode must be 0 (fixed-point), 1 (float) or 2 (shift)');
  const [tmin, tmax] = qc16Range(yt);
  if (!(rq.min >= tmin && rq.max <= tmax && rq.min <= rq.max))
    fail('requant: output_min/output_max must satisfy type_min <= output_min <= output_max <= type_max');
  if (!(rq.zeroPoint >= tmin && rq.zeroPoint <= tmax)) fail("requant: output_zero_point out of the output type's range");
  if (rq.mode === 1) {
    if (!(rq.scale[0]! >= 0 && rq.scale[0]! <= 3.0e38)) fail('requant: scale must be finite and >= 0');
  } else {
    if (rq.shift[0]! < -31 || rq.shift[0]! > 31) fail('requant: shift must be in [-31, 31]');
    if (rq.mode === 0 && rq.multiplier[0]! < 0) fail('requant: multiplier must be >= 0');
  }
}
