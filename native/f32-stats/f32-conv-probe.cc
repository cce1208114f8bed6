// opq_conv_probe_sums_f32 on validated arguments: a bias-correction probe's per-channel sums of
// Conv(x, delta) over output positions, from x (src/kernels/f32/conv-probe.ts is the definition,
// line for line). Stages: window row sums over axis 0 (3-D only) and axis 1 with the variant's
// sum_rows microkernel; then along the last axis, each tap's window as its residue class's sum minus
// the members its window leaves out; then per output channel a dot product with delta. Scalar code
// outside any ISA region (no FMA contraction): four independent chains where the definition has them.
#include "f32-gemm/f32-kernels.h"

namespace opq {

namespace {

// TapLo/TapHi of f32-sum-rows-driver.cc (src/backends/js-f32.ts tapLo/tapHi).
int64_t TapLo(int64_t off, int64_t stride) { return off >= 0 ? 0 : (-off + stride - 1) / stride; }
int64_t TapHi(int64_t size, int64_t out, int64_t off, int64_t stride) {
  const int64_t lo = TapLo(off, stride), last = size - 1 - off;
  if (last < 0) return lo;
  const int64_t hi = last / stride + 1 < out ? last / stride + 1 : out;
  return hi > lo ? hi : lo;
}

// sumRowsF32's definition on double input (axis 1 of a 3-D probe reads axis 0's sums): each dst
// element is one chain 0 + row + row ..., rows ascending.
void SumRowsF64(const opq_sum_rows_f32_params& p, const double* x, double* dst) {
  const size_t inner = size_t(p.inner);
  for (int64_t a = 0; a < p.planes; ++a)
    for (int64_t t = 0; t < p.k; ++t) {
      double* to = dst + size_t(a * p.k + t) * inner;
      for (size_t j = 0; j < inner; ++j) to[j] = 0.0;
      const int64_t off = t * int64_t{p.dilation} - p.pad;
      for (int64_t q = TapLo(off, p.stride), hi = TapHi(p.i, p.o, off, p.stride); q < hi; ++q) {
        const double* from = x + size_t(a * p.i + q * p.stride + off) * inner;
        for (size_t j = 0; j < inner; ++j) to[j] += from[j];
      }
    }
}

// Sum of a row of n doubles: for s = 1 four chains (index mod 4), (c0 + c1) + (c2 + c3); else
// cls[r] for each residue r mod s, one chain each, ascending.
void ClassSums(const double* t, int64_t n, int64_t s, double* cls) {
  if (s == 1) {
    double c0 = 0, c1 = 0, c2 = 0, c3 = 0;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
      c0 += t[i];
      c1 += t[i + 1];
      c2 += t[i + 2];
      c3 += t[i + 3];
    }
    if (i < n) c0 += t[i];
    if (i + 1 < n) c1 += t[i + 1];
    if (i + 2 < n) c2 += t[i + 2];
    cls[0] = (c0 + c1) + (c2 + c3);
    return;
  }
  for (int64_t r = 0; r < s; ++r) cls[r] = 0;
  for (int64_t i = 0; i < n; ++i) cls[i % s] += t[i];
}

// sum_j a[j] * b[j], j < n: four chains (j mod 4; the tail into the first), (s0 + s1) + (s2 + s3).
double Dot(const float* a, const double* b, int64_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) {
    s0 += double(a[j]) * b[j];
    s1 += double(a[j + 1]) * b[j + 1];
    s2 += double(a[j + 2]) * b[j + 2];
    s3 += double(a[j + 3]) * b[j + 3];
  }
  for (; j < n; ++j) s0 += double(a[j]) * b[j];
  return (s0 + s1) + (s2 + s3);
}

}  // namespace

bool ConvProbeTrivialAxis0(const ConvProbeGeom& g) { return g.i0 == 1 && g.k0 == 1 && g.o0 == 1 && g.p0 == 0; }

uint64_t ConvProbeWorkSize(const ConvProbeGeom& g) {
  const uint64_t planes = uint64_t(g.n) * uint64_t(g.c), ks = uint64_t(g.k0) * uint64_t(g.k1) * uint64_t(g.k2);
  const uint64_t rows = planes * uint64_t(g.k0) * uint64_t(g.k1);
  return uint64_t(g.c) * ks + rows * uint64_t(g.i2) + rows * uint64_t(g.s2) +
         (ConvProbeTrivialAxis0(g) ? 0 : planes * uint64_t(g.k0) * uint64_t(g.i1) * uint64_t(g.i2));
}

void ConvProbeSumsF32(const ConvProbeGeom& g, const float* x, const float* delta, double* sums, double* work,
                      const F32Ukernels& uk) {
  const int64_t planes = g.n * g.c, kk = g.k0 * g.k1, ks = kk * g.k2, rows = planes * kk;
  double* S = work;
  double* t2 = S + g.c * ks;
  double* cls = t2 + rows * g.i2;
  double* t1 = cls + rows * g.s2;
  for (int64_t i = 0; i < g.c * ks; ++i) S[i] = 0;
  const opq_sum_rows_f32_params axis1{int32_t(planes * g.k0), int32_t(g.i1), int32_t(g.i2), int32_t(g.k1),
                                      int32_t(g.o1),          int32_t(g.s1), int32_t(g.p1), int32_t(g.d1)};
  if (ConvProbeTrivialAxis0(g)) {
    if (rows * g.i2 > 0) SumRowsF32Run(axis1, x, t2, uk);
  } else {
    const opq_sum_rows_f32_params axis0{int32_t(planes), int32_t(g.i0), int32_t(g.i1 * g.i2), int32_t(g.k0),
                                        int32_t(g.o0),   int32_t(g.s0), int32_t(g.p0),        int32_t(g.d0)};
    if (planes * g.k0 * g.i1 * g.i2 > 0) SumRowsF32Run(axis0, x, t1, uk);
    SumRowsF64(axis1, t1, t2);
  }
  for (int64_t row = 0; row < rows; ++row) ClassSums(t2 + row * g.i2, g.i2, g.s2, cls + row * g.s2);
  for (int64_t k2 = 0; k2 < g.k2; ++k2) {
    const int64_t off = k2 * g.d2 - g.p2, lo = TapLo(off, g.s2), hi = TapHi(g.i2, g.o2, off, g.s2);
    if (hi <= lo) continue;
    const int64_t first = lo * g.s2 + off, last = (hi - 1) * g.s2 + off, r = first % g.s2;
    for (int64_t a = 0, row = 0; a < planes; ++a) {
      double* to = S + (a % g.c) * ks + k2;
      for (int64_t k = 0; k < kk; ++k, ++row) {
        const double* t = t2 + row * g.i2;
        double v = cls[row * g.s2 + r];
        for (int64_t i = r; i < first; i += g.s2) v -= t[i];
        for (int64_t i = last + g.s2; i < g.i2; i += g.s2) v -= t[i];
        to[k * g.k2] += v;
      }
    }
  }
  const int64_t cpg = g.c / g.group, len = cpg * ks, per_group = g.m / g.group;
  for (int64_t m = 0; m < g.m; ++m) sums[m] = Dot(delta + m * len, S + (m / per_group) * len, len);
}

}  // namespace opq
