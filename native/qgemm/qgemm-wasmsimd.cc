// WebAssembly SIMD128 qgemm: 4x8 int16-pair microkernel (i32x4.dot_i16x8_s), exact like AVX2's.
#include "qgemm/qgemm-int16-driver.h"
#include "requant/requant.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

namespace opq {
namespace {

constexpr size_t kMr = 4, kNr = 8;

void Ukernel4x8(size_t kc, const int32_t* a, const int16_t* b, int32_t* c, size_t ldc, bool accumulate) {
  v128_t acc[kMr][2];
  for (size_t r = 0; r < kMr; ++r) {
    if (accumulate) {
      acc[r][0] = wasm_v128_load(c + r * ldc);
      acc[r][1] = wasm_v128_load(c + r * ldc + 4);
    } else {
      acc[r][0] = wasm_i32x4_splat(0);
      acc[r][1] = wasm_i32x4_splat(0);
    }
  }
  for (size_t q = 0; q < kc; ++q) {
    const v128_t b0 = wasm_v128_load(b);
    const v128_t b1 = wasm_v128_load(b + 8);
#pragma clang loop unroll(full)
    for (size_t r = 0; r < kMr; ++r) {
      const v128_t av = wasm_i32x4_splat(a[r]);
      acc[r][0] = wasm_i32x4_add(acc[r][0], wasm_i32x4_dot_i16x8(av, b0));
      acc[r][1] = wasm_i32x4_add(acc[r][1], wasm_i32x4_dot_i16x8(av, b1));
    }
    a += kMr;
    b += kNr * 2;
  }
  for (size_t r = 0; r < kMr; ++r) {
    wasm_v128_store(c + r * ldc, acc[r][0]);
    wasm_v128_store(c + r * ldc + 4, acc[r][1]);
  }
}

}  // namespace

size_t QGemmWasmSimdWorkspace(size_t m, size_t n, size_t k) { return Int16GemmWorkspace<kMr, kNr>(m, n, k); }

void QGemmWasmSimd(const QGemmArgs& g) { RunInt16Gemm<kMr, kNr>(g, Ukernel4x8, RequantRowWasmSimd); }

}  // namespace opq
#endif
