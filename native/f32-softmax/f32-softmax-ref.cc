// Scalar definition of opq_softmax_f32: the `ref` variant. The JS definition (softmaxF32Ref of
// src/backends/js-f32.ts) in C: the row's maximum with NaN winning, then exp(x - m) in double (the
// C library's), their sum in double, and y = e / s or x - m - log(s) rounded once to float. Each
// exp is taken twice (for the sum, then for the output) rather than kept: no scratch, in place safe.
#include <cmath>
#include <limits>

#include "f32-gemm/f32-kernels.h"

namespace opq {

void F32SoftmaxRef(size_t outer, size_t len, size_t inner, bool log, const float* x, float* y) {
  for (size_t o = 0; o < outer; ++o) {
    for (size_t i = 0; i < inner; ++i) {
      const float* xr = x + o * len * inner + i;
      float* yr = y + o * len * inner + i;
      float m = -std::numeric_limits<float>::infinity();
      for (size_t k = 0; k < len; ++k) {
        const float v = xr[k * inner];
        if (v > m || v != v) m = v;
      }
      const double dm = m;
      double s = 0.0;
      for (size_t k = 0; k < len; ++k) s += std::exp(static_cast<double>(xr[k * inner]) - dm);
      if (log) {
        const double ls = std::log(s);
        for (size_t k = 0; k < len; ++k)
          yr[k * inner] = static_cast<float>(static_cast<double>(xr[k * inner]) - dm - ls);
      } else {
        for (size_t k = 0; k < len; ++k)
          yr[k * inner] = static_cast<float>(std::exp(static_cast<double>(xr[k * inner]) - dm) / s);
      }
    }
  }
}

}  // namespace opq
