// WebAssembly SIMD128 linear resize rows: horizontal taps gathered as int16 pairs and weighted by
// i32x4.dot_i16x8_s (exact, as on AVX2), the vertical blend by i32x4.mul, then the SIMD128
// requantization row.
#include "qresize/qresize-linear.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

namespace opq {

void ResizeHRowWasmSimd(const uint8_t* row, const ResizeTap* taps, size_t n, bool is_signed, int32_t zx, int32_t* h) {
  alignas(16) int16_t vals[8];
  alignas(16) int16_t wts[8];
  size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    for (size_t k = 0; k < 4; ++k) {
      const ResizeTap& t = taps[j + k];
      const int32_t a = is_signed ? static_cast<int32_t>(static_cast<int8_t>(row[t.i0])) : row[t.i0];
      const int32_t b = is_signed ? static_cast<int32_t>(static_cast<int8_t>(row[t.i1])) : row[t.i1];
      vals[2 * k] = static_cast<int16_t>(a - zx);
      vals[2 * k + 1] = static_cast<int16_t>(b - zx);
      wts[2 * k] = static_cast<int16_t>(kResizeOne - t.weight);
      wts[2 * k + 1] = static_cast<int16_t>(t.weight);
    }
    wasm_v128_store(h + j, wasm_i32x4_dot_i16x8(wasm_v128_load(vals), wasm_v128_load(wts)));
  }
  if (j < n) ResizeHRowRef(row, taps + j, n - j, is_signed, zx, h + j);
}

void ResizeVRowWasmSimd(const int32_t* h0, const int32_t* h1, int32_t wy, size_t n, const opq_requant& rq,
                        int32_t* acc, uint8_t* y) {
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
