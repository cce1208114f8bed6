// AVX2 hooks of the convolution driver: a 6x16 int16-pair GEMM microkernel (vpmaddwd, exact for
// any 8-bit data and zero points, see conv.h), im2col panels for stride 1 and 2 rows, and the
// depthwise row kernel.
#include "conv/conv.h"
#include "qgemm/qgemm.h"  // before the ISA switch: the microkernel header uses its types
#include "requant/requant.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "isa/x86-avx2-begin.h"
#include "conv/dw-row-avx2-inl.h"
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

// vpmaddwd then vpaddd (dw-row-avx2-inl.h).
struct MaddAdd {
  static __m256i Add(__m256i c, __m256i x, __m256i w) { return _mm256_add_epi32(c, _mm256_madd_epi16(x, w)); }
};

void DwRow(const int16_t* row, const int32_t* w, const int32_t* tapoff, size_t taps, size_t stride, size_t ow,
           int32_t* acc) {
  DwRowT<MaddAdd>(row, w, tapoff, taps, stride, ow, acc);
}

// In-register transpose of an 8x8 block of 32-bit words: r[i] holds row i; afterwards r[j] holds column j.
inline void Transpose8x8(__m256i r[8]) {
  const __m256i t0 = _mm256_unpacklo_epi32(r[0], r[1]), t1 = _mm256_unpackhi_epi32(r[0], r[1]);
  const __m256i t2 = _mm256_unpacklo_epi32(r[2], r[3]), t3 = _mm256_unpackhi_epi32(r[2], r[3]);
  const __m256i t4 = _mm256_unpacklo_epi32(r[4], r[5]), t5 = _mm256_unpackhi_epi32(r[4], r[5]);
  const __m256i t6 = _mm256_unpacklo_epi32(r[6], r[7]), t7 = _mm256_unpackhi_epi32(r[6], r[7]);
  const __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
  const __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
  const __m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);
  const __m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
  r[0] = _mm256_permute2x128_si256(u0, u4, 0x20);
  r[1] = _mm256_permute2x128_si256(u1, u5, 0x20);
  r[2] = _mm256_permute2x128_si256(u2, u6, 0x20);
  r[3] = _mm256_permute2x128_si256(u3, u7, 0x20);
  r[4] = _mm256_permute2x128_si256(u0, u4, 0x31);
  r[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
  r[6] = _mm256_permute2x128_si256(u2, u6, 0x31);
  r[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
}

// GEMM-mode panels of int16 pairs: each row's 8-bit data widened and centred 16 bytes (8 pairs) at
// a time, eight rows transposed so that pair q of every row is contiguous, stored at (q*width + c)
// (masked where a row group is narrower than 8). Pairs past the last full 16 bytes take the
// scalar form, which defines the layout.
void PackRows(const uint8_t* x, size_t ldx, size_t rows, size_t kg, bool x_signed, int32_t zx, size_t width,
              void* dstv) {
  int32_t* dst = static_cast<int32_t*>(dstv);  // one 32-bit word per int16 pair
  const size_t blocks = kg / 16, kp = (kg + 1) / 2;
  const __m256i vzx = _mm256_set1_epi16(int16_t(zx));
  for (size_t c0 = 0; c0 < width; c0 += 8) {
    const size_t n = width - c0 < 8 ? width - c0 : 8;
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(int32_t(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    for (size_t b = 0; b < blocks; ++b) {
      __m256i r[8];
      for (size_t i = 0; i < 8; ++i) {
        const size_t c = c0 + i;
        if (i >= n || c >= rows) {
          r[i] = _mm256_setzero_si256();
          continue;
        }
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + c * ldx + b * 16));
        r[i] = _mm256_sub_epi16(x_signed ? _mm256_cvtepi8_epi16(v) : _mm256_cvtepu8_epi16(v), vzx);
      }
      Transpose8x8(r);
      for (size_t q = 0; q < 8; ++q) {
        int32_t* d = dst + (b * 8 + q) * width + c0;
        if (n == 8)
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(d), r[q]);
        else
          _mm256_maskstore_epi32(d, mask, r[q]);
      }
    }
  }
  if (blocks * 8 < kp) PackRowsScalar<2>(x, ldx, rows, kg, x_signed, zx, width, blocks * 8, kp, dstv);
}

// Pointwise panels: per pair of channels, 16 bytes of each widened, centred and interleaved into
// (k, k+1) pairs, as the qgemm B panels are (whole panels: the driver packs a narrower last one).
void PackCols(const uint8_t* x, size_t ldx, size_t kg, bool x_signed, int32_t zx, void* dstv) {
  int16_t* dst = static_cast<int16_t*>(dstv);
  const size_t kp = (kg + 1) / 2;
  const __m256i vzx = _mm256_set1_epi16(int16_t(zx));
  const auto row = [&](size_t kk) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + kk * ldx));
    return _mm256_sub_epi16(x_signed ? _mm256_cvtepi8_epi16(v) : _mm256_cvtepu8_epi16(v), vzx);
  };
  for (size_t q = 0; q < kp; ++q) {
    const __m256i w0 = row(2 * q), w1 = 2 * q + 1 < kg ? row(2 * q + 1) : _mm256_setzero_si256();
    const __m256i lo = _mm256_unpacklo_epi16(w0, w1);  // pixels 0-3 | 8-11
    const __m256i hi = _mm256_unpackhi_epi16(w0, w1);  // 4-7 | 12-15
    __m256i* d = reinterpret_cast<__m256i*>(dst + q * kNr * 2);
    _mm256_storeu_si256(d, _mm256_permute2x128_si256(lo, hi, 0x20));
    _mm256_storeu_si256(d + 1, _mm256_permute2x128_si256(lo, hi, 0x31));
  }
}

const ConvKernels kKernels = {kMr,      kNr,      2,     false,          Ukernel6x16,           Im2col,
                              PackRows, PackCols, DwRow, RequantRowAvx2, RequantChannelRowAvx2, nullptr,
                              nullptr};

}  // namespace

const ConvKernels* ConvKernelsAvx2() { return &kKernels; }

}  // namespace opq

#include "isa/x86-avx2-end.h"
#endif
