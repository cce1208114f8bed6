// WebAssembly SIMD128 row requantization: the same results as RequantizeOne, 4 lanes at a time.
#include "requant/requant.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

#include <cstring>

#include "qsimd/fixedpoint-wasmsimd-inl.h"

namespace opq {
namespace {

inline void Store4(uint8_t* y, v128_t v) {
  const v128_t bytes = wasm_i8x16_shuffle(v, v, 0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12);
  const uint32_t w = static_cast<uint32_t>(wasm_i32x4_extract_lane(bytes, 0));
  std::memcpy(y, &w, 4);
}

// The blocks of 16 of a row whose parameters are one per tensor (fixed-point or shift mode), as a
// convolution's NCHW output row is (one channel): parameters read once, 16 results narrowed to
// bytes at a time; add (wrapping) is a channel row's bias. Returns how many elements it wrote; the
// caller finishes the row.
size_t RequantRowPerTensor16(const int32_t* acc, const int32_t* bias, int32_t add, size_t n, const opq_requant& rq,
                             uint8_t* y) {
  const int32_t s = rq.shift[0], zp = rq.output_zero_point;
  const bool multiply = rq.mode != OPQ_REQUANT_SHIFT;
  const v128_t vm = wasm_i32x4_splat(multiply ? rq.multiplier[0] : 0);
  const v128_t vlo = wasm_i32x4_splat(rq.output_min - zp), vhi = wasm_i32x4_splat(rq.output_max - zp);
  const v128_t vzp16 = wasm_i16x8_splat(static_cast<int16_t>(zp));
  // Clamped results lie in the output type, so narrowing never saturates; a negative minimum means int8.
  const bool signed_out = rq.output_min < 0;
  const v128_t vadd = wasm_i32x4_splat(add);
  const auto one = [&](size_t i) {
    v128_t x = wasm_i32x4_add(wasm_v128_load(acc + i), vadd);
    if (bias) x = wasm_i32x4_add(x, wasm_v128_load(bias + i));
    x = multiply ? MbqmU(x, vm, s) : ShiftPotU(x, s);
    return wasm_i32x4_min(wasm_i32x4_max(x, vlo), vhi);
  };
  size_t j = 0;
  for (; j + 16 <= n; j += 16) {
    const v128_t a = wasm_i16x8_add(wasm_i16x8_narrow_i32x4(one(j), one(j + 4)), vzp16);
    const v128_t b = wasm_i16x8_add(wasm_i16x8_narrow_i32x4(one(j + 8), one(j + 12)), vzp16);
    wasm_v128_store(y + j, signed_out ? wasm_i8x16_narrow_i16x8(a, b) : wasm_u8x16_narrow_i16x8(a, b));
  }
  return j;
}

}  // namespace

void RequantRowWasmSimd(const int32_t* acc, const int32_t* bias, size_t n, const opq_requant& rq, size_t c0,
                        uint8_t* y) {
  const bool pc = rq.count != 1;
  if (!pc && rq.mode != OPQ_REQUANT_FLOAT && n >= 16) {
    PerTensorRowOverlapped<RequantRowPerTensor16, 16>(acc, bias, 0, n, rq, y);
    return;
  }
  const int32_t zp = rq.output_zero_point;
  const v128_t vzp = wasm_i32x4_splat(zp);
  const v128_t vlo = wasm_i32x4_splat(rq.output_min - zp), vhi = wasm_i32x4_splat(rq.output_max - zp);
  const v128_t flo = wasm_f32x4_splat(static_cast<float>(rq.output_min - zp));
  const v128_t fhi = wasm_f32x4_splat(static_cast<float>(rq.output_max - zp));
  size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    v128_t x = wasm_v128_load(acc + j);
    if (bias) x = wasm_i32x4_add(x, wasm_v128_load(bias + j));
    const size_t c = c0 + j;
    v128_t v;
    if (rq.mode == OPQ_REQUANT_FLOAT) {
      const v128_t s = pc ? wasm_v128_load(rq.scale + c) : wasm_f32x4_splat(rq.scale[0]);
      v128_t f = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(x), s);
      f = wasm_f32x4_pmin(wasm_f32x4_pmax(f, flo), fhi);
      v = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(f));
    } else {
      int32_t sh[4], m0[4];
      for (int l = 0; l < 4; ++l) {
        sh[l] = rq.shift[pc ? c + l : 0];
        m0[l] = rq.mode == OPQ_REQUANT_FIXED_POINT ? rq.multiplier[pc ? c + l : 0] : 0;
      }
      const bool uniform = sh[0] == sh[1] && sh[0] == sh[2] && sh[0] == sh[3];
      if (uniform) {
        v = rq.mode == OPQ_REQUANT_FIXED_POINT ? MbqmU(x, wasm_v128_load(m0), sh[0]) : ShiftPotU(x, sh[0]);
      } else {
        int32_t lanes[4], out[4];
        wasm_v128_store(lanes, x);
        for (int l = 0; l < 4; ++l) {
          out[l] = rq.mode == OPQ_REQUANT_FIXED_POINT
                       ? MultiplyByQuantizedMultiplier(lanes[l], m0[l], sh[l])
                       : (sh[l] >= 0 ? SaturatingShiftLeft(lanes[l], sh[l]) : RoundingDivideByPOT(lanes[l], -sh[l]));
        }
        v = wasm_v128_load(out);
      }
      v = wasm_i32x4_min(wasm_i32x4_max(v, vlo), vhi);
    }
    Store4(y + j, wasm_i32x4_add(v, vzp));
  }
  if (j < n) RequantRowRef(acc + j, bias ? bias + j : nullptr, n - j, rq, c0 + j, y + j);
}

void RequantChannelRowWasmSimd(int32_t* acc, int32_t add, size_t n, const opq_requant& rq, size_t c, uint8_t* y) {
  RequantChannelRowSimd<RequantRowPerTensor16, 16, RequantRowWasmSimd>(acc, add, n, rq, c, y);
}

}  // namespace opq
#endif
