// WASM SIMD128 elementwise float32 ops and reductions. Sigmoid is the AVX2 variant's polynomial
// (f32-exp-wasmsimd-inl.h, shared with Softmax) with separate multiplies and adds (no FMA in
// SIMD128): within 2.5 ulp. Tanh stays scalar (C library).
#include "f32-gemm/f32-kernels.h"

#if defined(__wasm_simd128__)
#include <limits>
#include <wasm_simd128.h>

#include "f32-eltwise/f32-exp-wasmsimd-inl.h"
#include "f32-eltwise/f32-gelu-inl.h"

namespace opq {

namespace {

template <class F, class S>
void Map(size_t n, const float* x, float* y, F f, S s) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, f(wasm_v128_load(x + i)));
  for (; i < n; ++i) y[i] = s(x[i]);
}

template <class F, class S>
void Zip(size_t n, const float* a, const float* b, float* y, F f, S s) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, f(wasm_v128_load(a + i), wasm_v128_load(b + i)));
  for (; i < n; ++i) y[i] = s(a[i], b[i]);
}

// See Sigmoid in f32-eltwise-avx2.cc.
inline v128_t Sigmoid(v128_t x) {
  const v128_t one = wasm_f32x4_splat(1.0f);
  const v128_t e = f32::ExpNonPositive(wasm_v128_or(x, wasm_f32x4_splat(-0.0f)));
  const v128_t f = wasm_f32x4_div(e, wasm_f32x4_add(e, one));
  // x's sign bit picks f, else 1 - f.
  return wasm_v128_bitselect(f, wasm_f32x4_sub(one, f), wasm_i32x4_shr(x, 31));
}

// See Gelu in f32-eltwise-avx2.cc; without FMA, u^2's rounding error comes from Dekker's split
// (u = uh + ul, uh the top 12 significand bits: uh^2, uh ul and ul^2 are exact).
inline v128_t Gelu(v128_t x) {
  const v128_t one = wasm_f32x4_splat(1.0f), half = wasm_f32x4_splat(-0.5f);
  const v128_t u = wasm_f32x4_abs(x);
  const v128_t p = wasm_f32x4_mul(u, u);
  const v128_t uh = wasm_v128_and(u, wasm_i32x4_splat(int32_t(0xFFFFF000u))), ul = wasm_f32x4_sub(u, uh);
  const v128_t hl = wasm_f32x4_mul(uh, ul);
  const v128_t e = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_sub(wasm_f32x4_mul(uh, uh), p), wasm_f32x4_add(hl, hl)),
                                  wasm_f32x4_mul(ul, ul));
  const v128_t ex = f32::ExpNonPositive(wasm_f32x4_mul(p, half), wasm_f32x4_mul(e, half));
  const v128_t t = wasm_f32x4_div(one, wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_splat(f32::kGeluK), u), one));
  const v128_t s = wasm_f32x4_sub(wasm_f32x4_add(t, t), one);
  v128_t h = wasm_f32x4_splat(f32::kGeluH[12]);
  for (int i = 11; i >= 0; --i) h = wasm_f32x4_add(wasm_f32x4_mul(h, s), wasm_f32x4_splat(f32::kGeluH[i]));
  const v128_t g = wasm_f32x4_mul(t, h);
  const v128_t pos = wasm_f32x4_mul(x, wasm_f32x4_sub(one, wasm_f32x4_mul(ex, g)));
  const v128_t neg = wasm_f32x4_mul(wasm_f32x4_mul(x, ex), g);
  return wasm_v128_bitselect(neg, pos, wasm_i32x4_shr(x, 31));
}

}  // namespace

