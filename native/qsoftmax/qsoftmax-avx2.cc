// AVX2 per-row output table of the integer Softmax (qsoftmax.h): QSoftmaxOne for four entries at a
// time in doubles. An output is nonzero only when sum 2^shift <= 2 t multiplier < 2^39 (t <= 2^14,
// multiplier < 2^24), and then the numerator 2 t multiplier + sum 2^shift and the denominator
// sum 2^(shift + 1) are integers below 2^40: exact in doubles, and the rounded quotient is at most
// one above the floor, which one exact product corrects (it can only happen for quotients past 2^13,
// clamped to the output range anyway). Elsewhere the lane is masked to 0. Same bits as the Divider.
#include "qsoftmax/qsoftmax.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "isa/x86-avx2-begin.h"

namespace opq {
namespace {

inline __m256d Floor(__m256d v) { return _mm256_round_pd(v, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }

}  // namespace

void QSoftmaxLutAvx2(const uint32_t* table, size_t count, uint64_t sum, const QSoftmaxParams& p, uint8_t* lut) {
  const __m256d sumd = _mm256_set1_pd(double(sum)), two_m = _mm256_set1_pd(2.0 * double(p.multiplier));
  const __m256d inv = _mm256_set1_pd(std::ldexp(1.0, -p.shift)),
                sum_s = _mm256_set1_pd(std::ldexp(double(sum), p.shift));
  const __m256d den = _mm256_set1_pd(std::ldexp(double(sum), p.shift + 1)), one = _mm256_set1_pd(1.0);
  const __m256d zy = _mm256_set1_pd(double(p.y_zero_point)), lo = _mm256_set1_pd(double(p.y_min)),
                hi = _mm256_set1_pd(double(p.y_max));
  for (size_t d = 0; d < count; d += 4) {  // d + 3 <= 255: inside the 256-entry table and lut
    const __m256d t = _mm256_cvtepi32_pd(_mm_loadu_si128(reinterpret_cast<const __m128i*>(table + d)));
    const __m256d two = _mm256_mul_pd(t, two_m);
    const __m256d nonzero = _mm256_cmp_pd(sumd, Floor(_mm256_mul_pd(two, inv)), _CMP_LE_OQ);
    const __m256d n = _mm256_add_pd(two, sum_s);
    __m256d q = Floor(_mm256_div_pd(n, den));
    q = _mm256_sub_pd(q, _mm256_and_pd(_mm256_cmp_pd(_mm256_mul_pd(q, den), n, _CMP_GT_OQ), one));
    q = _mm256_and_pd(q, nonzero);
    const __m256d v = _mm256_min_pd(_mm256_max_pd(_mm256_add_pd(q, zy), lo), hi);
    const __m128i w = _mm_packs_epi32(_mm256_cvtpd_epi32(v), _mm_setzero_si128());  // within [y_min, y_max]
    const __m128i b = p.y_min >= 0 ? _mm_packus_epi16(w, w) : _mm_packs_epi16(w, w);
    const int32_t four = _mm_cvtsi128_si32(b);
    std::memcpy(lut + d, &four, 4);
  }
}

}  // namespace opq

#include "isa/x86-avx2-end.h"
#endif
