// WASM SIMD128 pooling rows: max or sum over the window taps, 8 outputs per pass, a scalar tail.
#include "f32-gemm/f32-kernels.h"

#if defined(__wasm_simd128__)
#include <limits>
#include <wasm_simd128.h>

namespace opq {

void F32MaxRowWasmSimd(size_t n, size_t ntaps, const float* const* taps, float* y) {
  const float ninf = -std::numeric_limits<float>::infinity();
  const v128_t vninf = wasm_f32x4_splat(ninf);
  size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    v128_t m0 = vninf, m1 = vninf;
    for (size_t t = 0; t < ntaps; ++t) {
      // pmax(m, v) = m < v ? v : m: a NaN input is skipped, as in the reference's `v > best`.
      m0 = wasm_f32x4_pmax(m0, wasm_v128_load(taps[t] + j));
      m1 = wasm_f32x4_pmax(m1, wasm_v128_load(taps[t] + j + 4));
    }
    wasm_v128_store(y + j, m0);
    wasm_v128_store(y + j + 4, m1);
  }
  for (; j < n; ++j) {
    float m = ninf;
    for (size_t t = 0; t < ntaps; ++t) m = taps[t][j] > m ? taps[t][j] : m;
    y[j] = m;
  }
}

void F32AvgRowWasmSimd(size_t n, size_t ntaps, const float* const* taps, float row_count, const float* col_count,
                       float* y) {
  const v128_t rc = wasm_f32x4_splat(row_count);
  size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0;
    for (size_t t = 0; t < ntaps; ++t) {
      s0 = wasm_f32x4_add(s0, wasm_v128_load(taps[t] + j));
      s1 = wasm_f32x4_add(s1, wasm_v128_load(taps[t] + j + 4));
    }
    wasm_v128_store(y + j, wasm_f32x4_div(s0, wasm_f32x4_mul(rc, wasm_v128_load(col_count + j))));
    wasm_v128_store(y + j + 4, wasm_f32x4_div(s1, wasm_f32x4_mul(rc, wasm_v128_load(col_count + j + 4))));
  }
  for (; j < n; ++j) {
    float s = 0.0f;
    for (size_t t = 0; t < ntaps; ++t) s += taps[t][j];
    y[j] = s / (row_count * col_count[j]);
  }
}

}  // namespace opq
#endif
