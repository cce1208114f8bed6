// AVX2 lane versions of the fixed-point primitives (fixedpoint.h), with one exponent for all lanes
// and (the *V forms) one per lane, for the elementwise, pooling and requantization kernels. Include AFTER
// isa/x86-avx2-begin.h, from ISA files only: everything here has internal linkage.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace opq {
namespace {

// x * 2^e saturated to int32, e in [0, 31].
inline __m256i SatShlU(__m256i x, int e) {
  if (e == 0) return x;
  const __m256i hi = _mm256_set1_epi32(INT32_MAX >> e), lo = _mm256_set1_epi32(INT32_MIN >> e);
  __m256i r = _mm256_sll_epi32(x, _mm_cvtsi32_si128(e));
  r = _mm256_blendv_epi8(r, _mm256_set1_epi32(INT32_MAX), _mm256_cmpgt_epi32(x, hi));
  return _mm256_blendv_epi8(r, _mm256_set1_epi32(INT32_MIN), _mm256_cmpgt_epi32(lo, x));
}

// floor((a*b + 2^30) / 2^31): SaturatingRoundingDoublingHighMul for b >= 0 (no saturating case).
inline __m256i SrdhmU(__m256i a, __m256i b) {
  const __m256i nudge = _mm256_set1_epi64x(int64_t{1} << 30);
  __m256i even = _mm256_add_epi64(_mm256_mul_epi32(a, b), nudge);
  __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(a, 32), _mm256_srli_epi64(b, 32)), nudge);
  even = _mm256_srli_epi64(even, 31);
  odd = _mm256_slli_epi64(odd, 1);
  return _mm256_blend_epi32(even, odd, 0xAA);
}

// RoundingDivideByPOT, e in [0, 31].
inline __m256i RdbpotU(__m256i x, int e) {
  if (e == 0) return x;
  const int32_t m = static_cast<int32_t>((int64_t{1} << e) - 1);
  const __m256i rem = _mm256_and_si256(x, _mm256_set1_epi32(m));
  const __m256i thr = _mm256_sub_epi32(_mm256_set1_epi32(m >> 1), _mm256_cmpgt_epi32(_mm256_setzero_si256(), x));
  return _mm256_sub_epi32(_mm256_sra_epi32(x, _mm_cvtsi32_si128(e)), _mm256_cmpgt_epi32(rem, thr));
}

// RoundingDivideByPOT with a per-lane exponent in [0, 31] (per-channel requantization).
inline __m256i RdbpotV(__m256i x, __m256i e) {
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, e), one);
  const __m256i rem = _mm256_and_si256(x, mask);
  const __m256i thr = _mm256_sub_epi32(_mm256_srli_epi32(mask, 1), _mm256_cmpgt_epi32(_mm256_setzero_si256(), x));
  return _mm256_sub_epi32(_mm256_srav_epi32(x, e), _mm256_cmpgt_epi32(rem, thr));
}

// x * 2^e saturated to int32 with a per-lane e in [0, 31].
inline __m256i SatShlV(__m256i x, __m256i e) {
  const __m256i hi = _mm256_srav_epi32(_mm256_set1_epi32(INT32_MAX), e);
  const __m256i lo = _mm256_srav_epi32(_mm256_set1_epi32(INT32_MIN), e);
  __m256i r = _mm256_sllv_epi32(x, e);
  r = _mm256_blendv_epi8(r, _mm256_set1_epi32(INT32_MAX), _mm256_cmpgt_epi32(x, hi));
  return _mm256_blendv_epi8(r, _mm256_set1_epi32(INT32_MIN), _mm256_cmpgt_epi32(lo, x));
}

// MultiplyByQuantizedMultiplier with m0 >= 0 broadcast in vm.
inline __m256i MbqmU(__m256i x, __m256i vm, int32_t shift) {
  return RdbpotU(SrdhmU(SatShlU(x, shift > 0 ? shift : 0), vm), shift > 0 ? 0 : -shift);
}

// Shift mode's multiply by 2^s.
inline __m256i ShiftPotU(__m256i x, int32_t s) { return s >= 0 ? SatShlU(x, s) : RdbpotU(x, -s); }

// 8 bytes to 8 int32 lanes.
inline __m256i Load8x8(const uint8_t* p, bool is_signed) {
  const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
  return is_signed ? _mm256_cvtepi8_epi32(v) : _mm256_cvtepu8_epi32(v);
}

// 16 int32 lanes already within the 8-bit type to 16 bytes.
inline void Store16x8(uint8_t* y, __m256i v0, __m256i v1, bool is_signed) {
  const __m256i w = _mm256_permute4x64_epi64(_mm256_packs_epi32(v0, v1), 0xD8);
  const __m128i lo = _mm256_castsi256_si128(w), hi = _mm256_extracti128_si256(w, 1);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(y), is_signed ? _mm_packs_epi16(lo, hi) : _mm_packus_epi16(lo, hi));
}

// v after the compiler can no longer fuse it with a neighbouring add into an FMA.
inline __m256 NoContract8(__m256 v) {
  __asm__("" : "+x"(v));
  return v;
}

}  // namespace
}  // namespace opq
