#include "qgemm/qgemm.h"

#include "requant/requant.h"

namespace opq {

size_t QGemmRefWorkspace(size_t, size_t n, size_t) { return n * sizeof(int32_t); }

void QGemmRef(const QGemmArgs& g) {
  int32_t* row = static_cast<int32_t*>(g.workspace);  // one row of accumulators
  for (size_t i = 0; i < g.m; ++i) {
    const uint8_t* a = g.a + i * g.lda;
    for (size_t j = 0; j < g.n; ++j) {
      const int32_t zb = g.b_zero_point[g.b_zp_per_channel ? j : 0];
      uint32_t acc = 0;  // unsigned: int32 two's-complement wrap without undefined behaviour
      for (size_t p = 0; p < g.k; ++p) {
        const int32_t av = g.a_signed ? static_cast<int8_t>(a[p]) : a[p];
        acc += static_cast<uint32_t>((av - g.a_zero_point) * (g.b[p * g.ldb + j] - zb));
      }
      row[j] = static_cast<int32_t>(acc);
    }
    RequantRowRef(row, g.bias, g.n, *g.rq, 0, g.y + i * g.ldy);
  }
}

}  // namespace opq
