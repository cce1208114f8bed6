// A16W8 convolution (native/include/opq_qconv16.h): the scalar definitions, the reference loop, the
// shared SIMD driver and the per-ISA hooks. Everything here trusts its arguments (validated in
// native/api/qconv16-api.cc).
//
// SIMD driver: X is re-based to int16 x' = x - off (off = 32768 for uint16, else 0) and the zero
// point to zx' = x_zero_point - off, both in [-32768, 32767]. Per (batch, group) the input is padded
// with zx' and stored as int16 pairs of consecutive input channels (X2[q][row][col], one int32 per
// pair, the columns of a row grouped by stride phase); W2[oc][q][kh][kw] holds the matching pairs of w - w_zero_point
// (|.| <= 255). Then
//   acc = bias + sum_taps x'_padded * (w - zw) - zx' * sum_taps (w - zw)
// which is the definition (a padded tap adds zx' * (w - zw), cancelled by the correction). Each
// pair product sum is at most 2 * 32768 * 255 = 16711680 in magnitude, so an int32 lane holds 128
// of them exactly; the hooks flush into int64 every 128 pair steps.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "conv/conv.h"  // ConvGeom, MakeConvGeom
#include "onnxptq.h"
#include "opq_qconv16.h"
#include "threadpool/threadpool.h"

