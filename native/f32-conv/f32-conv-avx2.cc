// AVX2+FMA depthwise convolution row: 32 outputs per pass in four accumulators, one broadcast
// weight per tap; masked loads (which never touch masked-off memory) for the tail.
#include "f32-gemm/f32-avx2-util.h"
#include "f32-gemm/f32-kernels.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "isa/x86-avx2-begin.h"

namespace opq {

void F32DwRowAvx2(size_t n, size_t ntaps, const float* const* taps, const float* w, float bias, uint32_t flags,
                  float lo, float hi, float* y) {
  const __m256 vb = _mm256_set1_ps(bias);
  const bool clamp = (flags & kF32Clamp) != 0;
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  size_t j = 0;
  for (; j + 32 <= n; j += 32) {
    __m256 a0 = vb, a1 = vb, a2 = vb, a3 = vb;
    for (size_t t = 0; t < ntaps; ++t) {
      const float* s = taps[t] + j;
      const __m256 wv = _mm256_broadcast_ss(w + t);
      a0 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(s), a0);
      a1 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(s + 8), a1);
      a2 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(s + 16), a2);
      a3 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(s + 24), a3);
    }
    if (clamp) {
      a0 = _mm256_min_ps(vhi, _mm256_max_ps(vlo, a0));
      a1 = _mm256_min_ps(vhi, _mm256_max_ps(vlo, a1));
      a2 = _mm256_min_ps(vhi, _mm256_max_ps(vlo, a2));
      a3 = _mm256_min_ps(vhi, _mm256_max_ps(vlo, a3));
    }
    _mm256_storeu_ps(y + j, a0);
    _mm256_storeu_ps(y + j + 8, a1);
    _mm256_storeu_ps(y + j + 16, a2);
    _mm256_storeu_ps(y + j + 24, a3);
  }
  for (; j < n; j += 8) {
    const size_t r = n - j < 8 ? n - j : 8;
    const __m256i mask = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(f32::kTailMask + 8 - r));
    __m256 acc = vb;
    for (size_t t = 0; t < ntaps; ++t)
      acc = _mm256_fmadd_ps(_mm256_broadcast_ss(w + t), _mm256_maskload_ps(taps[t] + j, mask), acc);
    if (clamp) acc = _mm256_min_ps(vhi, _mm256_max_ps(vlo, acc));
    _mm256_maskstore_ps(y + j, mask, acc);
  }
}

}  // namespace opq

#include "isa/x86-avx2-end.h"
#endif
