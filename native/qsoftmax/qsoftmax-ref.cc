#include "qsoftmax/qsoftmax.h"

namespace opq {

void QSoftmaxRef(const uint8_t* x, bool x_signed, size_t outer, size_t axis_len, size_t inner, const QSoftmaxParams& p,
                 uint8_t* y) {
  auto at = [&](size_t k) { return x_signed ? int32_t(int8_t(x[k])) : int32_t(x[k]); };
  for (size_t o = 0; o < outer; ++o)
    for (size_t i = 0; i < inner; ++i) {
      const size_t base = o * axis_len * inner + i;
      int32_t m = at(base);
      for (size_t j = 1; j < axis_len; ++j) {
        const int32_t v = at(base + j * inner);
        m = v > m ? v : m;
      }
      uint64_t sum = 0;
      for (size_t j = 0; j < axis_len; ++j) sum += p.table[m - at(base + j * inner)];
      for (size_t j = 0; j < axis_len; ++j)
        y[base + j * inner] = uint8_t(QSoftmaxOne(p.table[m - at(base + j * inner)], sum, p));
    }
}

}  // namespace opq
