// AVX-512 lane versions of the fixed-point primitives (fixedpoint.h) for the requantization and
// elementwise kernels, 16 int32 lanes. Include AFTER isa/x86-avx512vnni-begin.h, from ISA files only:
// everything here has internal linkage.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace opq {
namespace {

// GCC 12's unmasked AVX-512 intrinsics start from a self-initialised "undefined" register that it
// then reports as maybe-uninitialized; the zero-masked forms with all lanes set are the same
// instructions without it.
constexpr __mmask16 kAll = 0xFFFF;
inline __m512i MaxI(__m512i a, __m512i b) { return _mm512_maskz_max_epi32(kAll, a, b); }
inline __m512i MinI(__m512i a, __m512i b) { return _mm512_maskz_min_epi32(kAll, a, b); }
inline __m512i Srav(__m512i a, __m512i e) { return _mm512_maskz_srav_epi32(kAll, a, e); }
inline __m512i Sllv(__m512i a, __m512i e) { return _mm512_maskz_sllv_epi32(kAll, a, e); }
inline __m512 MaxF(__m512 a, __m512 b) { return _mm512_maskz_max_ps(kAll, a, b); }
inline __m512 MinF(__m512 a, __m512 b) { return _mm512_maskz_min_ps(kAll, a, b); }
inline __m512 ToF(__m512i a) { return _mm512_maskz_cvtepi32_ps(kAll, a); }
inline __m512i ToI(__m512 a) { return _mm512_maskz_cvtps_epi32(kAll, a); }  // round half to even (MXCSR)
inline __m512i Mul32(__m512i a, __m512i b) { return _mm512_maskz_mul_epi32(__mmask8(0xFF), a, b); }
inline __m512i Srl64(__m512i a, unsigned e) { return _mm512_maskz_srli_epi64(__mmask8(0xFF), a, e); }
inline __m512i Sll64(__m512i a, unsigned e) { return _mm512_maskz_slli_epi64(__mmask8(0xFF), a, e); }
inline __m512i Srl32(__m512i a, unsigned e) { return _mm512_maskz_srli_epi32(kAll, a, e); }

// RoundingDivideByPOT with a per-lane exponent in [0, 31].
inline __m512i Rdbpot(__m512i x, __m512i e) {
  const __m512i one = _mm512_set1_epi32(1);
  const __m512i mask = _mm512_sub_epi32(Sllv(one, e), one);
  const __m512i rem = _mm512_and_si512(x, mask);
  // threshold = mask / 2, plus one for negative x
  const __m512i thr = _mm512_mask_add_epi32(Srl32(mask, 1), _mm512_movepi32_mask(x), Srl32(mask, 1), one);
  return _mm512_mask_add_epi32(Srav(x, e), _mm512_cmpgt_epi32_mask(rem, thr), Srav(x, e), one);
}

// x * 2^e saturated to int32, per-lane e in [0, 31].
inline __m512i SatShl(__m512i x, __m512i e) {
  const __m512i hi = Srav(_mm512_set1_epi32(INT32_MAX), e);
  const __m512i lo = Srav(_mm512_set1_epi32(INT32_MIN), e);
  __m512i r = Sllv(x, e);
  r = _mm512_mask_mov_epi32(r, _mm512_cmpgt_epi32_mask(x, hi), _mm512_set1_epi32(INT32_MAX));
  return _mm512_mask_mov_epi32(r, _mm512_cmpgt_epi32_mask(lo, x), _mm512_set1_epi32(INT32_MIN));
}

// floor((a*b + 2^30) / 2^31) for b >= 0: SaturatingRoundingDoublingHighMul without its saturating
// case (a = b = INT32_MIN), which a non-negative multiplier cannot reach.
inline __m512i Srdhm(__m512i a, __m512i b) {
  const __m512i nudge = _mm512_set1_epi64(int64_t{1} << 30);
  __m512i even = _mm512_add_epi64(Mul32(a, b), nudge);
  __m512i odd = _mm512_add_epi64(Mul32(Srl64(a, 32), Srl64(b, 32)), nudge);
  even = Srl64(even, 31);
  odd = Sll64(odd, 1);
  return _mm512_mask_blend_epi32(__mmask16(0xAAAA), even, odd);
}

// x * 2^e saturated to int32 and RoundingDivideByPOT with one exponent for all lanes, e in [0, 31].
inline __m512i SatShlU(__m512i x, int e) { return e == 0 ? x : SatShl(x, _mm512_set1_epi32(e)); }
inline __m512i RdbpotU(__m512i x, int e) { return e == 0 ? x : Rdbpot(x, _mm512_set1_epi32(e)); }

// MultiplyByQuantizedMultiplier with m0 >= 0 broadcast in vm.
inline __m512i MbqmU(__m512i x, __m512i vm, int32_t shift) {
  return RdbpotU(Srdhm(SatShlU(x, shift > 0 ? shift : 0), vm), shift > 0 ? 0 : -shift);
}

// Shift mode's multiply by 2^s.
inline __m512i ShiftPotU(__m512i x, int32_t s) { return s >= 0 ? SatShlU(x, s) : RdbpotU(x, -s); }

// v after the compiler can no longer fuse it with a neighbouring add into an FMA.
inline __m512 NoContract16(__m512 v) {
  __asm__("" : "+v"(v));
  return v;
}

}  // namespace
}  // namespace opq
