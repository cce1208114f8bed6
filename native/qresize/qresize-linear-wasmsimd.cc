// WebAssembly SIMD128 linear resize rows: horizontal taps gathered as bytes, widened into int16 pairs and weighted by
// i32x4.dot_i16x8_s (exact, as on AVX2), the vertical blend by i32x4.mul, then the SIMD128
// requantization row.
#include "qresize/qresize-linear.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

namespace opq {

void ResizeHRowWasmSimd(const uint8_t* row, const ResizeTap* taps, const int16_t* wpairs, size_t n, bool is_signed,
                        int32_t zx, int32_t* h) {
  // 8 left and 8 right taps gathered as bytes, widened to int16 minus zx, interleaved into pairs
  // and weighted by i32x4.dot_i16x8_s.
  alignas(16) uint8_t a[16], b[16];
  const v128_t vzx = wasm_i16x8_splat(static_cast<int16_t>(zx));
  size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    for (size_t k = 0; k < 8; ++k) {
      a[k] = row[taps[j + k].i0];
      b[k] = row[taps[j + k].i1];
    }
    const v128_t a8 = wasm_v128_load64_zero(a), b8 = wasm_v128_load64_zero(b);
    const v128_t a16 =
        wasm_i16x8_sub(is_signed ? wasm_i16x8_extend_low_i8x16(a8) : wasm_u16x8_extend_low_u8x16(a8), vzx);
    const v128_t b16 =
        wasm_i16x8_sub(is_signed ? wasm_i16x8_extend_low_i8x16(b8) : wasm_u16x8_extend_low_u8x16(b8), vzx);
    const v128_t p0 = wasm_i16x8_shuffle(a16, b16, 0, 8, 1, 9, 2, 10, 3, 11);
    const v128_t p1 = wasm_i16x8_shuffle(a16, b16, 4, 12, 5, 13, 6, 14, 7, 15);
    wasm_v128_store(h + j, wasm_i32x4_dot_i16x8(p0, wasm_v128_load(wpairs + 2 * j)));
    wasm_v128_store(h + j + 4, wasm_i32x4_dot_i16x8(p1, wasm_v128_load(wpairs + 2 * j + 8)));
  }
  if (j < n) ResizeHRowRef(row, taps + j, wpairs + 2 * j, n - j, is_signed, zx, h + j);
}

void ResizeVRowWasmSimd(const int32_t* h0, const int32_t* h1, int32_t wy, size_t n, const opq_requant& rq, int32_t* acc,
                        uint8_t* y) {
  const v128_t w0 = wasm_i32x4_splat(kResizeOne - wy), w1 = wasm_i32x4_splat(wy);
  size_t j = 0;
  for (; j + 4 <= n; j += 4)
    wasm_v128_store(acc + j, wasm_i32x4_add(wasm_i32x4_mul(wasm_v128_load(h0 + j), w0),
                                            wasm_i32x4_mul(wasm_v128_load(h1 + j), w1)));
  for (; j < n; ++j) acc[j] = (kResizeOne - wy) * h0[j] + wy * h1[j];
  RequantRowWasmSimd(acc, nullptr, n, rq, 0, y);
}

}  // namespace opq
#endif
