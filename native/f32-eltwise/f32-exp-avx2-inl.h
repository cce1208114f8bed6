// exp(z) for z <= 0 in AVX2+FMA, shared by Sigmoid (f32-eltwise-avx2.cc) and Softmax
// (f32-softmax/f32-softmax-avx2.cc). Include it after "isa/x86-avx2-begin.h", inside no namespace:
// its functions are internal to each file that includes it (AVX2 code must not be merged by the
// linker with a copy compiled for a plain x86-64 caller).
//
// e = 2^n * (1 + t*p(t)): n = round(z / ln2) (the magic bias puts n + 127 in the low mantissa bits,
// shifted into the exponent for 2^n), t = z - n*ln2 in [-ln2/2, ln2/2] with ln2 in two constants
// (n*ln2_hi is exact), p(t) ~ (exp(t) - 1) / t a least-squares fit on that interval (0.3 ulp of
// exp(t)). Below z = -87.34, exp(z) is not a normal float (under 2^-126): the result is 0 there,
// also for z = -inf. NaN stays NaN. z must not be positive (2^n would overflow past z = 88.7).
#pragma once

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

namespace opq {
namespace f32 {
namespace {

template <bool kCorrected>
inline __m256 ExpNonPositiveImpl(__m256 z, __m256 z_lo) {
  const __m256 log2e = _mm256_set1_ps(0x1.715476p+0f), magic = _mm256_set1_ps(0x1.8000FEp23f);
  const __m256 ln2_hi = _mm256_set1_ps(-0x1.62E400p-1f), ln2_lo = _mm256_set1_ps(-0x1.7F7D1Cp-20f);
  __m256 n = _mm256_fmadd_ps(z, log2e, magic);
  const __m256 s = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(n), 23));
  n = _mm256_sub_ps(n, magic);
  __m256 t = _mm256_fmadd_ps(n, ln2_hi, z);
  t = _mm256_fmadd_ps(n, ln2_lo, t);
  if (kCorrected) t = _mm256_add_ps(t, z_lo);
  __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(0x1.6b5316p-10f), t, _mm256_set1_ps(0x1.126c6ap-7f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0x1.55578ap-5f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0x1.55540cp-3f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0x1.fffffcp-2f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.0f));
  const __m256 e = _mm256_fmadd_ps(_mm256_mul_ps(t, s), p, s);
  return _mm256_andnot_ps(_mm256_cmp_ps(z, _mm256_set1_ps(-0x1.5D589Ep+6f), _CMP_LT_OQ), e);
}

// exp(z), z <= 0 or NaN.
inline __m256 ExpNonPositive(__m256 z) { return ExpNonPositiveImpl<false>(z, z); }

// exp(z + z_lo): z <= 0 rounded, z_lo its rounding error (|z_lo| <= ulp(z) / 2, the exact argument
// z + z_lo), folded into the reduced argument t. Keeps exp's few-ulp accuracy when z = x - m was
// not exact in float (exp's relative error is the argument's absolute error: up to 88 * 2^-24).
inline __m256 ExpNonPositive(__m256 z, __m256 z_lo) { return ExpNonPositiveImpl<true>(z, z_lo); }

// x - m as z + z_lo exactly (TwoSum: six operations, no branch, any magnitudes). z_lo is NaN when z
// is not finite; ExpNonPositive then still returns 0 for z = -inf.
inline __m256 SubExact(__m256 x, __m256 m, __m256* z_lo) {
  const __m256 z = _mm256_sub_ps(x, m);
  const __m256 mm = _mm256_sub_ps(x, z);  // the m that z subtracted, rounded
  const __m256 xx = _mm256_add_ps(z, mm);
  *z_lo = _mm256_sub_ps(_mm256_sub_ps(x, xx), _mm256_sub_ps(m, mm));
  return z;
}

}  // namespace
}  // namespace f32
}  // namespace opq

#endif
