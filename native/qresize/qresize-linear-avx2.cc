// AVX2 linear resize rows: horizontal taps gathered as int16 pairs and weighted by vpmaddwd
// (|x - zx| <= 255 and weights <= 2048 keep every product and pair sum exact), the vertical blend
// by vpmulld, then the AVX2 requantization row.
#include "qresize/qresize-linear.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "isa/x86-avx2-begin.h"

namespace opq {

void ResizeHRowAvx2(const uint8_t* row, const ResizeTap* taps, size_t n, bool is_signed, int32_t zx, int32_t* h) {
  alignas(32) int16_t vals[16];
  alignas(32) int16_t wts[16];
  size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    for (size_t k = 0; k < 8; ++k) {
      const ResizeTap& t = taps[j + k];
      const int32_t a = is_signed ? static_cast<int32_t>(static_cast<int8_t>(row[t.i0])) : row[t.i0];
      const int32_t b = is_signed ? static_cast<int32_t>(static_cast<int8_t>(row[t.i1])) : row[t.i1];
      vals[2 * k] = static_cast<int16_t>(a - zx);
      vals[2 * k + 1] = static_cast<int16_t>(b - zx);
      wts[2 * k] = static_cast<int16_t>(kResizeOne - t.weight);
      wts[2 * k + 1] = static_cast<int16_t>(t.weight);
    }
    const __m256i v = _mm256_load_si256(reinterpret_cast<const __m256i*>(vals));
    const __m256i w = _mm256_load_si256(reinterpret_cast<const __m256i*>(wts));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(h + j), _mm256_madd_epi16(v, w));
  }
  if (j < n) ResizeHRowRef(row, taps + j, n - j, is_signed, zx, h + j);
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
