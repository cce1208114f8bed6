// The geometry of opq_sum_rows_f32, shared by every variant: for each plane and tap, the run of
// output positions whose row lies inside the input (tapLo, tapHi of src/backends/js-f32.ts), handed
// to the microkernel as `rows` rows `stride*inner` floats apart. Arguments are validated
// (native/api/f32-api.cc): every index below stays inside x and dst.
#include <algorithm>

#include "f32-gemm/f32-kernels.h"

namespace opq {

namespace {

// First output position q whose row q*stride + off is >= 0.
int64_t TapLo(int64_t off, int64_t stride) { return off >= 0 ? 0 : (-off + stride - 1) / stride; }

// One past the last output position q < out whose row q*stride + off is < size (and >= TapLo).
int64_t TapHi(int64_t size, int64_t out, int64_t off, int64_t stride) {
  const int64_t lo = TapLo(off, stride);
  const int64_t last = size - 1 - off;  // the largest q*stride allowed
  if (last < 0) return lo;
  return std::max(lo, std::min(out, last / stride + 1));
}

}  // namespace

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
