// AVX2 qgemm: 6x16 int16-pair microkernel (vpmaddwd), exact for all 8-bit inputs and zero points.
#include "qgemm/qgemm-int16-driver.h"
#include "requant/requant.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "isa/x86-avx2-begin.h"

namespace opq {
namespace {

constexpr size_t kMr = 6, kNr = 16;

void Ukernel6x16(size_t kc, const int32_t* a, const int16_t* b, int32_t* c, size_t ldc, bool accumulate) {
  __m256i acc[kMr][2];
  for (size_t r = 0; r < kMr; ++r) {
    if (accumulate) {
      acc[r][0] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + r * ldc));
      acc[r][1] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + r * ldc + 8));
    } else {
      acc[r][0] = _mm256_setzero_si256();
      acc[r][1] = _mm256_setzero_si256();
    }
  }
  for (size_t q = 0; q < kc; ++q) {
    const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b));
    const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 16));
#pragma GCC unroll 6
    for (size_t r = 0; r < kMr; ++r) {
      const __m256i av = _mm256_set1_epi32(a[r]);
      acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(av, b0));
      acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(av, b1));
    }
    a += kMr;
    b += kNr * 2;
  }
  for (size_t r = 0; r < kMr; ++r) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + r * ldc), acc[r][0]);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + r * ldc + 8), acc[r][1]);
  }
}

}  // namespace

size_t QGemmAvx2Workspace(size_t m, size_t n, size_t k) { return Int16GemmWorkspace<kMr, kNr>(m, n, k); }

void QGemmAvx2(const QGemmArgs& g) { RunInt16Gemm<kMr, kNr>(g, Ukernel6x16, RequantRowAvx2); }

}  // namespace opq

#include "isa/x86-avx2-end.h"
#endif
