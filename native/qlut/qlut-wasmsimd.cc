// WebAssembly SIMD128 256-entry lookup: i8x16.swizzle returns 0 for indices >= 16, so sub-table k
// looked up at x - 16k (wrapping) contributes exactly the bytes of its block; OR the 16 lookups.
#include "qlut/qlut.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

namespace opq {

void LutWasmSimd(const uint8_t* x, size_t n, const uint8_t* table, uint8_t* y) {
  v128_t t[16];
  for (int k = 0; k < 16; ++k) t[k] = wasm_v128_load(table + 16 * k);
  const v128_t sixteen = wasm_i8x16_splat(16);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    v128_t idx = wasm_v128_load(x + i);
    v128_t r = wasm_i8x16_swizzle(t[0], idx);
    for (int k = 1; k < 16; ++k) {
      idx = wasm_i8x16_sub(idx, sixteen);
      r = wasm_v128_or(r, wasm_i8x16_swizzle(t[k], idx));
    }
    wasm_v128_store(y + i, r);
  }
  for (; i < n; ++i) y[i] = table[x[i]];
}

}  // namespace opq
#endif
