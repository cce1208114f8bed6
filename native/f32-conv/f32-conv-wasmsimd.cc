// WASM SIMD128 depthwise convolution row: 16 outputs per pass, a scalar tail.
#include "f32-gemm/f32-kernels.h"

#if defined(__wasm_simd128__)
#include <algorithm>
#include <wasm_simd128.h>

namespace opq {

void F32DwRowWasmSimd(size_t n, size_t ntaps, const float* const* taps, const float* w, float bias, uint32_t flags,
                      float lo, float hi, float* y) {
  const v128_t vb = wasm_f32x4_splat(bias), vlo = wasm_f32x4_splat(lo), vhi = wasm_f32x4_splat(hi);
  const bool clamp = (flags & kF32Clamp) != 0;
  size_t j = 0;
  for (; j + 16 <= n; j += 16) {
    v128_t a0 = vb, a1 = vb, a2 = vb, a3 = vb;
    for (size_t t = 0; t < ntaps; ++t) {
      const float* s = taps[t] + j;
      const v128_t wv = wasm_v128_load32_splat(w + t);
      a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wv, wasm_v128_load(s)));
      a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(wv, wasm_v128_load(s + 4)));
      a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(wv, wasm_v128_load(s + 8)));
      a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(wv, wasm_v128_load(s + 12)));
    }
    if (clamp) {
      a0 = wasm_f32x4_pmin(wasm_f32x4_pmax(a0, vlo), vhi);
      a1 = wasm_f32x4_pmin(wasm_f32x4_pmax(a1, vlo), vhi);
      a2 = wasm_f32x4_pmin(wasm_f32x4_pmax(a2, vlo), vhi);
      a3 = wasm_f32x4_pmin(wasm_f32x4_pmax(a3, vlo), vhi);
    }
    wasm_v128_store(y + j, a0);
    wasm_v128_store(y + j + 4, a1);
    wasm_v128_store(y + j + 8, a2);
    wasm_v128_store(y + j + 12, a3);
  }
  for (; j + 4 <= n; j += 4) {
    v128_t acc = vb;
    for (size_t t = 0; t < ntaps; ++t)
      acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load32_splat(w + t), wasm_v128_load(taps[t] + j)));
    if (clamp) acc = wasm_f32x4_pmin(wasm_f32x4_pmax(acc, vlo), vhi);
    wasm_v128_store(y + j, acc);
  }
  for (; j < n; ++j) {
    float acc = bias;
    for (size_t t = 0; t < ntaps; ++t) acc += w[t] * taps[t][j];
    if (clamp) acc = std::min(std::max(acc, lo), hi);
    y[j] = acc;
  }
}

}  // namespace opq
#endif
