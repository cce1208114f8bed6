// Validated C entry points of the float32 kernels (opq_f32.h). Every dimension, stride, pad and
// buffer size is checked here, once, before any kernel touches memory.
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <limits>

#include "dispatch/dispatch.h"
#include "threadpool/threadpool.h"
#include "f32-gemm/f32-kernels.h"
#include "opq_f32.h"

namespace opq {

#if defined(__x86_64__) || defined(_M_X64)
const F32Ukernels& F32UkernelsAvx2() {
  static const F32Ukernels uk = {
      kF32MrAvx2,       kF32NrAvx2,     F32GemmUkAvx2,       F32DwRowAvx2,     F32MaxRowAvx2,  F32AvgRowAvx2,
      F32UnaryAvx2,     F32BinaryAvx2,  F32BinaryScalarAvx2, F32SumAvx2,       F32MaxAvx2,     F32ScanAvx2,
      F32HistogramAvx2, F32SumRowsAvx2, F32SoftmaxAvx2,      F32ClassSumsAvx2, F32DotRowsAvx2, F32GemmIndirectUkAvx2};
  return uk;
}
// CPUs with AVX-512 (the AVX512VNNI variant's feature set) run the AVX2 table with the 12x32 GEMM
// microkernel: the elementwise, pooling and depthwise kernels are bound by memory, not by width.
const F32Ukernels& F32UkernelsAvx512() {
  static const F32Ukernels uk = {
      kF32MrAvx512,     kF32NrAvx512,   F32GemmUkAvx512,     F32DwRowAvx2,     F32MaxRowAvx2,  F32AvgRowAvx2,
      F32UnaryAvx2,     F32BinaryAvx2,  F32BinaryScalarAvx2, F32SumAvx2,       F32MaxAvx2,     F32ScanAvx2,
      F32HistogramAvx2, F32SumRowsAvx2, F32SoftmaxAvx2,      F32ClassSumsAvx2, F32DotRowsAvx2, nullptr};
  return uk;
}
#endif

#if defined(__wasm_simd128__)
const F32Ukernels& F32UkernelsWasmSimd() {
  static const F32Ukernels uk = {
      kF32MrWasmSimd,       kF32NrWasmSimd,     F32GemmUkWasmSimd,        F32DwRowWasmSimd,        F32MaxRowWasmSimd,
      F32AvgRowWasmSimd,    F32UnaryWasmSimd,   F32BinaryWasmSimd,        F32BinaryScalarWasmSimd, F32SumWasmSimd,
      F32MaxWasmSimd,       F32ScanWasmSimd,    F32HistogramWasmSimd,     F32SumRowsWasmSimd,      F32SoftmaxWasmSimd,
      F32ClassSumsWasmSimd, F32DotRowsWasmSimd, F32GemmIndirectUkWasmSimd};
  return uk;
}
#endif

}  // namespace opq

