// AVX-512 float32 GEMM microkernel: a 12x32 tile in 24 zmm accumulators; per k, two B loads,
// twelve A broadcasts, twenty-four FMAs (24 + 2 + 1 of 32 registers). On cores with full-width
// 512-bit FMA units (Zen 5, Intel server cores) this is twice the AVX2 6x16 kernel's work per
// instruction; the driver, packing and blocking are the same code with nr = 32.
#include "f32-gemm/f32-kernels.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "isa/x86-avx512vnni-begin.h"

namespace opq {

void F32GemmUkAvx512(size_t kc, const float* a, const float* b, float* c, size_t ldc, const float* init, uint32_t flags,
                     float lo, float hi) {
  constexpr size_t MR = kF32MrAvx512;
  __m512 acc[MR][2];
  if (flags & kF32Accumulate) {
#pragma GCC unroll 12
    for (size_t r = 0; r < MR; ++r) {
      acc[r][0] = _mm512_loadu_ps(c + r * ldc);
      acc[r][1] = _mm512_loadu_ps(c + r * ldc + 16);
    }
  } else {
#pragma GCC unroll 12
    for (size_t r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = init ? _mm512_set1_ps(init[r]) : _mm512_setzero_ps();
  }
  for (size_t k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_load_ps(b);
    const __m512 b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 12
    for (size_t r = 0; r < MR; ++r) {
      const __m512 av = _mm512_set1_ps(a[r]);
      acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
    }
    a += MR;
    b += 32;
  }
  if (flags & kF32Clamp) {
    // Bound first: max/min return the second operand when one is NaN, so NaN survives. The
    // zero-masked forms with every lane set are VMAXPS/VMINPS without GCC 12's false
    // maybe-uninitialized report on the unmasked intrinsics.
    const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    constexpr __mmask16 kAll = 0xFFFF;
#pragma GCC unroll 12
    for (size_t r = 0; r < MR; ++r) {
      acc[r][0] = _mm512_maskz_min_ps(kAll, vhi, _mm512_maskz_max_ps(kAll, vlo, acc[r][0]));
      acc[r][1] = _mm512_maskz_min_ps(kAll, vhi, _mm512_maskz_max_ps(kAll, vlo, acc[r][1]));
    }
  }
#pragma GCC unroll 12
  for (size_t r = 0; r < MR; ++r) {
    _mm512_storeu_ps(c + r * ldc, acc[r][0]);
    _mm512_storeu_ps(c + r * ldc + 16, acc[r][1]);
  }
}

}  // namespace opq

#include "isa/x86-avx512vnni-end.h"
#endif
