// AVX2 qgemm: 6x16 int16-pair microkernel (vpmaddwd), exact for all 8-bit inputs and zero points.
#include "qgemm/qgemm-int16-driver.h"
#include "requant/requant.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "isa/x86-avx2-begin.h"

namespace opq {
namespace {

constexpr size_t kMr = 6, kNr = 16;

// Twelve named accumulators rather than an array: GCC spills an array of __m256i to the stack.
void Ukernel6x16(size_t kc, const int32_t* a, const int16_t* b, int32_t* c, size_t ldc, bool accumulate) {
#define OPQ_LOAD_ROW(r)                                                                              \
  __m256i c##r##0 = accumulate ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + r * ldc)) \
                               : _mm256_setzero_si256();                                           \
  __m256i c##r##1 = accumulate ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + r * ldc + 8)) \
                               : _mm256_setzero_si256();
  OPQ_LOAD_ROW(0) OPQ_LOAD_ROW(1) OPQ_LOAD_ROW(2) OPQ_LOAD_ROW(3) OPQ_LOAD_ROW(4) OPQ_LOAD_ROW(5)
#undef OPQ_LOAD_ROW
  for (size_t q = 0; q < kc; ++q) {
    const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b));
    const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 16));
#define OPQ_ROW(r)                                                    \
  {                                                                   \
    const __m256i av = _mm256_set1_epi32(a[r]);                       \
    c##r##0 = _mm256_add_epi32(c##r##0, _mm256_madd_epi16(av, b0));   \
    c##r##1 = _mm256_add_epi32(c##r##1, _mm256_madd_epi16(av, b1));   \
  }
    OPQ_ROW(0) OPQ_ROW(1) OPQ_ROW(2) OPQ_ROW(3) OPQ_ROW(4) OPQ_ROW(5)
#undef OPQ_ROW
    a += kMr;
    b += kNr * 2;
  }
#define OPQ_STORE_ROW(r)                                                              \
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + r * ldc), c##r##0);             \
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + r * ldc + 8), c##r##1);
  OPQ_STORE_ROW(0) OPQ_STORE_ROW(1) OPQ_STORE_ROW(2) OPQ_STORE_ROW(3) OPQ_STORE_ROW(4) OPQ_STORE_ROW(5)
#undef OPQ_STORE_ROW
}

}  // namespace

size_t QGemmAvx2Workspace(size_t m, size_t n, size_t k) { return Int16GemmWorkspace<kMr, kNr>(m, n, k); }

void QGemmAvx2(const QGemmArgs& g) { RunInt16Gemm<kMr, kNr>(g, Ukernel6x16, RequantRowAvx2); }

}  // namespace opq

#include "isa/x86-avx2-end.h"
#endif
