#include "qgemm-i32/qgemm-i32.h"

namespace opq {

void QGemmI32Ref(const QGemmI32Args& g) {
  const GemmOperands& o = g.op;
  for (size_t i = 0; i < o.m; ++i) {
    const uint8_t* a = o.a + i * o.lda;
    const int32_t za = o.a_zero_point[o.a_zp_per_row ? i : 0];
    for (size_t j = 0; j < o.n; ++j) {
      const int32_t zb = o.b_zero_point[o.b_zp_per_col ? j : 0];
      uint32_t acc = 0;  // unsigned: int32 two's-complement wrap without undefined behaviour
      for (size_t p = 0; p < o.k; ++p) {
        const int32_t av = o.a_signed ? static_cast<int8_t>(a[p]) : a[p];
        const uint8_t braw = o.b[p * o.ldb + j];
        const int32_t bv = o.b_signed ? static_cast<int8_t>(braw) : braw;
        acc += static_cast<uint32_t>((av - za) * (bv - zb));  // |.| <= 255 * 255: exact
      }
      g.y[i * g.ldy + j] = static_cast<int32_t>(acc);
    }
  }
}

}  // namespace opq
