/**
 * Requantization of a wide (int64) accumulator, the A16W8 convolution's (qconv16,
 * native/include/opq_qconv16.h): the scalar definition every backend reproduces bit for bit.
 * `acc` is a JS number holding an exact integer with |acc| < 2^47 (the kernel's bound check
 * guarantees it). With zp = rq.zeroPoint, lo = rq.min - zp, hi = rq.max - zp, the result is
 * clamp(v, lo, hi) + zp, where v is, for channel c:
 *
 * - fixed-point (mode 0; TFLite's 16x8 MultiplyByQuantizedMultiplier(int64 acc, int32 m0, shift)):
 *   reduced = m0 < 0x7FFF0000 ? (m0 + 2^15) >> 16 : 0x7FFF; totalShift = 15 - shift;
 *   v = floor((acc * reduced + 2^(totalShift - 1)) / 2^totalShift), or 0 when totalShift >= 63.
 *   totalShift < 1 (shift >= 15, M >= 2^14) is refused by the kernels' validation.
 * - float (mode 1): f = float32(float32(acc) * scale[c]) (acc rounded once to float32, one float32
 *   multiply), clamped to [lo, hi], rounded half to even (no separate v).
 * - shift (mode 2): s = shift[c]; s >= 0: v = acc * 2^s (lo or hi by the sign of acc when acc != 0
 *   and s >= 16); s < 0: v = RoundingDivideByPOT(acc, -s) on 64 bits (round half away from zero).
 *
 * The products are exact doubles when below 2^53 in magnitude; past that BigInt takes over.
 */
import type { RequantParams } from './requant.js';
import { roundHalfEven } from './fixedpoint.js';

const TWO52 = 2 ** 52;

/** floor((p + 2^(s-1)) / 2^s) for an integer p, exact (BigInt when p is too large for doubles). */
function roundShift(p: number, s: number, acc: number, reduced: number): number {
  if (Math.abs(p) <= TWO52) return Math.floor((p + 2 ** (s - 1)) / 2 ** s);
  const b = BigInt(acc) * BigInt(reduced) + (1n << BigInt(s - 1));
  return Number(b >> BigInt(s));
}

/** gemmlowp's RoundingDivideByPOT on an integer |x| < 2^53: x / 2^e rounded, ties away from zero. */
export function roundingDivideByPOTWide(x: number, e: number): number {
  const d = 2 ** e;
  const q = Math.floor(x / d); // exact: division by a power of two, then floor
  const rem = x - q * d; // in [0, d)
  const threshold = Math.floor((d - 1) / 2) + (x < 0 ? 1 : 0);
  return q + (rem > threshold ? 1 : 0);
}

/** One wide accumulator of channel c to the clamped output value (see the module comment). */
export function requantizeWide(acc: number, rq: RequantParams, c: number): number {
  const zp = rq.zeroPoint;
  const lo = rq.min - zp,
    hi = rq.max - zp;
  let v: number;
  if (rq.mode === 1) {
    // fround(acc) is acc correctly rounded to float32; the double product of two float32 values is
    // exact, so fround of it is the float32 product.
    let f = Math.fround(Math.fround(acc) * rq.scale[c]!);
    f = f < lo ? lo : f > hi ? hi : f;
    return roundHalfEven(f) + zp;
  } else if (rq.mode === 2) {
    const s = rq.shift[c]!;
    if (s >= 0) v = acc !== 0 && s >= 16 ? (acc > 0 ? hi : lo) : acc * 2 ** s;
    else v = roundingDivideByPOTWide(acc, -s);
  } else {
    const m0 = rq.multiplier[c]!;
    const reduced = m0 < 0x7fff0000 ? Math.floor((m0 + 32768) / 65536) : 0x7fff;
    const totalShift = 15 - rq.shift[c]!;
    v = totalShift >= 63 ? 0 : roundShift(acc * reduced, totalShift, acc, reduced);
  }
  v = v < lo ? lo : v > hi ? hi : v;
  return v + zp;
}
