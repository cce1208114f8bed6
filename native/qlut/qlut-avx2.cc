// AVX2 256-entry lookup: the low nibble indexes all 16 sub-tables of 16 entries (16 vpshufb), and a
// tree of 15 vpblendvb picks the right one by the high nibble, one bit per level (vpblendvb reads bit
// 7 of each byte: x shifted left by 3, 2, 1 and 0 brings bits 4-7 there; 16-bit shifts only carry
// bits across bytes below bit 7). 37 ops per 32 bytes; the earlier select-by-saturation form (16
// rounds of xor, add, vpshufb, or: 64 ops) took 1.6x as long on Zen 3.
#include "qlut/qlut.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "isa/x86-avx2-begin.h"

namespace opq {

void LutAvx2(const uint8_t* x, size_t n, const uint8_t* table, uint8_t* y) {
  __m256i t[16];
  for (int k = 0; k < 16; ++k)
    t[k] = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(table + 16 * k)));
  const __m256i low = _mm256_set1_epi8(0x0f);
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i));
    const __m256i idx = _mm256_and_si256(v, low);
    const __m256i b4 = _mm256_slli_epi16(v, 3), b5 = _mm256_slli_epi16(v, 2), b6 = _mm256_slli_epi16(v, 1);
    __m256i r[8];
    for (int k = 0; k < 8; ++k)
      r[k] = _mm256_blendv_epi8(_mm256_shuffle_epi8(t[2 * k], idx), _mm256_shuffle_epi8(t[2 * k + 1], idx), b4);
    for (int k = 0; k < 4; ++k) r[k] = _mm256_blendv_epi8(r[2 * k], r[2 * k + 1], b5);
    for (int k = 0; k < 2; ++k) r[k] = _mm256_blendv_epi8(r[2 * k], r[2 * k + 1], b6);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), _mm256_blendv_epi8(r[0], r[1], v));
  }
  for (; i < n; ++i) y[i] = table[x[i]];
}

}  // namespace opq

#include "isa/x86-avx2-end.h"
#endif
