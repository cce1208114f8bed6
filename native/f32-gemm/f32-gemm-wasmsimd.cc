// WASM SIMD128 float32 GEMM microkernel: a 5x8 tile in ten v128 accumulators (splat A, two B loads
// per k). Measured under V8 on x86-64 (16 xmm registers): 5x8 ~6% faster than 4x8, 6x8 ~30% slower
// (spills). No FMA in SIMD128: a multiply then an add, rounded twice. The indirect one reads each
// B row where it lies (boff[k]) instead of from a packed panel.
#include "f32-gemm/f32-kernels.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

namespace opq {

namespace {

// The tile loop over kc rows of B, each at `row(k)` (two halves of 4 floats).
template <typename Row>
inline void Tile(size_t kc, const float* a, Row row, float* c, size_t ldc, const float* init, uint32_t flags, float lo,
                 float hi) {
  constexpr size_t MR = kF32MrWasmSimd;
  v128_t acc[MR][2];
  if (flags & kF32Accumulate) {
#pragma clang loop unroll(full)
    for (size_t r = 0; r < MR; ++r) {
      acc[r][0] = wasm_v128_load(c + r * ldc);
      acc[r][1] = wasm_v128_load(c + r * ldc + 4);
    }
  } else {
#pragma clang loop unroll(full)
    for (size_t r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = wasm_f32x4_splat(init ? init[r] : 0.0f);
  }
  for (size_t k = 0; k < kc; ++k) {
    const float* b = row(k);
    const v128_t b0 = wasm_v128_load(b), b1 = wasm_v128_load(b + 4);
#pragma clang loop unroll(full)
    for (size_t r = 0; r < MR; ++r) {
      const v128_t av = wasm_v128_load32_splat(a + r);
      acc[r][0] = wasm_f32x4_add(acc[r][0], wasm_f32x4_mul(av, b0));
      acc[r][1] = wasm_f32x4_add(acc[r][1], wasm_f32x4_mul(av, b1));
    }
    a += MR;
  }
  if (flags & kF32Clamp) {
    // pmax(x, lo) = x < lo ? lo : x and pmin(x, hi) = hi < x ? hi : x: NaN passes through.
    const v128_t vlo = wasm_f32x4_splat(lo), vhi = wasm_f32x4_splat(hi);
#pragma clang loop unroll(full)
    for (size_t r = 0; r < MR; ++r) {
      acc[r][0] = wasm_f32x4_pmin(wasm_f32x4_pmax(acc[r][0], vlo), vhi);
      acc[r][1] = wasm_f32x4_pmin(wasm_f32x4_pmax(acc[r][1], vlo), vhi);
    }
  }
#pragma clang loop unroll(full)
  for (size_t r = 0; r < MR; ++r) {
    wasm_v128_store(c + r * ldc, acc[r][0]);
    wasm_v128_store(c + r * ldc + 4, acc[r][1]);
  }
}

}  // namespace

void F32GemmUkWasmSimd(size_t kc, const float* a, const float* b, float* c, size_t ldc, const float* init,
                       uint32_t flags, float lo, float hi) {
  Tile(
      kc, a, [b](size_t k) { return b + k * 8; }, c, ldc, init, flags, lo, hi);
}

void F32GemmIndirectUkWasmSimd(size_t kc, const float* a, const float* b, const size_t* boff, float* c, size_t ldc,
                               const float* init, uint32_t flags, float lo, float hi) {
  Tile(
      kc, a, [b, boff](size_t k) { return b + boff[k]; }, c, ldc, init, flags, lo, hi);
}

}  // namespace opq
#endif
