// Integer 2-D convolution: internal interface shared by the variants. The validated entry points
// are in native/api/conv-api.cc; everything here trusts its arguments.
//
// Paths (chosen when the weights are packed, recorded in the packed header):
// - kPathRef: the direct 7-nested-loop definition (conv-ref.cc) on the raw weights.
// - kPathGemm16: Y (Cout x pixels per group, hence NCHW) = W (Cout x K, packed once as int16 pairs
//   with the weight zero point subtracted) x im2col(X) (built per run as int16 pairs with the input
//   zero point subtracted, padding = 0). Exact: pair sums of (|x - zx| <= 255+128) * (|w - zw| <= 255)
//   fit int32, as in the qgemm int16 driver. A pointwise layer (1x1, stride 1, no padding) has X as its
//   im2col: the panels are packed from the 8-bit input directly (pack_cols), with no padded copy.
// - kPathDepthwise: groups == Cin == Cout: a direct kernel over output rows, vectorized over pixels.
// - kPathVnni: like kPathGemm16 but u8 x s8 quads (vpdpbusd, exact: no int16 intermediate), only
//   when every weight zero point is 0; sum((x - zx) * w) = sum(x * w) - zx * sum(w) in wrapping int32.
// - kPathVnniDirect: kPathVnni's arithmetic without im2col, for stride-1 convolutions of one group:
//   the padded input is copied once per image with each 4 channels interleaved (plane cq holds
//   4 bytes per padded pixel: channels 4cq..4cq+3), so a weight quad (4 channels at one tap) meets
//   32 consecutive output pixels as 128 consecutive bytes. Outputs are computed over the padded row
//   width (flat index oy * wp + ox; the wp - ow extra columns are dropped), the weights are packed
//   in (channel quad, tap) order. Integer sums do not depend on the order of their terms, so the
//   results are kPathVnni's bit for bit.
// - kPathGemmRows: a plain GEMM (1x1 kernel on 1x1 images, one group, no padding: what packed qgemm
//   runs) the other way round: the batch rows are the tile rows (packed per run), the weights are
//   packed once as column panels (int16 pairs, zero points subtracted), and each output row is
//   requantized along its channels straight into Y (batch x cout), with no transposed copy.
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
  size_t oh, ow;         // output size
  size_t cin_g, cout_g;  // channels per group
  size_t kg;             // cin_g * kh * kw: the reduction length
  size_t hp, wp;         // rows/columns of the padded input that outputs read
};

// Fills *g from s; NULL or a message naming the field.
const char* MakeConvGeom(const opq_conv2d_shape& s, ConvGeom* g);

// kPathVnniDirect's geometry: stride 1, one group, not a plain GEMM (that has its own mode), and few
// channels wasted on padding the last quad: its quads hold 4 channels at one tap, where im2col's hold
// 4 consecutive k (a 1-channel 5x5 layer would do 4x the multiply-adds, a 3-channel one 4/3).
bool ConvDirectGeometry(const ConvGeom& g);

enum ConvPath : int32_t {
  kPathRef = 0,
  kPathGemm16 = 1,
  kPathDepthwise = 2,
  kPathVnni = 3,
  kPathGemmRows = 4,
  kPathVnniDirect = 5
};

constexpr uint32_t kConvMagic = 0x43515043u;  // "CPQC"

// The packed weights start with this header; sections follow at 64-byte offsets.
struct ConvPackedHeader {
  uint32_t magic;
  int32_t variant;
  int32_t path;
  int32_t mr;  // row tile of the packed weights (gemm paths; the column panel width for kPathGemmRows)
  opq_conv2d_shape shape;
  uint64_t total_size;   // bytes, header included
  uint64_t bias_offset;  // int32[cout]: bias, or zeros
  uint64_t zp_offset;    // int32[cout]: weight zero points (ref path), or sum(w) per channel (vnni)
  uint64_t w_offset;     // the weights in the path's layout
};

