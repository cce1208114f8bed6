// AVX2 output pass of the integer LayerNorm (qlayernorm.h), eight outputs per step in two groups
// of four doubles. Every intermediate is an integer below 2^53 in magnitude (|d| < 2^21, |gamma| <
// 2^15, mult < 2^31 or 2^16, so |d gamma mult| < 2^52; the rounding half <= 2^51 for shift <= 52;
// |z| <= 2^40, |beta| <= 2^20), so each double operation is exact and floor(v 2^-shift) is the
// reference's arithmetic right shift: the same bits.
#include "qlayernorm/qlayernorm.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include <cmath>

#include "isa/x86-avx2-begin.h"

namespace opq {
namespace {

inline __m256d Floor(__m256d v) { return _mm256_round_pd(v, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }

// The four outputs of d (int32) and, affine, gamma and beta at i, as int32.
template <bool kAffine>
inline __m128i Four(__m128i d, const QLayerNormParams& p, size_t i, __m256d mult, __m256d half, __m256d inv, __m256d lo,
                    __m256d hi) {
  __m256d v = _mm256_cvtepi32_pd(d);
  if (kAffine) v = _mm256_mul_pd(v, _mm256_cvtepi32_pd(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p.gamma + i))));
  v = Floor(_mm256_mul_pd(_mm256_add_pd(_mm256_mul_pd(v, mult), half), inv));
  if (kAffine) {
    const __m256d zlim = _mm256_set1_pd(1099511627776.0);  // 2^40
    v = _mm256_min_pd(_mm256_max_pd(v, _mm256_sub_pd(_mm256_setzero_pd(), zlim)), zlim);
    const __m256d b = _mm256_cvtepi32_pd(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p.beta + i)));
    v = Floor(_mm256_mul_pd(_mm256_add_pd(_mm256_add_pd(v, b), _mm256_set1_pd(128.0)), _mm256_set1_pd(1.0 / 256)));
  }
  v = _mm256_add_pd(v, _mm256_set1_pd(double(p.y_zero_point)));
  v = _mm256_min_pd(_mm256_max_pd(v, lo), hi);
  return _mm256_cvtpd_epi32(v);
}

template <bool kAffine>
size_t Out(const QLayerNormRow& r, const QLayerNormParams& p, uint8_t* y) {
  const size_t c = p.length;
  const __m256d mult = _mm256_set1_pd(double(r.mult)), half = _mm256_set1_pd(std::ldexp(1.0, r.shift - 1)),
                inv = _mm256_set1_pd(std::ldexp(1.0, -r.shift));
  const __m256d lo = _mm256_set1_pd(double(p.y_min)), hi = _mm256_set1_pd(double(p.y_max));
  const __m256i zx = _mm256_set1_epi32(r.zx), cl = _mm256_set1_epi32(r.cl), s1 = _mm256_set1_epi32(r.s1);
  const bool y_unsigned = p.y_min >= 0;
  size_t i = 0;
  for (; i + 8 <= c; i += 8) {
    const __m128i xb = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(r.x + i));
    const __m256i q = _mm256_sub_epi32(r.x_signed ? _mm256_cvtepi8_epi32(xb) : _mm256_cvtepu8_epi32(xb), zx);
    const __m256i d = _mm256_sub_epi32(_mm256_mullo_epi32(q, cl), s1);
    const __m128i v0 = Four<kAffine>(_mm256_castsi256_si128(d), p, i, mult, half, inv, lo, hi);
    const __m128i v1 = Four<kAffine>(_mm256_extracti128_si256(d, 1), p, i + 4, mult, half, inv, lo, hi);
    const __m128i w = _mm_packs_epi32(v0, v1);  // within [y_min, y_max]: no saturation
    _mm_storel_epi64(reinterpret_cast<__m128i*>(y + i), y_unsigned ? _mm_packus_epi16(w, w) : _mm_packs_epi16(w, w));
  }
  return i;
}

}  // namespace

size_t QLayerNormOutAvx2(const QLayerNormRow& r, const QLayerNormParams& p, uint8_t* y) {
  return p.gamma ? Out<true>(r, p, y) : Out<false>(r, p, y);
}

}  // namespace opq

#include "isa/x86-avx2-end.h"
#endif
