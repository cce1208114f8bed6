// QuantizeLinear / DequantizeLinear rows (native/include/opq_qunary.h): one scale and zero point
// for a contiguous run; the entry points walk the per-axis and blocked layouts.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "fixedpoint/fixedpoint.h"

namespace opq {

// clamp(roundHalfEven(x / s) + z, tmin, tmax); NaN gives tmin.
inline int32_t QuantizeOne(float x, float s, int32_t z, int32_t tmin, int32_t tmax) {
  float f = x / s;
  const float lo = static_cast<float>(tmin - z), hi = static_cast<float>(tmax - z);
  f = f >= lo ? f : lo;  // also maps NaN to lo
  f = f <= hi ? f : hi;
  return static_cast<int32_t>(RoundHalfEven(f)) + z;
}

using QuantizeRowFn = void (*)(const float* x, size_t n, float s, int32_t z, bool y_signed, uint8_t* y);
// x_type: OPQ_DQ_UINT8, OPQ_DQ_INT8 (x as bytes) or OPQ_DQ_INT32.
using DequantizeRowFn = void (*)(const void* x, int32_t x_type, size_t n, float s, int32_t z, float* y);

void QuantizeRowRef(const float* x, size_t n, float s, int32_t z, bool y_signed, uint8_t* y);
void DequantizeRowRef(const void* x, int32_t x_type, size_t n, float s, int32_t z, float* y);
#if defined(__x86_64__) || defined(_M_X64)
void QuantizeRowAvx2(const float* x, size_t n, float s, int32_t z, bool y_signed, uint8_t* y);
void DequantizeRowAvx2(const void* x, int32_t x_type, size_t n, float s, int32_t z, float* y);
#endif
#if defined(__wasm_simd128__)
void QuantizeRowWasmSimd(const float* x, size_t n, float s, int32_t z, bool y_signed, uint8_t* y);
void DequantizeRowWasmSimd(const void* x, int32_t x_type, size_t n, float s, int32_t z, float* y);
#endif

}  // namespace opq