namespace {

using opq::F32Ukernels;

constexpr int64_t kMaxDim = int64_t{1} << 28;
constexpr size_t kNone = std::numeric_limits<size_t>::max();

int32_t F32Auto() {
  if (opq::VariantAvailable(OPQ_VARIANT_AVX512VNNI)) return OPQ_VARIANT_AVX512VNNI;
  if (opq::VariantAvailable(OPQ_VARIANT_AVX2)) return OPQ_VARIANT_AVX2;
  if (opq::VariantAvailable(OPQ_VARIANT_WASMSIMD)) return OPQ_VARIANT_WASMSIMD;
  return OPQ_VARIANT_REF;
}

int32_t Resolve(int32_t v) { return v == OPQ_VARIANT_AUTO ? F32Auto() : v; }

// The microkernel table of a resolved variant; null for `ref` (direct loops) and for variants
// this build cannot run. The AVX512VNNI variant's float table is AVX2's with an AVX-512 GEMM.
const F32Ukernels* TableOf(int32_t v, bool* ok) {
  *ok = true;
  switch (v) {
    case OPQ_VARIANT_REF:
      return nullptr;
#if defined(__x86_64__) || defined(_M_X64)
    case OPQ_VARIANT_AVX2:
      if (opq::VariantAvailable(v)) return &opq::F32UkernelsAvx2();
      break;
    case OPQ_VARIANT_AVX512VNNI:
      if (opq::VariantAvailable(v) && opq::VariantAvailable(OPQ_VARIANT_AVX2)) return &opq::F32UkernelsAvx512();
      break;
#endif
#if defined(__wasm_simd128__)
    case OPQ_VARIANT_WASMSIMD:
      return &opq::F32UkernelsWasmSimd();
#endif
    default:
      break;
  }
  *ok = false;
  return nullptr;
}

// Elementwise kernels: `ref` is the scalar table.
const F32Ukernels* EltwiseTableOf(int32_t v, bool* ok) {
  const F32Ukernels* t = TableOf(v, ok);
  return *ok && t == nullptr ? &opq::F32UkernelsScalar() : t;
}

// a * b * ... into *out, false on overflow past kMaxProduct (2^40 elements: no buffer is that big).
constexpr uint64_t kMaxProduct = uint64_t{1} << 40;
bool Product(std::initializer_list<uint64_t> v, uint64_t* out) {
  uint64_t r = 1;
  for (uint64_t f : v) {
    if (f != 0 && r > kMaxProduct / f) return false;
    r *= f;
  }
  *out = r;
  return true;
}

// Half-open byte ranges [p, p + n) overlap.
bool Overlap(const void* p, size_t pn, const void* q, size_t qn) {
  if (!p || !q || pn == 0 || qn == 0) return false;
  const uintptr_t a = reinterpret_cast<uintptr_t>(p), b = reinterpret_cast<uintptr_t>(q);
  return a < b + qn && b < a + pn;
}

bool InRange(int32_t v, int64_t lo) { return v >= lo && v <= kMaxDim; }

const char* CheckConv(const opq_conv2d_f32_params* p) {
  if (p == nullptr) return "conv2d_f32: params is null";
  if (!InRange(p->n, 0)) return "conv2d_f32: n must be in [0, 2^28]";
  if (!InRange(p->c, 0)) return "conv2d_f32: c must be in [0, 2^28]";
  if (!InRange(p->h, 0)) return "conv2d_f32: h must be in [0, 2^28]";
  if (!InRange(p->w, 0)) return "conv2d_f32: w must be in [0, 2^28]";
  if (!InRange(p->m, 0)) return "conv2d_f32: m must be in [0, 2^28]";
  if (!InRange(p->kh, 1)) return "conv2d_f32: kh must be in [1, 2^28]";
  if (!InRange(p->kw, 1)) return "conv2d_f32: kw must be in [1, 2^28]";
  if (!InRange(p->oh, 0)) return "conv2d_f32: oh must be in [0, 2^28]";
  if (!InRange(p->ow, 0)) return "conv2d_f32: ow must be in [0, 2^28]";
  if (!InRange(p->stride_h, 1)) return "conv2d_f32: stride_h must be in [1, 2^28]";
  if (!InRange(p->stride_w, 1)) return "conv2d_f32: stride_w must be in [1, 2^28]";
  if (!InRange(p->pad_top, 0)) return "conv2d_f32: pad_top must be in [0, 2^28]";
  if (!InRange(p->pad_left, 0)) return "conv2d_f32: pad_left must be in [0, 2^28]";
  if (!InRange(p->dilation_h, 1)) return "conv2d_f32: dilation_h must be in [1, 2^28]";
  if (!InRange(p->dilation_w, 1)) return "conv2d_f32: dilation_w must be in [1, 2^28]";
  if (!InRange(p->group, 1)) return "conv2d_f32: group must be in [1, 2^28]";
  if (p->c % p->group != 0) return "conv2d_f32: c must be a multiple of group";
  if (p->m % p->group != 0) return "conv2d_f32: m must be a multiple of group";
  if (!(p->act_min <= p->act_max)) return "conv2d_f32: act_min must be <= act_max (and not NaN)";
  return nullptr;
}

const char* CheckPool(const opq_pool2d_f32_params* p, int32_t kind) {
  if (p == nullptr) return "pool2d_f32: params is null";
  if (kind < OPQ_POOL_MAX || kind > OPQ_POOL_AVG_INCLUDE_PAD)
    return "pool2d_f32: kind must be 0 (max), 1 or 2 (average)";
  if (!InRange(p->planes, 0)) return "pool2d_f32: planes must be in [0, 2^28]";
  if (!InRange(p->h, 0)) return "pool2d_f32: h must be in [0, 2^28]";
  if (!InRange(p->w, 0)) return "pool2d_f32: w must be in [0, 2^28]";
  if (!InRange(p->oh, 0)) return "pool2d_f32: oh must be in [0, 2^28]";
  if (!InRange(p->ow, 0)) return "pool2d_f32: ow must be in [0, 2^28]";
  if (!InRange(p->kh, 1)) return "pool2d_f32: kh must be in [1, 2^28]";
  if (!InRange(p->kw, 1)) return "pool2d_f32: kw must be in [1, 2^28]";
  if (!InRange(p->stride_h, 1)) return "pool2d_f32: stride_h must be in [1, 2^28]";
  if (!InRange(p->stride_w, 1)) return "pool2d_f32: stride_w must be in [1, 2^28]";
  if (!InRange(p->dilation_h, 1)) return "pool2d_f32: dilation_h must be in [1, 2^28]";
  if (!InRange(p->dilation_w, 1)) return "pool2d_f32: dilation_w must be in [1, 2^28]";
  if (!InRange(p->pad_top, 0)) return "pool2d_f32: pad_top must be in [0, 2^28]";
  if (!InRange(p->pad_left, 0)) return "pool2d_f32: pad_left must be in [0, 2^28]";
  if (!InRange(p->pad_bottom, 0)) return "pool2d_f32: pad_bottom must be in [0, 2^28]";
  if (!InRange(p->pad_right, 0)) return "pool2d_f32: pad_right must be in [0, 2^28]";
  return nullptr;
}

const char* CheckSumRows(const opq_sum_rows_f32_params* p) {
  if (p == nullptr) return "sum_rows_f32: params is null";
  if (p->planes < 0) return "sum_rows_f32: planes must be in [0, 2^31-1]";
  if (p->i < 0) return "sum_rows_f32: i must be in [0, 2^31-1]";
  if (p->inner < 0) return "sum_rows_f32: inner must be in [0, 2^31-1]";
  if (p->k < 1) return "sum_rows_f32: k must be in [1, 2^31-1]";
  if (p->o < 0) return "sum_rows_f32: o must be in [0, 2^31-1]";
  if (p->stride < 1) return "sum_rows_f32: stride must be in [1, 2^31-1]";
  if (p->pad < 0) return "sum_rows_f32: pad must be in [0, 2^31-1]";
  if (p->dilation < 1) return "sum_rows_f32: dilation must be in [1, 2^31-1]";
  return nullptr;
}

// Elements a rows x cols matrix with leading dimension ld spans, false when ld < cols or on overflow.
bool SpanOf(size_t rows, size_t cols, size_t ld, uint64_t* out) {
  if (rows == 0 || cols == 0) {
    *out = 0;
    return true;
  }
  if (ld < cols) return false;
  uint64_t t;
  if (!Product({rows - 1, ld}, &t)) return false;
  *out = t + cols;
  return true;
}

}  // namespace

