// AVX-512 quantized Add: 16 outputs per step in int32 (fixed-point and shift) or float32 lanes, the
// tail with masked loads and stores. The same arithmetic as QAddOne, lane for lane.
#include "qadd/qadd.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "isa/x86-avx512vnni-begin.h"
#include "qsimd/fixedpoint-avx512-inl.h"

namespace opq {
namespace {

// Up to 16 bytes (mask m) widened to int32 lanes, or one byte broadcast.
inline __m512i Load16(const uint8_t* p, bool scalar, __mmask16 m, bool is_signed) {
  if (scalar) return _mm512_set1_epi32(Load8(p, is_signed));
  const __m128i v = _mm_maskz_loadu_epi8(m, p);
  return is_signed ? _mm512_maskz_cvtepi8_epi32(kAll, v) : _mm512_maskz_cvtepu8_epi32(kAll, v);
}

}  // namespace

void QAddRowAvx512(const uint8_t* a, bool a_scalar, const uint8_t* b, bool b_scalar, size_t n, bool is_signed,
                   const opq_qadd_params& p, float fixed, uint8_t* y) {
  // Everything the loop reads of p, in registers (y may alias p as far as the compiler knows).
  const int32_t mode = p.mode, ls = p.left_shift, as = p.a_shift, bs = p.b_shift, os = p.output_shift;
  const __m512i lo = _mm512_set1_epi32(p.output_min - p.output_zero_point);
  const __m512i hi = _mm512_set1_epi32(p.output_max - p.output_zero_point);
  const __m512i zc = _mm512_set1_epi32(p.output_zero_point);
  const __m512i za = _mm512_set1_epi32(p.a_zero_point), zb = _mm512_set1_epi32(p.b_zero_point);
  const __m512i ma = _mm512_set1_epi32(p.a_multiplier), mb = _mm512_set1_epi32(p.b_multiplier);
  const __m512i mo = _mm512_set1_epi32(p.output_multiplier);
  const __m512 fa = _mm512_set1_ps(p.a_scale), fb = _mm512_set1_ps(p.b_scale), ff = _mm512_set1_ps(fixed);
  const __m512 fmin = _mm512_set1_ps(static_cast<float>(p.output_min));
  const __m512 fmax = _mm512_set1_ps(static_cast<float>(p.output_max));
  for (size_t j = 0; j < n; j += 16) {
    const __mmask16 m = n - j >= 16 ? kAll : __mmask16((1u << (n - j)) - 1);
    const __m512i va = Load16(a + (a_scalar ? 0 : j), a_scalar, m, is_signed);
    const __m512i vb = Load16(b + (b_scalar ? 0 : j), b_scalar, m, is_signed);
    __m512i out;
    if (mode == OPQ_REQUANT_FLOAT) {
      const __m512 pa = NoContract16(_mm512_mul_ps(ToF(va), fa));
      const __m512 pb = NoContract16(_mm512_mul_ps(ToF(vb), fb));
      __m512 v = _mm512_add_ps(NoContract16(_mm512_add_ps(ff, pa)), pb);
      v = MinF(MaxF(v, fmin), fmax);
      out = ToI(v);  // in [output_min, output_max]: the zero point is already in
    } else {
      // (x - z) << left_shift cannot overflow: |x - z| <= 255 and left_shift <= 22.
      const __m512i vls = _mm512_set1_epi32(ls);
      const __m512i sa = Sllv(_mm512_sub_epi32(va, za), vls), sb = Sllv(_mm512_sub_epi32(vb, zb), vls);
      __m512i v;
      if (mode == OPQ_REQUANT_SHIFT) {
        v = ShiftPotU(_mm512_add_epi32(ShiftPotU(sa, as), ShiftPotU(sb, bs)), os);
      } else {
        v = MbqmU(_mm512_add_epi32(MbqmU(sa, ma, as), MbqmU(sb, mb, bs)), mo, os);
      }
      out = _mm512_add_epi32(MinI(MaxI(v, lo), hi), zc);
    }
    _mm512_mask_cvtepi32_storeu_epi8(y + j, m, out);
  }
}

}  // namespace opq

#include "isa/x86-avx512vnni-end.h"
#endif
