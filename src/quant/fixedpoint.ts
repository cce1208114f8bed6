/**
 * The fixed-point primitives of the arithmetic contract, mirrored bit for bit from
 * native/fixedpoint/fixedpoint.h (gemmlowp's definitions; Jacob et al. 2018). All inputs and
 * outputs are int32 values held in JS numbers; products are split so that every intermediate is an
 * exact double (no BigInt on the hot path).
 */

export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;

/**
 * (a*b + nudge) / 2^31, C truncating division, nudge = 2^30 if a*b >= 0 else 1 - 2^30, saturating
 * INT32_MIN * INT32_MIN to INT32_MAX. Computed as floor((a*b + 2^30) / 2^31), which is equal.
 */
export function saturatingRoundingDoublingHighMul(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  // a = aHi * 2^16 + aLo with aLo in [0, 2^16): both partial products are below 2^47 in magnitude.
  const aLo = a & 0xffff;
  const aHi = (a - aLo) / 65536;
  const lo = aLo * b + 1073741824; // + 2^30, still exact
  const q1 = Math.floor(lo / 65536);
  // floor((aHi*b*2^16 + lo) / 2^31) = floor((aHi*b + floor(lo / 2^16)) / 2^15)
  return Math.floor((aHi * b + q1) / 32768);
}

/** x / 2^exponent rounded to nearest, ties away from zero; exponent in [0, 31]. */
export function roundingDivideByPOT(x: number, exponent: number): number {
  const mask = ((1 << exponent) - 1) | 0;
  const remainder = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/** x * 2^exponent saturated to int32; exponent in [0, 31]. */
export function saturatingShiftLeft(x: number, exponent: number): number {
  const v = x * 2 ** exponent;
  return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : v;
}

/** acc * M for M = m0 * 2^(shift - 31): the fixed-point requantization step. */
export function multiplyByQuantizedMultiplier(acc: number, m0: number, shift: number): number {
  const left = shift > 0 ? shift : 0;
  const right = shift > 0 ? 0 : -shift;
  return roundingDivideByPOT(saturatingRoundingDoublingHighMul(saturatingShiftLeft(acc, left), m0), right);
}

/** m = q * 2^exp with q in [0.5, 1), like C's frexp, for finite m > 0. */
export function frexp(m: number): [number, number] {
  let exp = Math.floor(Math.log2(m)) + 1;
  let q = m / 2 ** exp;
  // log2 can be off by one near powers of two; fix up so q lands in [0.5, 1).
  while (q >= 1) {
    q /= 2;
    exp += 1;
  }
  while (q < 0.5) {
    q *= 2;
    exp -= 1;
  }
  return [q, exp];
}

/**
 * A real multiplier M > 0 as m0 * 2^(shift - 31), m0 in [2^30, 2^31) (TFLite's QuantizeMultiplier):
 * frexp, round, renormalize when it rounds to 2^31. Below 2^-32 the product is 0: (0, 0).
 * Throws RangeError when M is not finite and positive or needs a left shift above 31.
 */
export function quantizeMultiplier(m: number): { m0: number; shift: number } {
  if (!(m > 0) || !Number.isFinite(m)) throw new RangeError(`multiplier must be finite and > 0, got ${m}`);
  let [q, exp] = frexp(m);
  let qFixed = Math.round(q * 2147483648);
  if (qFixed === 2147483648) {
    qFixed /= 2;
    exp += 1;
  }
  if (exp < -31) return { m0: 0, shift: 0 };
  if (exp > 31) throw new RangeError(`multiplier ${m} is too large (needs a left shift of ${exp})`);
  return { m0: qFixed, shift: exp };
}

/** Round half to even of a value already rounded to float32 (ONNX QuantizeLinear, ONNX Runtime). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x); // half toward +infinity
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
