// AVX2 QuantizeLinear / DequantizeLinear rows: the same float32 operations as the scalar
// definition (a true division, round half to even by vcvtps2dq), 16 values per step.
#include "opq_qunary.h"
#include "quantize/quantize.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "isa/x86-avx2-begin.h"
#include "qsimd/fixedpoint-avx2-inl.h"

namespace opq {

void QuantizeRowAvx2(const float* x, size_t n, float s, int32_t z, bool y_signed, uint8_t* y) {
  const int32_t tmin = y_signed ? -128 : 0, tmax = y_signed ? 127 : 255;
  const __m256 vs = _mm256_set1_ps(s);
  const __m256 lo = _mm256_set1_ps(static_cast<float>(tmin - z)), hi = _mm256_set1_ps(static_cast<float>(tmax - z));
  const __m256i vz = _mm256_set1_epi32(z);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    // max_ps returns its second operand when the first is NaN: NaN -> lo, as the definition says.
    const __m256 f0 = _mm256_min_ps(_mm256_max_ps(_mm256_div_ps(_mm256_loadu_ps(x + i), vs), lo), hi);
    const __m256 f1 = _mm256_min_ps(_mm256_max_ps(_mm256_div_ps(_mm256_loadu_ps(x + i + 8), vs), lo), hi);
    Store16x8(y + i, _mm256_add_epi32(_mm256_cvtps_epi32(f0), vz), _mm256_add_epi32(_mm256_cvtps_epi32(f1), vz),
              y_signed);
  }
  if (i < n) QuantizeRowRef(x + i, n - i, s, z, y_signed, y + i);
}

void DequantizeRowAvx2(const void* x, int32_t x_type, size_t n, float s, int32_t z, float* y) {
  const __m256 vs = _mm256_set1_ps(s);
  const __m256i vz = _mm256_set1_epi32(z);
  size_t i = 0;
  if (x_type == OPQ_DQ_INT32) {
    // x - z needs int64 unless z is 0 (the usual case for biases).
    if (z != 0) {
      DequantizeRowRef(x, x_type, n, s, z, y);
      return;
    }
    const int32_t* p = static_cast<const int32_t*>(x);
    for (; i + 8 <= n; i += 8)
      _mm256_storeu_ps(
          y + i, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i))), vs));
    if (i < n) DequantizeRowRef(p + i, x_type, n - i, s, z, y + i);
    return;
  }
  const uint8_t* p = static_cast<const uint8_t*>(x);
  const bool sgn = x_type == OPQ_DQ_INT8;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(Load8x8(p + i, sgn), vz)), vs));
  if (i < n) DequantizeRowRef(p + i, x_type, n - i, s, z, y + i);
}

}  // namespace opq

#include "isa/x86-avx2-end.h"
#endif
