// WebAssembly SIMD128 lane versions of the fixed-point primitives (fixedpoint.h) with one exponent
// for all lanes. Include from -wasmsimd.cc files only; everything has internal linkage.
#pragma once

#include <wasm_simd128.h>

#include <cstdint>
#include <cstring>

namespace opq {
namespace {

inline v128_t SatShlU(v128_t x, int e) {
  if (e == 0) return x;
  v128_t r = wasm_i32x4_shl(x, e);
  r = wasm_v128_bitselect(wasm_i32x4_splat(INT32_MAX), r, wasm_i32x4_gt(x, wasm_i32x4_splat(INT32_MAX >> e)));
  return wasm_v128_bitselect(wasm_i32x4_splat(INT32_MIN), r, wasm_i32x4_lt(x, wasm_i32x4_splat(INT32_MIN >> e)));
}

// floor((a*b + 2^30) / 2^31) for b >= 0.
inline v128_t SrdhmU(v128_t a, v128_t b) {
  const v128_t nudge = wasm_i64x2_splat(int64_t{1} << 30);
  const v128_t lo = wasm_i64x2_add(wasm_i64x2_extmul_low_i32x4(a, b), nudge);
  const v128_t hi = wasm_i64x2_add(wasm_i64x2_extmul_high_i32x4(a, b), nudge);
  return wasm_i32x4_shuffle(wasm_u64x2_shr(lo, 31), wasm_u64x2_shr(hi, 31), 0, 2, 4, 6);
}

inline v128_t RdbpotU(v128_t x, int e) {
  if (e == 0) return x;
  const int32_t m = static_cast<int32_t>((int64_t{1} << e) - 1);
  const v128_t rem = wasm_v128_and(x, wasm_i32x4_splat(m));
  const v128_t thr = wasm_i32x4_sub(wasm_i32x4_splat(m >> 1), wasm_i32x4_lt(x, wasm_i32x4_splat(0)));
  return wasm_i32x4_sub(wasm_i32x4_shr(x, e), wasm_i32x4_gt(rem, thr));
}

inline v128_t MbqmU(v128_t x, v128_t vm, int32_t shift) {
  return RdbpotU(SrdhmU(SatShlU(x, shift > 0 ? shift : 0), vm), shift > 0 ? 0 : -shift);
}

inline v128_t ShiftPotU(v128_t x, int32_t s) { return s >= 0 ? SatShlU(x, s) : RdbpotU(x, -s); }

// 4 bytes to 4 int32 lanes.
inline v128_t Load4x8(const uint8_t* p, bool is_signed) {
  uint32_t w;
  std::memcpy(&w, p, 4);
  const v128_t v = wasm_i32x4_splat(static_cast<int32_t>(w));
  return is_signed ? wasm_i32x4_extend_low_i16x8(wasm_i16x8_extend_low_i8x16(v))
                   : wasm_u32x4_extend_low_u16x8(wasm_u16x8_extend_low_u8x16(v));
}

// 16 int32 lanes already within the 8-bit type to 16 bytes.
inline void Store16x8(uint8_t* y, v128_t v0, v128_t v1, v128_t v2, v128_t v3, bool is_signed) {
  const v128_t a = wasm_i16x8_narrow_i32x4(v0, v1), b = wasm_i16x8_narrow_i32x4(v2, v3);
  wasm_v128_store(y, is_signed ? wasm_i8x16_narrow_i16x8(a, b) : wasm_u8x16_narrow_i16x8(a, b));
}

}  // namespace
}  // namespace opq
