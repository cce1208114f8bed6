// AVX2 hooks of the convolution driver: a 6x16 int16-pair GEMM microkernel (vpmaddwd, exact for
// any 8-bit data and zero points, see conv.h), im2col panels for stride 1 and 2 rows, and the
// depthwise row kernel.
#include "conv/conv.h"
#include "qgemm/qgemm.h"  // before the ISA switch: the microkernel header uses its types
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

// Two taps per vpmaddwd: (x[t], x[t+1]) int16 pairs times (w[t], w[t+1]). Exact: |x| <= 383 and
// |w| <= 255 (8-bit data minus zero points), so each pair sum fits int32; sums wrap as the
// reference's do. The unpacked order (outputs 0-3 | 8-11 and 4-7 | 12-15) is undone at the store.
inline __m256i WeightPair(const int32_t* w, size_t t, bool both) {
  const uint32_t hi = both ? uint32_t(w[t + 1]) << 16 : 0;
  return _mm256_set1_epi32(int32_t((uint32_t(w[t]) & 0xffffu) | hi));
}

// 16 outputs from ox: acc[ox + i] = sum_t w[t] * row[tapoff[t] + (ox + i) * stride].
inline void DwBlock16(const int16_t* p, const int32_t* w, const int32_t* tapoff, size_t taps, int32_t step,
                      int32_t* out) {
  __m256i lo = _mm256_setzero_si256(), hi = lo;
  size_t t = 0;
  for (; t + 1 < taps; t += 2) {
    const __m256i wp = WeightPair(w, t, true);
    const __m256i a = Load16(p + tapoff[t], step), b = Load16(p + tapoff[t + 1], step);
    lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(a, b), wp));
    hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(a, b), wp));
  }
  if (t < taps) {
    const __m256i wp = WeightPair(w, t, false), a = Load16(p + tapoff[t], step), z = _mm256_setzero_si256();
    lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(a, z), wp));
    hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(a, z), wp));
  }
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm256_permute2x128_si256(lo, hi, 0x20));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8), _mm256_permute2x128_si256(lo, hi, 0x31));
}

void DwRow(const int16_t* row, const int32_t* w, const int32_t* tapoff, size_t taps, size_t stride, size_t ow,
           int32_t* acc) {
  if (stride > 2 || ow < 16) {
    DwRowScalar(row, w, tapoff, taps, stride, 0, ow, acc);
    return;
  }
  const int32_t step = int32_t(stride);
  // Blocks of 16; a last partial block is recomputed overlapping the previous one (same values).
  for (size_t ox = 0; ox < ow; ox += 16) {
    if (ox + 16 > ow) ox = ow - 16;
    DwBlock16(row + ox * stride, w, tapoff, taps, step, acc + ox);
  }
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
