#include "qsoftmax/qsoftmax.h"

namespace opq {

void QSoftmax(const uint8_t* x, bool x_signed, size_t outer, size_t axis_len, size_t inner, const QSoftmaxParams& p,
              QSoftmaxLutFn lut_fn, LutFn lut_kernel, uint8_t* y) {
  if (axis_len == 0) return;  // no element to write (and no row to read: outer * inner rows of nothing)
  auto at = [&](size_t k) { return x_signed ? int32_t(int8_t(x[k])) : int32_t(x[k]); };
  uint8_t lut[256];
  for (size_t o = 0; o < outer; ++o)
    for (size_t i = 0; i < inner; ++i) {
      const size_t base = o * axis_len * inner + i;
      int32_t m = at(base), lo = m;
      for (size_t j = 1; j < axis_len; ++j) {
        const int32_t v = at(base + j * inner);
        m = v > m ? v : m;
        lo = v < lo ? v : lo;
      }
      uint64_t sum = 0;
      for (size_t j = 0; j < axis_len; ++j) sum += p.table[m - at(base + j * inner)];
      // sum >= 1 (table[0] >= 1). When sum 2^(shift + 1) would not fit 64 bits, sum 2^shift > 2^62
      // exceeds every 2 t multiplier (< 2^39): each output is 0 and the divider is never asked.
      const size_t range = size_t(m - lo) + 1;
      if (lut_fn != nullptr && inner == 1 && range <= 4 * axis_len) {
        // The outputs by m - x from the SIMD table, then by raw input byte for the LUT kernel (bytes
        // outside [lo, m] do not occur in the row; they are 0 so the kernel reads defined memory).
        lut_fn(p.table, range, sum, p, lut);
        uint8_t by_byte[256] = {};
        for (int32_t v = lo; v <= m; ++v) by_byte[uint8_t(v)] = lut[m - v];
        lut_kernel(x + base, axis_len, by_byte, y + base);
        continue;
      }
      const Divider div(p.shift + 1 < __builtin_clzll(sum) ? sum << (p.shift + 1) : 1);
      if (axis_len > size_t(m - lo) + 1) {
        for (int32_t d = 0; d <= m - lo; ++d) lut[d] = uint8_t(QSoftmaxOne(p.table[d], sum, p, div));
        for (size_t j = 0; j < axis_len; ++j) y[base + j * inner] = lut[m - at(base + j * inner)];
      } else {
        for (size_t j = 0; j < axis_len; ++j)
          y[base + j * inner] = uint8_t(QSoftmaxOne(p.table[m - at(base + j * inner)], sum, p, div));
      }
    }
}

}  // namespace opq
