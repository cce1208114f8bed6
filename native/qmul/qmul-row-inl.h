// The body shared by the SIMD qmul variants: products of the centred inputs into a stack buffer
// (exact int32), then the variant's row requantizer, so Mul agrees with RequantizeOne by
// construction. Plain loops the compiler vectorizes for the including file's ISA: include AFTER the
// ISA begin header; internal linkage.
#pragma once

#include <cstddef>
#include <cstdint>

#include "requant/requant.h"

namespace opq {
namespace {

// acc[j] = (a[j] - za) * (b[j] - zb), a or b held constant when broadcast.
template <typename T>
void QMulProducts(const T* a, bool as, int32_t za, const T* b, bool bs, int32_t zb, size_t m, int32_t* acc) {
  if (as && bs) {
    const int32_t v = (a[0] - za) * (b[0] - zb);
    for (size_t j = 0; j < m; ++j) acc[j] = v;
  } else if (as) {
    const int32_t ca = a[0] - za;
    for (size_t j = 0; j < m; ++j) acc[j] = ca * (b[j] - zb);
  } else if (bs) {
    const int32_t cb = b[0] - zb;
    for (size_t j = 0; j < m; ++j) acc[j] = (a[j] - za) * cb;
  } else {
    for (size_t j = 0; j < m; ++j) acc[j] = (a[j] - za) * (b[j] - zb);
  }
}

template <RequantRowFn Requant>
void QMulRowSimd(const uint8_t* a, bool a_scalar, int32_t za, const uint8_t* b, bool b_scalar, int32_t zb, size_t n,
                 bool is_signed, const opq_requant& rq, uint8_t* y) {
  int32_t acc[256];
  for (size_t i = 0; i < n; i += 256) {
    const size_t m = n - i < 256 ? n - i : 256;
    const uint8_t* pa = a_scalar ? a : a + i;
    const uint8_t* pb = b_scalar ? b : b + i;
    if (is_signed) {
      QMulProducts(reinterpret_cast<const int8_t*>(pa), a_scalar, za, reinterpret_cast<const int8_t*>(pb), b_scalar, zb,
                   m, acc);
    } else {
      QMulProducts(pa, a_scalar, za, pb, b_scalar, zb, m, acc);
    }
    Requant(acc, nullptr, m, rq, 0, y + i);
  }
}

}  // namespace
}  // namespace opq
