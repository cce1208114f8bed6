// WebAssembly SIMD128 QuantizeLinear / DequantizeLinear rows: the scalar definition's float32 ops.
#include "opq_qunary.h"
#include "quantize/quantize.h"

#if defined(__wasm_simd128__)
#include "qsimd/fixedpoint-wasmsimd-inl.h"

namespace opq {

void QuantizeRowWasmSimd(const float* x, size_t n, float s, int32_t z, bool y_signed, uint8_t* y) {
  const int32_t tmin = y_signed ? -128 : 0, tmax = y_signed ? 127 : 255;
  const v128_t vs = wasm_f32x4_splat(s);
  const v128_t lo = wasm_f32x4_splat(static_cast<float>(tmin - z)), hi = wasm_f32x4_splat(static_cast<float>(tmax - z));
  const v128_t vz = wasm_i32x4_splat(z);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    v128_t q[4];
    for (int k = 0; k < 4; ++k) {
      // pmax(lo, f) = lo < f ? f : lo, so NaN -> lo.
      const v128_t f = wasm_f32x4_pmin(hi, wasm_f32x4_pmax(lo, wasm_f32x4_div(wasm_v128_load(x + i + 4 * k), vs)));
      q[k] = wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(f)), vz);
    }
    Store16x8(y + i, q[0], q[1], q[2], q[3], y_signed);
  }
  if (i < n) QuantizeRowRef(x + i, n - i, s, z, y_signed, y + i);
}

void DequantizeRowWasmSimd(const void* x, int32_t x_type, size_t n, float s, int32_t z, float* y) {
  const v128_t vs = wasm_f32x4_splat(s);
  const v128_t vz = wasm_i32x4_splat(z);
  size_t i = 0;
  if (x_type == OPQ_DQ_INT32) {
    if (z != 0) {
      DequantizeRowRef(x, x_type, n, s, z, y);
      return;
    }
    const int32_t* p = static_cast<const int32_t*>(x);
    for (; i + 4 <= n; i += 4)
      wasm_v128_store(y + i, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(wasm_v128_load(p + i)), vs));
    if (i < n) DequantizeRowRef(p + i, x_type, n - i, s, z, y + i);
    return;
  }
  const uint8_t* p = static_cast<const uint8_t*>(x);
  const bool sgn = x_type == OPQ_DQ_INT8;
  for (; i + 4 <= n; i += 4)
    wasm_v128_store(y + i, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(wasm_i32x4_sub(Load4x8(p + i, sgn), vz)), vs));
  if (i < n) DequantizeRowRef(p + i, x_type, n - i, s, z, y + i);
}

}  // namespace opq
#endif
