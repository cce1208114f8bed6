// AVX2 linear resize rows: horizontal taps gathered as bytes, widened into int16 pairs and weighted by vpmaddwd
// (|x - zx| <= 255 and weights <= 2048 keep every product and pair sum exact), the vertical blend
// by vpmulld, then the AVX2 requantization row.
#include "qresize/qresize-linear.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "isa/x86-avx2-begin.h"

namespace opq {

void ResizeHRowAvx2(const uint8_t* row, const ResizeTap* taps, const int16_t* wpairs, size_t n, bool is_signed,
                    int32_t zx, int32_t* h) {
  // Gather the 16 left and 16 right taps as bytes, widen to int16 minus zx, interleave into
  // (left, right) pairs and weight each pair with vpmaddwd.
  alignas(16) uint8_t a[16], b[16];
  const __m256i vzx = _mm256_set1_epi16(static_cast<int16_t>(zx));
  size_t j = 0;
  for (; j + 16 <= n; j += 16) {
    for (size_t k = 0; k < 16; ++k) {
      a[k] = row[taps[j + k].i0];
      b[k] = row[taps[j + k].i1];
    }
    const __m128i a8 = _mm_load_si128(reinterpret_cast<const __m128i*>(a));
    const __m128i b8 = _mm_load_si128(reinterpret_cast<const __m128i*>(b));
    const __m256i a16 = _mm256_sub_epi16(is_signed ? _mm256_cvtepi8_epi16(a8) : _mm256_cvtepu8_epi16(a8), vzx);
    const __m256i b16 = _mm256_sub_epi16(is_signed ? _mm256_cvtepi8_epi16(b8) : _mm256_cvtepu8_epi16(b8), vzx);
    // unpack works per 128-bit lane: lo = columns 0-3 | 8-11, hi = 4-7 | 12-15; permute back to order.
    const __m256i lo = _mm256_unpacklo_epi16(a16, b16), hi = _mm256_unpackhi_epi16(a16, b16);
    const __m256i p0 = _mm256_permute2x128_si256(lo, hi, 0x20), p1 = _mm256_permute2x128_si256(lo, hi, 0x31);
    const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wpairs + 2 * j));
    const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wpairs + 2 * j + 16));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(h + j), _mm256_madd_epi16(p0, w0));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(h + j + 8), _mm256_madd_epi16(p1, w1));
  }
  if (j < n) ResizeHRowRef(row, taps + j, wpairs + 2 * j, n - j, is_signed, zx, h + j);
}

void ResizeVRowAvx2(const int32_t* h0, const int32_t* h1, int32_t wy, size_t n, const opq_requant& rq, int32_t* acc,
                    uint8_t* y) {
  const __m256i w0 = _mm256_set1_epi32(kResizeOne - wy), w1 = _mm256_set1_epi32(wy);
  size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(h0 + j));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(h1 + j));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + j),
                        _mm256_add_epi32(_mm256_mullo_epi32(a, w0), _mm256_mullo_epi32(b, w1)));
  }
  for (; j < n; ++j) acc[j] = (kResizeOne - wy) * h0[j] + wy * h1[j];
  RequantRowAvx2(acc, nullptr, n, rq, 0, y);
}

}  // namespace opq

#include "isa/x86-avx2-end.h"
#endif
