// AVX2 bias-correction probe microkernels. A row's four chains are the four lanes of one __m256d
// (chain j takes the members j mod 4, as in the reference), and four rows run side by side so that
// four independent vector chains cover the add latency; the reference's scalar code finishes each
// row from its lanes. Products are kept from fusing into FMAs: the reference rounds them.
#include "f32-gemm/f32-kernels.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "isa/x86-avx2-begin.h"

namespace opq {

namespace {

inline __m256d Widen(const float* p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }

// The even and odd floats of p[0..8) widened: members of column classes 0 and 1.
inline void WidenPairs(const float* p, __m256d* even, __m256d* odd) {
  const __m256 v = _mm256_permutevar8x32_ps(_mm256_loadu_ps(p), _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7));
  *even = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
  *odd = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
}

// GCC contracts a multiply feeding an add into an FMA once FMA is enabled: the asm hides the product.
inline __m256d NoContract(__m256d v) {
  __asm__("" : "+x"(v));
  return v;
}

inline void Lanes(__m256d v, double* c) { _mm256_storeu_pd(c, v); }

}  // namespace

void F32ClassSumsAvx2(size_t n, size_t rows, const float* x, size_t x_stride, size_t s, double* out) {
  if (s > 2) return F32ClassSumsRef(n, rows, x, x_stride, s, out);
  size_t r = 0;
  if (s == 1) {
    for (; r + 4 <= rows; r += 4) {
      const float* p0 = x + r * x_stride;
      const float *p1 = p0 + x_stride, *p2 = p1 + x_stride, *p3 = p2 + x_stride;
      __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
      size_t j = 0;
      for (; j + 4 <= n; j += 4) {
        a0 = _mm256_add_pd(a0, Widen(p0 + j));
        a1 = _mm256_add_pd(a1, Widen(p1 + j));
        a2 = _mm256_add_pd(a2, Widen(p2 + j));
        a3 = _mm256_add_pd(a3, Widen(p3 + j));
      }
      const __m256d acc[4] = {a0, a1, a2, a3};
      const float* p[4] = {p0, p1, p2, p3};
      for (int q = 0; q < 4; ++q) {
        double c[4];
        Lanes(acc[q], c);
        F32ClassSumsTail(p[q], 1, int64_t(j), int64_t(n), c);
        out[r + q] = (c[0] + c[1]) + (c[2] + c[3]);
      }
    }
  } else {
    for (; r + 2 <= rows; r += 2) {
      const float* p0 = x + r * x_stride;
      const float* p1 = p0 + x_stride;
      __m256d e0 = _mm256_setzero_pd(), o0 = e0, e1 = e0, o1 = e0;
      size_t j = 0;  // members j..j+3 of both classes: floats 2j..2j+7
      for (; 2 * j + 8 <= n; j += 4) {
        __m256d e, o;
        WidenPairs(p0 + 2 * j, &e, &o);
        e0 = _mm256_add_pd(e0, e);
        o0 = _mm256_add_pd(o0, o);
        WidenPairs(p1 + 2 * j, &e, &o);
        e1 = _mm256_add_pd(e1, e);
        o1 = _mm256_add_pd(o1, o);
      }
      const __m256d acc[4] = {e0, o0, e1, o1};
      for (int q = 0; q < 4; ++q) {
        const size_t row = q / 2, cls = q % 2;
        const int64_t m = cls < n ? int64_t((n - 1 - cls) / 2 + 1) : 0;
        double c[4];
        Lanes(acc[q], c);
        F32ClassSumsTail(x + (r + row) * x_stride + cls, 2, int64_t(j), m, c);
        out[(r + row) * 2 + cls] = (c[0] + c[1]) + (c[2] + c[3]);
      }
    }
  }
  if (r < rows) F32ClassSumsRef(n, rows - r, x + r * x_stride, x_stride, s, out + r * s);
}

void F32DotRowsAvx2(size_t n, size_t rows, const float* a, size_t a_stride, const double* b, size_t b_stride,
                    double* out) {
  size_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    const float* pa[4] = {a + r * a_stride, a + (r + 1) * a_stride, a + (r + 2) * a_stride, a + (r + 3) * a_stride};
    const double* pb[4] = {b + r * b_stride, b + (r + 1) * b_stride, b + (r + 2) * b_stride, b + (r + 3) * b_stride};
    __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
    size_t j = 0;
    for (; j + 4 <= n; j += 4) {
      a0 = _mm256_add_pd(a0, NoContract(_mm256_mul_pd(Widen(pa[0] + j), _mm256_loadu_pd(pb[0] + j))));
      a1 = _mm256_add_pd(a1, NoContract(_mm256_mul_pd(Widen(pa[1] + j), _mm256_loadu_pd(pb[1] + j))));
      a2 = _mm256_add_pd(a2, NoContract(_mm256_mul_pd(Widen(pa[2] + j), _mm256_loadu_pd(pb[2] + j))));
      a3 = _mm256_add_pd(a3, NoContract(_mm256_mul_pd(Widen(pa[3] + j), _mm256_loadu_pd(pb[3] + j))));
    }
    const __m256d acc[4] = {a0, a1, a2, a3};
    for (int q = 0; q < 4; ++q) {
      double c[4];
      Lanes(acc[q], c);
      out[r + q] = F32DotTail(pa[q], pb[q], int64_t(j), int64_t(n), c);
    }
  }
  if (r < rows) F32DotRowsRef(n, rows - r, a + r * a_stride, a_stride, b + r * b_stride, b_stride, out + r);
}

}  // namespace opq

#include "isa/x86-avx2-end.h"

#endif
