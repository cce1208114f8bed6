// WebAssembly SIMD128 rows of the A16W8 Add and Mul: inputs widened to int32 blocks, 4 lanes per
// step in int32 (fixed-point and shift) or float32 (float), as the 8-bit Add and requantizer.
#include "qbinary16/qbinary16.h"

#if defined(__wasm_simd128__)
#include "qbinary16/qbinary16-simd-inl.h"
#include "qsimd/fixedpoint-wasmsimd-inl.h"

namespace opq {

void QAdd16RowWasmSimd(const void* a, int32_t at, bool as, const void* b, int32_t bt, bool bs, size_t n,
                       const opq_qadd_params& p, float fixed, void* y, int32_t yt) {
  const v128_t lo = wasm_i32x4_splat(p.output_min - p.output_zero_point);
  const v128_t hi = wasm_i32x4_splat(p.output_max - p.output_zero_point);
  const v128_t zc = wasm_i32x4_splat(p.output_zero_point);
  const v128_t za = wasm_i32x4_splat(p.a_zero_point), zb = wasm_i32x4_splat(p.b_zero_point);
  const v128_t ma = wasm_i32x4_splat(p.a_multiplier), mb = wasm_i32x4_splat(p.b_multiplier);
  const v128_t mo = wasm_i32x4_splat(p.output_multiplier);
  const v128_t fa = wasm_f32x4_splat(p.a_scale), fb = wasm_f32x4_splat(p.b_scale), ff = wasm_f32x4_splat(fixed);
  const v128_t fmin = wasm_f32x4_splat(static_cast<float>(p.output_min));
  const v128_t fmax = wasm_f32x4_splat(static_cast<float>(p.output_max));
  Qb16Blocks(a, at, as, b, bt, bs, n, y, yt, [&](const int32_t* pa, const int32_t* pb, size_t m, int32_t* py) {
    for (size_t j = 0; j < m; j += 4) {
      const v128_t va = wasm_v128_load(pa + j), vb = wasm_v128_load(pb + j);
      v128_t r;
      if (p.mode == OPQ_REQUANT_FLOAT) {
        const v128_t xa = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(va), fa);
        const v128_t xb = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(vb), fb);
        v128_t v = wasm_f32x4_add(wasm_f32x4_add(ff, xa), xb);
        v = wasm_f32x4_pmin(wasm_f32x4_pmax(v, fmin), fmax);
        r = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(v));
      } else {
        const v128_t xa = wasm_i32x4_shl(wasm_i32x4_sub(va, za), p.left_shift);
        const v128_t xb = wasm_i32x4_shl(wasm_i32x4_sub(vb, zb), p.left_shift);
        v128_t v;
        if (p.mode == OPQ_REQUANT_SHIFT)
          v = ShiftPotU(wasm_i32x4_add(ShiftPotU(xa, p.a_shift), ShiftPotU(xb, p.b_shift)), p.output_shift);
        else
          v = MbqmU(wasm_i32x4_add(MbqmU(xa, ma, p.a_shift), MbqmU(xb, mb, p.b_shift)), mo, p.output_shift);
        r = wasm_i32x4_add(wasm_i32x4_min(wasm_i32x4_max(v, lo), hi), zc);
      }
      wasm_v128_store(py + j, r);
    }
  });
}

void QMul16RowWasmSimd(const void* a, int32_t at, bool as, int32_t za, const void* b, int32_t bt, bool bs, int32_t zb,
                       size_t n, const opq_requant& rq, void* y, int32_t yt) {
  const int32_t zp = rq.output_zero_point;
  const v128_t lo = wasm_i32x4_splat(rq.output_min - zp), hi = wasm_i32x4_splat(rq.output_max - zp);
  const v128_t vz = wasm_i32x4_splat(zp), vza = wasm_i32x4_splat(za), vzb = wasm_i32x4_splat(zb);
  const v128_t flo = wasm_f32x4_splat(static_cast<float>(rq.output_min - zp));
  const v128_t fhi = wasm_f32x4_splat(static_cast<float>(rq.output_max - zp));
  const int32_t mode = rq.mode, shift = rq.shift[0];
  const v128_t vm = wasm_i32x4_splat(mode == OPQ_REQUANT_FIXED_POINT ? rq.multiplier[0] : 0);
  const v128_t vs = wasm_f32x4_splat(mode == OPQ_REQUANT_FLOAT ? rq.scale[0] : 0.0f);
  Qb16Blocks(a, at, as, b, bt, bs, n, y, yt, [&](const int32_t* pa, const int32_t* pb, size_t m, int32_t* py) {
    for (size_t j = 0; j < m; j += 4) {
      const v128_t acc = wasm_i32x4_mul(wasm_i32x4_sub(wasm_v128_load(pa + j), vza),
                                        wasm_i32x4_sub(wasm_v128_load(pb + j), vzb));  // exact (validated)
      v128_t v;
      if (mode == OPQ_REQUANT_FLOAT) {
        v128_t f = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(acc), vs);
        f = wasm_f32x4_pmin(wasm_f32x4_pmax(f, flo), fhi);
        v = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(f));
      } else {
        v = mode == OPQ_REQUANT_SHIFT ? ShiftPotU(acc, shift) : MbqmU(acc, vm, shift);
        v = wasm_i32x4_min(wasm_i32x4_max(v, lo), hi);
      }
      wasm_v128_store(py + j, wasm_i32x4_add(v, vz));
    }
  });
}

}  // namespace opq
#endif
