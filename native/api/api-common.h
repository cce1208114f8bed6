// Small helpers shared by the validated entry points of the elementwise, pooling and layout kernels.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dispatch/dispatch.h"
#include "onnxptq.h"

namespace opq {

inline int32_t ResolveVariant(int32_t variant) { return variant == OPQ_VARIANT_AUTO ? AutoVariant() : variant; }

// Dimensions above 2^28 and element counts above 2^31 - 1 are refused: no real layer has them,
// and it keeps every product of two sizes from overflowing on 32-bit wasm.
constexpr size_t kApiMaxDim = size_t{1} << 28;
constexpr size_t kApiMaxElements = (size_t{1} << 31) - 1;

// *out = a * b * ..., false when it passes kApiMaxElements.
inline bool CheckedProduct(const size_t* dims, size_t count, size_t* out) {
  size_t p = 1;
  for (size_t i = 0; i < count; ++i) {
    if (dims[i] == 0) {
      *out = 0;
      return true;
    }
  }
  for (size_t i = 0; i < count; ++i) {
    if (dims[i] > kApiMaxElements || p > kApiMaxElements / dims[i]) return false;
    p *= dims[i];
  }
  *out = p;
  return true;
}

// Elements a row-major rows x cols matrix with leading dimension ld spans: (rows-1)*ld + cols,
// or 0 when empty; false when ld < cols or on overflow.
inline bool SpanOf(size_t rows, size_t cols, size_t ld, size_t* out) {
  if (rows == 0 || cols == 0) {
    *out = 0;
    return true;
  }
  if (ld < cols) return false;
  const size_t max = ~size_t{0};
  if (rows - 1 > (max - cols) / ld) return false;
  *out = (rows - 1) * ld + cols;
  return true;
}

// A per-tensor requant for an 8-bit output; NULL when valid.
const char* ValidateRequantPerTensor(const opq_requant* rq, int32_t y_signed);

}  // namespace opq

namespace opq {
// The ISA the elementwise kernels use for a resolved variant: AVX-512 VNNI machines run the AVX2
// kernels (these ops have no VNNI-specific code).
inline int32_t ElementwiseIsa(int32_t v) { return v == OPQ_VARIANT_AVX512VNNI ? OPQ_VARIANT_AVX2 : v; }
}  // namespace opq
