// AVX2 elementwise float32 ops and reductions. Sigmoid evaluates exp(-|x|) as 2^n times a degree-6
// polynomial (two-constant ln2 reduction, FMA: f32-exp-avx2-inl.h, shared with Softmax), then
// e / (1 + e): within 2.5 ulp of the exact value over every float (DESIGN: float results may differ
// in the last ulps), 10-20x the C library's speed. Tanh stays scalar (C library): tanh near 0
// needs expm1, not exp.
#include <limits>

#include "f32-gemm/f32-avx2-util.h"
#include "f32-gemm/f32-kernels.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "isa/x86-avx2-begin.h"

#include "f32-eltwise/f32-exp-avx2-inl.h"
#include "f32-eltwise/f32-gelu-inl.h"

namespace opq {

namespace {

template <class F>
void Map(size_t n, const float* x, float* y, F f) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, f(_mm256_loadu_ps(x + i)));
  if (i < n) {
    const __m256i mask = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(f32::kTailMask + 8 - (n - i)));
    _mm256_maskstore_ps(y + i, mask, f(_mm256_maskload_ps(x + i, mask)));
  }
}

template <class F>
void Zip(size_t n, const float* a, const float* b, float* y, F f) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, f(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
  if (i < n) {
    const __m256i mask = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(f32::kTailMask + 8 - (n - i)));
    _mm256_maskstore_ps(y + i, mask, f(_mm256_maskload_ps(a + i, mask), _mm256_maskload_ps(b + i, mask)));
  }
}

// Functors rather than captureless lambdas: a lambda's function-pointer thunk would be compiled
// without AVX (GCC warns about the ABI of its vector return).
struct AddOp {
  __m256 operator()(__m256 p, __m256 q) const { return _mm256_add_ps(p, q); }
};
struct SubOp {
  __m256 operator()(__m256 p, __m256 q) const { return _mm256_sub_ps(p, q); }
};
struct MulOp {
  __m256 operator()(__m256 p, __m256 q) const { return _mm256_mul_ps(p, q); }
};
struct DivOp {
  __m256 operator()(__m256 p, __m256 q) const { return _mm256_div_ps(p, q); }
};

// 1 / (1 + exp(-x)): f = e / (1 + e) with e = exp(z), z = -|x| (f32-exp-avx2-inl.h; 0 below
// z = -87.34, where the true value is under 1.2e-38), is sigmoid(z), and sigmoid(x) = 1 - f for
// x > 0. NaN stays NaN.
inline __m256 Sigmoid(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 e = f32::ExpNonPositive(_mm256_or_ps(x, _mm256_set1_ps(-0.0f)));
  const __m256 f = _mm256_div_ps(e, _mm256_add_ps(e, one));
  return _mm256_blendv_ps(_mm256_sub_ps(one, f), f, x);  // x's sign bit picks f
}

// x Phi(x) as f32-gelu-inl.h derives it. NaN stays NaN; +inf gives +inf, -inf NaN (x * 0), as
// 0.5 x (1 + erf(x / sqrt 2)) does; below x = -13.2 (exp's argument under -87.34) the result is -0.
inline __m256 Gelu(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f), half = _mm256_set1_ps(-0.5f);
  const __m256 u = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
  const __m256 p = _mm256_mul_ps(u, u);
  const __m256 e = _mm256_fmsub_ps(u, u, p);  // u^2 = p + e exactly
  const __m256 ex = f32::ExpNonPositive(_mm256_mul_ps(p, half), _mm256_mul_ps(e, half));
  const __m256 t = _mm256_div_ps(one, _mm256_fmadd_ps(_mm256_set1_ps(f32::kGeluK), u, one));
  const __m256 s = _mm256_fmsub_ps(_mm256_set1_ps(2.0f), t, one);
  __m256 h = _mm256_set1_ps(f32::kGeluH[12]);
  for (int i = 11; i >= 0; --i) h = _mm256_fmadd_ps(h, s, _mm256_set1_ps(f32::kGeluH[i]));
  const __m256 g = _mm256_mul_ps(t, h);
  // x >= 0: x (1 - ex g). x < 0: (x ex) g, in that order so that no factor goes subnormal first.
  const __m256 pos = _mm256_mul_ps(x, _mm256_fnmadd_ps(ex, g, one));
  const __m256 neg = _mm256_mul_ps(_mm256_mul_ps(x, ex), g);
  return _mm256_blendv_ps(pos, neg, x);  // x's sign bit picks the negative form
}

}  // namespace

