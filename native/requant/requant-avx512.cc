// AVX-512 row requantization: the same results as RequantizeOne, 16 lanes at a time, with masked
// loads and stores for the tail. The per-tensor case (every conv output channel is one call) keeps
// its parameters in registers: through the uint8_t output pointer the compiler must assume any
// store may change rq, so it would otherwise reload them every step. PP-OCRv4 det spent 20% of its
// integer run in the AVX2 row.
#include "requant/requant.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "isa/x86-avx512vnni-begin.h"
#include "qsimd/fixedpoint-avx512-inl.h"

namespace opq {
namespace {

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

// Per tensor (every conv output row), fixed-point or shift mode: one left or right shift for all
// lanes, the other 0, so the saturating left shift is skipped when 0 (it is in most layers). `add`
// (wrapping) is a channel row's bias, added in the same pass.
void PerTensorRow(const int32_t* acc, const int32_t* bias, int32_t add, size_t n, const opq_requant& rq, uint8_t* y) {
  const int32_t mode = rq.mode, zp = rq.output_zero_point;
  const __m512i vzp = _mm512_set1_epi32(zp);
  const __m512i vlo = _mm512_set1_epi32(rq.output_min - zp);
  const __m512i vhi = _mm512_set1_epi32(rq.output_max - zp);
  const int32_t s = rq.shift[0];
  const int left = s > 0 ? s : 0, right = s < 0 ? -s : 0;
  const __m512i vm = _mm512_set1_epi32(mode == OPQ_REQUANT_SHIFT ? 0 : rq.multiplier[0]);
  const __m512i vadd = _mm512_set1_epi32(add);
  for (size_t j = 0; j < n; j += 16) {
    const __mmask16 m = n - j >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - j)) - 1);
    __m512i v = _mm512_add_epi32(_mm512_maskz_loadu_epi32(m, acc + j), vadd);
    if (bias) v = _mm512_add_epi32(v, _mm512_maskz_loadu_epi32(m, bias + j));
    v = SatShlU(v, left);
    if (mode != OPQ_REQUANT_SHIFT) v = Srdhm(v, vm);
    v = RdbpotU(v, right);
    v = MinI(MaxI(v, vlo), vhi);
    _mm512_mask_cvtepi32_storeu_epi8(y + j, m, _mm512_add_epi32(v, vzp));
  }
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
  if (!pc && mode != OPQ_REQUANT_FLOAT) {
    PerTensorRow(acc, bias, 0, n, rq, y);
    return;
  }
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

void RequantChannelRowAvx512(int32_t* acc, int32_t add, size_t n, const opq_requant& rq, size_t c, uint8_t* y) {
  const opq_requant rc = RequantChannel(rq, c);
  if (rc.mode == OPQ_REQUANT_FLOAT) {
    RequantChannelRowVia<RequantRowAvx512>(acc, add, n, rq, c, y);
    return;
  }
  PerTensorRow(acc, nullptr, add, n, rc, y);
}

}  // namespace opq

#include "isa/x86-avx512vnni-end.h"
#endif