extern "C" {

int32_t opq_f32_auto_variant(void) { return F32Auto(); }

size_t opq_conv2d_f32_workspace_size(const opq_conv2d_f32_params* p, size_t threads, int32_t variant) {
  bool ok;
  const F32Ukernels* uk = TableOf(Resolve(variant), &ok);
  if (!ok || CheckConv(p) != nullptr) return 0;
  if (uk == nullptr || p->n == 0 || p->m == 0 || p->oh == 0 || p->ow == 0) return 0;
  const size_t ws = opq::Conv2dF32Workspace(*p, *uk, threads);
  return ws == kNone ? 0 : ws;
}

const char* opq_conv2d_f32(const opq_conv2d_f32_params* p, const float* x, size_t x_size, const float* w, size_t w_size,
                           const float* bias, size_t bias_size, float* y, size_t y_size, void* workspace,
                           size_t workspace_size, opq_threadpool* pool, int32_t variant) {
  if (const char* err = CheckConv(p)) return err;
  const int32_t v = Resolve(variant);
  bool ok;
  const F32Ukernels* uk = TableOf(v, &ok);
  if (!ok) return "conv2d_f32: variant is not available on this CPU or build";
  uint64_t nx, nw, ny;
  if (!Product({uint64_t(p->n), uint64_t(p->c), uint64_t(p->h), uint64_t(p->w)}, &nx) || nx > x_size)
    return "conv2d_f32: buffer x is smaller than n*c*h*w";
  if (!Product({uint64_t(p->m), uint64_t(p->c / p->group), uint64_t(p->kh), uint64_t(p->kw)}, &nw) || nw > w_size)
    return "conv2d_f32: buffer w is smaller than m*(c/group)*kh*kw";
  if (bias_size != 0 && bias_size != size_t(p->m)) return "conv2d_f32: bias must have 0 or m entries";
  if (!Product({uint64_t(p->n), uint64_t(p->m), uint64_t(p->oh), uint64_t(p->ow)}, &ny) || ny > y_size)
    return "conv2d_f32: buffer y is smaller than n*m*oh*ow";
  if ((nx && !x) || (nw && !w) || (bias_size && !bias) || (ny && !y)) return "conv2d_f32: x, w, bias or y is null";
  if (Overlap(y, ny * 4, x, nx * 4) || Overlap(y, ny * 4, w, nw * 4) || Overlap(y, ny * 4, bias, bias_size * 4))
    return "conv2d_f32: y overlaps x, w or bias";
  if (ny == 0) return nullptr;
  const opq::Conv2dF32Args args{
      p,         x,
      w,         bias_size ? bias : nullptr,
      y,         !(std::isinf(p->act_min) && p->act_min < 0 && std::isinf(p->act_max) && p->act_max > 0),
      workspace, pool};
  if (uk == nullptr) {
    opq::Conv2dF32Ref(args);
    return nullptr;
  }
  const size_t ws = opq::Conv2dF32Workspace(*p, *uk, opq::PoolThreads(pool));
  if (ws == kNone) return "conv2d_f32: oh, ow, strides and dilations need more than 4 GiB of workspace";
  if (workspace_size < ws) return "conv2d_f32: workspace is smaller than opq_conv2d_f32_workspace_size()";
  if (workspace == nullptr) return "conv2d_f32: workspace is null";
  opq::Conv2dF32Run(args, *uk);
  return nullptr;
}

size_t opq_gemm_f32_workspace_size(size_t m, size_t n, size_t k, size_t threads, int32_t variant) {
  bool ok;
  const F32Ukernels* uk = TableOf(Resolve(variant), &ok);
  if (!ok || uk == nullptr || m > size_t(kMaxDim) || n > size_t(kMaxDim) || k > size_t(kMaxDim)) return 0;
  const size_t ws = opq::GemmF32Workspace(m, n, k, *uk, threads);
  return ws == kNone ? 0 : ws;
}

const char* opq_gemm_f32(size_t m, size_t n, size_t k, const float* a, size_t a_size, size_t lda, int32_t trans_a,
                         const float* b, size_t b_size, size_t ldb, int32_t trans_b, float alpha, float beta,
                         const float* c, size_t c_size, size_t c_stride_m, size_t c_stride_n, float act_min,
                         float act_max, float* y, size_t y_size, size_t ldy, void* workspace, size_t workspace_size,
                         opq_threadpool* pool, int32_t variant) {
  if (m > size_t(kMaxDim) || n > size_t(kMaxDim) || k > size_t(kMaxDim))
    return "gemm_f32: M, N and K must be at most 2^28";
  const int32_t v = Resolve(variant);
  bool ok;
  const F32Ukernels* uk = TableOf(v, &ok);
  if (!ok) return "gemm_f32: variant is not available on this CPU or build";
  uint64_t na, nb, nc = 0, ny;
  if (!(trans_a ? SpanOf(k, m, lda, &na) : SpanOf(m, k, lda, &na)))
    return trans_a ? "gemm_f32: lda must be >= M (transA)" : "gemm_f32: lda must be >= K";
  if (na > a_size) return "gemm_f32: buffer A is smaller than its rows * lda";
  if (!(trans_b ? SpanOf(n, k, ldb, &nb) : SpanOf(k, n, ldb, &nb)))
    return trans_b ? "gemm_f32: ldb must be >= K (transB)" : "gemm_f32: ldb must be >= N";
  if (nb > b_size) return "gemm_f32: buffer B is smaller than its rows * ldb";
  if (!SpanOf(m, n, ldy, &ny)) return "gemm_f32: ldy must be >= N";
  if (ny > y_size) return "gemm_f32: buffer Y is smaller than (M-1)*ldy + N";
  if (c_size != 0 && m != 0 && n != 0) {
    uint64_t sm, sn;
    if (!Product({m - 1, c_stride_m}, &sm) || !Product({n - 1, c_stride_n}, &sn) || sm + sn + 1 > c_size)
      return "gemm_f32: buffer C is smaller than its strides require";
    nc = c_size;
  }
  if ((na && !a) || (nb && !b) || (nc && !c) || (ny && !y)) return "gemm_f32: A, B, C or Y is null";
  if (!(act_min <= act_max)) return "gemm_f32: act_min must be <= act_max (and not NaN)";
  if (Overlap(y, ny * 4, a, na * 4) || Overlap(y, ny * 4, b, nb * 4) || Overlap(y, ny * 4, c, nc * 4))
    return "gemm_f32: Y overlaps A, B or C";
  if (ny == 0) return nullptr;
  const bool clamp = !(std::isinf(act_min) && act_min < 0 && std::isinf(act_max) && act_max > 0);
  const opq::GemmF32Args args{m,          n,          k,
                              a,          lda,        trans_a != 0,
                              b,          ldb,        trans_b != 0,
                              alpha,      beta,       nc && beta != 0.0f ? c : nullptr,
                              c_stride_m, c_stride_n, clamp,
                              act_min,    act_max,    y,
                              ldy,        workspace,  pool};
  if (uk == nullptr) {
    opq::GemmF32Ref(args);
    return nullptr;
  }
  const size_t ws = opq::GemmF32Workspace(m, n, k, *uk, opq::PoolThreads(pool));
  if (ws == kNone) return "gemm_f32: M and K need too much workspace";
  if (workspace_size < ws) return "gemm_f32: workspace is smaller than opq_gemm_f32_workspace_size()";
  if (workspace == nullptr) return "gemm_f32: workspace is null";
  opq::GemmF32Run(args, *uk);
  return nullptr;
}

size_t opq_pool2d_f32_workspace_size(const opq_pool2d_f32_params* p, int32_t variant) {
  bool ok;
  const F32Ukernels* uk = TableOf(Resolve(variant), &ok);
  if (!ok || uk == nullptr || CheckPool(p, OPQ_POOL_MAX) != nullptr) return 0;
  if (p->planes == 0 || p->oh == 0 || p->ow == 0) return 0;
  const size_t ws = opq::Pool2dF32Workspace(*p);
  return ws == kNone ? 0 : ws;
}

const char* opq_pool2d_f32(const opq_pool2d_f32_params* p, int32_t kind, const float* x, size_t x_size, float* y,
                           size_t y_size, void* workspace, size_t workspace_size, int32_t variant) {
  if (const char* err = CheckPool(p, kind)) return err;
  bool ok;
  const F32Ukernels* uk = TableOf(Resolve(variant), &ok);
  if (!ok) return "pool2d_f32: variant is not available on this CPU or build";
  uint64_t nx, ny;
  if (!Product({uint64_t(p->planes), uint64_t(p->h), uint64_t(p->w)}, &nx) || nx > x_size)
    return "pool2d_f32: buffer x is smaller than planes*h*w";
  if (!Product({uint64_t(p->planes), uint64_t(p->oh), uint64_t(p->ow)}, &ny) || ny > y_size)
    return "pool2d_f32: buffer y is smaller than planes*oh*ow";
  if ((nx && !x) || (ny && !y)) return "pool2d_f32: x or y is null";
  if (Overlap(y, ny * 4, x, nx * 4)) return "pool2d_f32: y overlaps x";
  if (ny == 0) return nullptr;
  const opq::Pool2dF32Args args{p, kind, x, y, workspace};
  if (uk == nullptr) {
    opq::Pool2dF32Ref(args);
    return nullptr;
  }
  const size_t ws = opq::Pool2dF32Workspace(*p);
  if (ws == kNone) return "pool2d_f32: oh, ow, strides and dilations need more than 4 GiB of workspace";
  if (workspace_size < ws) return "pool2d_f32: workspace is smaller than opq_pool2d_f32_workspace_size()";
  if (workspace == nullptr) return "pool2d_f32: workspace is null";
  opq::Pool2dF32Run(args, *uk);
  return nullptr;
}

const char* opq_global_pool_f32(size_t planes, size_t size, int32_t kind, const float* x, size_t x_size, float* y,
                                size_t y_size, int32_t variant) {
  bool ok;
  const F32Ukernels* uk = EltwiseTableOf(Resolve(variant), &ok);
  if (!ok) return "global_pool_f32: variant is not available on this CPU or build";
  if (kind < OPQ_POOL_MAX || kind > OPQ_POOL_AVG_INCLUDE_PAD)
    return "global_pool_f32: kind must be 0 (max), 1 or 2 (average)";
  uint64_t nx;
  if (planes > size_t(kMaxDim) || !Product({planes, size}, &nx)) return "global_pool_f32: planes*size is too large";
  if (nx > x_size) return "global_pool_f32: buffer x is smaller than planes*size";
  if (planes > y_size) return "global_pool_f32: buffer y is smaller than planes";
  if ((nx && !x) || (planes && !y)) return "global_pool_f32: x or y is null";
  if (Overlap(y, planes * 4, x, nx * 4)) return "global_pool_f32: y overlaps x";
  for (size_t i = 0; i < planes; ++i) {
    const float* xi = x + i * size;
    // An empty plane: max -inf, mean 0/0 = NaN (what the JS kernel returns).
    y[i] = kind == OPQ_POOL_MAX ? uk->max(size, xi) : uk->sum(size, xi) / static_cast<float>(size);
  }
  return nullptr;
}

const char* opq_unary_f32(int32_t op, float p0, float p1, const float* x, size_t x_size, float* y, size_t y_size,
                          int32_t variant) {
  bool ok;
  const F32Ukernels* uk = EltwiseTableOf(Resolve(variant), &ok);
  if (!ok) return "unary_f32: variant is not available on this CPU or build";
  if (op < 0 || op >= OPQ_UNARY_COUNT) return "unary_f32: op is not a known OPQ_UNARY_* value";
  if (y_size < x_size) return "unary_f32: buffer y is smaller than x";
  if (x_size && (!x || !y)) return "unary_f32: x or y is null";
  if (x != y && Overlap(y, x_size * 4, x, x_size * 4)) return "unary_f32: y partially overlaps x";
  uk->unary(op, p0, p1, x_size, x, y);
  return nullptr;
}

const char* opq_binary_f32(int32_t op, const float* a, size_t a_size, const float* b, size_t b_size, size_t inner,
                           float* y, size_t y_size, int32_t variant) {
  bool ok;
  const F32Ukernels* uk = EltwiseTableOf(Resolve(variant), &ok);
  if (!ok) return "binary_f32: variant is not available on this CPU or build";
  if (op < 0 || op >= OPQ_BINARY_COUNT) return "binary_f32: op is not a known OPQ_BINARY_* value";
  if (a_size != y_size) return "binary_f32: buffer a must have y_size elements";
  if (y_size == 0) return nullptr;
  if (b_size == 0 || inner == 0) return "binary_f32: b_size and inner must be positive";
  uint64_t block;
  if (!Product({b_size, inner}, &block) || y_size % block != 0)
    return "binary_f32: y_size must be a multiple of b_size*inner";
  if (!a || !b || !y) return "binary_f32: a, b or y is null";
  if (a != y && Overlap(y, y_size * 4, a, a_size * 4)) return "binary_f32: y partially overlaps a";
  if (!(b == y && b_size == y_size) && Overlap(y, y_size * 4, b, b_size * 4)) return "binary_f32: y overlaps b";
  if (b_size == y_size) {
    uk->binary(op, y_size, a, b, y);
  } else if (b_size == 1) {
    uk->binary_scalar(op, y_size, a, b[0], y);
  } else if (inner == 1) {
    for (size_t i = 0; i < y_size; i += b_size) uk->binary(op, b_size, a + i, b, y + i);
  } else {
    for (size_t i = 0, j = 0; i < y_size; i += inner, j = j + 1 == b_size ? 0 : j + 1)
      uk->binary_scalar(op, inner, a + i, b[j], y + i);
  }
  return nullptr;
}

const char* opq_scan_f32(const float* x, size_t x_size, double* out, size_t out_size, int32_t variant) {
  bool ok;
  const F32Ukernels* uk = EltwiseTableOf(Resolve(variant), &ok);
  if (!ok) return "scan_f32: variant is not available on this CPU or build";
  if (out_size != 4) return "scan_f32: out must have 4 entries";
  if (x_size > kNone / 4) return "scan_f32: x_size is too large";
  if ((x_size && !x) || !out) return "scan_f32: x or out is null";
  if (Overlap(out, 4 * sizeof(double), x, x_size * 4)) return "scan_f32: out overlaps x";
  uk->scan(x_size, x, out);
  return nullptr;
}

const char* opq_histogram_f32(const float* x, size_t x_size, double inv, double zero, double* counts,
                              size_t counts_size, int32_t variant) {
  bool ok;
  const F32Ukernels* uk = EltwiseTableOf(Resolve(variant), &ok);
  if (!ok) return "histogram_f32: variant is not available on this CPU or build";
  if (counts_size < 1 || counts_size > (size_t{1} << 20)) return "histogram_f32: counts must have 1 to 2^20 entries";
  if (!(inv > 0.0 && inv <= std::numeric_limits<double>::max()))
    return "histogram_f32: inv must be a positive finite number";
  if (!(zero >= -2147483648.0 && zero <= 2147483648.0) || zero != std::floor(zero))
    return "histogram_f32: zero must be an integer in [-2^31, 2^31]";
  if (x_size > kNone / 4) return "histogram_f32: x_size is too large";
  if ((x_size && !x) || !counts) return "histogram_f32: x or counts is null";
  if (Overlap(counts, counts_size * sizeof(double), x, x_size * 4)) return "histogram_f32: counts overlaps x";
  uk->histogram(x_size, x, inv, zero, counts, counts_size);
  return nullptr;
}

const char* opq_sum_rows_f32(const opq_sum_rows_f32_params* p, const float* x, size_t x_size, double* dst,
                             size_t dst_size, int32_t variant) {
  if (const char* err = CheckSumRows(p)) return err;
  bool ok;
  const F32Ukernels* uk = EltwiseTableOf(Resolve(variant), &ok);
  if (!ok) return "sum_rows_f32: variant is not available on this CPU or build";
  uint64_t nx, nd;
  if (!Product({uint64_t(p->planes), uint64_t(p->i), uint64_t(p->inner)}, &nx) || nx != x_size)
    return "sum_rows_f32: buffer x must have planes*i*inner entries";
  if (!Product({uint64_t(p->planes), uint64_t(p->k), uint64_t(p->inner)}, &nd) || nd != dst_size)
    return "sum_rows_f32: buffer dst must have planes*k*inner entries";
  if (nx > kNone / sizeof(float) || nd > kNone / sizeof(double)) return "sum_rows_f32: x_size or dst_size is too large";
  if ((nx && !x) || (nd && !dst)) return "sum_rows_f32: x or dst is null";
  if (Overlap(dst, nd * sizeof(double), x, nx * sizeof(float))) return "sum_rows_f32: dst overlaps x";
  if (nd == 0) return nullptr;
  opq::SumRowsF32Run(*p, x, dst, *uk);
  return nullptr;
}

const char* opq_softmax_f32(size_t outer, size_t len, size_t inner, int32_t log, const float* x, size_t x_size,
                            float* y, size_t y_size, int32_t variant) {
  bool ok;
  const F32Ukernels* uk = EltwiseTableOf(Resolve(variant), &ok);
  if (!ok) return "softmax_f32: variant is not available on this CPU or build";
  if (log != 0 && log != 1) return "softmax_f32: log must be 0 or 1";
  uint64_t n;
  if (!Product({outer, len, inner}, &n) || n != x_size)
    return "softmax_f32: buffer x must have outer*len*inner entries";
  if (n != y_size) return "softmax_f32: buffer y must have outer*len*inner entries";
  if (n > kNone / sizeof(float)) return "softmax_f32: x_size is too large";
  if (n && (!x || !y)) return "softmax_f32: x or y is null";
  if (x != y && Overlap(y, n * sizeof(float), x, n * sizeof(float))) return "softmax_f32: y partially overlaps x";
  // Nothing to do (a zero dimension): return before the loops, which could otherwise run outer*inner
  // empty rows.
  if (n == 0) return nullptr;
  uk->softmax(outer, len, inner, log != 0, x, y);
  return nullptr;
}

const char* opq_layernorm_f32(size_t rows, size_t n, const float* x, size_t x_size, const float* scale,
                              const float* bias, size_t affine_size, double eps, float* y, size_t y_size,
                              int32_t variant) {
  bool ok;
  EltwiseTableOf(Resolve(variant), &ok);
  if (!ok) return "layernorm_f32: variant is not available on this CPU or build";
  if (n == 0) return "layernorm_f32: n must be at least 1";
  uint64_t total;
  if (!Product({rows, n}, &total) || total != x_size) return "layernorm_f32: buffer x must have rows*n entries";
  if (total != y_size) return "layernorm_f32: buffer y must have rows*n entries";
  if (total > kNone / sizeof(float)) return "layernorm_f32: x_size is too large";
  if (affine_size != n) return "layernorm_f32: scale (and bias) must have n entries";
  if (!scale || (total && (!x || !y))) return "layernorm_f32: x, scale or y is null";
  if (Overlap(y, total * sizeof(float), x, total * sizeof(float))) return "layernorm_f32: y overlaps x";
  // One scalar definition for every variant: its double sums in index order are what makes the
  // bits the TypeScript kernel's (a vectorized sum would round differently).
  opq::LayerNormF32Ref(rows, n, x, scale, bias, eps, y);
  return nullptr;
}

const char* opq_conv_probe_sums_f32(const int32_t* geo, size_t geo_size, const float* x, size_t x_size,
                                    const float* delta, size_t delta_size, double* sums, size_t sums_size, double* work,
                                    size_t work_size, int32_t variant) {
  if (geo == nullptr || geo_size != 22) return "conv_probe_sums_f32: geo must have 22 entries";
  bool ok;
  const F32Ukernels* uk = EltwiseTableOf(Resolve(variant), &ok);
  if (!ok) return "conv_probe_sums_f32: variant is not available on this CPU or build";
  for (size_t i = 0; i < 22; ++i) {
    // N C M, sizes, outputs and pads >= 0; group, kernel, strides, dilations >= 1.
    const bool positive = i == 3 || (i >= 7 && i < 10) || (i >= 13 && i < 19);
    if (!InRange(geo[i], positive ? 1 : 0))
      return "conv_probe_sums_f32: a size, output or pad is outside [0, 2^28], or a group, kernel, stride or dilation "
             "outside [1, 2^28]";
  }
  const opq::ConvProbeGeom g{geo[0],  geo[1],  geo[2],  geo[3],  geo[4],  geo[5],  geo[6],  geo[7],
                             geo[8],  geo[9],  geo[10], geo[11], geo[12], geo[13], geo[14], geo[15],
                             geo[16], geo[17], geo[18], geo[19], geo[20], geo[21]};
  if (g.c % g.group != 0 || g.m % g.group != 0) return "conv_probe_sums_f32: C and M must be multiples of group";
  uint64_t nx, nd, t1, rows;
  if (!Product({uint64_t(g.n), uint64_t(g.c), uint64_t(g.i0), uint64_t(g.i1), uint64_t(g.i2)}, &nx) || nx != x_size)
    return "conv_probe_sums_f32: buffer x must have N*C*I0*I1*I2 entries";
  if (!Product({uint64_t(g.m), uint64_t(g.c / g.group), uint64_t(g.k0), uint64_t(g.k1), uint64_t(g.k2)}, &nd) ||
      nd != delta_size)
    return "conv_probe_sums_f32: buffer delta must have M*(C/group)*K0*K1*K2 entries";
  if (sums_size != size_t(g.m)) return "conv_probe_sums_f32: buffer sums must have M entries";
  // Every count the row sums take as int32, and the workspace's terms, below their bounds.
  if (!Product({uint64_t(g.n), uint64_t(g.c), uint64_t(g.k0), uint64_t(g.k1)}, &rows) || rows > kMaxDim ||
      !Product({uint64_t(g.n), uint64_t(g.c), uint64_t(g.k0), uint64_t(g.i1), uint64_t(g.i2)}, &t1) ||
      uint64_t(g.i1) * uint64_t(g.i2) > kMaxDim ||
      !Product({uint64_t(g.c), uint64_t(g.k0), uint64_t(g.k1), uint64_t(g.k2)}, &t1))
    return "conv_probe_sums_f32: the geometry is too large";
  const uint64_t nw = opq::ConvProbeWorkSize(g);
  if (nw > kNone / sizeof(double) || work_size < nw) return "conv_probe_sums_f32: buffer work is too small";
  if (nx > kNone / sizeof(float) || nd > kNone / sizeof(float)) return "conv_probe_sums_f32: a buffer is too large";
  if ((nx && !x) || (nd && !delta) || (g.m && !sums) || (nw && !work))
    return "conv_probe_sums_f32: x, delta, sums or work is null";
  if (Overlap(sums, sums_size * 8, x, nx * 4) || Overlap(sums, sums_size * 8, delta, nd * 4) ||
      Overlap(work, nw * 8, x, nx * 4) || Overlap(work, nw * 8, delta, nd * 4) ||
      Overlap(work, nw * 8, sums, sums_size * 8))
    return "conv_probe_sums_f32: buffers overlap";
  opq::ConvProbeSumsF32(g, x, delta, sums, work, *uk);
  return nullptr;
}

const char* opq_exact_sum_add_f64(const double* x, size_t n, int64_t* acc, size_t acc_size) {
  if (n > kNone / (OPQ_EXACT_SUM_WORDS * sizeof(int64_t)) || acc_size != n * OPQ_EXACT_SUM_WORDS)
    return "exact_sum_add_f64: acc must have n * OPQ_EXACT_SUM_WORDS entries";
  if (n && (!x || !acc)) return "exact_sum_add_f64: x or acc is null";
  if (Overlap(x, n * sizeof(double), acc, acc_size * sizeof(int64_t))) return "exact_sum_add_f64: x overlaps acc";
  opq::ExactSumAddF64(x, n, acc);
  return nullptr;
}

const char* opq_col2im_f32(const int32_t* geo, size_t geo_size, size_t channels, const float* cols, size_t cols_size,
                           const float* bias, size_t bias_size, float* y, size_t y_size) {
  if (geo == nullptr || geo_size != 18) return "col2im_f32: geo must have 18 entries";
  for (size_t i = 0; i < 18; ++i) {
    // Sizes >= 0, kernel, strides and dilations >= 1, pads >= 0.
    const bool positive = (i >= 3 && i < 6) || (i >= 9 && i < 15);
    if (geo[i] < (positive ? 1 : 0))
      return "col2im_f32: a size or pad is negative, or a kernel, stride or dilation is below 1";
  }
  const opq::Col2ImF32Geom g{geo[0], geo[1],  geo[2],  geo[3],  geo[4],  geo[5],  geo[6],  geo[7],  geo[8],
                             geo[9], geo[10], geo[11], geo[12], geo[13], geo[14], geo[15], geo[16], geo[17]};
  uint64_t cols_n, y_n;
  if (!Product({channels, uint64_t(g.kd), uint64_t(g.kh), uint64_t(g.kw), uint64_t(g.d), uint64_t(g.h), uint64_t(g.w)},
               &cols_n) ||
      cols_n != cols_size)
    return "col2im_f32: buffer cols must have channels*KD*KH*KW*D*H*W entries";
  if (!Product({channels, uint64_t(g.od), uint64_t(g.oh), uint64_t(g.ow)}, &y_n) || y_n != y_size)
    return "col2im_f32: buffer y must have channels*OD*OH*OW entries";
  if (cols_n > kNone / sizeof(float) || y_n > kNone / sizeof(float)) return "col2im_f32: a buffer is too large";
  if (bias_size != 0 && bias_size != channels) return "col2im_f32: bias must have 0 or channels entries";
  if ((cols_n && !cols) || (y_n && !y) || (bias_size && !bias)) return "col2im_f32: cols, bias or y is null";
  if (Overlap(y, y_n * sizeof(float), cols, cols_n * sizeof(float))) return "col2im_f32: y overlaps cols";
  if (y_n == 0) return nullptr;
  opq::Col2ImF32(g, channels, cols, bias_size ? bias : nullptr, y);
  return nullptr;
}

}  // extern "C"
