// Scalar definitions of the float32 elementwise ops and reductions: the `ref` variant, and the
// tails of the SIMD ones. Tanh uses the C library in every variant (no SIMD polynomial); Sigmoid
// and Gelu use it here and polynomials in the SIMD variants.
#include <algorithm>
#include <cmath>
#include <limits>

#include "f32-gemm/f32-kernels.h"

namespace opq {

float UnaryRef(int32_t op, float p0, float p1, float x) {
  switch (op) {
    case OPQ_UNARY_RELU:
      return x < 0.0f ? 0.0f : x;
    case OPQ_UNARY_CLIP:
      return std::min(std::max(x, p0), p1);
    case OPQ_UNARY_SIGMOID:
      // Split by sign so exp never overflows: 1/(1+e^-x) or e^x/(1+e^x).
      if (x >= 0.0f)
        return 1.0f / (1.0f + std::exp(-x));
      else {
        const float e = std::exp(x);
        return e / (1.0f + e);
      }
    case OPQ_UNARY_HARDSIGMOID:
      return std::min(std::max(p0 * x + p1, 0.0f), 1.0f);
    case OPQ_UNARY_HARDSWISH:
      return x * std::min(std::max(x * (1.0f / 6.0f) + 0.5f, 0.0f), 1.0f);
    case OPQ_UNARY_TANH:
      return std::tanh(x);
    case OPQ_UNARY_LEAKYRELU:
      return x < 0.0f ? p0 * x : x;
    case OPQ_UNARY_GELU:
      // In double, as erfc(-z) (no 1 + erf cancellation for negative x), rounded once to float.
      return static_cast<float>(0.5 * double(x) * std::erfc(-double(x) * 0.70710678118654752440));
    default:
      return x;
  }
}

void LayerNormF32Ref(size_t rows, size_t n, const float* x, const float* scale, const float* bias, double eps,
                     float* y) {
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    double sum = 0;
    for (size_t i = 0; i < n; ++i) sum += double(xr[i]);
    const double m = sum / double(n);
    double sq = 0;
    for (size_t i = 0; i < n; ++i) {
      const double d = double(xr[i]) - m;
      sq += d * d;
    }
    const double k = 1.0 / std::sqrt(sq / double(n) + eps);
    if (bias)
      for (size_t i = 0; i < n; ++i)
        yr[i] = static_cast<float>((double(xr[i]) - m) * k * double(scale[i]) + double(bias[i]));
    else
      for (size_t i = 0; i < n; ++i) yr[i] = static_cast<float>((double(xr[i]) - m) * k * double(scale[i]));
  }
}

float BinaryRef(int32_t op, float a, float b) {
  switch (op) {
    case OPQ_BINARY_ADD:
      return a + b;
    case OPQ_BINARY_SUB:
      return a - b;
    case OPQ_BINARY_MUL:
      return a * b;
    default:
      return a / b;
  }
}

namespace {

void UnaryScalar(int32_t op, float p0, float p1, size_t n, const float* x, float* y) {
  for (size_t i = 0; i < n; ++i) y[i] = UnaryRef(op, p0, p1, x[i]);
}

void BinaryScalar(int32_t op, size_t n, const float* a, const float* b, float* y) {
  for (size_t i = 0; i < n; ++i) y[i] = BinaryRef(op, a[i], b[i]);
}

void BinaryScalarS(int32_t op, size_t n, const float* a, float s, float* y) {
  for (size_t i = 0; i < n; ++i) y[i] = BinaryRef(op, a[i], s);
}

float SumScalar(size_t n, const float* x) {
  float s = 0.0f;
  for (size_t i = 0; i < n; ++i) s += x[i];
  return s;
}

float MaxScalar(size_t n, const float* x) {
  float m = -std::numeric_limits<float>::infinity();
  for (size_t i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

}  // namespace

const F32Ukernels& F32UkernelsScalar() {
  // Only the elementwise entries: conv, GEMM and pooling have direct reference loops instead.
  static const F32Ukernels uk = {0,
                                 0,
                                 nullptr,
                                 nullptr,
                                 nullptr,
                                 nullptr,
                                 UnaryScalar,
                                 BinaryScalar,
                                 BinaryScalarS,
                                 SumScalar,
                                 MaxScalar,
                                 F32ScanRef,
                                 F32HistogramRef,
                                 F32SumRowsRef,
                                 F32SoftmaxRef,
                                 F32ClassSumsRef,
                                 F32DotRowsRef,
                                 nullptr};
  return uk;
}

}  // namespace opq
