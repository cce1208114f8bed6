#include <cstring>

#include "qgemm-i32/qgemm-i32.h"

namespace opq {

namespace {

int32_t BValue(const GemmOperands& o, size_t p, size_t j) {
  const uint8_t braw = o.b[p * o.ldb + j];
  const int32_t bv = o.b_signed ? static_cast<int8_t>(braw) : braw;
  return bv - o.b_zero_point[o.b_zp_per_col ? j : 0];
}

}  // namespace

uint64_t QGemmI32RefPackedBBytes(size_t n, size_t k) { return uint64_t(n) * k * sizeof(int16_t); }

void QGemmI32RefPackB(const GemmOperands& o, uint8_t* dst) {
  for (size_t p = 0; p < o.k; ++p)
    for (size_t j = 0; j < o.n; ++j) {
      const int16_t v = static_cast<int16_t>(BValue(o, p, j));  // in [-255, 255]
      std::memcpy(dst + (p * o.n + j) * sizeof(int16_t), &v, sizeof v);
    }
}

void QGemmI32Ref(const QGemmI32Args& g) {
  const GemmOperands& o = g.op;
  for (size_t i = 0; i < o.m; ++i) {
    const uint8_t* a = o.a + i * o.lda;
    const int32_t za = o.a_zero_point[o.a_zp_per_row ? i : 0];
    for (size_t j = 0; j < o.n; ++j) {
      uint32_t acc = 0;  // unsigned: int32 two's-complement wrap without undefined behaviour
      for (size_t p = 0; p < o.k; ++p) {
        const int32_t av = o.a_signed ? static_cast<int8_t>(a[p]) : a[p];
        int32_t bv;
        if (g.packed_b != nullptr) {
          int16_t v;
          std::memcpy(&v, g.packed_b + (p * o.n + j) * sizeof(int16_t), sizeof v);
          bv = v;
        } else {
          bv = BValue(o, p, j);
        }
        acc += static_cast<uint32_t>((av - za) * bv);  // |.| <= 255 * 255: exact
      }
      g.y[i * g.ldy + j] = static_cast<int32_t>(acc);
    }
  }
}

}  // namespace opq
