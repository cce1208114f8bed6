// Scalar definitions of the bias-correction probe microkernels (the `ref` variant, and the tails
// of the SIMD ones): per row, sums per residue class of the columns (stride 1 or 2) and dot
// products, each in double in four chains. src/kernels/f32/conv-probe.ts defines the same sums.
#include "f32-gemm/f32-kernels.h"

namespace opq {

namespace {

// One row's class sums from member j on (chains c[0..4)), for float rows and for the double rows of
// a 3-D probe's axis-0 sums: one definition for both.
template <typename T>
void ClassSumsTail(const T* p, int64_t s, int64_t j, int64_t m, double* c) {
  for (; j + 4 <= m; j += 4) {
    c[0] += double(p[j * s]);
    c[1] += double(p[(j + 1) * s]);
    c[2] += double(p[(j + 2) * s]);
    c[3] += double(p[(j + 3) * s]);
  }
  if (j < m) c[0] += double(p[j * s]);
  if (j + 1 < m) c[1] += double(p[(j + 1) * s]);
  if (j + 2 < m) c[2] += double(p[(j + 2) * s]);
}

template <typename T>
void ClassSums(size_t n, size_t rows, const T* x, size_t x_stride, size_t s, double* out) {
  for (size_t r = 0; r < rows; ++r)
    for (size_t c = 0; c < s; ++c) {
      const int64_t m = c < n ? int64_t((n - 1 - c) / s + 1) : 0;
      double acc[4] = {0, 0, 0, 0};
      ClassSumsTail(x + r * x_stride + c, int64_t(s), 0, m, acc);
      out[r * s + c] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    }
}

}  // namespace

void F32ClassSumsTail(const float* p, int64_t s, int64_t j, int64_t m, double* c) { ClassSumsTail(p, s, j, m, c); }

void F32ClassSumsRef(size_t n, size_t rows, const float* x, size_t x_stride, size_t s, double* out) {
  ClassSums(n, rows, x, x_stride, s, out);
}

void F64ClassSumsRef(size_t n, size_t rows, const double* x, size_t x_stride, size_t s, double* out) {
  ClassSums(n, rows, x, x_stride, s, out);
}

double F32DotTail(const float* a, const double* b, int64_t j, int64_t n, double* c) {
  for (; j + 4 <= n; j += 4) {
    c[0] += double(a[j]) * b[j];
    c[1] += double(a[j + 1]) * b[j + 1];
    c[2] += double(a[j + 2]) * b[j + 2];
    c[3] += double(a[j + 3]) * b[j + 3];
  }
  for (; j < n; ++j) c[0] += double(a[j]) * b[j];
  return (c[0] + c[1]) + (c[2] + c[3]);
}

void F32DotRowsRef(size_t n, size_t rows, const float* a, size_t a_stride, const double* b, size_t b_stride,
                   double* out) {
  for (size_t r = 0; r < rows; ++r) {
    double acc[4] = {0, 0, 0, 0};
    out[r] = F32DotTail(a + r * a_stride, b + r * b_stride, 0, int64_t(n), acc);
  }
}

}  // namespace opq
