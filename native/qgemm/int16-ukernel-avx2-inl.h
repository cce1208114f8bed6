// The 6x16 int16-pair GEMM microkernel (vpmaddwd), shared by qgemm and conv. C[6][16] (+)= the
// kc k-pairs of a packed A panel (6 int32 per pair: two int16 each) times a packed B panel
// (16 columns x 2 int16 per pair). Exact: operands are zero-point-adjusted int16 in [-383, 383]
// and [-255, 255], so no pair sum overflows int32.
// Include AFTER isa/x86-avx2-begin.h (and qgemm/qgemm.h before it), from ISA files only: internal linkage.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "qgemm/qgemm.h"

namespace opq {
namespace {

constexpr size_t kInt16Avx2Mr = 6, kInt16Avx2Nr = 16;

// Twelve named accumulators rather than an array: GCC spills an array of __m256i to the stack.
inline void Int16Ukernel6x16Avx2(size_t kc, const int32_t* a, const int16_t* b, int32_t* c, size_t ldc,
                                 bool accumulate) {
  // One macro call per unrolled row, laid out as the register tile (clang-format 14 reflows them unstably).
  // clang-format off
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
    a += kInt16Avx2Mr;
    b += kInt16Avx2Nr * 2;
  }
#define OPQ_STORE_ROW(r)                                                  \
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + r * ldc), c##r##0); \
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + r * ldc + 8), c##r##1);
  OPQ_STORE_ROW(0) OPQ_STORE_ROW(1) OPQ_STORE_ROW(2) OPQ_STORE_ROW(3) OPQ_STORE_ROW(4) OPQ_STORE_ROW(5)
#undef OPQ_STORE_ROW
  // clang-format on
}

// One full 16-column B panel as PackBInt16 lays it out (PackBFullFn): per pair of rows, 16 bytes of
// each widened to int16, minus the column zero points, interleaved into (k, k+1) pairs.
inline void PackBInt16FullAvx2(const GemmOperands& o, size_t kp, size_t j0, int16_t* dst) {
  alignas(32) int16_t zb[kInt16Avx2Nr];
  for (size_t c = 0; c < kInt16Avx2Nr; ++c) zb[c] = static_cast<int16_t>(o.b_zero_point[o.b_zp_per_col ? j0 + c : 0]);
  const __m256i vzb = _mm256_load_si256(reinterpret_cast<const __m256i*>(zb));
  const auto row = [&](size_t kk) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(o.b + kk * o.ldb + j0));
    return _mm256_sub_epi16(o.b_signed ? _mm256_cvtepi8_epi16(v) : _mm256_cvtepu8_epi16(v), vzb);
  };
  for (size_t q = 0; q < kp; ++q) {
    const __m256i w0 = row(2 * q), w1 = 2 * q + 1 < o.k ? row(2 * q + 1) : _mm256_setzero_si256();
    const __m256i lo = _mm256_unpacklo_epi16(w0, w1);  // columns 0-3 | 8-11
    const __m256i hi = _mm256_unpackhi_epi16(w0, w1);  // 4-7 | 12-15
    __m256i* d = reinterpret_cast<__m256i*>(dst + q * kInt16Avx2Nr * 2);
    _mm256_storeu_si256(d, _mm256_permute2x128_si256(lo, hi, 0x20));
    _mm256_storeu_si256(d + 1, _mm256_permute2x128_si256(lo, hi, 0x31));
  }
}

}  // namespace
}  // namespace opq
