// AVX2 hooks of the ConvTranspose driver: the column GEMM as int16-pair dot products (vpmaddwd:
// each pair sum is at most 2 * 255 * 255, exact) on a 4 x 16 register tile, and the col2im add
// vectorized for stride 1 (contiguous) and stride 2 (interleave with the untouched odd lanes).
#include "qconvtranspose/qconvtranspose.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "isa/x86-avx2-begin.h"

namespace opq {
namespace {

inline __m256i Ld(const int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
inline void St(int32_t* p, __m256i v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }

void GemmAvx2(size_t m, size_t np, size_t kq, const int32_t* a, const int32_t* x, size_t ldx, int32_t* c, size_t ldc) {
  size_t i = 0;
  for (; i + 4 <= m; i += 4) {
    const int32_t* a0 = a + i * kq;
    size_t p = 0;
    for (; p + 16 <= np; p += 16) {
      __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
      for (size_t q = 0; q < kq; ++q) {
        const __m256i b0 = Ld(x + q * ldx + p), b1 = Ld(x + q * ldx + p + 8);
        __m256i w = _mm256_set1_epi32(a0[q]);
        c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(w, b0));
        c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(w, b1));
        w = _mm256_set1_epi32(a0[kq + q]);
        c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(w, b0));
        c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(w, b1));
        w = _mm256_set1_epi32(a0[2 * kq + q]);
        c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(w, b0));
        c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(w, b1));
        w = _mm256_set1_epi32(a0[3 * kq + q]);
        c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(w, b0));
        c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(w, b1));
      }
      St(c + i * ldc + p, c00);
      St(c + i * ldc + p + 8, c01);
      St(c + (i + 1) * ldc + p, c10);
      St(c + (i + 1) * ldc + p + 8, c11);
      St(c + (i + 2) * ldc + p, c20);
      St(c + (i + 2) * ldc + p + 8, c21);
      St(c + (i + 3) * ldc + p, c30);
      St(c + (i + 3) * ldc + p + 8, c31);
    }
    for (; p + 8 <= np; p += 8) {
      __m256i c0 = _mm256_setzero_si256(), c1 = c0, c2 = c0, c3 = c0;
      for (size_t q = 0; q < kq; ++q) {
        const __m256i b = Ld(x + q * ldx + p);
        c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(_mm256_set1_epi32(a0[q]), b));
        c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(_mm256_set1_epi32(a0[kq + q]), b));
        c2 = _mm256_add_epi32(c2, _mm256_madd_epi16(_mm256_set1_epi32(a0[2 * kq + q]), b));
        c3 = _mm256_add_epi32(c3, _mm256_madd_epi16(_mm256_set1_epi32(a0[3 * kq + q]), b));
      }
      St(c + i * ldc + p, c0);
      St(c + (i + 1) * ldc + p, c1);
      St(c + (i + 2) * ldc + p, c2);
      St(c + (i + 3) * ldc + p, c3);
    }
    GemmTailScalar(i, i + 4, p, np, kq, a, x, ldx, c, ldc);
  }
  for (; i < m; ++i) {
    const int32_t* ai = a + i * kq;
    size_t p = 0;
    for (; p + 8 <= np; p += 8) {
      __m256i c0 = _mm256_setzero_si256();
      for (size_t q = 0; q < kq; ++q)
        c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(_mm256_set1_epi32(ai[q]), Ld(x + q * ldx + p)));
      St(c + i * ldc + p, c0);
    }
    GemmTailScalar(i, i + 1, p, np, kq, a, x, ldx, c, ldc);
  }
}

void ScatterAddAvx2(const int32_t* src, size_t n, size_t stride, int32_t* dst) {
  size_t k = 0;
  if (stride == 1) {
    for (; k + 8 <= n; k += 8) St(dst + k, _mm256_add_epi32(Ld(dst + k), Ld(src + k)));
  } else if (stride == 2) {
    // dst[2k] += src[k] for 8 k at a time: 16 dst values, src interleaved with zeros.
    const __m256i zero = _mm256_setzero_si256();
    for (; k + 8 <= n; k += 8) {
      // permute so that unpack (in-lane) yields src order across the two 256-bit halves
      const __m256i s = _mm256_permute4x64_epi64(Ld(src + k), 0xD8);  // [s0 s1 s4 s5 | s2 s3 s6 s7]
      const __m256i lo = _mm256_unpacklo_epi32(s, zero);              // [s0 0 s1 0 | s2 0 s3 0]
      const __m256i hi = _mm256_unpackhi_epi32(s, zero);              // [s4 0 s5 0 | s6 0 s7 0]
      int32_t* d = dst + 2 * k;
      St(d, _mm256_add_epi32(Ld(d), lo));
      // the last store covers dst[2k + 15], one past the last written element (2k + 14): only
      // when it is inside the row segment the caller owns, else finish scalar.
      if (k + 8 < n) {
        St(d + 8, _mm256_add_epi32(Ld(d + 8), hi));
      } else {
        alignas(32) int32_t t[8];
        St(t, hi);
        d[8] += t[0];
        d[10] += t[2];
        d[12] += t[4];
        d[14] += t[6];
      }
    }
  }
  ScatterAddScalar(src + k, n - k, stride, dst + k * stride);
}

const CtKernels kAvx2 = {GemmAvx2, ScatterAddAvx2, RequantRowAvx2};

}  // namespace

const CtKernels& CtKernelsAvx2() { return kAvx2; }

}  // namespace opq

#include "isa/x86-avx2-end.h"
#endif
