// WASM SIMD128 bias-correction probe microkernels: a row's four chains in two f64x2 vectors (chains
// 0-1 and 2-3, as in the reference), two rows side by side (four vector chains in flight); the
// reference's scalar code finishes each row from its lanes. WASM SIMD128 has no fused multiply-add.
#include "f32-gemm/f32-kernels.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

namespace opq {

namespace {

inline v128_t Widen2(const float* p) { return wasm_f64x2_promote_low_f32x4(wasm_v128_load64_zero(p)); }

inline void Lanes(v128_t lo, v128_t hi, double* c) {
  wasm_v128_store(c, lo);
  wasm_v128_store(c + 2, hi);
}

}  // namespace

void F32ClassSumsWasmSimd(size_t n, size_t rows, const float* x, size_t x_stride, size_t s, double* out) {
  if (s > 2) return F32ClassSumsRef(n, rows, x, x_stride, s, out);
  size_t r = 0;
  for (; r + 2 <= rows; r += 2) {
    const float* p0 = x + r * x_stride;
    const float* p1 = p0 + x_stride;
    if (s == 1) {
      v128_t a0 = wasm_f64x2_splat(0.0), b0 = a0, a1 = a0, b1 = a0;
      size_t j = 0;
      for (; j + 4 <= n; j += 4) {
        a0 = wasm_f64x2_add(a0, Widen2(p0 + j));
        b0 = wasm_f64x2_add(b0, Widen2(p0 + j + 2));
        a1 = wasm_f64x2_add(a1, Widen2(p1 + j));
        b1 = wasm_f64x2_add(b1, Widen2(p1 + j + 2));
      }
      double c[4];
      Lanes(a0, b0, c);
      F32ClassSumsTail(p0, 1, int64_t(j), int64_t(n), c);
      out[r] = (c[0] + c[1]) + (c[2] + c[3]);
      Lanes(a1, b1, c);
      F32ClassSumsTail(p1, 1, int64_t(j), int64_t(n), c);
      out[r + 1] = (c[0] + c[1]) + (c[2] + c[3]);
    } else {
      // Per row and class, chains 0-1 and 2-3; members j..j+3 of both classes are floats 2j..2j+7.
      v128_t acc[8];
      for (auto& v : acc) v = wasm_f64x2_splat(0.0);
      size_t j = 0;
      for (; 2 * j + 8 <= n; j += 4) {
        for (int row = 0; row < 2; ++row) {
          const float* p = (row ? p1 : p0) + 2 * j;
          const v128_t u = wasm_v128_load(p), v = wasm_v128_load(p + 4);
          const v128_t ue = wasm_i32x4_shuffle(u, u, 0, 2, 1, 3), ve = wasm_i32x4_shuffle(v, v, 0, 2, 1, 3);
          v128_t* a = acc + 4 * row;
          a[0] = wasm_f64x2_add(a[0], wasm_f64x2_promote_low_f32x4(ue));  // even j, j+1
          a[1] = wasm_f64x2_add(a[1], wasm_f64x2_promote_low_f32x4(ve));  // even j+2, j+3
          a[2] = wasm_f64x2_add(a[2], wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(ue, ue, 2, 3, 0, 1)));  // odd
          a[3] = wasm_f64x2_add(a[3], wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(ve, ve, 2, 3, 0, 1)));
        }
      }
      for (int row = 0; row < 2; ++row)
        for (int cls = 0; cls < 2; ++cls) {
          const int64_t m = size_t(cls) < n ? int64_t((n - 1 - cls) / 2 + 1) : 0;
          double c[4];
          Lanes(acc[4 * row + 2 * cls], acc[4 * row + 2 * cls + 1], c);
          F32ClassSumsTail((row ? p1 : p0) + cls, 2, int64_t(j), m, c);
          out[(r + row) * 2 + cls] = (c[0] + c[1]) + (c[2] + c[3]);
        }
    }
  }
  if (r < rows) F32ClassSumsRef(n, rows - r, x + r * x_stride, x_stride, s, out + r * s);
}

void F32DotRowsWasmSimd(size_t n, size_t rows, const float* a, size_t a_stride, const double* b, size_t b_stride,
                        double* out) {
  size_t r = 0;
  for (; r + 2 <= rows; r += 2) {
    const float *a0 = a + r * a_stride, *a1 = a0 + a_stride;
    const double *b0 = b + r * b_stride, *b1 = b0 + b_stride;
    v128_t l0 = wasm_f64x2_splat(0.0), h0 = l0, l1 = l0, h1 = l0;
    size_t j = 0;
    for (; j + 4 <= n; j += 4) {
      l0 = wasm_f64x2_add(l0, wasm_f64x2_mul(Widen2(a0 + j), wasm_v128_load(b0 + j)));
      h0 = wasm_f64x2_add(h0, wasm_f64x2_mul(Widen2(a0 + j + 2), wasm_v128_load(b0 + j + 2)));
      l1 = wasm_f64x2_add(l1, wasm_f64x2_mul(Widen2(a1 + j), wasm_v128_load(b1 + j)));
      h1 = wasm_f64x2_add(h1, wasm_f64x2_mul(Widen2(a1 + j + 2), wasm_v128_load(b1 + j + 2)));
    }
    double c[4];
    Lanes(l0, h0, c);
    out[r] = F32DotTail(a0, b0, int64_t(j), int64_t(n), c);
    Lanes(l1, h1, c);
    out[r + 1] = F32DotTail(a1, b1, int64_t(j), int64_t(n), c);
  }
  if (r < rows) F32DotRowsRef(n, rows - r, a + r * a_stride, a_stride, b + r * b_stride, b_stride, out + r);
}

}  // namespace opq

#endif
