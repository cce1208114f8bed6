// Integer 2-D convolution: internal interface shared by the variants. The validated entry points
// are in native/api/conv-api.cc; everything here trusts its arguments.
//
// Paths (chosen when the weights are packed, recorded in the packed header):
// - kPathRef: the direct 7-nested-loop definition (conv-ref.cc) on the raw weights.
// - kPathGemm16: Y (Cout x pixels per group, hence NCHW) = W (Cout x K, packed once as int16 pairs
//   with the weight zero point subtracted) x im2col(X) (built per run as int16 pairs with the input
//   zero point subtracted, padding = 0). Exact: pair sums of (|x - zx| <= 255+128) * (|w - zw| <= 255)
//   fit int32, as in the qgemm int16 driver.
// - kPathDepthwise: groups == Cin == Cout: a direct kernel over output rows, vectorized over pixels.
// - kPathVnni: like kPathGemm16 but u8 x s8 quads (vpdpbusd, exact: no int16 intermediate), only
//   when every weight zero point is 0; sum((x - zx) * w) = sum(x * w) - zx * sum(w) in wrapping int32.
#pragma once

#include <cstddef>
#include <cstdint>

#include "onnxptq.h"
#include "opq_conv.h"
#include "requant/requant.h"
#include "threadpool/threadpool.h"

namespace opq {

// The geometry with derived sizes, all validated (conv-api.cc) before use.
struct ConvGeom {
  size_t n, cin, h, w, cout, kh, kw, groups, sh, sw, dh, dw, pt, pl, pb, pr;
  size_t oh, ow;          // output size
  size_t cin_g, cout_g;   // channels per group
  size_t kg;              // cin_g * kh * kw: the reduction length
  size_t hp, wp;          // rows/columns of the padded input that outputs read
};

// Fills *g from s; NULL or a message naming the field.
const char* MakeConvGeom(const opq_conv2d_shape& s, ConvGeom* g);

enum ConvPath : int32_t { kPathRef = 0, kPathGemm16 = 1, kPathDepthwise = 2, kPathVnni = 3 };

constexpr uint32_t kConvMagic = 0x43515043u;  // "CPQC"

// The packed weights start with this header; sections follow at 64-byte offsets.
struct ConvPackedHeader {
  uint32_t magic;
  int32_t variant;
  int32_t path;
  int32_t mr;            // row tile of the packed weights (gemm paths)
  opq_conv2d_shape shape;
  uint64_t total_size;   // bytes, header included
  uint64_t bias_offset;  // int32[cout]: bias, or zeros
  uint64_t zp_offset;    // int32[cout]: weight zero points (ref path), or sum(w) per channel (vnni)
  uint64_t w_offset;     // the weights in the path's layout
};

// Hooks a SIMD variant supplies to the shared driver (conv-driver.cc).
struct ConvKernels {
  size_t mr, nr;  // gemm tile
  // C[mr][nr] = sum over kc pairs of packed A (mr int32 pairs per step) and B (nr pairs per step).
  void (*ukernel)(size_t kc, const int32_t* a, const int16_t* b, int32_t* c, size_t ldc);
  // One im2col panel: for pair q and column c, dst[(q*nr + c)*2 + t] = xp[koff[2q+t] + off[c]]
  // (0 when 2q+t >= kg). step is off[c+1]-off[c] when all nr columns are regular, else 0.
  void (*im2col)(const int16_t* xp, const int32_t* koff, size_t kg, const int32_t* off, int32_t step,
                 int16_t* dst);
  // Depthwise output row: acc[ox] = sum_t w[t] * row[tapoff[t] + ox*stride], ox < ow.
  void (*dw_row)(const int16_t* row, const int32_t* w, const int32_t* tapoff, size_t taps, size_t stride,
                 size_t ow, int32_t* acc);
  RequantRowFn requant;
};

// Scalar forms of the im2col and depthwise-row hooks, for the cases a SIMD hook does not cover.
void Im2colScalar(const int16_t* xp, const int32_t* koff, size_t kg, const int32_t* off, size_t nr, size_t q0,
                  size_t q1, int16_t* dst);
void DwRowScalar(const int16_t* row, const int32_t* w, const int32_t* tapoff, size_t taps, size_t stride, size_t ox0,
                 size_t ow, int32_t* acc);

#if defined(__x86_64__) || defined(_M_X64)
const ConvKernels* ConvKernelsAvx2();
#endif
#if defined(__wasm_simd128__)
const ConvKernels* ConvKernelsWasmSimd();
#endif

// The hooks of a variant, or NULL when it has none (ref, or not built here).
const ConvKernels* ConvKernelsFor(int32_t variant);

// Packing (conv-driver.cc). The path is decided by the variant and the weights.
int32_t ConvChoosePath(const ConvGeom& g, int32_t variant, const int32_t* wzp, size_t wzp_count);
size_t ConvPackedSize(const ConvGeom& g, int32_t path, size_t mr);
void ConvPack(const ConvGeom& g, const opq_conv2d_shape& s, int32_t variant, int32_t path, size_t mr, const int8_t* w,
              const int32_t* wzp, size_t wzp_count, const int32_t* bias, void* packed);
size_t ConvWorkspaceSize(const ConvGeom& g, const ConvPackedHeader& h, size_t threads);

struct ConvRunArgs {
  const ConvGeom* g;
  const ConvPackedHeader* h;
  const uint8_t* x;
  bool x_signed;
  int32_t x_zero_point;
  const opq_requant* rq;
  uint8_t* y;
  void* workspace;
  ThreadPool* pool;
};

// The direct definition (conv-ref.cc).
void ConvRunRef(const ConvRunArgs& a);
// The int16 GEMM and depthwise paths with the variant's kernels (conv-driver.cc).
void ConvRunDriver(const ConvRunArgs& a, const ConvKernels& k);

// Per-tensor view of channel c of rq (the row requant kernels take channels along a row; a conv
// output row has one channel).
inline opq_requant RequantChannel(const opq_requant& rq, size_t c) {
  if (rq.count == 1) return rq;
  opq_requant r = rq;
  r.count = 1;
  if (r.multiplier) r.multiplier += c;
  if (r.shift) r.shift += c;
  if (r.scale) r.scale += c;
  return r;
}

}  // namespace opq
