// WebAssembly SIMD128 quantized Add: 16 outputs per step in int32 or float32 lanes.
#include "qadd/qadd.h"

#if defined(__wasm_simd128__)
#include "qsimd/fixedpoint-wasmsimd-inl.h"

namespace opq {
namespace {

inline v128_t LoadOrSplat(const uint8_t* p, bool scalar, size_t j, bool is_signed) {
  return scalar ? wasm_i32x4_splat(Load8(p, is_signed)) : Load4x8(p + j, is_signed);
}

}  // namespace

void QAddRowWasmSimd(const uint8_t* a, bool a_scalar, const uint8_t* b, bool b_scalar, size_t n, bool is_signed,
                     const opq_qadd_params& p, float fixed, uint8_t* y) {
  const v128_t lo = wasm_i32x4_splat(p.output_min - p.output_zero_point);
  const v128_t hi = wasm_i32x4_splat(p.output_max - p.output_zero_point);
  const v128_t zc = wasm_i32x4_splat(p.output_zero_point);
  const v128_t za = wasm_i32x4_splat(p.a_zero_point), zb = wasm_i32x4_splat(p.b_zero_point);
  const v128_t ma = wasm_i32x4_splat(p.a_multiplier), mb = wasm_i32x4_splat(p.b_multiplier);
  const v128_t mo = wasm_i32x4_splat(p.output_multiplier);
  const v128_t fa = wasm_f32x4_splat(p.a_scale), fb = wasm_f32x4_splat(p.b_scale), ff = wasm_f32x4_splat(fixed);
  const v128_t fmin = wasm_f32x4_splat(static_cast<float>(p.output_min));
  const v128_t fmax = wasm_f32x4_splat(static_cast<float>(p.output_max));
  size_t j = 0;
  for (; j + 16 <= n; j += 16) {
    v128_t out[4];
    for (int q = 0; q < 4; ++q) {
      const v128_t va = LoadOrSplat(a, a_scalar, j + 4 * q, is_signed);
      const v128_t vb = LoadOrSplat(b, b_scalar, j + 4 * q, is_signed);
      if (p.mode == OPQ_REQUANT_FLOAT) {
        const v128_t pa = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(va), fa);
        const v128_t pb = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(vb), fb);
        v128_t v = wasm_f32x4_add(wasm_f32x4_add(ff, pa), pb);
        v = wasm_f32x4_pmin(wasm_f32x4_pmax(v, fmin), fmax);
        out[q] = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(v));
      } else {
        const v128_t xa = wasm_i32x4_shl(wasm_i32x4_sub(va, za), p.left_shift);
        const v128_t xb = wasm_i32x4_shl(wasm_i32x4_sub(vb, zb), p.left_shift);
        v128_t v;
        if (p.mode == OPQ_REQUANT_SHIFT) {
          v = ShiftPotU(wasm_i32x4_add(ShiftPotU(xa, p.a_shift), ShiftPotU(xb, p.b_shift)), p.output_shift);
        } else {
          v = MbqmU(wasm_i32x4_add(MbqmU(xa, ma, p.a_shift), MbqmU(xb, mb, p.b_shift)), mo, p.output_shift);
        }
        out[q] = wasm_i32x4_add(wasm_i32x4_min(wasm_i32x4_max(v, lo), hi), zc);
      }
    }
    Store16x8(y + j, out[0], out[1], out[2], out[3], is_signed);
  }
  if (j < n)
    QAddRowRef(a_scalar ? a : a + j, a_scalar, b_scalar ? b : b + j, b_scalar, n - j, is_signed, p, fixed, y + j);
}

}  // namespace opq
#endif