namespace opq {

// Pair steps an int32 lane can accumulate exactly: 128 * 16711680 < 2^31.
constexpr size_t kQc16FlushSteps = 128;

struct Qc16Args {
  const void* x;
  int32_t x_type;
  int32_t zx;
  const int8_t* w;
  const int32_t* wzp;
  size_t wzp_count;
  const int32_t* bias;  // NULL or cout entries
  const opq_requant* rq;
  void* y;
  int32_t y_type;
};

// The taps of one output tile, in int32 (pair) elements of X2. X2 rows are stored by stride phase:
// column c of a padded row is at (c % sw) * L + c / sw (L = ceil(wp / sw)), so the pixels of an
// output row that one tap reads are contiguous whatever the stride. Step s = (q*kh + ki)*kw + kj
// reads x2 + xoff[s] (q*plane + ki*dh*row + ((kj*dw) % sw)*L + (kj*dw) / sw) and weight pair s.
struct Qc16Taps {
  size_t steps;        // kq * kh * kw
  const size_t* xoff;  // `steps` offsets
};

struct Qc16Kernels {
  // out[o*16 + p] = sum_{s < steps} Dot2(x2[xoff[s] + p], w2[o][s]) for o < mr (<= 4), p < np
  // (<= 16), exact in int64. x2 may be read up to 16 elements past the last tap of the tile (the
  // driver pads its buffer).
  void (*tile)(const int32_t* x2, const int32_t* const* w2, size_t mr, size_t np, const Qc16Taps& t, int64_t* out);
};

#if defined(__x86_64__) || defined(_M_X64)
const Qc16Kernels& Qc16KernelsAvx2();
#endif
#if defined(__wasm_simd128__)
const Qc16Kernels& Qc16KernelsWasmSimd();
#endif

// The reference: the direct loop of the definition (qconv16-ref.cc).
void Qc16RunRef(const ConvGeom& g, const Qc16Args& a);

// Workspace bytes of the SIMD driver, 0 when it would pass kQc16MaxWorkspace (the call then runs
// the reference).
constexpr uint64_t kQc16MaxWorkspace = uint64_t{1} << 28;
size_t Qc16WorkspaceSize(const ConvGeom& g);

// The SIMD driver (qconv16-driver.cc); ws holds Qc16WorkspaceSize(g) bytes, 16-byte aligned.
void Qc16RunFast(const ConvGeom& g, const Qc16Args& a, const Qc16Kernels& k, void* ws, ThreadPool* pool);

// [min, max] of an OPQ_QC16_* element type (uint16 for any other id; callers validate the id).
inline void Qc16TypeRange(int32_t type, int32_t* lo, int32_t* hi) {
  switch (type) {
    case OPQ_QC16_UINT8:
      *lo = 0, *hi = 255;
      break;
    case OPQ_QC16_INT8:
      *lo = -128, *hi = 127;
      break;
    case OPQ_QC16_INT16:
      *lo = -32768, *hi = 32767;
      break;
    default:
      *lo = 0, *hi = 65535;
      break;
  }
}

inline bool Qc16ValidType(int32_t t) { return t >= OPQ_QC16_UINT8 && t <= OPQ_QC16_UINT16; }

// The requant checks of the wide (int64) requantization (RequantizeWide) for `channels` output
// channels and a Y of element type y_type; NULL when valid (native/api/qconv16-api.cc).
const char* Qc16ValidateRequantWide(const opq_requant* rq, size_t channels, int32_t y_type);

// The operand checks qconv16 and qconvtranspose16 share: element types, x_zero_point in X's range,
// weight zero points (1 or `channels`, in int8), bias count, the wide requantization, and the bound
// that keeps the int64 accumulation exact: k * max|x - x_zero_point| * max|w - w_zero_point| +
// max|bias| < 2^47, k = in_channels/groups * kernel_h * kernel_w. NULL when valid.
const char* Qc16ValidateOperands(int32_t x_type, int32_t y_type, int32_t x_zero_point, const int32_t* w_zero_point,
                                 size_t w_zero_point_count, const int32_t* bias, size_t bias_count,
                                 const opq_requant* rq, size_t channels, uint64_t k);

// Scalar definitions shared by the reference and the driver. Internal linkage: each ISA file gets
// its own copy, never merged with a wider ISA's.
namespace {

inline int32_t Qc16Load(const void* p, int32_t type, size_t i) {
  switch (type) {
    case OPQ_QC16_UINT8:
      return static_cast<const uint8_t*>(p)[i];
    case OPQ_QC16_INT8:
      return static_cast<const int8_t*>(p)[i];
    case OPQ_QC16_INT16:
      return static_cast<const int16_t*>(p)[i];
    default:
      return static_cast<const uint16_t*>(p)[i];
  }
}

inline void Qc16Store(void* p, int32_t type, size_t i, int32_t v) {
  switch (type) {
    case OPQ_QC16_UINT8:
      static_cast<uint8_t*>(p)[i] = static_cast<uint8_t>(v);
      break;
    case OPQ_QC16_INT8:
      static_cast<int8_t*>(p)[i] = static_cast<int8_t>(v);
      break;
    case OPQ_QC16_INT16:
      static_cast<int16_t*>(p)[i] = static_cast<int16_t>(v);
      break;
    default:
      static_cast<uint16_t*>(p)[i] = static_cast<uint16_t>(v);
      break;
  }
}

// gemmlowp's RoundingDivideByPOT on int64: x / 2^e rounded to nearest, ties away from zero.
inline int64_t RoundingDivideByPOT64(int64_t x, int e) {
  const int64_t mask = (int64_t{1} << e) - 1;
  const int64_t remainder = x & mask;
  const int64_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> e) + (remainder > threshold ? 1 : 0);
}

// One int64 accumulator (|acc| < 2^47) of channel c to the clamped output value (opq_qconv16.h).
inline int32_t RequantizeWide(int64_t acc, const opq_requant& rq, size_t c) {
  const int32_t zp = rq.output_zero_point;
  const int64_t lo = int64_t(rq.output_min) - zp, hi = int64_t(rq.output_max) - zp;
  int64_t v;
  switch (rq.mode) {
    case OPQ_REQUANT_FLOAT: {
      float f = static_cast<float>(acc) * rq.scale[c];
      f = f < static_cast<float>(lo) ? static_cast<float>(lo) : f;
      f = f > static_cast<float>(hi) ? static_cast<float>(hi) : f;
      return static_cast<int32_t>(std::nearbyint(f)) + zp;
    }
    case OPQ_REQUANT_SHIFT: {
      const int32_t s = rq.shift[c];
      if (s >= 0) {
        if (acc != 0 && s >= 16)
          v = acc > 0 ? hi : lo;
        else
          v = acc * (int64_t{1} << s);  // |acc| < 2^47, s < 16: exact
      } else {
        v = RoundingDivideByPOT64(acc, -s);
      }
      break;
    }
    default: {
      const int32_t m0 = rq.multiplier[c];
      const int64_t reduced = m0 < 0x7FFF0000 ? (int64_t(m0) + (int64_t{1} << 15)) >> 16 : 0x7FFF;
      const int32_t total_shift = 15 - rq.shift[c];  // >= 1 (validated)
      if (total_shift >= 63) {
        v = 0;
      } else {
        // |acc| < 2^47 and reduced <= 2^15: the product and the rounding term fit int64.
        v = (acc * reduced + (int64_t{1} << (total_shift - 1))) >> total_shift;
      }
      break;
    }
  }
  v = v < lo ? lo : v;
  v = v > hi ? hi : v;
  return static_cast<int32_t>(v) + zp;
}

inline int64_t Qc16Dot2(int32_t a, int32_t b) {
  const int64_t alo = static_cast<int16_t>(static_cast<uint32_t>(a) & 0xFFFFu);
  const int64_t ahi = static_cast<int16_t>(static_cast<uint32_t>(a) >> 16);
  const int64_t blo = static_cast<int16_t>(static_cast<uint32_t>(b) & 0xFFFFu);
  const int64_t bhi = static_cast<int16_t>(static_cast<uint32_t>(b) >> 16);
  return alo * blo + ahi * bhi;
}

// The tile hook in plain int64 arithmetic.
inline void Qc16TileScalar(const int32_t* x2, const int32_t* const* w2, size_t mr, size_t np, const Qc16Taps& t,
                           int64_t* out) {
  for (size_t o = 0; o < mr; ++o)
    for (size_t p = 0; p < np; ++p) {
      int64_t s = 0;
      for (size_t k = 0; k < t.steps; ++k) s += Qc16Dot2(x2[t.xoff[k] + p], w2[o][k]);
      out[o * 16 + p] = s;
    }
}

}  // namespace

}  // namespace opq
