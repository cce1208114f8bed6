// Internal interface of the float32 kernels, shared by the drivers, the per-ISA microkernels and
// the validated entry points (native/api/f32-api.cc). Everything below trusts its arguments.
//
// Structure: the `ref` variant is plain direct loops (the readable definition). Every SIMD variant
// is the same scalar blocked driver (packing, cache blocking, padding planes: f32-*-driver.cc)
// calling that ISA's microkernels through an F32Ukernels table.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "opq_f32.h"

typedef struct opq_threadpool opq_threadpool;

namespace opq {

// Microkernel flags.
constexpr uint32_t kF32Accumulate = 1;  // start from C instead of the row init (or zero)
constexpr uint32_t kF32Clamp = 2;       // clamp the result to [lo, hi] before storing

// opq_col2im_f32's geometry (a 3-D view: 1-D and 2-D have unit leading axes); p* are the begin pads.
struct Col2ImF32Geom {
  int64_t d, h, w, kd, kh, kw, od, oh, ow, sd, sh, sw, dd, dh, dw, pd, ph, pw;
};

// opq_col2im_f32 on validated arguments (f32-conv/f32-col2im.cc).
void Col2ImF32(const Col2ImF32Geom& g, size_t channels, const float* cols, const float* bias, float* y);

// opq_layernorm_f32 on validated arguments (f32-eltwise-ref.cc).
void LayerNormF32Ref(size_t rows, size_t n, const float* x, const float* scale, const float* bias, double eps,
                     float* y);

struct F32Ukernels {
  size_t mr, nr;  // GEMM register tile
  // C[mr][nr] (ldc) = init or C, plus sum_k a[k*mr + r] * b[k*nr + j]; `init` is mr row values or null (0).
  void (*gemm)(size_t kc, const float* a, const float* b, float* c, size_t ldc, const float* init, uint32_t flags,
               float lo, float hi);
  // y[j] = bias + sum_t w[t] * taps[t][j] for j < n (depthwise convolution, one output row).
  void (*dw_row)(size_t n, size_t ntaps, const float* const* taps, const float* w, float bias, uint32_t flags, float lo,
                 float hi, float* y);
  // y[j] = max_t taps[t][j].
  void (*max_row)(size_t n, size_t ntaps, const float* const* taps, float* y);
  // y[j] = (sum_t taps[t][j]) / (row_count * col_count[j]).
  void (*avg_row)(size_t n, size_t ntaps, const float* const* taps, float row_count, const float* col_count, float* y);
  // y[i] = op(x[i]) (OPQ_UNARY_*).
  void (*unary)(int32_t op, float p0, float p1, size_t n, const float* x, float* y);
  // y[i] = a[i] op b[i] (OPQ_BINARY_*), and y[i] = a[i] op s.
  void (*binary)(int32_t op, size_t n, const float* a, const float* b, float* y);
  void (*binary_scalar)(int32_t op, size_t n, const float* a, float s, float* y);
  // Sum and max of x[0..n).
  float (*sum)(size_t n, const float* x);
  float (*max)(size_t n, const float* x);
  // opq_scan_f32 and opq_histogram_f32 on trusted arguments (n may be 0; bins >= 1).
  void (*scan)(size_t n, const float* x, double* out);
  void (*histogram)(size_t n, const float* x, double inv, double zero, double* counts, size_t bins);
  // dst[j] = 0 + x[0*x_stride + j] + x[1*x_stride + j] + ... + x[(rows-1)*x_stride + j] in double, rows in
  // that order, for j < n (opq_sum_rows_f32's rows of one tap). rows may be 0: dst = 0 and x is not read.
  void (*sum_rows)(size_t n, size_t rows, const float* x, size_t x_stride, double* dst);
  // opq_softmax_f32 on validated arguments: every row of outer*len*inner elements (len >= 1; rows
  // of `len` elements `inner` apart, the `inner` rows of a block side by side). y may be x.
  void (*softmax)(size_t outer, size_t len, size_t inner, bool log, const float* x, float* y);
  // Bias-correction probes (f32-probe/): per row r < rows of n floats (x_stride apart), out[r*s + c]
  // = the sum of the row's members c + j*s (class c mod s, s >= 1), in double in four chains (j mod
  // 4), then (c0 + c1) + (c2 + c3); SIMD variants vectorize s = 1 and 2.
  void (*class_sums)(size_t n, size_t rows, const float* x, size_t x_stride, size_t s, double* out);
  // out[r] = sum_j double(a[r*a_stride + j]) * b[r*b_stride + j], j < n, each product rounded, in four
  // chains (j mod 4; the tail into the first), then (c0 + c1) + (c2 + c3).
  void (*dot_rows)(size_t n, size_t rows, const float* a, size_t a_stride, const double* b, size_t b_stride,
                   double* out);
  // `gemm` with B read in place: row k of the kc x nr panel is the nr floats at b + boff[k]
  // (unaligned), so a convolution over padded planes needs no packed copy of B. The same
  // arithmetic, in the same order, as `gemm` on the packed panel. Null when the variant has none.
  void (*gemm_indirect)(size_t kc, const float* a, const float* b, const size_t* boff, float* c, size_t ldc,
                        const float* init, uint32_t flags, float lo, float hi);
};

// The scalar definitions (also the tails of the SIMD microkernels where they share them).
float UnaryRef(int32_t op, float p0, float p1, float x);
float BinaryRef(int32_t op, float a, float b);
const F32Ukernels& F32UkernelsScalar();

// The probe microkernels' scalar definitions (f32-probe-ref.cc); the tails continue a row's four
// chains c[0..4) from member (or element) j.
void F32ClassSumsRef(size_t n, size_t rows, const float* x, size_t x_stride, size_t s, double* out);
void F32DotRowsRef(size_t n, size_t rows, const float* a, size_t a_stride, const double* b, size_t b_stride,
                   double* out);
void F32ClassSumsTail(const float* p, int64_t s, int64_t j, int64_t m, double* c);
// class_sums' definition on double rows (a 3-D probe's axis-0 sums).
void F64ClassSumsRef(size_t n, size_t rows, const double* x, size_t x_stride, size_t s, double* out);
double F32DotTail(const float* a, const double* b, int64_t j, int64_t n, double* c);

// The scalar definition of opq_scan_f32 over x[begin, end), continuing *s: the reference and the tails
// of the SIMD variants. `bad` is SIZE_MAX until a NaN or infinity is seen.
struct F32ScanState {
  float lo, hi;
  uint64_t zeros;
  size_t bad;
};
void F32ScanRange(const float* x, size_t begin, size_t end, F32ScanState* s);
void F32ScanFinish(const F32ScanState& s, double* out);
void F32ScanRef(size_t n, const float* x, double* out);
void F32HistogramRef(size_t n, const float* x, double inv, double zero, double* counts, size_t bins);
void F32SumRowsRef(size_t n, size_t rows, const float* x, size_t x_stride, double* dst);
void F32SoftmaxRef(size_t outer, size_t len, size_t inner, bool log, const float* x, float* y);

// The bin opq_histogram_f32 counts v in, or -1 for NaN (skipped).
inline int64_t F32HistogramBin(float v, double inv, double zero, size_t bins) {
  const double t = std::floor(static_cast<double>(v) * inv) + zero;
  if (t >= static_cast<double>(bins)) return static_cast<int64_t>(bins - 1);
  if (t < 0.0) return 0;
  if (t != t) return -1;
  return static_cast<int64_t>(t);
}

// The per-ISA microkernels, one file per op family (f32-<op>/f32-<op>-<isa>.cc); the tables are
// assembled in native/api/f32-api.cc.
#define OPQ_F32_DECLARE_UKERNELS(ISA)                                                                              \
  void F32GemmUk##ISA(size_t kc, const float* a, const float* b, float* c, size_t ldc, const float* init,          \
                      uint32_t flags, float lo, float hi);                                                         \
  void F32DwRow##ISA(size_t n, size_t ntaps, const float* const* taps, const float* w, float bias, uint32_t flags, \
                     float lo, float hi, float* y);                                                                \
  void F32MaxRow##ISA(size_t n, size_t ntaps, const float* const* taps, float* y);                                 \
  void F32AvgRow##ISA(size_t n, size_t ntaps, const float* const* taps, float row_count, const float* col_count,   \
                      float* y);                                                                                   \
  void F32Unary##ISA(int32_t op, float p0, float p1, size_t n, const float* x, float* y);                          \
  void F32Binary##ISA(int32_t op, size_t n, const float* a, const float* b, float* y);                             \
  void F32BinaryScalar##ISA(int32_t op, size_t n, const float* a, float s, float* y);                              \
  float F32Sum##ISA(size_t n, const float* x);                                                                     \
  float F32Max##ISA(size_t n, const float* x);                                                                     \
  void F32Scan##ISA(size_t n, const float* x, double* out);                                                        \
  void F32Histogram##ISA(size_t n, const float* x, double inv, double zero, double* counts, size_t bins);          \
  void F32SumRows##ISA(size_t n, size_t rows, const float* x, size_t x_stride, double* dst);                       \
  void F32Softmax##ISA(size_t outer, size_t len, size_t inner, bool log, const float* x, float* y);                \
  void F32ClassSums##ISA(size_t n, size_t rows, const float* x, size_t x_stride, size_t s, double* out);           \
  void F32DotRows##ISA(size_t n, size_t rows, const float* a, size_t a_stride, const double* b, size_t b_stride,   \
                       double* out);

