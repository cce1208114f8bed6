// AVX2 ReduceMean rows: a reduced run summed by vpsadbw (signed data biased by +128, the bias
// removed after), a kept run widened to int32 (vpmovzxbd / vpmovsxbd) and added.
#include "qreduce/qreduce.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "isa/x86-avx2-begin.h"

namespace opq {

int32_t ReduceRowSumAvx2(const uint8_t* x, size_t n, bool is_signed) {
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(is_signed ? 0x80 : 0));
  __m256i s = _mm256_setzero_si256();
  size_t j = 0;
  for (; j + 32 <= n; j += 32) {
    const __m256i v = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + j)), flip);
    s = _mm256_add_epi64(s, _mm256_sad_epu8(v, _mm256_setzero_si256()));
  }
  int64_t acc =
      _mm256_extract_epi64(s, 0) + _mm256_extract_epi64(s, 1) + _mm256_extract_epi64(s, 2) + _mm256_extract_epi64(s, 3);
  if (is_signed) acc -= static_cast<int64_t>(128) * static_cast<int64_t>(j);
  return static_cast<int32_t>(acc) + ReduceRowSumRef(x + j, n - j, is_signed);
}

void ReduceRowAccAvx2(int32_t* acc, const uint8_t* x, size_t n, bool is_signed) {
  size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(x + j));
    const __m256i w = is_signed ? _mm256_cvtepi8_epi32(b) : _mm256_cvtepu8_epi32(b);
    __m256i* a = reinterpret_cast<__m256i*>(acc + j);
    _mm256_storeu_si256(a, _mm256_add_epi32(_mm256_loadu_si256(a), w));
  }
  ReduceRowAccRef(acc + j, x + j, n - j, is_signed);
}

}  // namespace opq

#include "isa/x86-avx2-end.h"
#endif