// Hooks a SIMD variant supplies to the shared driver (conv-driver.cc). A k-step is 4 bytes per
// row and per pixel: an int16 pair (kstep 2) or a u8/s8 quad (kstep 4, the VNNI path).
struct ConvKernels {
  size_t mr, nr;  // gemm tile
  size_t kstep;   // k per step: 2 (int16 pairs) or 4 (byte quads)
  bool u8_input;  // the padded input is u8 (x, or x ^ 0x80 for int8; padding = the zero point)
                  // rather than int16 x - zx (padding 0)
  // C[mr][nr] = sum over ksteps of packed A (mr x 4 bytes per step) and B (nr x 4 bytes per step).
  void (*ukernel)(size_t ksteps, const void* a, const void* b, int32_t* c, size_t ldc);
  // One im2col panel: for step q, column c and t < kstep, element (q*nr + c)*kstep + t of dst is
  // xp[koff[q*kstep + t] + off[c]] (0 when q*kstep + t >= kg). regular: off[c] = off[0] + c*stride
  // for every column.
  void (*im2col)(const void* xp, const int32_t* koff, size_t kg, const int32_t* off, bool regular, size_t stride,
                 void* dst);
  // GEMM mode (1x1 convolution of 1x1 images: X is batch x K, the batch are the pixels): one panel
  // of `width` rows from `rows` rows of X (leading dimension ldx), element (q*width + c)*kstep + t =
  // x[c][q*kstep + t] as the padded copy would hold it (x - zx as int16, or u8 x ^ flip), 0 for k >= kg
  // or c >= rows. width is nr (the B panels of the gemm mode) or, kstep 2 only, mr (kPathGemmRows'
  // A panels).
  void (*pack_rows)(const uint8_t* x, size_t ldx, size_t rows, size_t kg, bool x_signed, int32_t zx, size_t width,
                    void* dst);
  // Pointwise mode (1x1 kernel, stride 1, no padding: the im2col panel is X itself): one whole panel
  // of nr pixels straight from the 8-bit input, with no padded int16 copy first (the driver packs a
  // narrower last panel with PackColsScalar). X is kg rows (channels) of ldx pixels; element
  // (q*nr + c)*2 + t = x[(2q + t)*ldx + c] - zx as int16, 0 for k >= kg. kstep 2 only; NULL where the
  // variant has none (the padded copy is used).
  void (*pack_cols)(const uint8_t* x, size_t ldx, size_t kg, bool x_signed, int32_t zx, void* dst);
  // Depthwise output row: acc[ox] = sum_t w[t] * row[tapoff[t] + ox*stride], ox < ow (int16 input).
  void (*dw_row)(const int16_t* row, const int32_t* w, const int32_t* tapoff, size_t taps, size_t stride, size_t ow,
                 int32_t* acc);
  RequantRowFn requant;                 // rows along channels (kPathGemmRows)
  RequantChannelRowFn requant_channel;  // rows of one channel (NCHW output rows)
  // kPathVnniDirect (NULL where the variant has none): C[mr][nr] = sum over ksteps q of packed A and
  // the nr x 4 bytes at b + boff[q], read in place; only the first `rows` (<= mr) rows of C are
  // computed and written.
  void (*ukernel_direct)(size_t ksteps, size_t rows, const void* a, const uint8_t* b, const size_t* boff, int32_t* c,
                         size_t ldc);
  // kPathVnniDirect: channel quad cq of one image's padded input (hp x wp pixels of 4 bytes: channel
  // 4cq + e at byte e), x ^ flip inside the image, `pad` around it, 0 for channels at or past cin.
  void (*pad_c4)(const uint8_t* x, size_t cin, size_t h, size_t w, size_t hp, size_t wp, size_t pt, size_t pl,
                 uint8_t flip, uint8_t pad, size_t cq, uint8_t* dst);
};

