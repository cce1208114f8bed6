// AVX2 row requantization: the same results as RequantizeOne, 8 lanes at a time.
#include "requant/requant.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "isa/x86-avx2-begin.h"
#include "qsimd/fixedpoint-avx2-inl.h"

namespace opq {
namespace {

inline __m256i LoadParam(const int32_t* p, bool per_channel, size_t c) {
  return per_channel ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + c)) : _mm256_set1_epi32(p[0]);
}

// Low byte of each int32 lane (already clamped to the 8-bit range) into 8 consecutive bytes.
inline void Store8(uint8_t* y, __m256i v) {
  const __m256i shuf = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 4, 8, 12, -1,
                                        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  const __m256i packed =
      _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(v, shuf), _mm256_setr_epi32(0, 4, 1, 1, 1, 1, 1, 1));
  _mm_storel_epi64(reinterpret_cast<__m128i*>(y), _mm256_castsi256_si128(packed));
}

// The blocks of 32 of a row whose parameters are one per tensor (fixed-point or shift mode), as a
// convolution's NCHW output row is (one channel): the shifts are the same in every lane, so the
// uniform-count forms replace the per-lane ones, and 32 results are packed to bytes at a time.
// add (wrapping) is a channel row's bias. Returns how many elements it wrote (a multiple of 32); the
// caller finishes the row.
size_t RequantRowPerTensor32(const int32_t* acc, const int32_t* bias, int32_t add, size_t n, const opq_requant& rq,
                             uint8_t* y) {
  const int32_t s = rq.shift[0], zp = rq.output_zero_point;
  const int left = s > 0 ? s : 0, right = s < 0 ? -s : 0;
  const bool multiply = rq.mode != OPQ_REQUANT_SHIFT;
  const __m256i vm = _mm256_set1_epi32(multiply ? rq.multiplier[0] : 0);
  const __m256i vlo = _mm256_set1_epi32(rq.output_min - zp), vhi = _mm256_set1_epi32(rq.output_max - zp);
  const __m256i vzp16 = _mm256_set1_epi16(static_cast<int16_t>(zp));
  // Clamped results lie in the output type, so the packs never saturate; a negative minimum means int8.
  const bool signed_out = rq.output_min < 0;
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7), vadd = _mm256_set1_epi32(add);
  const auto one = [&](size_t i) {
    __m256i x = _mm256_add_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + i)), vadd);
    if (bias) x = _mm256_add_epi32(x, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias + i)));
    x = SatShlU(x, left);
    if (multiply) x = SrdhmU(x, vm);
    x = RdbpotU(x, right);
    return _mm256_min_epi32(_mm256_max_epi32(x, vlo), vhi);
  };
  size_t j = 0;
  for (; j + 32 <= n; j += 32) {
    // packs interleave 128-bit lanes: bytes come out as 4-lane groups v0a v1a v2a v3a | v0b v1b v2b v3b.
    const __m256i a = _mm256_add_epi16(_mm256_packs_epi32(one(j), one(j + 8)), vzp16);
    const __m256i b = _mm256_add_epi16(_mm256_packs_epi32(one(j + 16), one(j + 24)), vzp16);
    const __m256i bytes = signed_out ? _mm256_packs_epi16(a, b) : _mm256_packus_epi16(a, b);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + j), _mm256_permutevar8x32_epi32(bytes, order));
  }
  return j;
}

}  // namespace

void RequantRowAvx2(const int32_t* acc, const int32_t* bias, size_t n, const opq_requant& rq, size_t c0, uint8_t* y) {
  const bool pc = rq.count != 1;
  if (!pc && rq.mode != OPQ_REQUANT_FLOAT && n >= 32) {
    PerTensorRowOverlapped<RequantRowPerTensor32, 32>(acc, bias, 0, n, rq, y);
    return;
  }
  const int32_t zp = rq.output_zero_point;
  const __m256i vzp = _mm256_set1_epi32(zp);
  const __m256i vlo = _mm256_set1_epi32(rq.output_min - zp);
  const __m256i vhi = _mm256_set1_epi32(rq.output_max - zp);
  const __m256 flo = _mm256_set1_ps(static_cast<float>(rq.output_min - zp));
  const __m256 fhi = _mm256_set1_ps(static_cast<float>(rq.output_max - zp));
  const __m256i zero = _mm256_setzero_si256();
  const auto block8 = [&](size_t j) {
    __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + j));
    if (bias) x = _mm256_add_epi32(x, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias + j)));
    const size_t c = c0 + j;
    __m256i v;
    if (rq.mode == OPQ_REQUANT_FLOAT) {
      const __m256 s = pc ? _mm256_loadu_ps(rq.scale + c) : _mm256_set1_ps(rq.scale[0]);
      __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(x), s);
      f = _mm256_min_ps(_mm256_max_ps(f, flo), fhi);
      v = _mm256_cvtps_epi32(f);  // round half to even under the default MXCSR
    } else {
      const __m256i sh = LoadParam(rq.shift, pc, c);
      const __m256i left = _mm256_max_epi32(sh, zero);
      const __m256i right = _mm256_max_epi32(_mm256_sub_epi32(zero, sh), zero);
      if (rq.mode == OPQ_REQUANT_SHIFT) {
        v = RdbpotV(SatShlV(x, left), right);  // one of the two shifts is 0 in each lane
      } else {
        v = RdbpotV(SrdhmU(SatShlV(x, left), LoadParam(rq.multiplier, pc, c)), right);
      }
      v = _mm256_min_epi32(_mm256_max_epi32(v, vlo), vhi);
    }
    Store8(y + j, _mm256_add_epi32(v, vzp));
  };
  size_t j = 0;
  for (; j + 8 <= n; j += 8) block8(j);
  if (j == n) return;
  if (n >= 8) {
    block8(n - 8);  // overlapping, as above (channel c0 + j still belongs to element j)
  } else {
    RequantRowRef(acc, bias, n, rq, c0, y);
  }
}

void RequantChannelRowAvx2(int32_t* acc, int32_t add, size_t n, const opq_requant& rq, size_t c, uint8_t* y) {
  RequantChannelRowSimd<RequantRowPerTensor32, 32, RequantRowAvx2>(acc, add, n, rq, c, y);
}

}  // namespace opq

#include "isa/x86-avx2-end.h"
#endif