#if defined(__x86_64__) || defined(_M_X64)
constexpr size_t kF32MrAvx2 = 6, kF32NrAvx2 = 16;
OPQ_F32_DECLARE_UKERNELS(Avx2)
void F32GemmIndirectUkAvx2(size_t kc, const float* a, const float* b, const size_t* boff, float* c, size_t ldc,
                           const float* init, uint32_t flags, float lo, float hi);
// The AVX-512 table is the AVX2 one with this GEMM microkernel (f32-gemm-avx512.cc).
constexpr size_t kF32MrAvx512 = 12, kF32NrAvx512 = 32;
void F32GemmUkAvx512(size_t kc, const float* a, const float* b, float* c, size_t ldc, const float* init, uint32_t flags,
                     float lo, float hi);
#endif
#if defined(__wasm_simd128__)
constexpr size_t kF32MrWasmSimd = 5, kF32NrWasmSimd = 8;
OPQ_F32_DECLARE_UKERNELS(WasmSimd)
void F32GemmIndirectUkWasmSimd(size_t kc, const float* a, const float* b, const size_t* boff, float* c, size_t ldc,
                               const float* init, uint32_t flags, float lo, float hi);
#endif

struct Conv2dF32Args {
  const opq_conv2d_f32_params* p;
  const float* x;
  const float* w;
  const float* bias;  // null or m values
  float* y;
  bool clamp;
  void* workspace;
  opq_threadpool* pool;
};

