// AVX2 pooling: MaxPool over 32 (then 16, then a row's last few) interior outputs at a time for
// stride 1 and 2 (stride 2 keeps the even bytes of a 64-byte load by packing), the border and other
// strides scalar; global max and average as byte reductions (vpmaxub, vpsadbw).
#include "qpool/qpool.h"

#include <cstring>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "isa/x86-avx2-begin.h"

namespace opq {
namespace {

// 32 window inputs at p with stride sw (1 or 2), sign-flipped.
inline __m256i Load32(const uint8_t* p, size_t sw, __m256i flip) {
  if (sw == 1) return _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)), flip);
  const __m256i lo8 = _mm256_set1_epi16(0x00FF);
  const __m256i a = _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)), lo8);
  const __m256i b = _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32)), lo8);
  return _mm256_xor_si256(_mm256_permute4x64_epi64(_mm256_packus_epi16(a, b), 0xD8), flip);
}

inline __m128i Load16(const uint8_t* p, size_t sw, __m128i flip) {
  if (sw == 1) return _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), flip);
  const __m128i lo8 = _mm_set1_epi16(0x00FF);
  const __m128i a = _mm_and_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), lo8);
  const __m128i b = _mm_and_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16)), lo8);
  return _mm_xor_si128(_mm_packus_epi16(a, b), flip);
}

}  // namespace

void MaxPoolAvx2(const PoolGeom& g, const uint8_t* x, bool is_signed, uint8_t* y) {
  if (g.sw > 2) {
    MaxPoolRef(g, x, is_signed, y);
    return;
  }
  const uint8_t flip = is_signed ? 0x80 : 0;
  const __m256i vflip = _mm256_set1_epi8(static_cast<char>(flip));
  const __m128i hflip = _mm_set1_epi8(static_cast<char>(flip));
  const uint8_t* const end = x + g.planes * g.in_h * g.in_w;
  for (size_t p = 0; p < g.planes; ++p) {
    const uint8_t* plane = x + p * g.in_h * g.in_w;
    for (size_t oy = 0; oy < g.out_h; ++oy) {
      uint8_t* yrow = y + (p * g.out_h + oy) * g.out_w;
      const int64_t iy0 = static_cast<int64_t>(oy * g.sh) - static_cast<int64_t>(g.pt);
      size_t ky0, ky1;
      ValidTaps(iy0, g.kh, g.dh, g.in_h, &ky0, &ky1);
      const uint8_t* last_row = LastTapRow(g, plane, iy0, ky0, ky1);
      size_t ox = 0;
      while (ox < g.out_w && !MaxPoolVectorFits(g, ox, 1, last_row, end)) ++ox;
      MaxPoolRowScalar(g, plane, flip, oy, 0, ox, yrow);
      for (; ox + 32 <= g.out_w && MaxPoolVectorFits(g, ox, 32, last_row, end); ox += 32) {
        __m256i m = _mm256_setzero_si256();
        for (size_t ky = ky0; ky < ky1; ++ky) {
          const uint8_t* row =
              plane + static_cast<size_t>(iy0 + static_cast<int64_t>(ky * g.dh)) * g.in_w + ox * g.sw - g.pl;
          for (size_t kx = 0; kx < g.kw; ++kx) m = _mm256_max_epu8(m, Load32(row + kx * g.dw, g.sw, vflip));
        }
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(yrow + ox), _mm256_xor_si256(m, vflip));
      }
      // The 16 outputs from ox, sign-flipped back.
      const auto max16 = [&](size_t o) {
        __m128i m = _mm_setzero_si128();
        for (size_t ky = ky0; ky < ky1; ++ky) {
          const uint8_t* row =
              plane + static_cast<size_t>(iy0 + static_cast<int64_t>(ky * g.dh)) * g.in_w + o * g.sw - g.pl;
          for (size_t kx = 0; kx < g.kw; ++kx) m = _mm_max_epu8(m, Load16(row + kx * g.dw, g.sw, hflip));
        }
        return _mm_xor_si128(m, hflip);
      };
      for (; ox + 16 <= g.out_w && MaxPoolVectorFits(g, ox, 16, last_row, end); ox += 16)
        _mm_storeu_si128(reinterpret_cast<__m128i*>(yrow + ox), max16(ox));
      if (MaxPoolTailFits(g, ox, last_row, end)) {
        alignas(16) uint8_t tail[16];
        _mm_store_si128(reinterpret_cast<__m128i*>(tail), max16(ox));
        std::memcpy(yrow + ox, tail, g.out_w - ox);
        ox = g.out_w;
      }
      MaxPoolRowScalar(g, plane, flip, oy, ox, g.out_w, yrow);
    }
  }
}

void GlobalMaxPoolAvx2(size_t channels, size_t spatial, const uint8_t* x, bool is_signed, uint8_t* y) {
  const uint8_t flip = is_signed ? 0x80 : 0;
  const __m256i vflip = _mm256_set1_epi8(static_cast<char>(flip));
  for (size_t c = 0; c < channels; ++c) {
    const uint8_t* p = x + c * spatial;
    __m256i m = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 32 <= spatial; i += 32)
      m = _mm256_max_epu8(m, _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i)), vflip));
    __m128i h = _mm_max_epu8(_mm256_castsi256_si128(m), _mm256_extracti128_si256(m, 1));
    h = _mm_max_epu8(h, _mm_srli_si128(h, 8));
    h = _mm_max_epu8(h, _mm_srli_si128(h, 4));
    h = _mm_max_epu8(h, _mm_srli_si128(h, 2));
    h = _mm_max_epu8(h, _mm_srli_si128(h, 1));
    uint8_t r = static_cast<uint8_t>(_mm_cvtsi128_si32(h));
    for (; i < spatial; ++i) {
      const uint8_t v = p[i] ^ flip;
      r = v > r ? v : r;
    }
    y[c] = r ^ flip;
  }
}

void GlobalAvgPoolAvx2(size_t channels, size_t spatial, const uint8_t* x, bool is_signed, int32_t zx,
                       const opq_requant& rq, uint8_t* y) {
  // Sum of the bytes as unsigned (signed data biased by +128, the bias removed after).
  const __m256i vflip = _mm256_set1_epi8(static_cast<char>(is_signed ? 0x80 : 0));
  for (size_t c = 0; c < channels; ++c) {
    const uint8_t* p = x + c * spatial;
    __m256i s = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 32 <= spatial; i += 32) {
      const __m256i v = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i)), vflip);
      s = _mm256_add_epi64(s, _mm256_sad_epu8(v, _mm256_setzero_si256()));
    }
    int64_t acc = _mm256_extract_epi64(s, 0) + _mm256_extract_epi64(s, 1) + _mm256_extract_epi64(s, 2) +
                  _mm256_extract_epi64(s, 3);
    if (is_signed) acc -= static_cast<int64_t>(128) * static_cast<int64_t>(i);
    for (; i < spatial; ++i)
      acc += is_signed ? static_cast<int64_t>(static_cast<int8_t>(p[i])) : static_cast<int64_t>(p[i]);
    acc -= static_cast<int64_t>(zx) * static_cast<int64_t>(spatial);
    y[c] = static_cast<uint8_t>(
        RequantizeOne(static_cast<int32_t>(RoundingAverage(acc, static_cast<int64_t>(spatial))), rq, 0));
  }
}

}  // namespace opq

#include "isa/x86-avx2-end.h"
#endif