void F32UnaryAvx2(int32_t op, float p0, float p1, size_t n, const float* x, float* y) {
  const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
  const __m256 v0 = _mm256_set1_ps(p0), v1 = _mm256_set1_ps(p1);
  switch (op) {
    case OPQ_UNARY_RELU:
      // x < 0 ? 0 : x, keeping NaN (the reference's comparison).
      Map(n, x, y, [&](__m256 v) { return _mm256_blendv_ps(v, zero, _mm256_cmp_ps(v, zero, _CMP_LT_OQ)); });
      return;
    case OPQ_UNARY_CLIP:
      Map(n, x, y, [&](__m256 v) { return _mm256_min_ps(v1, _mm256_max_ps(v0, v)); });
      return;
    case OPQ_UNARY_HARDSIGMOID:
      Map(n, x, y,
          [&](__m256 v) { return _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(_mm256_mul_ps(v0, v), v1), zero), one); });
      return;
    case OPQ_UNARY_HARDSWISH: {
      const __m256 sixth = _mm256_set1_ps(1.0f / 6.0f), half = _mm256_set1_ps(0.5f);
      Map(n, x, y, [&](__m256 v) {
        return _mm256_mul_ps(v, _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(_mm256_mul_ps(v, sixth), half), zero), one));
      });
      return;
    }
    case OPQ_UNARY_LEAKYRELU:
      Map(n, x, y,
          [&](__m256 v) { return _mm256_blendv_ps(v, _mm256_mul_ps(v0, v), _mm256_cmp_ps(v, zero, _CMP_LT_OQ)); });
      return;
    case OPQ_UNARY_SIGMOID:
      Map(n, x, y, [&](__m256 v) { return Sigmoid(v); });
      return;
    case OPQ_UNARY_GELU:
      Map(n, x, y, [&](__m256 v) { return Gelu(v); });
      return;
    default:
      for (size_t i = 0; i < n; ++i) y[i] = UnaryRef(op, p0, p1, x[i]);
      return;
  }
}

void F32BinaryAvx2(int32_t op, size_t n, const float* a, const float* b, float* y) {
  switch (op) {
    case OPQ_BINARY_ADD:
      Zip(n, a, b, y, AddOp());
      return;
    case OPQ_BINARY_SUB:
      Zip(n, a, b, y, SubOp());
      return;
    case OPQ_BINARY_MUL:
      Zip(n, a, b, y, MulOp());
      return;
    default:
      Zip(n, a, b, y, DivOp());
      return;
  }
}

void F32BinaryScalarAvx2(int32_t op, size_t n, const float* a, float s, float* y) {
  const __m256 q = _mm256_set1_ps(s);
  switch (op) {
    case OPQ_BINARY_ADD:
      Map(n, a, y, [&](__m256 p) { return _mm256_add_ps(p, q); });
      return;
    case OPQ_BINARY_SUB:
      Map(n, a, y, [&](__m256 p) { return _mm256_sub_ps(p, q); });
      return;
    case OPQ_BINARY_MUL:
      Map(n, a, y, [&](__m256 p) { return _mm256_mul_ps(p, q); });
      return;
    default:
      Map(n, a, y, [&](__m256 p) { return _mm256_div_ps(p, q); });
      return;
  }
}

float F32SumAvx2(size_t n, const float* x) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm256_add_ps(s0, _mm256_loadu_ps(x + i));
    s1 = _mm256_add_ps(s1, _mm256_loadu_ps(x + i + 8));
    s2 = _mm256_add_ps(s2, _mm256_loadu_ps(x + i + 16));
    s3 = _mm256_add_ps(s3, _mm256_loadu_ps(x + i + 24));
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_add_ps(s0, _mm256_loadu_ps(x + i));
  if (i < n) {
    const __m256i mask = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(f32::kTailMask + 8 - (n - i)));
    s1 = _mm256_add_ps(s1, _mm256_maskload_ps(x + i, mask));
  }
  const __m256 s = _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3));
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  return _mm_cvtss_f32(h);
}

float F32MaxAvx2(size_t n, const float* x) {
  const __m256 ninf = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  __m256 m0 = ninf, m1 = ninf;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    m0 = _mm256_max_ps(_mm256_loadu_ps(x + i), m0);
    m1 = _mm256_max_ps(_mm256_loadu_ps(x + i + 8), m1);
  }
  for (; i < n; i += 8) {
    const size_t r = n - i < 8 ? n - i : 8;
    const __m256i mask = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(f32::kTailMask + 8 - r));
    // Masked-off lanes load 0.0: blend them to -inf so they never win.
    const __m256 v = _mm256_blendv_ps(ninf, _mm256_maskload_ps(x + i, mask), _mm256_castsi256_ps(mask));
    m0 = _mm256_max_ps(v, m0);
  }
  const __m256 m = _mm256_max_ps(m0, m1);
  __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  h = _mm_max_ps(h, _mm_movehl_ps(h, h));
  h = _mm_max_ss(h, _mm_movehdup_ps(h));
  return _mm_cvtss_f32(h);
}

}  // namespace opq

#include "isa/x86-avx2-end.h"
#endif