// Scalar forms of the im2col and depthwise-row hooks, for the cases a SIMD hook does not cover.
// Internal linkage: each ISA file gets its own copy, never merged with a wider ISA's.
namespace {
template <size_t KSTEP>
void PackRowsScalar(const uint8_t* x, size_t ldx, size_t rows, size_t kg, bool x_signed, int32_t zx, size_t nr,
                    size_t q0, size_t q1, void* dst) {
  for (size_t c = 0; c < nr; ++c)
    for (size_t q = q0; q < q1; ++q)
      for (size_t t = 0; t < KSTEP; ++t) {
        const size_t kk = q * KSTEP + t, i = (q * nr + c) * KSTEP + t;
        const bool in = c < rows && kk < kg;
        if (KSTEP == 2) {
          const int32_t v = in ? (x_signed ? int32_t(int8_t(x[c * ldx + kk])) : int32_t(x[c * ldx + kk])) - zx : 0;
          static_cast<int16_t*>(dst)[i] = int16_t(v);
        } else {
          static_cast<uint8_t*>(dst)[i] = in ? uint8_t(x[c * ldx + kk] ^ (x_signed ? 0x80 : 0)) : uint8_t(0);
        }
      }
}

// pack_cols' layout, pairs [q0, q1), nr columns.
inline void PackColsScalar(const uint8_t* x, size_t ldx, size_t cols, size_t kg, bool x_signed, int32_t zx, size_t nr,
                           size_t q0, size_t q1, int16_t* dst) {
  for (size_t q = q0; q < q1; ++q)
    for (size_t c = 0; c < nr; ++c)
      for (size_t t = 0; t < 2; ++t) {
        const size_t kk = 2 * q + t;
        int32_t v = 0;
        if (kk < kg && c < cols) {
          const uint8_t b = x[kk * ldx + c];
          v = (x_signed ? int32_t(int8_t(b)) : int32_t(b)) - zx;
        }
        dst[(q * nr + c) * 2 + t] = int16_t(v);
      }
}

template <typename T, size_t KSTEP>
void Im2colScalar(const T* xp, const int32_t* koff, size_t kg, const int32_t* off, size_t nr, size_t c0, size_t c1,
                  size_t q0, size_t q1, T* dst) {
  for (size_t q = q0; q < q1; ++q)
    for (size_t t = 0; t < KSTEP; ++t) {
      const size_t kk = q * KSTEP + t;
      T* d = dst + q * nr * KSTEP + t;
      if (kk < kg) {
        const T* s = xp + koff[kk];
        for (size_t c = c0; c < c1; ++c) d[c * KSTEP] = s[off[c]];
      } else {
        for (size_t c = c0; c < c1; ++c) d[c * KSTEP] = 0;
      }
    }
}
}  // namespace
void DwRowScalar(const int16_t* row, const int32_t* w, const int32_t* tapoff, size_t taps, size_t stride, size_t ox0,
                 size_t ow, int32_t* acc);

#if defined(__x86_64__) || defined(_M_X64)
const ConvKernels* ConvKernelsAvx2();
const ConvKernels* ConvKernelsAvx512Vnni();
const ConvKernels* ConvKernelsAvx2Avx512Requant();
#endif
#if defined(__wasm_simd128__)
const ConvKernels* ConvKernelsWasmSimd();
#endif

// The hooks of a variant for a path, or NULL when it has none (ref, or not built here).
const ConvKernels* ConvKernelsFor(int32_t variant, int32_t path);
// The row tile of the packed weights of a path (1 for the ref path; nr for kPathGemmRows).
size_t ConvTileRows(int32_t variant, int32_t path);

// Packing (conv-driver.cc). The path is decided by the variant and the weights.
int32_t ConvChoosePath(const ConvGeom& g, int32_t variant, const int32_t* wzp, size_t wzp_count);
size_t ConvPackedSize(const ConvGeom& g, int32_t path, size_t mr);
// The largest packed size `variant` may choose for this geometry (before the weights are seen).
size_t ConvPackedSizeMax(const ConvGeom& g, int32_t variant);
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

}  // namespace opq
