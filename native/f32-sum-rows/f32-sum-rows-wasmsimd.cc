// WASM SIMD128 opq_sum_rows_f32 microkernel: 16 columns at a time in eight f64x2 accumulators (eight
// chains in flight), each pair of floats loaded into the low half of a vector (v128.load64_zero) and
// widened with f64x2.promote_low_f32x4; then 4 and 2 columns, then one. Every lane is one column's
// chain 0 + row 0 + row 1 + ..., as in the reference: the same bits.
#include "f32-gemm/f32-kernels.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

namespace opq {

namespace {

inline v128_t Widen(const float* p) { return wasm_f64x2_promote_low_f32x4(wasm_v128_load64_zero(p)); }

}  // namespace

void F32SumRowsWasmSimd(size_t n, size_t rows, const float* x, size_t x_stride, double* dst) {
  size_t j = 0;
  for (; j + 16 <= n; j += 16) {
    v128_t a0 = wasm_f64x2_splat(0.0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (size_t r = 0; r < rows; ++r) {
      const float* p = x + r * x_stride + j;
      a0 = wasm_f64x2_add(a0, Widen(p));
      a1 = wasm_f64x2_add(a1, Widen(p + 2));
      a2 = wasm_f64x2_add(a2, Widen(p + 4));
      a3 = wasm_f64x2_add(a3, Widen(p + 6));
      a4 = wasm_f64x2_add(a4, Widen(p + 8));
      a5 = wasm_f64x2_add(a5, Widen(p + 10));
      a6 = wasm_f64x2_add(a6, Widen(p + 12));
      a7 = wasm_f64x2_add(a7, Widen(p + 14));
    }
    wasm_v128_store(dst + j, a0);
    wasm_v128_store(dst + j + 2, a1);
    wasm_v128_store(dst + j + 4, a2);
    wasm_v128_store(dst + j + 6, a3);
    wasm_v128_store(dst + j + 8, a4);
    wasm_v128_store(dst + j + 10, a5);
    wasm_v128_store(dst + j + 12, a6);
    wasm_v128_store(dst + j + 14, a7);
  }
  for (; j + 4 <= n; j += 4) {
    v128_t a0 = wasm_f64x2_splat(0.0), a1 = a0;
    for (size_t r = 0; r < rows; ++r) {
      const float* p = x + r * x_stride + j;
      a0 = wasm_f64x2_add(a0, Widen(p));
      a1 = wasm_f64x2_add(a1, Widen(p + 2));
    }
    wasm_v128_store(dst + j, a0);
    wasm_v128_store(dst + j + 2, a1);
  }
  if (j + 2 <= n) {
    v128_t a0 = wasm_f64x2_splat(0.0);
    for (size_t r = 0; r < rows; ++r) a0 = wasm_f64x2_add(a0, Widen(x + r * x_stride + j));
    wasm_v128_store(dst + j, a0);
    j += 2;
  }
  if (j < n) {
    double s = 0.0;
    for (size_t r = 0; r < rows; ++r) s += static_cast<double>(x[r * x_stride + j]);
    dst[j] = s;
  }
}

}  // namespace opq
#endif
