// AVX2 opq_sum_rows_f32 microkernel: 32 columns at a time in eight __m256d accumulators (eight
// independent chains in flight, enough to cover the add latency), each row's floats widened with
// VCVTPS2PD straight from memory; then 8 and 4 columns, then scalar. Every accumulator is one
// column's chain 0 + row 0 + row 1 + ..., as in the reference: the same bits.
#include "f32-gemm/f32-kernels.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "isa/x86-avx2-begin.h"

namespace opq {

namespace {

inline __m256d Widen(const float* p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }

}  // namespace

void F32SumRowsAvx2(size_t n, size_t rows, const float* x, size_t x_stride, double* dst) {
  size_t j = 0;
  for (; j + 32 <= n; j += 32) {
    __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (size_t r = 0; r < rows; ++r) {
      const float* p = x + r * x_stride + j;
      a0 = _mm256_add_pd(a0, Widen(p));
      a1 = _mm256_add_pd(a1, Widen(p + 4));
      a2 = _mm256_add_pd(a2, Widen(p + 8));
      a3 = _mm256_add_pd(a3, Widen(p + 12));
      a4 = _mm256_add_pd(a4, Widen(p + 16));
      a5 = _mm256_add_pd(a5, Widen(p + 20));
      a6 = _mm256_add_pd(a6, Widen(p + 24));
      a7 = _mm256_add_pd(a7, Widen(p + 28));
    }
    _mm256_storeu_pd(dst + j, a0);
    _mm256_storeu_pd(dst + j + 4, a1);
    _mm256_storeu_pd(dst + j + 8, a2);
    _mm256_storeu_pd(dst + j + 12, a3);
    _mm256_storeu_pd(dst + j + 16, a4);
    _mm256_storeu_pd(dst + j + 20, a5);
    _mm256_storeu_pd(dst + j + 24, a6);
    _mm256_storeu_pd(dst + j + 28, a7);
  }
  for (; j + 8 <= n; j += 8) {
    __m256d a0 = _mm256_setzero_pd(), a1 = a0;
    for (size_t r = 0; r < rows; ++r) {
      const float* p = x + r * x_stride + j;
      a0 = _mm256_add_pd(a0, Widen(p));
      a1 = _mm256_add_pd(a1, Widen(p + 4));
    }
    _mm256_storeu_pd(dst + j, a0);
    _mm256_storeu_pd(dst + j + 4, a1);
  }
  if (j + 4 <= n) {
    __m256d a0 = _mm256_setzero_pd();
    for (size_t r = 0; r < rows; ++r) a0 = _mm256_add_pd(a0, Widen(x + r * x_stride + j));
    _mm256_storeu_pd(dst + j, a0);
    j += 4;
  }
  if (j < n) {
    // 1 to 3 columns: scalar chains, side by side.
    const size_t m = n - j;
    double s0 = 0.0, s1 = 0.0, s2 = 0.0;
    for (size_t r = 0; r < rows; ++r) {
      const float* p = x + r * x_stride + j;
      s0 += static_cast<double>(p[0]);
      if (m > 1) s1 += static_cast<double>(p[1]);
      if (m > 2) s2 += static_cast<double>(p[2]);
    }
    dst[j] = s0;
    if (m > 1) dst[j + 1] = s1;
    if (m > 2) dst[j + 2] = s2;
  }
}

}  // namespace opq

#include "isa/x86-avx2-end.h"
#endif
