// AVX2 hooks of the convolution driver: a 6x16 int16-pair GEMM microkernel (vpmaddwd, exact for
// any 8-bit data and zero points, see conv.h), im2col panels for stride 1 and 2 rows, and the
// depthwise row kernel.
#include "conv/conv.h"
#include "requant/requant.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "isa/x86-avx2-begin.h"
#include "qgemm/int16-ukernel-avx2-inl.h"

namespace opq {
namespace {

constexpr size_t kMr = kInt16Avx2Mr, kNr = kInt16Avx2Nr;

// The shared int16-pair microkernel, in the driver's signature (C overwritten, never accumulated).
void Ukernel6x16(size_t kc, const void* av, const void* bv, int32_t* c, size_t ldc) {
  Int16Ukernel6x16Avx2(kc, static_cast<const int32_t*>(av), static_cast<const int16_t*>(bv), c, ldc, false);
}

// 16 int16 at p, p+step, ..., for step 1 or 2 (step 2 reads 32 elements; the driver leaves slack).
inline __m256i Load16(const int16_t* p, int32_t step) {
  if (step == 1) return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 16));
  // Even elements sign-extended to int32, then packed back (no saturation: they are int16).
  const __m256i el = _mm256_srai_epi32(_mm256_slli_epi32(lo, 16), 16);
  const __m256i eh = _mm256_srai_epi32(_mm256_slli_epi32(hi, 16), 16);
  return _mm256_permute4x64_epi64(_mm256_packs_epi32(el, eh), 0xD8);
}

void Im2col(const void* xpv, const int32_t* koff, size_t kg, const int32_t* off, bool regular, size_t stride,
            void* dstv) {
  const int16_t* xp = static_cast<const int16_t*>(xpv);
  int16_t* dst = static_cast<int16_t*>(dstv);
  const size_t kp = (kg + 1) / 2;
  if (!regular || stride > 2) {
    Im2colScalar<int16_t, 2>(xp, koff, kg, off, kNr, 0, kNr, 0, kp, dst);
    return;
  }
  const int32_t step = int32_t(stride);
  const int16_t* base = xp + off[0];
  const size_t full = kg / 2;  // pairs with both k present
  for (size_t q = 0; q < full; ++q) {
    const __m256i v0 = Load16(base + koff[2 * q], step);
    const __m256i v1 = Load16(base + koff[2 * q + 1], step);
    const __m256i lo = _mm256_unpacklo_epi16(v0, v1);  // pixels 0-3 | 8-11
    const __m256i hi = _mm256_unpackhi_epi16(v0, v1);  // pixels 4-7 | 12-15
    __m256i* d = reinterpret_cast<__m256i*>(dst + q * kNr * 2);
    _mm256_storeu_si256(d, _mm256_permute2x128_si256(lo, hi, 0x20));
    _mm256_storeu_si256(d + 1, _mm256_permute2x128_si256(lo, hi, 0x31));
  }
  if (full < kp) Im2colScalar<int16_t, 2>(xp, koff, kg, off, kNr, 0, kNr, full, kp, dst);
}

// 8 int16 at p, p+stride, ... as int32, for stride 1 or 2 (stride 2 reads 16 elements).
inline __m256i Load8(const int16_t* p, size_t stride) {
  if (stride == 1) return _mm256_cvtepi16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_srai_epi32(_mm256_slli_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)), 16), 16);
}

void DwRow(const int16_t* row, const int32_t* w, const int32_t* tapoff, size_t taps, size_t stride, size_t ow,
           int32_t* acc) {
  if (stride > 2) {
    DwRowScalar(row, w, tapoff, taps, stride, 0, ow, acc);
    return;
  }
  size_t ox = 0;
  // 32 outputs at a time: the accumulators stay in registers across all taps.
  for (; ox + 32 <= ow; ox += 32) {
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    const int16_t* p = row + ox * stride;
    for (size_t t = 0; t < taps; ++t) {
      const __m256i wv = _mm256_set1_epi32(w[t]);
      const int16_t* s = p + tapoff[t];
      a0 = _mm256_add_epi32(a0, _mm256_mullo_epi32(Load8(s, stride), wv));
      a1 = _mm256_add_epi32(a1, _mm256_mullo_epi32(Load8(s + 8 * stride, stride), wv));
      a2 = _mm256_add_epi32(a2, _mm256_mullo_epi32(Load8(s + 16 * stride, stride), wv));
      a3 = _mm256_add_epi32(a3, _mm256_mullo_epi32(Load8(s + 24 * stride, stride), wv));
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + ox), a0);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + ox + 8), a1);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + ox + 16), a2);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + ox + 24), a3);
  }
  // Blocks of 8; a last partial block is recomputed overlapping the previous one (same values).
  while (ox < ow && ow >= 8) {
    if (ox + 8 > ow) ox = ow - 8;
    __m256i a0 = _mm256_setzero_si256();
    const int16_t* p = row + ox * stride;
    for (size_t t = 0; t < taps; ++t)
      a0 = _mm256_add_epi32(a0, _mm256_mullo_epi32(Load8(p + tapoff[t], stride), _mm256_set1_epi32(w[t])));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + ox), a0);
    ox += 8;
  }
  if (ox < ow) DwRowScalar(row, w, tapoff, taps, stride, ox, ow, acc);
}

void PackRows(const uint8_t* x, size_t ldx, size_t rows, size_t kg, bool x_signed, int32_t zx, void* dst) {
  PackRowsScalar<2>(x, ldx, rows, kg, x_signed, zx, kNr, 0, (kg + 1) / 2, dst);
}

const ConvKernels kKernels = {kMr, kNr, 2, false, Ukernel6x16, Im2col, PackRows, DwRow, RequantRowAvx2};

}  // namespace

const ConvKernels* ConvKernelsAvx2() { return &kKernels; }

}  // namespace opq

#include "isa/x86-avx2-end.h"
#endif