struct GemmF32Args {
  size_t m, n, k;
  const float* a;
  size_t lda;
  bool trans_a;
  const float* b;
  size_t ldb;
  bool trans_b;
  float alpha, beta;
  const float* c;  // null when absent or beta == 0
  size_t c_stride_m, c_stride_n;
  bool clamp;
  float lo, hi;
  float* y;
  size_t ldy;
  void* workspace;
  opq_threadpool* pool;
};

struct Pool2dF32Args {
  const opq_pool2d_f32_params* p;
  int32_t kind;
  const float* x;
  float* y;
  void* workspace;
};

// References: direct loops, no workspace.
void Conv2dF32Ref(const Conv2dF32Args& a);
void GemmF32Ref(const GemmF32Args& a);
void Pool2dF32Ref(const Pool2dF32Args& a);

// Window taps along one axis (src/kernels/f32/sum-rows.ts tapLo/tapHi): the first output position
// q whose input row q*stride + off is >= 0, and one past the last (q < out) whose row is < size.
inline int64_t TapLo(int64_t off, int64_t stride) { return off >= 0 ? 0 : (-off + stride - 1) / stride; }
inline int64_t TapHi(int64_t size, int64_t out, int64_t off, int64_t stride) {
  const int64_t lo = TapLo(off, stride), last = size - 1 - off;  // last: the largest q*stride allowed
  if (last < 0) return lo;
  const int64_t hi = last / stride + 1 < out ? last / stride + 1 : out;
  return hi > lo ? hi : lo;
}

// opq_conv_probe_sums_f32's geometry: batch n, channels c, output channels m, group, then a 3-D
// view (1-D and 2-D as unit leading axes) of input sizes, kernel, output sizes, strides, dilations
// and begin pads.
struct ConvProbeGeom {
  int64_t n, c, m, group, i0, i1, i2, k0, k1, k2, o0, o1, o2, s0, s1, s2, d0, d1, d2, p0, p1, p2;
};

// Axis 0 is a copy (one row, one tap, no pad): the probe skips its row sums.
bool ConvProbeTrivialAxis0(const ConvProbeGeom& g);
// Doubles of opq_conv_probe_sums_f32's workspace (valid geometry; no overflow past 2^40 entries).
uint64_t ConvProbeWorkSize(const ConvProbeGeom& g);
// opq_conv_probe_sums_f32 on validated arguments (f32-probe/f32-conv-probe.cc).
void ConvProbeSumsF32(const ConvProbeGeom& g, const float* x, const float* delta, double* sums, double* work,
                      const F32Ukernels& uk);

// opq_exact_sum_add_f64 on validated arguments (f32-probe/exact-sum.cc).
void ExactSumAddF64(const double* x, size_t n, int64_t* acc);

// Blocked drivers over a microkernel table. Workspace sizes are in bytes; SIZE_MAX on overflow.
size_t Conv2dF32Workspace(const opq_conv2d_f32_params& p, const F32Ukernels& uk, size_t threads);
void Conv2dF32Run(const Conv2dF32Args& a, const F32Ukernels& uk);
size_t GemmF32Workspace(size_t m, size_t n, size_t k, const F32Ukernels& uk, size_t threads);
void GemmF32Run(const GemmF32Args& a, const F32Ukernels& uk);
size_t Pool2dF32Workspace(const opq_pool2d_f32_params& p);
void Pool2dF32Run(const Pool2dF32Args& a, const F32Ukernels& uk);
// opq_sum_rows_f32 on validated arguments: each (plane, tap) row of dst through uk.sum_rows.
void SumRowsF32Run(const opq_sum_rows_f32_params& p, const float* x, double* dst, const F32Ukernels& uk);

}  // namespace opq
