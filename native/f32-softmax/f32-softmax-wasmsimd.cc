// WASM SIMD128 opq_softmax_f32: the AVX2 variant's three passes (f32-softmax-avx2.cc) four lanes
// wide, exp from f32-exp-wasmsimd-inl.h, sums in f64x2 lanes. Partial vectors (a row's last 1-3
// elements, the last 1-3 columns of a strided block) go through a 4-float buffer.
#include <cmath>
#include <cstring>
#include <limits>

#include "f32-gemm/f32-kernels.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

#include "f32-eltwise/f32-exp-wasmsimd-inl.h"

namespace opq {

namespace {

// exp(x - m) for x <= m.
inline v128_t ExpDiff(v128_t x, v128_t m) {
  v128_t lo;
  const v128_t z = f32::SubExact(x, m, &lo);
  return f32::ExpNonPositive(z, lo);
}

inline void AddWide(v128_t e, v128_t* lo, v128_t* hi) {
  *lo = wasm_f64x2_add(*lo, wasm_f64x2_promote_low_f32x4(e));
  *hi = wasm_f64x2_add(*hi, wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(e, e, 2, 3, 2, 3)));
}

// The first r < 4 floats at p, the other lanes `fill`; and the first r lanes of v stored to p.
inline v128_t LoadPart(const float* p, size_t r, float fill) {
  float t[4] = {fill, fill, fill, fill};
  std::memcpy(t, p, r * sizeof(float));
  return wasm_v128_load(t);
}
inline void StorePart(float* p, size_t r, v128_t v) {
  float t[4];
  wasm_v128_store(t, v);
  std::memcpy(p, t, r * sizeof(float));
}

// Lanes [0, r) all ones.
inline v128_t LaneMask(size_t r) { return wasm_i32x4_lt(wasm_i32x4_make(0, 1, 2, 3), wasm_i32x4_splat(int32_t(r))); }

// One contiguous row of n >= 1 elements.
template <bool kLog>
void Row(size_t n, const float* x, float* y) {
  // The row's maximum over the values that are not NaN (the table's max kernel): a NaN still
  // reaches every output, through its exp and the sum.
  const v128_t m = wasm_f32x4_splat(F32MaxWasmSimd(n, x));

  v128_t s0 = wasm_f64x2_splat(0.0), s1 = s0, s2 = s0, s3 = s0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const v128_t e0 = ExpDiff(wasm_v128_load(x + i), m), e1 = ExpDiff(wasm_v128_load(x + i + 4), m);
    if (!kLog) {
      wasm_v128_store(y + i, e0);
      wasm_v128_store(y + i + 4, e1);
    }
    AddWide(e0, &s0, &s1);
    AddWide(e1, &s2, &s3);
  }
  for (; i < n; i += 4) {
    const size_t r = n - i < 4 ? n - i : 4;
    const v128_t e = wasm_v128_and(ExpDiff(r == 4 ? wasm_v128_load(x + i) : LoadPart(x + i, r, 0.0f), m), LaneMask(r));
    if (!kLog) StorePart(y + i, r, e);
    AddWide(e, &s0, &s1);
  }
  const v128_t sv = wasm_f64x2_add(wasm_f64x2_add(s0, s1), wasm_f64x2_add(s2, s3));
  const double s = wasm_f64x2_extract_lane(sv, 0) + wasm_f64x2_extract_lane(sv, 1);

  i = 0;
  if (kLog) {
    const v128_t ls = wasm_f32x4_splat(static_cast<float>(std::log(s)));
    for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, wasm_f32x4_sub(wasm_f32x4_sub(wasm_v128_load(x + i), m), ls));
    if (i < n) StorePart(y + i, n - i, wasm_f32x4_sub(wasm_f32x4_sub(LoadPart(x + i, n - i, 0.0f), m), ls));
  } else {
    const v128_t inv = wasm_f32x4_splat(static_cast<float>(1.0 / s));
    for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, wasm_f32x4_mul(wasm_v128_load(y + i), inv));
    if (i < n) StorePart(y + i, n - i, wasm_f32x4_mul(LoadPart(y + i, n - i, 0.0f), inv));
  }
}

// Loads and stores of a full block of 4 columns, or of the first r < 4.
struct Full {
  v128_t Load(const float* p) const { return wasm_v128_load(p); }
  void Store(float* p, v128_t v) const { wasm_v128_store(p, v); }
};
struct Part {
  size_t r;
  v128_t Load(const float* p) const { return LoadPart(p, r, 0.0f); }
  void Store(float* p, v128_t v) const { StorePart(p, r, v); }
};

// Columns [j, j + 4) (or fewer, by `io`) of one [len, inner] block: each lane its own row, len >= 1.
template <bool kLog, class IO>
void Columns(size_t len, size_t inner, const float* x, float* y, const IO& io) {
  v128_t m = io.Load(x);
  for (size_t k = 1; k < len; ++k) m = wasm_f32x4_pmax(m, io.Load(x + k * inner));
  v128_t s0 = wasm_f64x2_splat(0.0), s1 = s0;
  for (size_t k = 0; k < len; ++k) {
    const v128_t e = ExpDiff(io.Load(x + k * inner), m);
    if (!kLog) io.Store(y + k * inner, e);
    AddWide(e, &s0, &s1);
  }
  if (kLog) {
    const v128_t ls = wasm_f32x4_make(static_cast<float>(std::log(wasm_f64x2_extract_lane(s0, 0))),
                                      static_cast<float>(std::log(wasm_f64x2_extract_lane(s0, 1))),
                                      static_cast<float>(std::log(wasm_f64x2_extract_lane(s1, 0))),
                                      static_cast<float>(std::log(wasm_f64x2_extract_lane(s1, 1))));
    for (size_t k = 0; k < len; ++k)
      io.Store(y + k * inner, wasm_f32x4_sub(wasm_f32x4_sub(io.Load(x + k * inner), m), ls));
  } else {
    const v128_t one = wasm_f64x2_splat(1.0);
    const v128_t lo = wasm_f32x4_demote_f64x2_zero(wasm_f64x2_div(one, s0));
    const v128_t hi = wasm_f32x4_demote_f64x2_zero(wasm_f64x2_div(one, s1));
    const v128_t inv = wasm_i32x4_shuffle(lo, hi, 0, 1, 4, 5);
    for (size_t k = 0; k < len; ++k) io.Store(y + k * inner, wasm_f32x4_mul(io.Load(y + k * inner), inv));
  }
}

template <bool kLog>
void Softmax(size_t outer, size_t len, size_t inner, const float* x, float* y) {
  const size_t block = len * inner;
  for (size_t o = 0; o < outer; ++o, x += block, y += block) {
    if (inner == 1) {
      Row<kLog>(len, x, y);
      continue;
    }
    size_t j = 0;
    for (; j + 4 <= inner; j += 4) Columns<kLog>(len, inner, x + j, y + j, Full());
    if (j < inner) Columns<kLog>(len, inner, x + j, y + j, Part{inner - j});
  }
}

}  // namespace

void F32SoftmaxWasmSimd(size_t outer, size_t len, size_t inner, bool log, const float* x, float* y) {
  if (log)
    Softmax<true>(outer, len, inner, x, y);
  else
    Softmax<false>(outer, len, inner, x, y);
}

}  // namespace opq
#endif
