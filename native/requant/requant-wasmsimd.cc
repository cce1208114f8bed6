// WebAssembly SIMD128 row requantization: the same results as RequantizeOne, 4 lanes at a time.
#include "requant/requant.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

#include <cstring>

namespace opq {
namespace {

// floor((a*b + 2^30) / 2^31) per lane for b >= 0 (no saturating case), via 64-bit products.
inline v128_t Srdhm(v128_t a, v128_t b) {
  const v128_t nudge = wasm_i64x2_splat(int64_t{1} << 30);
  const v128_t lo = wasm_i64x2_add(wasm_i64x2_extmul_low_i32x4(a, b), nudge);
  const v128_t hi = wasm_i64x2_add(wasm_i64x2_extmul_high_i32x4(a, b), nudge);
  // Low dword of each (v >> 31): take dwords 0 and 2 of each shifted half.
  return wasm_i32x4_shuffle(wasm_u64x2_shr(lo, 31), wasm_u64x2_shr(hi, 31), 0, 2, 4, 6);
}

// Per-lane variable shifts: wasm shifts take one scalar count, so do the lanes one by one when the
// exponents differ (per channel) and all at once when they are equal (per tensor).
inline v128_t Rdbpot(v128_t x, int32_t e) {
  const v128_t mask = wasm_i32x4_splat(static_cast<int32_t>((int64_t{1} << e) - 1));
  const v128_t rem = wasm_v128_and(x, mask);
  const v128_t thr = wasm_i32x4_sub(wasm_i32x4_splat(static_cast<int32_t>(((int64_t{1} << e) - 1) >> 1)),
                                    wasm_i32x4_lt(x, wasm_i32x4_splat(0)));
  return wasm_i32x4_sub(wasm_i32x4_shr(x, e), wasm_i32x4_gt(rem, thr));
}

inline v128_t SatShl(v128_t x, int32_t e) {
  const v128_t hi = wasm_i32x4_splat(INT32_MAX >> e);
  const v128_t lo = wasm_i32x4_splat(INT32_MIN >> e);
  v128_t r = wasm_i32x4_shl(x, e);
  r = wasm_v128_bitselect(wasm_i32x4_splat(INT32_MAX), r, wasm_i32x4_gt(x, hi));
  r = wasm_v128_bitselect(wasm_i32x4_splat(INT32_MIN), r, wasm_i32x4_lt(x, lo));
  return r;
}

inline void Store4(uint8_t* y, v128_t v) {
  const v128_t bytes = wasm_i8x16_shuffle(v, v, 0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12);
  const uint32_t w = static_cast<uint32_t>(wasm_i32x4_extract_lane(bytes, 0));
  std::memcpy(y, &w, 4);
}

}  // namespace

void RequantRowWasmSimd(const int32_t* acc, const int32_t* bias, size_t n, const opq_requant& rq, size_t c0,
                        uint8_t* y) {
  const bool pc = rq.count != 1;
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
        const int32_t left = sh[0] > 0 ? sh[0] : 0, right = sh[0] > 0 ? 0 : -sh[0];
        v = SatShl(x, left);
        if (rq.mode == OPQ_REQUANT_FIXED_POINT) v = Srdhm(v, wasm_v128_load(m0));
        v = Rdbpot(v, right);
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

}  // namespace opq
#endif
