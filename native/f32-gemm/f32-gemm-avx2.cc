// AVX2+FMA float32 GEMM microkernels: a 6x16 tile in 12 ymm accumulators; per k, two B loads,
// six A broadcasts, twelve FMAs (the classic Haswell/Zen shape: 12 + 2 + 1 of 16 registers). The
// indirect one reads each B row where it lies (boff[k]) instead of from a packed panel.
#include "f32-gemm/f32-kernels.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "isa/x86-avx2-begin.h"

namespace opq {

namespace {

// The tile loop over kc rows of B, each loaded by `row(k)` (two halves of 8 floats).
template <typename Row>
inline void Tile(size_t kc, const float* a, Row row, float* c, size_t ldc, const float* init, uint32_t flags, float lo,
                 float hi) {
  constexpr size_t MR = kF32MrAvx2;
  __m256 acc[MR][2];
  if (flags & kF32Accumulate) {
#pragma GCC unroll 6
    for (size_t r = 0; r < MR; ++r) {
      acc[r][0] = _mm256_loadu_ps(c + r * ldc);
      acc[r][1] = _mm256_loadu_ps(c + r * ldc + 8);
    }
  } else {
#pragma GCC unroll 6
    for (size_t r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = init ? _mm256_set1_ps(init[r]) : _mm256_setzero_ps();
  }
  for (size_t k = 0; k < kc; ++k) {
    const float* b = row(k);
    const __m256 b0 = _mm256_loadu_ps(b);
    const __m256 b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
    for (size_t r = 0; r < MR; ++r) {
      const __m256 av = _mm256_broadcast_ss(a + r);
      acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
    }
    a += MR;
  }
  if (flags & kF32Clamp) {
    // Bound first: max/min return the second operand when one is NaN, so NaN survives.
    const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
#pragma GCC unroll 6
    for (size_t r = 0; r < MR; ++r) {
      acc[r][0] = _mm256_min_ps(vhi, _mm256_max_ps(vlo, acc[r][0]));
      acc[r][1] = _mm256_min_ps(vhi, _mm256_max_ps(vlo, acc[r][1]));
    }
  }
#pragma GCC unroll 6
  for (size_t r = 0; r < MR; ++r) {
    _mm256_storeu_ps(c + r * ldc, acc[r][0]);
    _mm256_storeu_ps(c + r * ldc + 8, acc[r][1]);
  }
}

}  // namespace

void F32GemmUkAvx2(size_t kc, const float* a, const float* b, float* c, size_t ldc, const float* init, uint32_t flags,
                   float lo, float hi) {
  Tile(
      kc, a, [b](size_t k) { return b + k * 16; }, c, ldc, init, flags, lo, hi);
}

void F32GemmIndirectUkAvx2(size_t kc, const float* a, const float* b, const size_t* boff, float* c, size_t ldc,
                           const float* init, uint32_t flags, float lo, float hi) {
  Tile(
      kc, a, [b, boff](size_t k) { return b + boff[k]; }, c, ldc, init, flags, lo, hi);
}

}  // namespace opq

#include "isa/x86-avx2-end.h"
#endif
