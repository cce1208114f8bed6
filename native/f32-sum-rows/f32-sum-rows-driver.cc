// The geometry of opq_sum_rows_f32, shared by every variant: for each plane and tap, the run of
// output positions whose row lies inside the input (TapLo, TapHi of f32-kernels.h), handed
// to the microkernel as `rows` rows `stride*inner` floats apart. Arguments are validated
// (native/api/f32-api.cc): every index below stays inside x and dst.
#include "f32-gemm/f32-kernels.h"

namespace opq {

void SumRowsF32Run(const opq_sum_rows_f32_params& p, const float* x, double* dst, const F32Ukernels& uk) {
  const int64_t I = p.i, K = p.k, stride = p.stride;
  const size_t inner = static_cast<size_t>(p.inner);
  for (int64_t a = 0; a < p.planes; ++a) {
    for (int64_t t = 0; t < K; ++t) {
      const int64_t off = t * int64_t{p.dilation} - p.pad;
      const int64_t lo = TapLo(off, stride), rows = TapHi(I, p.o, off, stride) - lo;
      double* to = dst + static_cast<size_t>(a * K + t) * inner;
      if (rows <= 0) {
        uk.sum_rows(inner, 0, x, 0, to);  // no row inside the input: zeros, x not read
        continue;
      }
      const float* from = x + static_cast<size_t>(a * I + lo * stride + off) * inner;
      // With one row the stride is never applied (stride*inner may exceed a 32-bit size_t then).
      uk.sum_rows(inner, static_cast<size_t>(rows), from, rows > 1 ? static_cast<size_t>(stride) * inner : 0, to);
    }
  }
}

}  // namespace opq
