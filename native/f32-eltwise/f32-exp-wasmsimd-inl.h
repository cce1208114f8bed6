// exp(z) for z <= 0 in WASM SIMD128, shared by Sigmoid (f32-eltwise-wasmsimd.cc) and Softmax
// (f32-softmax/f32-softmax-wasmsimd.cc): the AVX2 polynomial and reduction (f32-exp-avx2-inl.h)
// with separate multiplies and adds (no FMA in SIMD128). 0 below z = -87.34 (and for -inf), NaN
// stays NaN; z must not be positive.
#pragma once

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

namespace opq {
namespace f32 {
namespace {

template <bool kCorrected>
inline v128_t ExpNonPositiveImpl(v128_t z, v128_t z_lo) {
  const v128_t magic = wasm_f32x4_splat(0x1.8000FEp23f);
  v128_t n = wasm_f32x4_add(wasm_f32x4_mul(z, wasm_f32x4_splat(0x1.715476p+0f)), magic);
  const v128_t s = wasm_i32x4_shl(n, 23);
  n = wasm_f32x4_sub(n, magic);
  v128_t t = wasm_f32x4_add(wasm_f32x4_mul(n, wasm_f32x4_splat(-0x1.62E400p-1f)), z);
  t = wasm_f32x4_add(wasm_f32x4_mul(n, wasm_f32x4_splat(-0x1.7F7D1Cp-20f)), t);
  if (kCorrected) t = wasm_f32x4_add(t, z_lo);
  v128_t p = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_splat(0x1.6b5316p-10f), t), wasm_f32x4_splat(0x1.126c6ap-7f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, t), wasm_f32x4_splat(0x1.55578ap-5f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, t), wasm_f32x4_splat(0x1.55540cp-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, t), wasm_f32x4_splat(0x1.fffffcp-2f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, t), wasm_f32x4_splat(1.0f));
  const v128_t e = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(t, s), p), s);
  return wasm_v128_andnot(e, wasm_f32x4_lt(z, wasm_f32x4_splat(-0x1.5D589Ep+6f)));
}

// exp(z), z <= 0 or NaN.
inline v128_t ExpNonPositive(v128_t z) { return ExpNonPositiveImpl<false>(z, z); }

// exp(z + z_lo), z_lo the rounding error of z (see f32-exp-avx2-inl.h).
inline v128_t ExpNonPositive(v128_t z, v128_t z_lo) { return ExpNonPositiveImpl<true>(z, z_lo); }

// x - m as z + z_lo exactly (TwoSum).
inline v128_t SubExact(v128_t x, v128_t m, v128_t* z_lo) {
  const v128_t z = wasm_f32x4_sub(x, m);
  const v128_t mm = wasm_f32x4_sub(x, z);
  const v128_t xx = wasm_f32x4_add(z, mm);
  *z_lo = wasm_f32x4_sub(wasm_f32x4_sub(x, xx), wasm_f32x4_sub(m, mm));
  return z;
}

}  // namespace
}  // namespace f32
}  // namespace opq

#endif
