// WebAssembly SIMD128 hooks of the ConvTranspose driver: the column GEMM as int16-pair dot
// products (i32x4.dot_i16x8_s, exact) on a 4 x 8 tile, the col2im add vectorized for strides 1 and 2.
#include "qconvtranspose/qconvtranspose.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

namespace opq {
namespace {

void GemmWasmSimd(size_t m, size_t np, size_t kq, const int32_t* a, const int32_t* x, size_t ldx, int32_t* c,
                  size_t ldc) {
  size_t i = 0;
  for (; i + 4 <= m; i += 4) {
    const int32_t* a0 = a + i * kq;
    size_t p = 0;
    for (; p + 8 <= np; p += 8) {
      v128_t c00 = wasm_i32x4_splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
      for (size_t q = 0; q < kq; ++q) {
        const v128_t b0 = wasm_v128_load(x + q * ldx + p), b1 = wasm_v128_load(x + q * ldx + p + 4);
        v128_t w = wasm_i32x4_splat(a0[q]);
        c00 = wasm_i32x4_add(c00, wasm_i32x4_dot_i16x8(w, b0));
        c01 = wasm_i32x4_add(c01, wasm_i32x4_dot_i16x8(w, b1));
        w = wasm_i32x4_splat(a0[kq + q]);
        c10 = wasm_i32x4_add(c10, wasm_i32x4_dot_i16x8(w, b0));
        c11 = wasm_i32x4_add(c11, wasm_i32x4_dot_i16x8(w, b1));
        w = wasm_i32x4_splat(a0[2 * kq + q]);
        c20 = wasm_i32x4_add(c20, wasm_i32x4_dot_i16x8(w, b0));
        c21 = wasm_i32x4_add(c21, wasm_i32x4_dot_i16x8(w, b1));
        w = wasm_i32x4_splat(a0[3 * kq + q]);
        c30 = wasm_i32x4_add(c30, wasm_i32x4_dot_i16x8(w, b0));
        c31 = wasm_i32x4_add(c31, wasm_i32x4_dot_i16x8(w, b1));
      }
      wasm_v128_store(c + i * ldc + p, c00);
      wasm_v128_store(c + i * ldc + p + 4, c01);
      wasm_v128_store(c + (i + 1) * ldc + p, c10);
      wasm_v128_store(c + (i + 1) * ldc + p + 4, c11);
      wasm_v128_store(c + (i + 2) * ldc + p, c20);
      wasm_v128_store(c + (i + 2) * ldc + p + 4, c21);
      wasm_v128_store(c + (i + 3) * ldc + p, c30);
      wasm_v128_store(c + (i + 3) * ldc + p + 4, c31);
    }
    GemmTailScalar(i, i + 4, p, np, kq, a, x, ldx, c, ldc);
  }
  for (; i < m; ++i) {
    const int32_t* ai = a + i * kq;
    size_t p = 0;
    for (; p + 4 <= np; p += 4) {
      v128_t c0 = wasm_i32x4_splat(0);
      for (size_t q = 0; q < kq; ++q)
        c0 = wasm_i32x4_add(c0, wasm_i32x4_dot_i16x8(wasm_i32x4_splat(ai[q]), wasm_v128_load(x + q * ldx + p)));
      wasm_v128_store(c + i * ldc + p, c0);
    }
    GemmTailScalar(i, i + 1, p, np, kq, a, x, ldx, c, ldc);
  }
}

void ScatterAddWasmSimd(const int32_t* src, size_t n, size_t stride, int32_t* dst) {
  size_t k = 0;
  if (stride == 1) {
    for (; k + 4 <= n; k += 4)
      wasm_v128_store(dst + k, wasm_i32x4_add(wasm_v128_load(dst + k), wasm_v128_load(src + k)));
  } else if (stride == 2) {
    // dst[2k] += src[k], 4 k at a time, zeros added to the odd lanes between them; the second
    // store reaches dst[2k + 7], one past the segment's last element for the final group, so that
    // group finishes scalar.
    const v128_t zero = wasm_i32x4_splat(0);
    for (; k + 4 < n; k += 4) {
      const v128_t v = wasm_v128_load(src + k);
      int32_t* d = dst + 2 * k;
      wasm_v128_store(d, wasm_i32x4_add(wasm_v128_load(d), wasm_i32x4_shuffle(v, zero, 0, 4, 1, 4)));
      wasm_v128_store(d + 4, wasm_i32x4_add(wasm_v128_load(d + 4), wasm_i32x4_shuffle(v, zero, 2, 4, 3, 4)));
    }
  }
  ScatterAddScalar(src + k, n - k, stride, dst + k * stride);
}

const CtKernels kWasm = {GemmWasmSimd, ScatterAddWasmSimd, RequantRowWasmSimd};

}  // namespace

const CtKernels& CtKernelsWasmSimd() { return kWasm; }

}  // namespace opq
#endif
