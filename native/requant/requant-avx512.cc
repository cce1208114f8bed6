// AVX-512 row requantization: the same results as RequantizeOne, 16 lanes at a time, with masked
// loads and stores for the tail. The per-tensor case (every conv output channel is one call) keeps
// its parameters in registers: through the uint8_t output pointer the compiler must assume any
// store may change rq, so it would otherwise reload them every step. PP-OCRv4 det spent 20% of its
// integer run in the AVX2 row.
#include "requant/requant.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "isa/x86-avx512vnni-begin.h"

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

struct Lanes {
  __m512i left, right, mult;
  __m512 scale;
};

inline Lanes ChannelLanes(const opq_requant& rq, bool pc, size_t c, __mmask16 m) {
  const __m512i zero = _mm512_setzero_si512();
  Lanes l;
  if (rq.mode == OPQ_REQUANT_FLOAT) {
    l.scale = pc ? _mm512_maskz_loadu_ps(m, rq.scale + c) : _mm512_set1_ps(rq.scale[0]);
    l.left = l.right = l.mult = zero;
    return l;
  }
  const __m512i sh = pc ? _mm512_maskz_loadu_epi32(m, rq.shift + c) : _mm512_set1_epi32(rq.shift[0]);
  l.left = MaxI(sh, zero);
  l.right = MaxI(_mm512_sub_epi32(zero, sh), zero);
  l.mult = rq.mode == OPQ_REQUANT_SHIFT ? zero
           : pc                         ? _mm512_maskz_loadu_epi32(m, rq.multiplier + c)
                                        : _mm512_set1_epi32(rq.multiplier[0]);
  l.scale = _mm512_setzero_ps();
  return l;
}

}  // namespace

void RequantRowAvx512(const int32_t* acc, const int32_t* bias, size_t n, const opq_requant& rq, size_t c0, uint8_t* y) {
  const bool pc = rq.count != 1;
  const int32_t mode = rq.mode;
  const int32_t zp = rq.output_zero_point;
  const __m512i vzp = _mm512_set1_epi32(zp);
  const __m512i vlo = _mm512_set1_epi32(rq.output_min - zp);
  const __m512i vhi = _mm512_set1_epi32(rq.output_max - zp);
  const __m512 flo = _mm512_set1_ps(static_cast<float>(rq.output_min - zp));
  const __m512 fhi = _mm512_set1_ps(static_cast<float>(rq.output_max - zp));
  const Lanes fixed = ChannelLanes(rq, false, 0, __mmask16(0xFFFF));  // per tensor: loaded once
  for (size_t j = 0; j < n; j += 16) {
    const __mmask16 m = n - j >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - j)) - 1);
    __m512i x = _mm512_maskz_loadu_epi32(m, acc + j);
    if (bias) x = _mm512_add_epi32(x, _mm512_maskz_loadu_epi32(m, bias + j));
    const Lanes l = pc ? ChannelLanes(rq, true, c0 + j, m) : fixed;
    __m512i v;
    if (mode == OPQ_REQUANT_FLOAT) {
      __m512 f = _mm512_mul_ps(ToF(x), l.scale);
      f = MinF(MaxF(f, flo), fhi);
      v = ToI(f);
    } else {
      v = SatShl(x, l.left);
      if (mode != OPQ_REQUANT_SHIFT) v = Srdhm(v, l.mult);
      v = Rdbpot(v, l.right);  // one of the two shifts is 0 in each lane
      v = MinI(MaxI(v, vlo), vhi);
    }
    // In range for the output type after the clamp: the low byte is the value (uint8 or int8).
    _mm512_mask_cvtepi32_storeu_epi8(y + j, m, _mm512_add_epi32(v, vzp));
  }
}

}  // namespace opq

#include "isa/x86-avx512vnni-end.h"
#endif
