// AVX2 pooling rows: max or sum over the window taps, 16 outputs per pass, masked tails.
#include <limits>

#include "f32-gemm/f32-avx2-util.h"
#include "f32-gemm/f32-kernels.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "isa/x86-avx2-begin.h"

namespace opq {

void F32MaxRowAvx2(size_t n, size_t ntaps, const float* const* taps, float* y) {
  const __m256 ninf = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  size_t j = 0;
  for (; j + 16 <= n; j += 16) {
    __m256 m0 = ninf, m1 = ninf;
    for (size_t t = 0; t < ntaps; ++t) {
      // The tap first: a NaN input is skipped, as in the reference's `v > best`.
      m0 = _mm256_max_ps(_mm256_loadu_ps(taps[t] + j), m0);
      m1 = _mm256_max_ps(_mm256_loadu_ps(taps[t] + j + 8), m1);
    }
    _mm256_storeu_ps(y + j, m0);
    _mm256_storeu_ps(y + j + 8, m1);
  }
  for (; j < n; j += 8) {
    const size_t r = n - j < 8 ? n - j : 8;
    const __m256i mask = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(f32::kTailMask + 8 - r));
    __m256 m = ninf;
    for (size_t t = 0; t < ntaps; ++t) m = _mm256_max_ps(_mm256_maskload_ps(taps[t] + j, mask), m);
    _mm256_maskstore_ps(y + j, mask, m);
  }
}

void F32AvgRowAvx2(size_t n, size_t ntaps, const float* const* taps, float row_count, const float* col_count,
                   float* y) {
  const __m256 rc = _mm256_set1_ps(row_count);
  size_t j = 0;
  for (; j + 16 <= n; j += 16) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    for (size_t t = 0; t < ntaps; ++t) {
      s0 = _mm256_add_ps(s0, _mm256_loadu_ps(taps[t] + j));
      s1 = _mm256_add_ps(s1, _mm256_loadu_ps(taps[t] + j + 8));
    }
    _mm256_storeu_ps(y + j, _mm256_div_ps(s0, _mm256_mul_ps(rc, _mm256_loadu_ps(col_count + j))));
    _mm256_storeu_ps(y + j + 8, _mm256_div_ps(s1, _mm256_mul_ps(rc, _mm256_loadu_ps(col_count + j + 8))));
  }
  for (; j < n; j += 8) {
    const size_t r = n - j < 8 ? n - j : 8;
    const __m256i mask = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(f32::kTailMask + 8 - r));
    __m256 s = _mm256_setzero_ps();
    for (size_t t = 0; t < ntaps; ++t) s = _mm256_add_ps(s, _mm256_maskload_ps(taps[t] + j, mask));
    // Masked-off lanes divide 0 by 0; they are never stored.
    _mm256_maskstore_ps(y + j, mask, _mm256_div_ps(s, _mm256_mul_ps(rc, _mm256_maskload_ps(col_count + j, mask))));
  }
}

}  // namespace opq

#include "isa/x86-avx2-end.h"
#endif
