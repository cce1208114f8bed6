// opq_conv_probe_sums_f32 on validated arguments: a bias-correction probe's per-channel sums of
// Conv(x, delta) over output positions, from x (src/kernels/f32/conv-probe.ts is the definition,
// line for line). Per input plane: (3-D only) window row sums over axis 0 with the variant's
// sum_rows microkernel; each row's sums per residue class of its columns; per row tap, those sums
// over the tap's rows and the plane's edge columns summed over the same rows; each tap's window as
// its class's sum minus the columns it leaves out. Then per output channel a dot product with delta.
// The row class sums and the dot products run on the variant's microkernels (f32-probe-*.cc); the
// rest is scalar code outside any ISA region (no FMA contraction), in the definition's order.
#include "f32-gemm/f32-kernels.h"

namespace opq {

bool ConvProbeTrivialAxis0(const ConvProbeGeom& g) { return g.i0 == 1 && g.k0 == 1 && g.o0 == 1 && g.p0 == 0; }

uint64_t ConvProbeWorkSize(const ConvProbeGeom& g) {
  const uint64_t planes = uint64_t(g.n) * uint64_t(g.c), ks = uint64_t(g.k0) * uint64_t(g.k1) * uint64_t(g.k2);
  return uint64_t(g.c) * ks +
         (ConvProbeTrivialAxis0(g) ? 0 : planes * uint64_t(g.k0) * uint64_t(g.i1) * uint64_t(g.i2)) +
         planes * uint64_t(g.k0) * uint64_t(g.i1) * uint64_t(g.s2) + uint64_t(g.s2) + uint64_t(g.i2) +
         2 * uint64_t(g.k1) + 3 * uint64_t(g.k2);
}

namespace {

// The edge columns [0, left) and (right, i2) that some tap of the last axis leaves out.
struct ColumnTaps {
  int64_t left, right;
};

// The class sums of `rows` rows of n: float rows through the variant's microkernel (all planes in
// one call: mobile models' planes have few rows), double ones here.
void RowClassSums(const float* plane, int64_t rows, int64_t n, int64_t s, double* rs, const F32Ukernels& uk) {
  uk.class_sums(size_t(n), size_t(rows), plane, size_t(n), size_t(s), rs);
}
void RowClassSums(const double* plane, int64_t rows, int64_t n, int64_t s, double* rs, const F32Ukernels&) {
  F64ClassSumsRef(size_t(n), size_t(rows), plane, size_t(n), size_t(s), rs);
}

// Tap tables, computed once per call (their divisions cost more than a small plane's sums):
// per row tap, its first row and row count; per column tap, its first and last column (-1: none)
// and their class. Integers below 2^28, exact in the workspace's doubles.
struct Taps {
  const double *row0, *rows, *first, *last, *cls;
};

// The plane loop of the definition over planes of T (float x, or axis 0's double sums).
template <typename T>
void PlaneSums(const ConvProbeGeom& g, const T* src, const Taps& tp, ColumnTaps cols, double* S, double* rs, double* ts,
               double* cs, const F32Ukernels& uk) {
  const int64_t planes = g.n * g.c, ks = g.k0 * g.k1 * g.k2, i1n = g.i1, i2n = g.i2, s2 = g.s2;
  RowClassSums(src, planes * g.k0 * i1n, i2n, s2, rs, uk);
  for (int64_t a = 0, c = 0; a < planes; ++a, c = c + 1 == g.c ? 0 : c + 1)
    for (int64_t k0 = 0; k0 < g.k0; ++k0) {
      const T* plane = src + (a * g.k0 + k0) * i1n * i2n;
      const double* rsp = rs + (a * g.k0 + k0) * i1n * s2;
      double* to = S + c * ks + k0 * g.k1 * g.k2;
      for (int64_t k1 = 0; k1 < g.k1; ++k1) {
        const int64_t rows = int64_t(tp.rows[k1]), r0 = int64_t(tp.row0[k1]);
        if (rows <= 0) continue;
        for (int64_t r = 0; r < s2; ++r) {
          double t = 0;
          for (int64_t j = 0; j < rows; ++j) t += rsp[(r0 + j * g.s1) * s2 + r];
          ts[r] = t;
        }
        for (int64_t e = 0; e < i2n; ++e) {
          if (e == cols.left && cols.right + 1 > e) e = cols.right + 1;
          if (e >= i2n) break;
          double c = 0;
          for (int64_t j = 0; j < rows; ++j) c += double(plane[(r0 + j * g.s1) * i2n + e]);
          cs[e] = c;
        }
        for (int64_t k2 = 0; k2 < g.k2; ++k2) {
          if (tp.first[k2] < 0) continue;
          const int64_t f = int64_t(tp.first[k2]), r = int64_t(tp.cls[k2]);
          double v = ts[r];
          for (int64_t e = r; e < f; e += s2) v -= cs[e];
          for (int64_t e = int64_t(tp.last[k2]) + s2; e < i2n; e += s2) v -= cs[e];
          to[k1 * g.k2 + k2] += v;
        }
      }
    }
}

}  // namespace

void ConvProbeSumsF32(const ConvProbeGeom& g, const float* x, const float* delta, double* sums, double* work,
                      const F32Ukernels& uk) {
  const int64_t planes = g.n * g.c, ks = g.k0 * g.k1 * g.k2;
  double* S = work;
  for (int64_t i = 0; i < g.c * ks; ++i) S[i] = 0;
  double* next = S + g.c * ks;
  const double* t1 = nullptr;
  if (!ConvProbeTrivialAxis0(g)) {
    const opq_sum_rows_f32_params axis0{int32_t(planes), int32_t(g.i0), int32_t(g.i1 * g.i2), int32_t(g.k0),
                                        int32_t(g.o0),   int32_t(g.s0), int32_t(g.p0),        int32_t(g.d0)};
    if (planes * g.k0 * g.i1 * g.i2 > 0) SumRowsF32Run(axis0, x, next, uk);
    t1 = next;
    next += planes * g.k0 * g.i1 * g.i2;
  }
  double* rs = next;
  double* ts = rs + planes * g.k0 * g.i1 * g.s2;
  double* cs = ts + g.s2;
  double* tab = cs + g.i2;
  const Taps tp{tab, tab + g.k1, tab + 2 * g.k1, tab + 2 * g.k1 + g.k2, tab + 2 * g.k1 + 2 * g.k2};
  for (int64_t k1 = 0; k1 < g.k1; ++k1) {
    const int64_t off = k1 * g.d1 - g.p1, lo = TapLo(off, g.s1);
    tab[k1] = double(lo * g.s1 + off);
    tab[g.k1 + k1] = double(TapHi(g.i1, g.o1, off, g.s1) - lo);
  }
  ColumnTaps cols{0, g.i2 - 1};
  double* first = tab + 2 * g.k1;
  double* last = first + g.k2;
  double* cls = last + g.k2;
  for (int64_t k2 = 0; k2 < g.k2; ++k2) {
    const int64_t off = k2 * g.d2 - g.p2, lo = TapLo(off, g.s2), hi = TapHi(g.i2, g.o2, off, g.s2);
    first[k2] = last[k2] = cls[k2] = -1;
    if (hi <= lo) continue;
    const int64_t f = lo * g.s2 + off, l = (hi - 1) * g.s2 + off;
    first[k2] = double(f);
    last[k2] = double(l);
    cls[k2] = double(f % g.s2);
    if (f > cols.left) cols.left = f;
    if (l < cols.right) cols.right = l;
  }
  if (t1)
    PlaneSums(g, t1, tp, cols, S, rs, ts, cs, uk);
  else
    PlaneSums(g, x, tp, cols, S, rs, ts, cs, uk);
  // Each group's output channels against its input channels' S. With one output channel per group
  // (depthwise), row m's S is group m's: one call over every row, four rows at a time, instead of a
  // call per group of one row (the same bits: each row's dot product is its own).
  const int64_t cpg = g.c / g.group, len = cpg * ks, per_group = g.m / g.group;
  if (per_group == 1) {
    uk.dot_rows(size_t(len), size_t(g.m), delta, size_t(len), S, size_t(len), sums);
    return;
  }
  for (int64_t gr = 0; gr < g.group; ++gr)
    uk.dot_rows(size_t(len), size_t(per_group), delta + gr * per_group * len, size_t(len), S + gr * len, 0,
                sums + gr * per_group);
}

}  // namespace opq
