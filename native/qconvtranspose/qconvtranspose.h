// Integer ConvTranspose (native/include/opq_convtranspose.h): geometry, the shared driver and the
// per-ISA hooks. Everything here trusts its arguments (validated in native/api/convtranspose-api.cc).
#pragma once

#include <cstddef>
#include <cstdint>

#include "onnxptq.h"
#include "opq_convtranspose.h"
#include "requant/requant.h"
#include "threadpool/threadpool.h"

namespace opq {

struct CtGeom {
  size_t n, cin, h, w, cout, kh, kw, groups, sh, sw, dh, dw, pt, pl, pb, pr, oph, opw;
  size_t oh, ow;  // output size
  size_t cin_g, cout_g;
  size_t kq;    // ceil(cin_g / 2): int16 pairs along the reduction
  size_t m;     // cout_g * kh * kw: rows of the column matrix
  size_t rows;  // input rows per chunk
  size_t win;   // output rows the accumulator window holds
};

// Fills *g from s; NULL or a message naming the field.
const char* MakeCtGeom(const opq_convtranspose2d_shape& s, CtGeom* g);
// Workspace bytes (0 when it would pass 2^31 - 1).
size_t CtWorkspaceSize(const CtGeom& g);

struct CtKernels {
  // c[i*ldc + p] = sum_{q < kq} lo(a[i*kq+q]) * lo(x[q*ldx+p]) + hi(a) * hi(x), i < m, p < np, where
  // lo/hi are the int16 halves of each int32 (an int16 pair along the reduction). int32 wrap.
  void (*gemm)(size_t m, size_t np, size_t kq, const int32_t* a, const int32_t* x, size_t ldx, int32_t* c, size_t ldc);
  // dst[k*stride] += src[k] for k < n (int32 wrap).
  void (*scatter_add)(const int32_t* src, size_t n, size_t stride, int32_t* dst);
  RequantRowFn requant;
};

const CtKernels& CtKernelsRef();
#if defined(__x86_64__) || defined(_M_X64)
const CtKernels& CtKernelsAvx2();
#endif
#if defined(__wasm_simd128__)
const CtKernels& CtKernelsWasmSimd();
#endif

// The whole operation with one variant's hooks; output-channel blocks split across `pool` (may be
// NULL) when a chunk is large enough. Results never depend on the thread count.
void CtRun(const CtGeom& g, const CtKernels& k, const uint8_t* x, bool x_signed, int32_t zx, const int8_t* w,
           const int32_t* wzp, size_t wzp_count, const int32_t* bias, const opq_requant& rq, uint8_t* y, void* ws,
           ThreadPool* pool);

// Scalar forms, shared by the variants for their tails. Internal linkage: each ISA file gets its
// own copy, never merged with a wider ISA's.
namespace {
inline int32_t Dot2(int32_t a, int32_t b) {
  const int32_t alo = static_cast<int16_t>(static_cast<uint32_t>(a) & 0xFFFFu);
  const int32_t ahi = static_cast<int16_t>(static_cast<uint32_t>(a) >> 16);
  const int32_t blo = static_cast<int16_t>(static_cast<uint32_t>(b) & 0xFFFFu);
  const int32_t bhi = static_cast<int16_t>(static_cast<uint32_t>(b) >> 16);
  return alo * blo + ahi * bhi;  // |each product| <= 255 * 255: exact
}
inline void GemmTailScalar(size_t i0, size_t i1, size_t p0, size_t p1, size_t kq, const int32_t* a, const int32_t* x,
                           size_t ldx, int32_t* c, size_t ldc) {
  for (size_t i = i0; i < i1; ++i)
    for (size_t p = p0; p < p1; ++p) {
      uint32_t acc = 0;
      for (size_t q = 0; q < kq; ++q) acc += static_cast<uint32_t>(Dot2(a[i * kq + q], x[q * ldx + p]));
      c[i * ldc + p] = static_cast<int32_t>(acc);
    }
}
inline void ScatterAddScalar(const int32_t* src, size_t n, size_t stride, int32_t* dst) {
  for (size_t k = 0; k < n; ++k)
    dst[k * stride] = static_cast<int32_t>(static_cast<uint32_t>(dst[k * stride]) + static_cast<uint32_t>(src[k]));
}
}  // namespace

}  // namespace opq