void F32UnaryWasmSimd(int32_t op, float p0, float p1, size_t n, const float* x, float* y) {
  const v128_t zero = wasm_f32x4_splat(0.0f), one = wasm_f32x4_splat(1.0f);
  const v128_t v0 = wasm_f32x4_splat(p0), v1 = wasm_f32x4_splat(p1);
  auto ref = [&](float v) { return UnaryRef(op, p0, p1, v); };
  switch (op) {
    case OPQ_UNARY_RELU:
      Map(
          n, x, y, [&](v128_t v) { return wasm_v128_bitselect(zero, v, wasm_f32x4_lt(v, zero)); }, ref);
      return;
    case OPQ_UNARY_CLIP:
      Map(
          n, x, y, [&](v128_t v) { return wasm_f32x4_pmin(wasm_f32x4_pmax(v, v0), v1); }, ref);
      return;
    case OPQ_UNARY_HARDSIGMOID:
      Map(
          n, x, y,
          [&](v128_t v) {
            return wasm_f32x4_pmin(wasm_f32x4_pmax(wasm_f32x4_add(wasm_f32x4_mul(v0, v), v1), zero), one);
          },
          ref);
      return;
    case OPQ_UNARY_HARDSWISH: {
      const v128_t sixth = wasm_f32x4_splat(1.0f / 6.0f), half = wasm_f32x4_splat(0.5f);
      Map(
          n, x, y,
          [&](v128_t v) {
            return wasm_f32x4_mul(
                v, wasm_f32x4_pmin(wasm_f32x4_pmax(wasm_f32x4_add(wasm_f32x4_mul(v, sixth), half), zero), one));
          },
          ref);
      return;
    }
    case OPQ_UNARY_LEAKYRELU:
      Map(
          n, x, y, [&](v128_t v) { return wasm_v128_bitselect(wasm_f32x4_mul(v0, v), v, wasm_f32x4_lt(v, zero)); },
          ref);
      return;
    case OPQ_UNARY_SIGMOID:
      Map(
          n, x, y, [&](v128_t v) { return Sigmoid(v); }, ref);
      return;
    case OPQ_UNARY_GELU:
      Map(
          n, x, y, [&](v128_t v) { return Gelu(v); }, ref);
      return;
    default:
      for (size_t i = 0; i < n; ++i) y[i] = ref(x[i]);
      return;
  }
}

void F32BinaryWasmSimd(int32_t op, size_t n, const float* a, const float* b, float* y) {
  switch (op) {
    case OPQ_BINARY_ADD:
      Zip(n, a, b, y, wasm_f32x4_add, [](float p, float q) { return p + q; });
      return;
    case OPQ_BINARY_SUB:
      Zip(n, a, b, y, wasm_f32x4_sub, [](float p, float q) { return p - q; });
      return;
    case OPQ_BINARY_MUL:
      Zip(n, a, b, y, wasm_f32x4_mul, [](float p, float q) { return p * q; });
      return;
    default:
      Zip(n, a, b, y, wasm_f32x4_div, [](float p, float q) { return p / q; });
      return;
  }
}

void F32BinaryScalarWasmSimd(int32_t op, size_t n, const float* a, float s, float* y) {
  const v128_t q = wasm_f32x4_splat(s);
  switch (op) {
    case OPQ_BINARY_ADD:
      Map(
          n, a, y, [&](v128_t p) { return wasm_f32x4_add(p, q); }, [&](float p) { return p + s; });
      return;
    case OPQ_BINARY_SUB:
      Map(
          n, a, y, [&](v128_t p) { return wasm_f32x4_sub(p, q); }, [&](float p) { return p - s; });
      return;
    case OPQ_BINARY_MUL:
      Map(
          n, a, y, [&](v128_t p) { return wasm_f32x4_mul(p, q); }, [&](float p) { return p * s; });
      return;
    default:
      Map(
          n, a, y, [&](v128_t p) { return wasm_f32x4_div(p, q); }, [&](float p) { return p / s; });
      return;
  }
}

float F32SumWasmSimd(size_t n, const float* x) {
  v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    s0 = wasm_f32x4_add(s0, wasm_v128_load(x + i));
    s1 = wasm_f32x4_add(s1, wasm_v128_load(x + i + 4));
  }
  const v128_t s = wasm_f32x4_add(s0, s1);
  float r = (wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 1)) +
            (wasm_f32x4_extract_lane(s, 2) + wasm_f32x4_extract_lane(s, 3));
  for (; i < n; ++i) r += x[i];
  return r;
}

float F32MaxWasmSimd(size_t n, const float* x) {
  const float ninf = -std::numeric_limits<float>::infinity();
  v128_t m = wasm_f32x4_splat(ninf);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) m = wasm_f32x4_pmax(m, wasm_v128_load(x + i));
  float r = ninf;
  for (int l = 0; l < 4; ++l) {
    const float v = wasm_f32x4_extract_lane(m, 0);
    r = v > r ? v : r;
    m = wasm_i32x4_shuffle(m, m, 1, 2, 3, 0);
  }
  for (; i < n; ++i) r = x[i] > r ? x[i] : r;
  return r;
}

}  // namespace opq
#endif
