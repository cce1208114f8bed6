// WebAssembly SIMD128 nearest resize row: 2x upsampling by byte shuffles, other factors gathered.
#include "qresize/qresize.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

namespace opq {

void ResizeRowWasmSimd(const uint8_t* src, const int32_t* x_index, size_t out_w, size_t factor, uint8_t* y) {
  size_t ox = 0;
  if (factor == 2) {
    for (; ox + 32 <= out_w; ox += 32) {
      const v128_t v = wasm_v128_load(src + ox / 2);
      wasm_v128_store(y + ox, wasm_i8x16_shuffle(v, v, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7));
      wasm_v128_store(y + ox + 16,
                      wasm_i8x16_shuffle(v, v, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15));
    }
  }
  for (; ox < out_w; ++ox) y[ox] = src[x_index[ox]];
}

}  // namespace opq
#endif
