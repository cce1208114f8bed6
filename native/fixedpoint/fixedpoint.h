// Fixed-point primitives of the arithmetic contract (DESIGN.md), after gemmlowp's fixedpoint/.
// Scalar, header-only, no state. The JS mirror is src/quant/fixedpoint.ts; both are tested
// against the definitions (test/fixedpoint.test.ts). SIMD variants live with the kernels that
// use them and are tested against these.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

namespace opq {

// (a*b + nudge) / 2^31 with C truncating division, nudge = 2^30 for a*b >= 0 and 1 - 2^30
// otherwise; the one overflow, INT32_MIN * INT32_MIN, saturates to INT32_MAX.
// Equivalent (and how SIMD variants compute it): floor((a*b + 2^30) / 2^31).
inline int32_t SaturatingRoundingDoublingHighMul(int32_t a, int32_t b) {
  if (a == b && a == std::numeric_limits<int32_t>::min()) return std::numeric_limits<int32_t>::max();
  const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  const int64_t nudge = ab >= 0 ? (int64_t{1} << 30) : (int64_t{1} - (int64_t{1} << 30));
  return static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));
}

// x / 2^exponent rounded to nearest, ties away from zero; exponent in [0, 31].
inline int32_t RoundingDivideByPOT(int32_t x, int exponent) {
  const int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// x * 2^exponent saturated to int32; exponent in [0, 31]. (gemmlowp leaves overflow undefined;
// we define it so every backend agrees.)
inline int32_t SaturatingShiftLeft(int32_t x, int exponent) {
  const int64_t v = static_cast<int64_t>(x) * (int64_t{1} << exponent);
  if (v > std::numeric_limits<int32_t>::max()) return std::numeric_limits<int32_t>::max();
  if (v < std::numeric_limits<int32_t>::min()) return std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(v);
}

// A real multiplier M > 0 as M0 * 2^(shift - 31), M0 in [2^30, 2^31) (TFLite's QuantizeMultiplier).
// shift > 0 is a left shift, shift < 0 a right shift. Multipliers below 2^-32 become (0, 0).
// Returns false when M is not finite and positive or needs a left shift above 31.
inline bool QuantizeMultiplier(double m, int32_t* m0, int32_t* shift) {
  if (!(m > 0.0) || !std::isfinite(m)) return false;
  int exp = 0;
  const double q = std::frexp(m, &exp);  // m = q * 2^exp, q in [0.5, 1)
  int64_t q_fixed = static_cast<int64_t>(std::round(q * static_cast<double>(int64_t{1} << 31)));
  if (q_fixed == (int64_t{1} << 31)) {  // rounded up to 1.0: renormalize
    q_fixed /= 2;
    ++exp;
  }
  if (exp < -31) {  // below what a 31-bit right shift can express: the product is 0
    *m0 = 0;
    *shift = 0;
    return true;
  }
  if (exp > 31) return false;
  *m0 = static_cast<int32_t>(q_fixed);
  *shift = exp;
  return true;
}

// acc * M for M = m0 * 2^(shift - 31), the fixed-point requantization step.
inline int32_t MultiplyByQuantizedMultiplier(int32_t acc, int32_t m0, int32_t shift) {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(SaturatingShiftLeft(acc, left), m0), right);
}

// Round half to even of a float32, as ONNX QuantizeLinear and ONNX Runtime do.
// Relies on the default rounding mode (round to nearest even), which nothing here changes.
inline float RoundHalfEven(float x) { return std::nearbyint(x); }

}  // namespace opq
