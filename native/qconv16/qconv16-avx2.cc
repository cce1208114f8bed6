// AVX2 hook of the A16W8 convolution driver: a 4-channel x 16-pixel tile of one output row as
// int16-pair dot products (vpmaddwd on x' pairs and weight pairs, each pair sum at most
// 2 * 32768 * 255 in magnitude, exact), int32 lanes flushed into int64 every 128 pair steps.
#include "qconv16/qconv16.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "isa/x86-avx2-begin.h"

namespace opq {
namespace {

inline __m256i Ld(const int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }

// acc64[0..3] (16 int64 lanes at `d`) += the 16 int32 lanes of (lo, hi).
inline void Flush(__m256i lo, __m256i hi, int64_t* d) {
  __m256i* p = reinterpret_cast<__m256i*>(d);
  p[0] = _mm256_add_epi64(p[0], _mm256_cvtepi32_epi64(_mm256_castsi256_si128(lo)));
  p[1] = _mm256_add_epi64(p[1], _mm256_cvtepi32_epi64(_mm256_extracti128_si256(lo, 1)));
  p[2] = _mm256_add_epi64(p[2], _mm256_cvtepi32_epi64(_mm256_castsi256_si128(hi)));
  p[3] = _mm256_add_epi64(p[3], _mm256_cvtepi32_epi64(_mm256_extracti128_si256(hi, 1)));
}

// c + madd(w, b) as one asm statement (product and add together): left to itself the compiler
// hoists all eight products of a step, which with the eight sums and the inputs exceeds the 16 ymm
// registers and spills a sum (a store-forwarding chain through the loop).
inline __m256i MaddAdd(__m256i c, __m256i w, __m256i b) {
#if defined(__GNUC__)
  __m256i t;
  __asm__("vpmaddwd %3, %2, %1\n\tvpaddd %1, %0, %0" : "+x"(c), "=&x"(t) : "x"(w), "x"(b));
  return c;
#else
  return _mm256_add_epi32(c, _mm256_madd_epi16(w, b));
#endif
}

void TileAvx2(const int32_t* x2, const int32_t* const* w2, size_t mr, size_t np, const Qc16Taps& t, int64_t* out) {
  alignas(32) int64_t acc[4 * 16] = {};
  const int32_t *w0 = w2[0], *w1 = w2[1], *w2p = w2[2], *w3 = w2[3];
  for (size_t s0 = 0; s0 < t.steps; s0 += kQc16FlushSteps) {
    const size_t s1 = t.steps - s0 < kQc16FlushSteps ? t.steps : s0 + kQc16FlushSteps;
    __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    for (size_t s = s0; s < s1; ++s) {
      const int32_t* xp = x2 + t.xoff[s];
      const __m256i b0 = Ld(xp), b1 = Ld(xp + 8);
      __m256i w = _mm256_set1_epi32(w0[s]);
      c00 = MaddAdd(c00, w, b0);
      c01 = MaddAdd(c01, w, b1);
      w = _mm256_set1_epi32(w1[s]);
      c10 = MaddAdd(c10, w, b0);
      c11 = MaddAdd(c11, w, b1);
      w = _mm256_set1_epi32(w2p[s]);
      c20 = MaddAdd(c20, w, b0);
      c21 = MaddAdd(c21, w, b1);
      w = _mm256_set1_epi32(w3[s]);
      c30 = MaddAdd(c30, w, b0);
      c31 = MaddAdd(c31, w, b1);
    }
    // At most 128 pair sums per lane: exact in int32; widen into the int64 sums.
    Flush(c00, c01, acc);
    Flush(c10, c11, acc + 16);
    Flush(c20, c21, acc + 32);
    Flush(c30, c31, acc + 48);
  }
  for (size_t o = 0; o < mr; ++o)
    for (size_t p = 0; p < np; ++p) out[o * 16 + p] = acc[o * 16 + p];
}

const Qc16Kernels kAvx2 = {TileAvx2};

}  // namespace

const Qc16Kernels& Qc16KernelsAvx2() { return kAvx2; }

}  // namespace opq

#include "isa/x86-avx2-end.h"
#endif
