// Requantization of int32 accumulators (DESIGN.md "Arithmetic contract"): the scalar definition
// every variant must reproduce bit for bit, and the row kernels per ISA.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fixedpoint/fixedpoint.h"
#include "onnxptq.h"

namespace opq {

// One accumulator of channel c to the clamped output value (still in int32).
inline int32_t RequantizeOne(int32_t acc, const opq_requant& rq, size_t c) {
  const int32_t zp = rq.output_zero_point;
  // Clamp before adding the zero point so the sum cannot overflow: clamp(v, lo - zp, hi - zp) + zp.
  const int32_t lo = rq.output_min - zp;
  const int32_t hi = rq.output_max - zp;
  int32_t v;
  switch (rq.mode) {
    case OPQ_REQUANT_FLOAT: {
      float f = static_cast<float>(acc) * rq.scale[c];
      // Integer bounds commute with rounding, so clamping the float first keeps the cast in range.
      f = f < static_cast<float>(lo) ? static_cast<float>(lo) : f;
      f = f > static_cast<float>(hi) ? static_cast<float>(hi) : f;
      return static_cast<int32_t>(RoundHalfEven(f)) + zp;
    }
    case OPQ_REQUANT_SHIFT: {
      const int32_t s = rq.shift[c];
      v = s >= 0 ? SaturatingShiftLeft(acc, s) : RoundingDivideByPOT(acc, -s);
      break;
    }
    default:
      v = MultiplyByQuantizedMultiplier(acc, rq.multiplier[c], rq.shift[c]);
      break;
  }
  v = v < lo ? lo : v;
  v = v > hi ? hi : v;
  return v + zp;
}

// Validates requant parameters for `channels` output channels; NULL when valid.
const char* ValidateRequant(const opq_requant* rq, size_t channels, int32_t y_signed);
// The same checks with the output type's range [tmin, tmax] given (16-bit outputs).
const char* ValidateRequantRange(const opq_requant* rq, size_t channels, int32_t tmin, int32_t tmax);

// y[j] = requant(acc[j] + bias[j]) for j < n, channel of element j = c0 + j (or 0 per tensor).
// bias may be null. y is uint8 or int8 (as uint8_t storage) and must not overlap acc or bias: the SIMD
// rows finish with an overlapping block that rewrites y from acc.
using RequantRowFn = void (*)(const int32_t* acc, const int32_t* bias, size_t n, const opq_requant& rq, size_t c0,
                              uint8_t* y);

void RequantRowRef(const int32_t* acc, const int32_t* bias, size_t n, const opq_requant& rq, size_t c0, uint8_t* y);
#if defined(__x86_64__) || defined(_M_X64)
void RequantRowAvx2(const int32_t* acc, const int32_t* bias, size_t n, const opq_requant& rq, size_t c0, uint8_t* y);
void RequantRowAvx512(const int32_t* acc, const int32_t* bias, size_t n, const opq_requant& rq, size_t c0, uint8_t* y);
#endif
#if defined(__wasm_simd128__)
void RequantRowWasmSimd(const int32_t* acc, const int32_t* bias, size_t n, const opq_requant& rq, size_t c0,
                        uint8_t* y);
#endif

}  // namespace opq
