// AVX2 opq_softmax_f32. Three passes over each row: the maximum m (NaN skipped: a NaN still reaches
// every output, through its exp and the sum), then e = exp(x - m) (the polynomial of
// f32-exp-avx2-inl.h, x - m taken exactly as a float pair so that exp keeps its few-ulp accuracy
// far from the maximum) stored in y and summed in double lanes, then y = e * (1/s) or
// y = (x - m) - log(s) with 1/s and log(s) taken in double once per row. Contiguous rows (inner 1)
// run along the row, 16 elements at a time with masked tails; strided rows (inner > 1) run across
// 8 columns at a time, each lane its own row.
#include <algorithm>
#include <cmath>
#include <limits>

#include "f32-gemm/f32-avx2-util.h"
#include "f32-gemm/f32-kernels.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "isa/x86-avx2-begin.h"

#include "f32-eltwise/f32-exp-avx2-inl.h"

namespace opq {

namespace {

inline __m256i TailMask(size_t r) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(f32::kTailMask + 8 - r));
}

// exp(x - m) for x <= m.
inline __m256 ExpDiff(__m256 x, __m256 m) {
  __m256 lo;
  const __m256 z = f32::SubExact(x, m, &lo);
  return f32::ExpNonPositive(z, lo);
}

// acc + the 8 lanes of e in double, as two 4-lane accumulators.
inline void AddWide(__m256 e, __m256d* lo, __m256d* hi) {
  *lo = _mm256_add_pd(*lo, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
  *hi = _mm256_add_pd(*hi, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
}

inline double HSum(__m256d s) {
  __m128d h = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
  h = _mm_add_sd(h, _mm_unpackhi_pd(h, h));
  return _mm_cvtsd_f64(h);
}

// One contiguous row of n >= 1 elements.
template <bool kLog>
void Row(size_t n, const float* x, float* y) {
  // The row's maximum over the values that are not NaN (the table's max kernel): a NaN still
  // reaches every output, through its exp and the sum.
  const __m256 m = _mm256_set1_ps(F32MaxAvx2(n, x));

  __m256d s0 = _mm256_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 e0 = ExpDiff(_mm256_loadu_ps(x + i), m), e1 = ExpDiff(_mm256_loadu_ps(x + i + 8), m);
    if (!kLog) {
      _mm256_storeu_ps(y + i, e0);
      _mm256_storeu_ps(y + i + 8, e1);
    }
    AddWide(e0, &s0, &s1);
    AddWide(e1, &s2, &s3);
  }
  for (; i < n; i += 8) {
    const __m256i mask = TailMask(std::min<size_t>(n - i, 8));
    const __m256 e = _mm256_and_ps(ExpDiff(_mm256_maskload_ps(x + i, mask), m), _mm256_castsi256_ps(mask));
    if (!kLog) _mm256_maskstore_ps(y + i, mask, e);
    AddWide(e, &s0, &s1);
  }
  const double s = HSum(_mm256_add_pd(_mm256_add_pd(s0, s1), _mm256_add_pd(s2, s3)));

  if (kLog) {
    const __m256 ls = _mm256_set1_ps(static_cast<float>(std::log(s)));
    i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_sub_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), m), ls));
    if (i < n) {
      const __m256i mask = TailMask(n - i);
      _mm256_maskstore_ps(y + i, mask, _mm256_sub_ps(_mm256_sub_ps(_mm256_maskload_ps(x + i, mask), m), ls));
    }
  } else {
    const __m256 inv = _mm256_set1_ps(static_cast<float>(1.0 / s));
    i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(y + i), inv));
    if (i < n) {
      const __m256i mask = TailMask(n - i);
      _mm256_maskstore_ps(y + i, mask, _mm256_mul_ps(_mm256_maskload_ps(y + i, mask), inv));
    }
  }
}

// Loads and stores of a full block of 8 columns, or of the first r < 8 (masked).
struct Full {
  __m256 Load(const float* p) const { return _mm256_loadu_ps(p); }
  void Store(float* p, __m256 v) const { _mm256_storeu_ps(p, v); }
};
struct Part {
  __m256i mask;
  __m256 Load(const float* p) const { return _mm256_maskload_ps(p, mask); }
  void Store(float* p, __m256 v) const { _mm256_maskstore_ps(p, mask, v); }
};

// Columns [j, j + 8) (or fewer, by `io`) of one [len, inner] block: each lane its own row, len >= 1.
// Masked-off lanes compute on zeros and are never stored.
template <bool kLog, class IO>
void Columns(size_t len, size_t inner, const float* x, float* y, const IO& io) {
  __m256 m = io.Load(x);
  for (size_t k = 1; k < len; ++k) m = _mm256_max_ps(io.Load(x + k * inner), m);
  __m256d s0 = _mm256_setzero_pd(), s1 = s0;
  for (size_t k = 0; k < len; ++k) {
    const __m256 e = ExpDiff(io.Load(x + k * inner), m);
    if (!kLog) io.Store(y + k * inner, e);
    AddWide(e, &s0, &s1);
  }
  if (kLog) {
    alignas(32) double s[8];
    alignas(32) float ls[8];
    _mm256_store_pd(s, s0);
    _mm256_store_pd(s + 4, s1);
    for (int l = 0; l < 8; ++l) ls[l] = static_cast<float>(std::log(s[l]));
    const __m256 vls = _mm256_load_ps(ls);
    for (size_t k = 0; k < len; ++k)
      io.Store(y + k * inner, _mm256_sub_ps(_mm256_sub_ps(io.Load(x + k * inner), m), vls));
  } else {
    const __m256d one = _mm256_set1_pd(1.0);
    const __m256 inv =
        _mm256_set_m128(_mm256_cvtpd_ps(_mm256_div_pd(one, s1)), _mm256_cvtpd_ps(_mm256_div_pd(one, s0)));
    for (size_t k = 0; k < len; ++k) io.Store(y + k * inner, _mm256_mul_ps(io.Load(y + k * inner), inv));
  }
}

template <bool kLog>
void Softmax(size_t outer, size_t len, size_t inner, const float* x, float* y) {
  const size_t block = len * inner;
  for (size_t o = 0; o < outer; ++o, x += block, y += block) {
    if (inner == 1) {
      Row<kLog>(len, x, y);
      continue;
    }
    size_t j = 0;
    for (; j + 8 <= inner; j += 8) Columns<kLog>(len, inner, x + j, y + j, Full());
    if (j < inner) Columns<kLog>(len, inner, x + j, y + j, Part{TailMask(inner - j)});
  }
}

}  // namespace

void F32SoftmaxAvx2(size_t outer, size_t len, size_t inner, bool log, const float* x, float* y) {
  if (log)
    Softmax<true>(outer, len, inner, x, y);
  else
    Softmax<false>(outer, len, inner, x, y);
}

}  // namespace opq

#include "isa/x86-avx2-end.h"
#endif
