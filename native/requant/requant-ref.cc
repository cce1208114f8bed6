#include "requant/requant.h"

namespace opq {

const char* ValidateRequant(const opq_requant* rq, size_t channels, int32_t y_signed) {
  return ValidateRequantRange(rq, channels, y_signed ? -128 : 0, y_signed ? 127 : 255);
}

const char* ValidateRequantRange(const opq_requant* rq, size_t channels, int32_t tmin, int32_t tmax) {
  if (rq == nullptr) return "requant: params are null";
  if (rq->mode != OPQ_REQUANT_FIXED_POINT && rq->mode != OPQ_REQUANT_FLOAT && rq->mode != OPQ_REQUANT_SHIFT)
    return "requant: mode must be 0 (fixed-point), 1 (float) or 2 (shift)";
  if (rq->count != 1 && static_cast<size_t>(rq->count) != channels)
    return "requant: count must be 1 or the number of output channels";
  if (rq->output_min < tmin || rq->output_max > tmax || rq->output_min > rq->output_max)
    return "requant: output_min/output_max must satisfy type_min <= output_min <= output_max <= type_max";
  if (rq->output_zero_point < tmin || rq->output_zero_point > tmax)
    return "requant: output_zero_point out of the output type's range";
  const size_t count = static_cast<size_t>(rq->count);
  if (rq->mode == OPQ_REQUANT_FLOAT) {
    if (rq->scale == nullptr) return "requant: scale is null";
    for (size_t i = 0; i < count; ++i) {
      const float s = rq->scale[i];
      if (!(s >= 0.0f) || !(s <= 3.0e38f)) return "requant: scale must be finite and >= 0";
    }
  } else {
    if (rq->shift == nullptr) return "requant: shift is null";
    if (rq->mode == OPQ_REQUANT_FIXED_POINT && rq->multiplier == nullptr) return "requant: multiplier is null";
    for (size_t i = 0; i < count; ++i) {
      if (rq->shift[i] < -31 || rq->shift[i] > 31) return "requant: shift must be in [-31, 31]";
      if (rq->mode == OPQ_REQUANT_FIXED_POINT && rq->multiplier[i] < 0) return "requant: multiplier must be >= 0";
    }
  }
  return nullptr;
}

void RequantRowRef(const int32_t* acc, const int32_t* bias, size_t n, const opq_requant& rq, size_t c0, uint8_t* y) {
  const bool per_channel = rq.count != 1;
  for (size_t j = 0; j < n; ++j) {
    // Wrapping int32 add, as every SIMD variant does.
    const int32_t a =
        bias ? static_cast<int32_t>(static_cast<uint32_t>(acc[j]) + static_cast<uint32_t>(bias[j])) : acc[j];
    y[j] = static_cast<uint8_t>(RequantizeOne(a, rq, per_channel ? c0 + j : 0));
  }
}

RequantRowFn RequantRowFor(int32_t variant) {
#if defined(__x86_64__) || defined(_M_X64)
  if (variant == OPQ_VARIANT_AVX2) return RequantRowAvx2;
#endif
#if defined(__wasm_simd128__)
  if (variant == OPQ_VARIANT_WASMSIMD) return RequantRowWasmSimd;
#endif
  (void)variant;
  return RequantRowRef;
}

}  // namespace opq
