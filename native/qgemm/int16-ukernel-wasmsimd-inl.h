// The 4x8 int16-pair GEMM microkernel (i32x4.dot_i16x8_s), shared by qgemm and conv; the wasm
// twin of int16-ukernel-avx2-inl.h, exact for the same reason. Internal linkage.
#pragma once

#include <wasm_simd128.h>

#include <cstddef>
#include <cstdint>

#include "qgemm/qgemm.h"

namespace opq {
namespace {

constexpr size_t kInt16WasmMr = 4, kInt16WasmNr = 8;

inline void Int16Ukernel4x8WasmSimd(size_t kc, const int32_t* a, const int16_t* b, int32_t* c, size_t ldc,
                                    bool accumulate) {
  // One macro call per unrolled row, laid out as the register tile (clang-format 14 reflows them unstably).
  // clang-format off
#define OPQ_LOAD_ROW(r)                                                           \
  v128_t c##r##0 = accumulate ? wasm_v128_load(c + r * ldc) : wasm_i32x4_splat(0); \
  v128_t c##r##1 = accumulate ? wasm_v128_load(c + r * ldc + 4) : wasm_i32x4_splat(0);
  OPQ_LOAD_ROW(0) OPQ_LOAD_ROW(1) OPQ_LOAD_ROW(2) OPQ_LOAD_ROW(3)
#undef OPQ_LOAD_ROW
  for (size_t q = 0; q < kc; ++q) {
    const v128_t b0 = wasm_v128_load(b);
    const v128_t b1 = wasm_v128_load(b + 8);
#define OPQ_ROW(r)                                                    \
  {                                                                   \
    const v128_t av = wasm_i32x4_splat(a[r]);                         \
    c##r##0 = wasm_i32x4_add(c##r##0, wasm_i32x4_dot_i16x8(av, b0)); \
    c##r##1 = wasm_i32x4_add(c##r##1, wasm_i32x4_dot_i16x8(av, b1)); \
  }
    OPQ_ROW(0) OPQ_ROW(1) OPQ_ROW(2) OPQ_ROW(3)
#undef OPQ_ROW
    a += kInt16WasmMr;
    b += kInt16WasmNr * 2;
  }
#define OPQ_STORE_ROW(r)                   \
  wasm_v128_store(c + r * ldc, c##r##0); \
  wasm_v128_store(c + r * ldc + 4, c##r##1);
  OPQ_STORE_ROW(0) OPQ_STORE_ROW(1) OPQ_STORE_ROW(2) OPQ_STORE_ROW(3)
#undef OPQ_STORE_ROW
  // clang-format on
}

// One full 8-column B panel as PackBInt16 lays it out (PackBFullFn): per pair of rows, 8 bytes of
// each widened to int16, minus the column zero points, interleaved into (k, k+1) pairs.
inline void PackBInt16FullWasmSimd(const GemmOperands& o, size_t kp, size_t j0, int16_t* dst) {
  int16_t zb[kInt16WasmNr];
  for (size_t c = 0; c < kInt16WasmNr; ++c) zb[c] = static_cast<int16_t>(o.b_zero_point[o.b_zp_per_col ? j0 + c : 0]);
  const v128_t vzb = wasm_v128_load(zb);
  const auto row = [&](size_t kk) {
    const v128_t v = wasm_v128_load64_zero(o.b + kk * o.ldb + j0);
    return wasm_i16x8_sub(o.b_signed ? wasm_i16x8_extend_low_i8x16(v) : wasm_u16x8_extend_low_u8x16(v), vzb);
  };
  for (size_t q = 0; q < kp; ++q) {
    const v128_t w0 = row(2 * q), w1 = 2 * q + 1 < o.k ? row(2 * q + 1) : wasm_i16x8_splat(0);
    wasm_v128_store(dst + q * kInt16WasmNr * 2, wasm_i16x8_shuffle(w0, w1, 0, 8, 1, 9, 2, 10, 3, 11));
    wasm_v128_store(dst + q * kInt16WasmNr * 2 + 8, wasm_i16x8_shuffle(w0, w1, 4, 12, 5, 13, 6, 14, 7, 15));
  }
}

}  // namespace
}  // namespace opq
