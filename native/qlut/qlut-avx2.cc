// AVX2 256-entry lookup: 16 vpshufb over the 16 sub-tables of 16 entries. For sub-table k the index
// x ^ 16k lands in [0, 15] exactly for the bytes of that block; adding 0x70 with unsigned saturation
// keeps their low nibble with bit 7 clear and pushes every other byte to >= 0x80, which vpshufb
// turns into 0, so OR-ing the 16 lookups selects the one right entry. 64 simple ops per 32 bytes,
// about twice the scalar loop's rate on Zen 4 (bench/kernels-elementwise.ts).
#include "qlut/qlut.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "isa/x86-avx2-begin.h"

namespace opq {

void LutAvx2(const uint8_t* x, size_t n, const uint8_t* table, uint8_t* y) {
  __m256i t[16];
  for (int k = 0; k < 16; ++k)
    t[k] = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(table + 16 * k)));
  const __m256i bias = _mm256_set1_epi8(0x70);
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i));
    __m256i r = _mm256_shuffle_epi8(t[0], _mm256_adds_epu8(v, bias));
    for (int k = 1; k < 16; ++k) {
      const __m256i idx = _mm256_adds_epu8(_mm256_xor_si256(v, _mm256_set1_epi8(static_cast<char>(16 * k))), bias);
      r = _mm256_or_si256(r, _mm256_shuffle_epi8(t[k], idx));
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), r);
  }
  for (; i < n; ++i) y[i] = table[x[i]];
}

}  // namespace opq

#include "isa/x86-avx2-end.h"
#endif
