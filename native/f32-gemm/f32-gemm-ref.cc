// The float32 GEMM reference: Y = clamp(alpha * op(A) op(B) + beta * C) as a direct triple loop.
#include <algorithm>

#include "f32-gemm/f32-kernels.h"

namespace opq {

void GemmF32Ref(const GemmF32Args& g) {
  for (size_t i = 0; i < g.m; ++i) {
    for (size_t j = 0; j < g.n; ++j) {
      float acc = 0.0f;
      for (size_t p = 0; p < g.k; ++p) {
        const float av = g.trans_a ? g.a[p * g.lda + i] : g.a[i * g.lda + p];
        const float bv = g.trans_b ? g.b[j * g.ldb + p] : g.b[p * g.ldb + j];
        acc += av * bv;
      }
      float v = g.alpha * acc;
      if (g.c) v += g.beta * g.c[i * g.c_stride_m + j * g.c_stride_n];
      if (g.clamp) v = std::min(std::max(v, g.lo), g.hi);
      g.y[i * g.ldy + j] = v;
    }
  }
}

}  // namespace opq
