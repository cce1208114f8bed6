// WebAssembly SIMD128 ReduceMean rows: pairwise widening adds for a reduced run, widened int32
// adds for a kept run.
#include "qreduce/qreduce.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

namespace opq {

int32_t ReduceRowSumWasmSimd(const uint8_t* x, size_t n, bool is_signed) {
  // n <= 2^23: each int32 lane sums at most n / 4 values of magnitude <= 255.
  v128_t s = wasm_i32x4_splat(0);
  size_t j = 0;
  for (; j + 16 <= n; j += 16) {
    const v128_t v = wasm_v128_load(x + j);
    const v128_t w = is_signed ? wasm_i16x8_extadd_pairwise_i8x16(v) : wasm_u16x8_extadd_pairwise_u8x16(v);
    s = wasm_i32x4_add(s, wasm_i32x4_extadd_pairwise_i16x8(w));
  }
  const int32_t t = wasm_i32x4_extract_lane(s, 0) + wasm_i32x4_extract_lane(s, 1) + wasm_i32x4_extract_lane(s, 2) +
                    wasm_i32x4_extract_lane(s, 3);
  return t + ReduceRowSumRef(x + j, n - j, is_signed);
}

void ReduceRowAccWasmSimd(int32_t* acc, const uint8_t* x, size_t n, bool is_signed) {
  size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const v128_t b = wasm_v128_load64_zero(x + j);
    const v128_t h = is_signed ? wasm_i16x8_extend_low_i8x16(b) : wasm_u16x8_extend_low_u8x16(b);
    const v128_t lo = is_signed ? wasm_i32x4_extend_low_i16x8(h) : wasm_u32x4_extend_low_u16x8(h);
    const v128_t hi = is_signed ? wasm_i32x4_extend_high_i16x8(h) : wasm_u32x4_extend_high_u16x8(h);
    wasm_v128_store(acc + j, wasm_i32x4_add(wasm_v128_load(acc + j), lo));
    wasm_v128_store(acc + j + 4, wasm_i32x4_add(wasm_v128_load(acc + j + 4), hi));
  }
  ReduceRowAccRef(acc + j, x + j, n - j, is_signed);
}

}  // namespace opq
#endif
