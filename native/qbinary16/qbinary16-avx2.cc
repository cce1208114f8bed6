// AVX2 rows of the A16W8 Add and Mul: inputs widened to int32 blocks, 8 lanes per step in int32
// (fixed-point and shift) or float32 (float), the lane primitives of the 8-bit Add and requantizer.
#include "qbinary16/qbinary16.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "isa/x86-avx2-begin.h"
#include "qbinary16/qbinary16-simd-inl.h"
#include "qsimd/fixedpoint-avx2-inl.h"

namespace opq {
namespace {

inline __m256i Ld(const int32_t* p) { return _mm256_load_si256(reinterpret_cast<const __m256i*>(p)); }
inline void St(int32_t* p, __m256i v) { _mm256_store_si256(reinterpret_cast<__m256i*>(p), v); }

}  // namespace

void QAdd16RowAvx2(const void* a, int32_t at, bool as, const void* b, int32_t bt, bool bs, size_t n,
                   const opq_qadd_params& p, float fixed, void* y, int32_t yt) {
  const __m256i lo = _mm256_set1_epi32(p.output_min - p.output_zero_point);
  const __m256i hi = _mm256_set1_epi32(p.output_max - p.output_zero_point);
  const __m256i zc = _mm256_set1_epi32(p.output_zero_point);
  const __m256i za = _mm256_set1_epi32(p.a_zero_point), zb = _mm256_set1_epi32(p.b_zero_point);
  const __m256i ma = _mm256_set1_epi32(p.a_multiplier), mb = _mm256_set1_epi32(p.b_multiplier);
  const __m256i mo = _mm256_set1_epi32(p.output_multiplier);
  const __m128i ls = _mm_cvtsi32_si128(p.left_shift);
  const __m256 fa = _mm256_set1_ps(p.a_scale), fb = _mm256_set1_ps(p.b_scale), ff = _mm256_set1_ps(fixed);
  const __m256 fmin = _mm256_set1_ps(static_cast<float>(p.output_min));
  const __m256 fmax = _mm256_set1_ps(static_cast<float>(p.output_max));
  Qb16Blocks(a, at, as, b, bt, bs, n, y, yt, [&](const int32_t* pa, const int32_t* pb, size_t m, int32_t* py) {
    if (p.mode == OPQ_REQUANT_FLOAT) {
      for (size_t j = 0; j < m; j += 8) {
        const __m256 xa = NoContract8(_mm256_mul_ps(_mm256_cvtepi32_ps(Ld(pa + j)), fa));
        const __m256 xb = NoContract8(_mm256_mul_ps(_mm256_cvtepi32_ps(Ld(pb + j)), fb));
        __m256 v = _mm256_add_ps(NoContract8(_mm256_add_ps(ff, xa)), xb);
        v = _mm256_min_ps(_mm256_max_ps(v, fmin), fmax);
        St(py + j, _mm256_cvtps_epi32(v));  // round half to even under the default MXCSR
      }
      return;
    }
    for (size_t j = 0; j < m; j += 8) {
      const __m256i xa = _mm256_sll_epi32(_mm256_sub_epi32(Ld(pa + j), za), ls);
      const __m256i xb = _mm256_sll_epi32(_mm256_sub_epi32(Ld(pb + j), zb), ls);
      __m256i v;
      if (p.mode == OPQ_REQUANT_SHIFT)
        v = ShiftPotU(_mm256_add_epi32(ShiftPotU(xa, p.a_shift), ShiftPotU(xb, p.b_shift)), p.output_shift);
      else
        v = MbqmU(_mm256_add_epi32(MbqmU(xa, ma, p.a_shift), MbqmU(xb, mb, p.b_shift)), mo, p.output_shift);
      St(py + j, _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(v, lo), hi), zc));
    }
  });
}

void QMul16RowAvx2(const void* a, int32_t at, bool as, int32_t za, const void* b, int32_t bt, bool bs, int32_t zb,
                   size_t n, const opq_requant& rq, void* y, int32_t yt) {
  const int32_t zp = rq.output_zero_point;
  const __m256i lo = _mm256_set1_epi32(rq.output_min - zp), hi = _mm256_set1_epi32(rq.output_max - zp);
  const __m256i vz = _mm256_set1_epi32(zp), vza = _mm256_set1_epi32(za), vzb = _mm256_set1_epi32(zb);
  const __m256 flo = _mm256_set1_ps(static_cast<float>(rq.output_min - zp));
  const __m256 fhi = _mm256_set1_ps(static_cast<float>(rq.output_max - zp));
  const int32_t mode = rq.mode, shift = rq.shift[0];
  const __m256i vm = _mm256_set1_epi32(mode == OPQ_REQUANT_FIXED_POINT ? rq.multiplier[0] : 0);
  const __m256 vs = _mm256_set1_ps(mode == OPQ_REQUANT_FLOAT ? rq.scale[0] : 0.0f);
  Qb16Blocks(a, at, as, b, bt, bs, n, y, yt, [&](const int32_t* pa, const int32_t* pb, size_t m, int32_t* py) {
    for (size_t j = 0; j < m; j += 8) {
      // |a - za| * |b - zb| < 2^31 (validated): the low 32 bits are the exact product.
      const __m256i acc = _mm256_mullo_epi32(_mm256_sub_epi32(Ld(pa + j), vza), _mm256_sub_epi32(Ld(pb + j), vzb));
      __m256i v;
      if (mode == OPQ_REQUANT_FLOAT) {
        __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), vs);
        f = _mm256_min_ps(_mm256_max_ps(f, flo), fhi);
        v = _mm256_cvtps_epi32(f);
      } else {
        v = mode == OPQ_REQUANT_SHIFT ? ShiftPotU(acc, shift) : MbqmU(acc, vm, shift);
        v = _mm256_min_epi32(_mm256_max_epi32(v, lo), hi);
      }
      St(py + j, _mm256_add_epi32(v, vz));
    }
  });
}

}  // namespace opq

#include "isa/x86-avx2-end.h"
#endif
