// Quantized Add (opq_qadd, native/include/opq_qbinary.h): the scalar definition and the row kernels.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fixedpoint/fixedpoint.h"
#include "opq_qbinary.h"

namespace opq {

// x after the compiler can no longer fuse it into an FMA with a neighbouring add (GCC contracts
// across statements with -ffp-contract=fast, its default, once FMA is enabled, e.g. when this is
// inlined into an AVX2 function). The float mode is defined with separately rounded products.
inline float NoContract(float x) {
#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
  __asm__("" : "+x"(x));
#elif defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__))
  __asm__("" : "+w"(x));
#endif
  return x;
}

// Shift mode's multiply: x * 2^s, saturating left shifts, rounding right shifts.
inline int32_t ShiftByPOT(int32_t x, int32_t s) {
  return s >= 0 ? SaturatingShiftLeft(x, s) : RoundingDivideByPOT(x, -s);
}

// float(zc) - (a_scale * float(za) + b_scale * float(zb)), float mode's constant term.
inline float QAddFloatFixed(const opq_qadd_params& p) {
  const float pa = NoContract(p.a_scale * static_cast<float>(p.a_zero_point));
  const float pb = NoContract(p.b_scale * static_cast<float>(p.b_zero_point));
  return static_cast<float>(p.output_zero_point) - NoContract(pa + pb);
}

// One output value from raw inputs a and b (already sign- or zero-extended).
inline int32_t QAddOne(int32_t a, int32_t b, const opq_qadd_params& p, float fixed) {
  if (p.mode == OPQ_REQUANT_FLOAT) {
    const float fa = NoContract(static_cast<float>(a) * p.a_scale);
    const float fb = NoContract(static_cast<float>(b) * p.b_scale);
    float v = NoContract(fixed + fa) + fb;
    v = v < static_cast<float>(p.output_min) ? static_cast<float>(p.output_min) : v;
    v = v > static_cast<float>(p.output_max) ? static_cast<float>(p.output_max) : v;
    return static_cast<int32_t>(RoundHalfEven(v));
  }
  const int32_t xa = (a - p.a_zero_point) * (int32_t{1} << p.left_shift);
  const int32_t xb = (b - p.b_zero_point) * (int32_t{1} << p.left_shift);
  int32_t v;
  if (p.mode == OPQ_REQUANT_SHIFT) {
    const int32_t sum = static_cast<int32_t>(static_cast<uint32_t>(ShiftByPOT(xa, p.a_shift)) +
                                             static_cast<uint32_t>(ShiftByPOT(xb, p.b_shift)));
    v = ShiftByPOT(sum, p.output_shift);
  } else {
    const int32_t sum =
        static_cast<int32_t>(static_cast<uint32_t>(MultiplyByQuantizedMultiplier(xa, p.a_multiplier, p.a_shift)) +
                             static_cast<uint32_t>(MultiplyByQuantizedMultiplier(xb, p.b_multiplier, p.b_shift)));
    v = MultiplyByQuantizedMultiplier(sum, p.output_multiplier, p.output_shift);
  }
  const int32_t zc = p.output_zero_point;
  const int32_t lo = p.output_min - zc, hi = p.output_max - zc;
  v = v < lo ? lo : v;
  v = v > hi ? hi : v;
  return v + zc;
}

inline int32_t Load8(const uint8_t* p, bool is_signed) {
  return is_signed ? static_cast<int32_t>(static_cast<int8_t>(*p)) : static_cast<int32_t>(*p);
}

// y[j] = QAddOne(a[a_scalar ? 0 : j], b[b_scalar ? 0 : j]) for j < n. `fixed` = QAddFloatFixed(p).
using QAddRowFn = void (*)(const uint8_t* a, bool a_scalar, const uint8_t* b, bool b_scalar, size_t n, bool is_signed,
                           const opq_qadd_params& p, float fixed, uint8_t* y);

void QAddRowRef(const uint8_t* a, bool a_scalar, const uint8_t* b, bool b_scalar, size_t n, bool is_signed,
                const opq_qadd_params& p, float fixed, uint8_t* y);
#if defined(__x86_64__) || defined(_M_X64)
void QAddRowAvx2(const uint8_t* a, bool a_scalar, const uint8_t* b, bool b_scalar, size_t n, bool is_signed,
                 const opq_qadd_params& p, float fixed, uint8_t* y);
void QAddRowAvx512(const uint8_t* a, bool a_scalar, const uint8_t* b, bool b_scalar, size_t n, bool is_signed,
                   const opq_qadd_params& p, float fixed, uint8_t* y);
#endif
#if defined(__wasm_simd128__)
void QAddRowWasmSimd(const uint8_t* a, bool a_scalar, const uint8_t* b, bool b_scalar, size_t n, bool is_signed,
                     const opq_qadd_params& p, float fixed, uint8_t* y);
#endif

}  // namespace opq
