// WASM SIMD128 float32 GEMM microkernel: a 4x8 tile in eight v128 accumulators (splat A, two B
// loads per k). No FMA in SIMD128: a multiply then an add, rounded twice.
#include "f32-gemm/f32-kernels.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

namespace opq {

void F32GemmUkWasmSimd(size_t kc, const float* a, const float* b, float* c, size_t ldc, const float* init,
                       uint32_t flags, float lo, float hi) {
  v128_t c00, c01, c10, c11, c20, c21, c30, c31;
  if (flags & kF32Accumulate) {
    c00 = wasm_v128_load(c), c01 = wasm_v128_load(c + 4);
    c10 = wasm_v128_load(c + ldc), c11 = wasm_v128_load(c + ldc + 4);
    c20 = wasm_v128_load(c + 2 * ldc), c21 = wasm_v128_load(c + 2 * ldc + 4);
    c30 = wasm_v128_load(c + 3 * ldc), c31 = wasm_v128_load(c + 3 * ldc + 4);
  } else if (init) {
    c00 = c01 = wasm_f32x4_splat(init[0]);
    c10 = c11 = wasm_f32x4_splat(init[1]);
    c20 = c21 = wasm_f32x4_splat(init[2]);
    c30 = c31 = wasm_f32x4_splat(init[3]);
  } else {
    c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = wasm_f32x4_splat(0.0f);
  }
  for (size_t k = 0; k < kc; ++k) {
    const v128_t b0 = wasm_v128_load(b), b1 = wasm_v128_load(b + 4);
    const v128_t a0 = wasm_v128_load32_splat(a), a1 = wasm_v128_load32_splat(a + 1);
    const v128_t a2 = wasm_v128_load32_splat(a + 2), a3 = wasm_v128_load32_splat(a + 3);
    c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(a0, b0));
    c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(a0, b1));
    c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(a1, b0));
    c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(a1, b1));
    c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(a2, b0));
    c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(a2, b1));
    c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(a3, b0));
    c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(a3, b1));
    a += 4;
    b += 8;
  }
  if (flags & kF32Clamp) {
    // pmax(x, lo) = x < lo ? lo : x and pmin(x, hi) = hi < x ? hi : x: NaN passes through.
    const v128_t vlo = wasm_f32x4_splat(lo), vhi = wasm_f32x4_splat(hi);
#define OPQ_CLAMP(v) v = wasm_f32x4_pmin(wasm_f32x4_pmax(v, vlo), vhi)
    OPQ_CLAMP(c00); OPQ_CLAMP(c01); OPQ_CLAMP(c10); OPQ_CLAMP(c11);
    OPQ_CLAMP(c20); OPQ_CLAMP(c21); OPQ_CLAMP(c30); OPQ_CLAMP(c31);
#undef OPQ_CLAMP
  }
  wasm_v128_store(c, c00), wasm_v128_store(c + 4, c01);
  wasm_v128_store(c + ldc, c10), wasm_v128_store(c + ldc + 4, c11);
  wasm_v128_store(c + 2 * ldc, c20), wasm_v128_store(c + 2 * ldc + 4, c21);
  wasm_v128_store(c + 3 * ldc, c30), wasm_v128_store(c + 3 * ldc + 4, c31);
}

}  // namespace opq
#endif
