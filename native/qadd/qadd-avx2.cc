// AVX2 quantized Add: 16 outputs per step in int32 (fixed-point and shift) or float32 lanes.
#include "qadd/qadd.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "isa/x86-avx2-begin.h"
#include "qsimd/fixedpoint-avx2-inl.h"

namespace opq {
namespace {

inline __m256i LoadOrSplat(const uint8_t* p, bool scalar, size_t j, bool is_signed) {
  return scalar ? _mm256_set1_epi32(Load8(p, is_signed)) : Load8x8(p + j, is_signed);
}

}  // namespace

void QAddRowAvx2(const uint8_t* a, bool a_scalar, const uint8_t* b, bool b_scalar, size_t n, bool is_signed,
                 const opq_qadd_params& p, float fixed, uint8_t* y) {
  const __m256i lo = _mm256_set1_epi32(p.output_min - p.output_zero_point);
  const __m256i hi = _mm256_set1_epi32(p.output_max - p.output_zero_point);
  const __m256i zc = _mm256_set1_epi32(p.output_zero_point);
  const __m256i za = _mm256_set1_epi32(p.a_zero_point), zb = _mm256_set1_epi32(p.b_zero_point);
  const __m256i ma = _mm256_set1_epi32(p.a_multiplier), mb = _mm256_set1_epi32(p.b_multiplier);
  const __m256i mo = _mm256_set1_epi32(p.output_multiplier);
  const __m128i ls = _mm_cvtsi32_si128(p.left_shift);
  const __m256 fa = _mm256_set1_ps(p.a_scale), fb = _mm256_set1_ps(p.b_scale), ff = _mm256_set1_ps(fixed);
  const __m256 fmin = _mm256_set1_ps(static_cast<float>(p.output_min));
  const __m256 fmax = _mm256_set1_ps(static_cast<float>(p.output_max));
  size_t j = 0;
  for (; j + 16 <= n; j += 16) {
    __m256i out[2];
    for (int h = 0; h < 2; ++h) {
      const __m256i va = LoadOrSplat(a, a_scalar, j + 8 * h, is_signed);
      const __m256i vb = LoadOrSplat(b, b_scalar, j + 8 * h, is_signed);
      if (p.mode == OPQ_REQUANT_FLOAT) {
        const __m256 pa = NoContract8(_mm256_mul_ps(_mm256_cvtepi32_ps(va), fa));
        const __m256 pb = NoContract8(_mm256_mul_ps(_mm256_cvtepi32_ps(vb), fb));
        __m256 v = _mm256_add_ps(NoContract8(_mm256_add_ps(ff, pa)), pb);
        v = _mm256_min_ps(_mm256_max_ps(v, fmin), fmax);
        out[h] = _mm256_cvtps_epi32(v);  // round half to even under the default MXCSR
      } else {
        const __m256i xa = _mm256_sll_epi32(_mm256_sub_epi32(va, za), ls);
        const __m256i xb = _mm256_sll_epi32(_mm256_sub_epi32(vb, zb), ls);
        __m256i v;
        if (p.mode == OPQ_REQUANT_SHIFT) {
          v = ShiftPotU(_mm256_add_epi32(ShiftPotU(xa, p.a_shift), ShiftPotU(xb, p.b_shift)), p.output_shift);
        } else {
          v = MbqmU(_mm256_add_epi32(MbqmU(xa, ma, p.a_shift), MbqmU(xb, mb, p.b_shift)), mo, p.output_shift);
        }
        out[h] = _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(v, lo), hi), zc);
      }
    }
    Store16x8(y + j, out[0], out[1], is_signed);
  }
  if (j < n)
    QAddRowRef(a_scalar ? a : a + j, a_scalar, b_scalar ? b : b + j, b_scalar, n - j, is_signed, p, fixed, y + j);
}

}  // namespace opq

#include "isa/x86-avx2-end.h"
#endif
