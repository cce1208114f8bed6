// AVX2 nearest resize row: 2x upsampling by byte unpacking, other factors by a gather loop.
#include "qresize/qresize.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "isa/x86-avx2-begin.h"

namespace opq {

void ResizeRowAvx2(const uint8_t* src, const int32_t* x_index, size_t out_w, size_t factor, uint8_t* y) {
  size_t ox = 0;
  if (factor == 2) {
    for (; ox + 32 <= out_w; ox += 32) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + ox / 2));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(y + ox), _mm_unpacklo_epi8(v, v));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(y + ox + 16), _mm_unpackhi_epi8(v, v));
    }
  }
  for (; ox < out_w; ++ox) y[ox] = src[x_index[ox]];
}

}  // namespace opq

#include "isa/x86-avx2-end.h"
#endif
